"""The future returned by the ``Client.call_*_future`` methods."""

from types import TracebackType
from typing import (
    Callable,
    Generic,
    Optional,
    TypeVar,
    Union,
)

from pysoa.common.transport.errors import MessageReceiveTimeout


__all__ = ('FutureSOAResponse',)

_T = TypeVar('_T')


class _Unset:
    pass


_UNSET = _Unset()


class FutureSOAResponse(Generic[_T]):
    """
    The eventual outcome of a request sent by a ``call_*_future`` method. The request is already on its way; the
    response is received, checked and cached on the first :meth:`result` or :meth:`exception` call.

    :param get_response: Receives and returns the response, given a receive timeout in seconds (``None`` for the
                         default).
    """

    _on_abandon: Optional[Callable[[], None]] = None
    """Set by the client: stops waiting for the request(s) behind the future, once nobody can get its response."""

    def __init__(self, get_response: Callable[[Optional[int]], _T]) -> None:
        self._get_response = get_response
        self._response: Union[_T, _Unset] = _UNSET
        self._exception: Optional[BaseException] = None
        self._traceback: Optional[TracebackType] = None

    def result(self, timeout: Optional[int] = None) -> _T:
        """
        Block until the response is available and return it, or raise the exception the call raised.

        The exception is cached and raised again, with the traceback of its first raise, by later calls; but a
        :class:`pysoa.common.transport.errors.MessageReceiveTimeout` is not cached: calling again waits again.

        :param timeout: Seconds to wait for the response; by default the timeout given to the call, else the
                        transport's.
        """
        if self._exception is not None:
            raise self._exception.with_traceback(self._traceback)
        if not isinstance(self._response, _Unset):
            return self._response
        try:
            response = self._get_response(timeout)
        except MessageReceiveTimeout:
            raise
        except Exception as e:
            self._exception = e
            # Raising it again adds the frame of this method back, so the traceback does not grow with each call.
            self._traceback = e.__traceback__.tb_next if e.__traceback__ else None
            self._abandon()
            raise
        self._response = response
        return response

    def _abandon(self) -> None:
        """Let the client stop waiting for this future's request(s): their responses are dropped if they arrive."""
        on_abandon, self._on_abandon = self._on_abandon, None
        if on_abandon is not None:
            on_abandon()

    def exception(self, timeout: Optional[int] = None) -> Optional[BaseException]:
        """
        Block until the call has completed and return the exception it raised, or ``None`` if it succeeded. A
        :class:`pysoa.common.transport.errors.MessageReceiveTimeout` is raised, not returned.
        """
        if self.running():
            try:
                self.result(timeout)
            except MessageReceiveTimeout:
                raise
            except Exception as e:
                return e
        return self._exception

    def running(self) -> bool:
        """Whether the outcome is not known yet."""
        return not self.done()

    def done(self) -> bool:
        """Whether a response or an exception has been received (by :meth:`result` or :meth:`exception`)."""
        return self._exception is not None or not isinstance(self._response, _Unset)
