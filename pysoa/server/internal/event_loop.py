"""The thread that runs the server's asyncio event loop, on which ``request.run_coroutine`` schedules coroutines."""

import asyncio
import atexit
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
    A daemon thread owning an asyncio event loop. The loop is created and started by :meth:`start` or, if nobody
    started it, by the first :meth:`run_coroutine`; :meth:`join` (called at interpreter exit if nobody else does) stops
    it after finishing every pending task. A server that never runs a coroutine never creates a loop.

    :param coroutine_middleware: The coroutine middleware instances, outermost first.
    """

    def __init__(self, coroutine_middleware: Sequence[CoroutineMiddleware]) -> None:
        super().__init__(name='pysoa-event-loop', daemon=True)
        self._coroutine_middleware = list(coroutine_middleware)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._start_lock = threading.Lock()

    def run(self) -> None:
        loop = self.loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        _logger.debug('Event loop thread starting')
        try:
            loop.run_forever()
            pending = asyncio.all_tasks(loop)
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            _logger.debug('Event loop thread stopped')

    def start(self) -> None:
        """Create the loop and start the thread, unless that has already been done."""
        with self._start_lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                super().start()
                atexit.register(self.join)

    def join(self, timeout: Optional[float] = None) -> None:
        """Stop the loop once the tasks already scheduled have finished, and wait for the thread to end."""
        with self._start_lock:
            loop = self.loop
        if loop is None:
            return
        atexit.unregister(self.join)
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:  # closed in the meantime
                pass
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
        loop = self.loop
        assert loop is not None
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def create_task() -> None:  # runs on the loop, inside a copy of the caller's context
            if not result.set_running_or_notify_cancel():
                coroutine.close()
                return
            task = loop.create_task(coroutine)
            task.add_done_callback(lambda t: _copy_outcome(t, result))

        loop.call_soon_threadsafe(create_task, context=contextvars.copy_context())
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
