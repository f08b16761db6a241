"""The blocking ``call_*`` methods of the client, made from their ``*_future`` twins."""

from __future__ import annotations

import inspect
import math
import time
import typing
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Optional,
    TypeVar,
)

from pysoa.client.future import FutureSOAResponse
from pysoa.common.transport.errors import MessageReceiveTimeout


if TYPE_CHECKING:
    from typing_extensions import (
        Concatenate,
        ParamSpec,
    )

    _P = ParamSpec('_P')


__all__ = (
    'blocking_twin',
    'result_within',
)

_C = TypeVar('_C')
_T = TypeVar('_T')

_FUTURE_SUFFIX = '_future'


def result_within(future: FutureSOAResponse[_T], timeout: Optional[float], started: float) -> _T:
    """
    The outcome of a blocking call that started at ``started`` (``time.monotonic()``): wait for it only for what
    sending left of its ``timeout`` (in whole seconds, rounded up). If it does not come in time, nobody can ask for it
    again: the client stops waiting for the request(s), so that a late response is dropped instead of kept.
    """
    wait = max(1, math.ceil(started + timeout - time.monotonic())) if timeout else None
    try:
        return future.result(wait)
    except MessageReceiveTimeout:
        future._abandon()
        raise


def blocking_twin(
    future_method: Callable[Concatenate[_C, _P], FutureSOAResponse[_T]],
    doc: str,
) -> Callable[Concatenate[_C, _P], _T]:
    """
    The blocking method ``call_x`` made from the method ``call_x_future``: it takes the same arguments, calls the
    ``call_x_future`` of its instance (a subclass's, if it has its own) with them and returns the future's result,
    waiting no longer than the call's ``timeout`` argument allows (see :func:`result_within`).

    The method has the signature of its twin but for the return annotation (``T`` for ``FutureSOAResponse[T]``), for
    ``inspect``, documentation tools and type checkers alike. Its code is generated, as ``dataclasses`` does, so that
    it passes the arguments on as directly as a hand-written method would: this is the hot path of every call.

    :param future_method: The ``call_x_future`` function: its parameters (after ``self``) must be plain ones (no
                          ``*args``, ``**kwargs``, positional-only or keyword-only parameters), one of them ``timeout``.
    :param doc: The docstring of the blocking method.
    """
    future_name = future_method.__name__
    name = future_name[: -len(_FUTURE_SUFFIX)]
    signature = inspect.signature(future_method)
    parameters = list(signature.parameters.values())[1:]
    if 'timeout' not in signature.parameters or any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in parameters):
        raise TypeError(f'{future_name} must take plain parameters, one of them timeout, to have a blocking twin')
    arguments = ', '.join(parameter.name for parameter in parameters)
    namespace: Dict[str, Any] = {'time': time, 'result_within': result_within}
    exec(
        f'def {name}(self, {arguments}):\n'
        f'    started = time.monotonic()\n'
        f'    return result_within(self.{future_name}({arguments}), timeout, started)\n',
        namespace,
    )
    blocking: Callable[Concatenate[_C, _P], _T] = namespace[name]

    (result_annotation,) = typing.get_args(signature.return_annotation)
    blocking.__defaults__ = future_method.__defaults__
    blocking.__qualname__ = f'{future_method.__qualname__[: -len(future_name)]}{name}'
    blocking.__module__ = future_method.__module__
    blocking.__doc__ = doc
    blocking.__annotations__ = {**future_method.__annotations__, 'return': result_annotation}
    return blocking
