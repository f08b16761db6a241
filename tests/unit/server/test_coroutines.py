"""
Running coroutines from actions: ``request.run_coroutine`` schedules a coroutine on the server's event loop thread
(started on first use, so it works under the local transport too), through the configured coroutine middleware, with
the caller's context variables visible.
"""

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
from typing import (
    Any,
    Dict,
    Iterator,
    List,
)

import pytest
from conformity import fields

from pysoa.client.client import Client
from pysoa.common.logging import PySOALogContextFilter
from pysoa.server.action import Action
from pysoa.server.coroutine import (
    Coroutine,
    CoroutineMiddleware,
    DefaultCoroutineMiddleware,
    MiddlewareCoroutine,
)
from pysoa.server.internal.event_loop import AsyncEventLoopThread
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from tests.unit.server.services import (
    action,
    job_request,
    make_server,
)


THIS_MODULE = 'tests.unit.server.test_coroutines'
TIMEOUT = 5  # only a guard against hanging: every wait below completes as soon as the loop runs the coroutine

caller_value: contextvars.ContextVar[str] = contextvars.ContextVar('caller_value', default='unset')


@pytest.fixture(autouse=True)
def join_started_loop_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[AsyncEventLoopThread]]:
    """Stops every event loop thread a test starts."""
    started: List[AsyncEventLoopThread] = []
    original_start = AsyncEventLoopThread.start

    def start(self: AsyncEventLoopThread) -> None:
        started.append(self)
        original_start(self)

    monkeypatch.setattr(AsyncEventLoopThread, 'start', start)
    yield started
    for thread in started:
        thread.join(TIMEOUT)


async def add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


class CoroutineAction(Action):
    """Runs a coroutine and returns what it found out."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        async def inspect() -> Dict[str, Any]:
            await asyncio.sleep(0)
            context = PySOALogContextFilter.get_logging_request_context() or {}
            return {
                'sum': await add(request.body['a'], request.body['b']),
                'same_thread': threading.get_ident() == caller_thread,
                'caller_value': caller_value.get(),
                'correlation_id': context.get('correlation_id'),
                'action_name': PySOALogContextFilter.get_logging_action_name(),
            }

        caller_thread = threading.get_ident()
        caller_value.set(request.body.get('value', 'none'))
        assert request.run_coroutine is not None
        return request.run_coroutine(inspect()).result(timeout=TIMEOUT)  # type: ignore[no-any-return]


class CoroutineServer(Server):
    service_name = 'coroutines'
    action_class_map = {'coroutine': CoroutineAction}


def local_client(**server_settings: Any) -> Client:
    return Client(
        {
            'coroutines': {
                'transport': {
                    'path': 'pysoa.common.transport.local:LocalClientTransport',
                    'kwargs': {'server_class': CoroutineServer, 'server_settings': server_settings},
                }
            }
        }
    )


# Under the local transport --------------------------------------------------------------------------------------------


def test_run_coroutine_completes_under_the_local_transport() -> None:
    # FIX (spec 17.10): the event loop starts on first use, although the local transport never calls Server.run().
    response = local_client().call_action('coroutines', 'coroutine', body={'a': 2, 'b': 3})

    assert response.body['sum'] == 5


def test_coroutine_runs_on_the_event_loop_thread() -> None:
    response = local_client().call_action('coroutines', 'coroutine', body={'a': 0, 'b': 0})

    assert response.body['same_thread'] is False


def test_coroutine_sees_the_context_variables_of_the_caller() -> None:
    response = local_client().call_action('coroutines', 'coroutine', body={'a': 0, 'b': 0, 'value': 'from action'})

    assert response.body['caller_value'] == 'from action'


def test_coroutine_sees_the_logging_context_of_the_request() -> None:
    client = local_client()

    response = client.call_action('coroutines', 'coroutine', body={'a': 0, 'b': 0}, correlation_id='corr-42')

    assert (response.body['correlation_id'], response.body['action_name']) == ('corr-42', 'coroutine')


def test_one_event_loop_serves_every_coroutine_of_the_server(join_started_loop_threads: List[Any]) -> None:
    client = local_client()

    client.call_action('coroutines', 'coroutine', body={'a': 1, 'b': 1})
    client.call_action('coroutines', 'coroutine', body={'a': 1, 'b': 1})

    assert join_started_loop_threads
    assert all(thread is join_started_loop_threads[0] for thread in join_started_loop_threads)


def test_event_loop_thread_is_not_started_until_a_coroutine_runs(join_started_loop_threads: List[Any]) -> None:
    server = make_server({'coroutine': CoroutineAction})

    server.process_job(job_request(action('status')))

    assert join_started_loop_threads == []


# Coroutine middleware -------------------------------------------------------------------------------------------------


class RecordingCoroutineMiddleware(CoroutineMiddleware):
    """Appends what happens to ``log``, tagged with its name."""

    def __init__(self, name: str, log: List[str]) -> None:
        self.name = name
        self.log = log

    def before_run_coroutine(self) -> None:
        self.log.append(f'{self.name} before (caller thread: {threading.get_ident() == caller_thread_id.get()})')

    def coroutine(self, coroutine: Coroutine) -> MiddlewareCoroutine:
        async def wrapped() -> Any:
            self.log.append(f'{self.name} enter')
            result = await coroutine
            self.log.append(f'{self.name} exit with {result}')
            return f'{self.name}({result})'

        return wrapped()


caller_thread_id: contextvars.ContextVar[int] = contextvars.ContextVar('caller_thread_id', default=0)


def run_on_thread(thread: AsyncEventLoopThread, coroutine: Coroutine) -> Any:
    caller_thread_id.set(threading.get_ident())
    return thread.run_coroutine(coroutine).result(TIMEOUT)


async def inner(log: List[str]) -> str:
    log.append('coroutine')
    return 'result'


def test_before_run_coroutine_is_called_in_configured_order_in_the_caller_thread() -> None:
    log: List[str] = []
    thread = AsyncEventLoopThread([RecordingCoroutineMiddleware('a', log), RecordingCoroutineMiddleware('b', log)])

    run_on_thread(thread, inner(log))

    assert [entry for entry in log if 'before' in entry] == [
        'a before (caller thread: True)',
        'b before (caller thread: True)',
    ]
    assert log.index('b before (caller thread: True)') < log.index('a enter')


def test_first_configured_coroutine_middleware_is_outermost() -> None:
    log: List[str] = []
    thread = AsyncEventLoopThread([RecordingCoroutineMiddleware('a', log), RecordingCoroutineMiddleware('b', log)])

    result = run_on_thread(thread, inner(log))

    assert [entry for entry in log if 'before' not in entry] == [
        'a enter',
        'b enter',
        'coroutine',
        'b exit with result',
        'a exit with b(result)',
    ]
    assert result == 'a(b(result))'


def test_base_coroutine_middleware_changes_nothing() -> None:
    async def coroutine() -> None:
        pass

    middleware = CoroutineMiddleware()
    original = coroutine()

    assert middleware.before_run_coroutine() is None  # type: ignore[func-returns-value]
    assert middleware.coroutine(original) is original
    original.close()


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class NamedCoroutineMiddleware(CoroutineMiddleware):
    """Adds its name to the (dict) result of the coroutine."""

    def __init__(self, name: str) -> None:
        self.name = name

    def coroutine(self, coroutine: Coroutine) -> MiddlewareCoroutine:
        async def wrapped() -> Any:
            return {**await coroutine, 'wrapped_by': self.name}

        return wrapped()


def test_coroutine_middleware_comes_from_the_server_settings() -> None:
    client = local_client(
        coroutine_middleware=[
            {'path': f'{THIS_MODULE}:NamedCoroutineMiddleware', 'kwargs': {'name': 'configured'}},
        ]
    )

    response = client.call_action('coroutines', 'coroutine', body={'a': 1, 'b': 2})

    assert response.body['sum'] == 3
    assert response.body['wrapped_by'] == 'configured'


def test_default_coroutine_middleware_logs_and_reraises_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError('coroutine failed')

    thread = AsyncEventLoopThread([DefaultCoroutineMiddleware()])

    with pytest.raises(ValueError, match='coroutine failed'):
        thread.run_coroutine(failing()).result(TIMEOUT)

    [record] = [r for r in caplog.records if r.name == 'pysoa.server.coroutine']
    assert record.levelno == logging.ERROR
    assert record.getMessage() == 'Error occurred while awaiting coroutine in request.run_coroutine'
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)


def test_default_coroutine_middleware_passes_results_through() -> None:
    thread = AsyncEventLoopThread([DefaultCoroutineMiddleware()])

    assert thread.run_coroutine(add(20, 22)).result(TIMEOUT) == 42


def test_default_coroutine_middleware_is_configured_by_default() -> None:
    server = make_server()

    assert server.settings['coroutine_middleware'] == [
        {'path': 'pysoa.server.coroutine:DefaultCoroutineMiddleware', 'object': DefaultCoroutineMiddleware},
    ]


# The event loop thread ------------------------------------------------------------------------------------------------


def test_run_coroutine_returns_a_concurrent_future() -> None:
    thread = AsyncEventLoopThread([])

    future = thread.run_coroutine(add(1, 1))

    assert isinstance(future, concurrent.futures.Future)
    assert future.result(TIMEOUT) == 2


def test_exception_of_the_coroutine_is_raised_by_the_future() -> None:
    async def failing() -> None:
        raise KeyError('nope')

    thread = AsyncEventLoopThread([])

    with pytest.raises(KeyError):
        thread.run_coroutine(failing()).result(TIMEOUT)


def test_coroutine_changes_to_context_variables_do_not_leak_to_the_caller() -> None:
    async def change() -> str:
        caller_value.set('changed in coroutine')
        return caller_value.get()

    caller_value.set('caller')
    thread = AsyncEventLoopThread([])

    assert thread.run_coroutine(change()).result(TIMEOUT) == 'changed in coroutine'
    assert caller_value.get() == 'caller'


def test_join_finishes_scheduled_coroutines_then_stops_the_thread_and_closes_the_loop() -> None:
    steps: List[int] = []

    async def several_steps() -> str:
        for step in range(3):
            steps.append(step)
            await asyncio.sleep(0)
        return 'finished'

    thread = AsyncEventLoopThread([])
    future = thread.run_coroutine(several_steps())

    thread.join(TIMEOUT)

    assert not thread.is_alive()
    assert thread.loop is not None
    assert thread.loop.is_closed()
    assert steps == [0, 1, 2]
    assert future.result(0) == 'finished'


def test_thread_never_started_creates_no_event_loop_and_joins_at_once() -> None:
    thread = AsyncEventLoopThread([])

    thread.join()

    assert thread.ident is None
    assert thread.loop is None


def test_event_loop_thread_is_a_daemon_thread() -> None:
    thread = AsyncEventLoopThread([])

    assert thread.daemon is True
    thread.join()
