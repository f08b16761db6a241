"""The thread that runs the server's asyncio event loop, on which ``request.run_coroutine`` schedules coroutines."""

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
from typing import (
    Any,
    Optional,
    Sequence,
)

from conformity import fields

from pysoa.server.coroutine import (
    Coroutine,
    CoroutineMiddleware,
)


__all__ = (
    'AsyncEventLoopThread',
    'coroutine_middleware_config',
)

coroutine_middleware_config = fields.List(
    fields.ClassConfigurationSchema(base_class=CoroutineMiddleware),
    description='The list of all `CoroutineMiddleware` classes that should be applied to the coroutines run by '
                '`request.run_coroutine` in this server, in order from outermost to innermost',
)

_logger = logging.getLogger('pysoa.async')


class AsyncEventLoopThread(threading.Thread):
    """
    A daemon thread owning a fresh asyncio event loop. The loop starts with :meth:`start` or, if nobody started it,
    on the first :meth:`run_coroutine`; :meth:`join` stops it after finishing every pending task.

    :param coroutine_middleware: The coroutine middleware instances, outermost first.
    """

    def __init__(self, coroutine_middleware: Sequence[CoroutineMiddleware]) -> None:
        super().__init__(name='pysoa-event-loop', daemon=True)
        self._coroutine_middleware = list(coroutine_middleware)
        self.loop = asyncio.new_event_loop()
        self._start_lock = threading.Lock()
        self._done = threading.Event()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        _logger.debug('Event loop thread starting')
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            self._done.set()
            _logger.debug('Event loop thread stopped')

    def start(self) -> None:
        """Start the thread, unless it has already been started."""
        with self._start_lock:
            if self.ident is None:
                super().start()

    def join(self, timeout: Optional[float] = None) -> None:
        """Stop the loop once the tasks already scheduled have finished, and wait for the thread to end."""
        if self.ident is None:
            self.loop.close()
            return
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
        super().join(timeout)

    def run_coroutine(self, coroutine: Coroutine) -> 'concurrent.futures.Future[Any]':
        """
        Schedule ``coroutine`` on the loop and return a future for its result. The coroutine middleware run first,
        and the coroutine sees the caller's context variables (logging context included).
        """
        for middleware in self._coroutine_middleware:
            middleware.before_run_coroutine()
        for middleware in reversed(self._coroutine_middleware):
            coroutine = middleware.coroutine(coroutine)

        self.start()
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def create_task() -> None:  # runs on the loop, inside a copy of the caller's context
            if not result.set_running_or_notify_cancel():
                coroutine.close()
                return
            task = self.loop.create_task(coroutine)
            task.add_done_callback(lambda t: _copy_outcome(t, result))

        self.loop.call_soon_threadsafe(create_task, context=contextvars.copy_context())
        return result


def _copy_outcome(task: 'asyncio.Task[Any]', result: 'concurrent.futures.Future[Any]') -> None:
    if task.cancelled():
        result.set_exception(concurrent.futures.CancelledError())
        return
    exception = task.exception()
    if exception is not None:
        result.set_exception(exception)
    else:
        result.set_result(task.result())
