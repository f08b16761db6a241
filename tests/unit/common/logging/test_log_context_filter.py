import asyncio
import logging
import threading
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Optional,
)

import pytest

from pysoa.common.logging import PySOALogContextFilter


@pytest.fixture(autouse=True)
def _clean_logging_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(PySOALogContextFilter, '_service_name', None)
    yield
    while PySOALogContextFilter.get_logging_request_context() is not None:
        PySOALogContextFilter.clear_logging_request_context()
    while PySOALogContextFilter.get_logging_action_name() is not None:
        PySOALogContextFilter.clear_logging_action_name()


def _filtered_fields() -> Dict[str, Any]:
    """Filters a record and returns the attributes the filter sets on it."""
    record = logging.LogRecord('test', logging.INFO, __file__, 1, 'Hello', None, None)
    PySOALogContextFilter().filter(record)
    return {name: vars(record)[name] for name in ('correlation_id', 'request_id', 'service_name', 'action_name')}


def test_filter_without_context_sets_placeholders() -> None:
    assert _filtered_fields() == {
        'correlation_id': '--',
        'request_id': '--',
        'service_name': 'unknown',
        'action_name': '(n/a)',
    }


def test_filter_sets_correlation_id_and_request_id_from_request_context() -> None:
    PySOALogContextFilter.set_logging_request_context(correlation_id='corr-1', request_id=42)

    fields = _filtered_fields()

    assert fields['correlation_id'] == 'corr-1'
    assert fields['request_id'] == 42


def test_filter_uses_placeholders_for_missing_or_falsy_context_values() -> None:
    PySOALogContextFilter.set_logging_request_context(correlation_id='', other='value')

    fields = _filtered_fields()

    assert fields['correlation_id'] == '--'
    assert fields['request_id'] == '--'


def test_filter_sets_service_name() -> None:
    PySOALogContextFilter.set_service_name('example')

    assert _filtered_fields()['service_name'] == 'example'


def test_filter_sets_action_name() -> None:
    PySOALogContextFilter.set_logging_action_name('get_user')

    assert _filtered_fields()['action_name'] == 'get_user'


def test_filter_always_returns_true() -> None:
    record = logging.LogRecord('test', logging.DEBUG, __file__, 1, 'Hello', None, None)
    assert PySOALogContextFilter().filter(record) is True

    PySOALogContextFilter.set_logging_request_context(correlation_id='c', request_id=1)
    PySOALogContextFilter.set_logging_action_name('action')
    assert PySOALogContextFilter().filter(record) is True


def test_filter_attributes_are_usable_in_log_formats() -> None:
    lines: List[str] = []

    class _ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = _ListHandler()
    handler.addFilter(PySOALogContextFilter())
    handler.setFormatter(
        logging.Formatter('%(service_name)s %(action_name)s %(correlation_id)s %(request_id)s %(message)s'),
    )
    logger = logging.getLogger('tests.unit.common.logging.context_filter')
    logger.addHandler(handler)
    logger.propagate = False
    try:
        PySOALogContextFilter.set_service_name('svc')
        PySOALogContextFilter.set_logging_action_name('act')
        PySOALogContextFilter.set_logging_request_context(correlation_id='c-1', request_id=7)
        logger.warning('Hello %s', 'there')
    finally:
        logger.removeHandler(handler)

    assert lines == ['svc act c-1 7 Hello there']


def test_request_context_stack_push_and_pop() -> None:
    assert PySOALogContextFilter.get_logging_request_context() is None

    PySOALogContextFilter.set_logging_request_context(correlation_id='outer', request_id=1)
    PySOALogContextFilter.set_logging_request_context(correlation_id='inner', request_id=2)
    assert PySOALogContextFilter.get_logging_request_context() == {'correlation_id': 'inner', 'request_id': 2}
    assert _filtered_fields()['correlation_id'] == 'inner'

    PySOALogContextFilter.clear_logging_request_context()
    assert PySOALogContextFilter.get_logging_request_context() == {'correlation_id': 'outer', 'request_id': 1}
    assert _filtered_fields()['correlation_id'] == 'outer'

    PySOALogContextFilter.clear_logging_request_context()
    assert PySOALogContextFilter.get_logging_request_context() is None


def test_action_name_stack_push_and_pop() -> None:
    assert PySOALogContextFilter.get_logging_action_name() is None

    PySOALogContextFilter.set_logging_action_name('outer')
    PySOALogContextFilter.set_logging_action_name('inner')
    assert PySOALogContextFilter.get_logging_action_name() == 'inner'

    PySOALogContextFilter.clear_logging_action_name()
    assert PySOALogContextFilter.get_logging_action_name() == 'outer'

    PySOALogContextFilter.clear_logging_action_name()
    assert PySOALogContextFilter.get_logging_action_name() is None


def test_clearing_empty_stacks_does_nothing() -> None:
    PySOALogContextFilter.clear_logging_request_context()
    PySOALogContextFilter.clear_logging_action_name()

    assert PySOALogContextFilter.get_logging_request_context() is None
    assert PySOALogContextFilter.get_logging_action_name() is None


def test_values_pushed_in_a_thread_are_not_seen_by_other_threads() -> None:
    PySOALogContextFilter.set_logging_request_context(correlation_id='main', request_id=1)
    PySOALogContextFilter.set_logging_action_name('main_action')
    pushed = threading.Event()
    checked = threading.Event()
    seen_in_thread: Dict[str, Any] = {}
    seen_in_other_thread: Dict[str, Optional[Any]] = {}

    def pusher() -> None:
        PySOALogContextFilter.set_logging_request_context(correlation_id='thread', request_id=2)
        PySOALogContextFilter.set_logging_action_name('thread_action')
        pushed.set()
        checked.wait(10)
        seen_in_thread['correlation_id'] = _filtered_fields()['correlation_id']
        seen_in_thread['action_name'] = _filtered_fields()['action_name']

    def observer() -> None:
        pushed.wait(10)
        context = PySOALogContextFilter.get_logging_request_context()
        seen_in_other_thread['correlation_id'] = context.get('correlation_id') if context else None
        seen_in_other_thread['action_name'] = PySOALogContextFilter.get_logging_action_name()

    threads = [threading.Thread(target=pusher), threading.Thread(target=observer)]
    for thread in threads:
        thread.start()
    assert pushed.wait(10)
    fields = _filtered_fields()
    threads[1].join(10)
    checked.set()
    threads[0].join(10)

    assert fields['correlation_id'] == 'main'
    assert fields['action_name'] == 'main_action'
    assert seen_in_thread == {'correlation_id': 'thread', 'action_name': 'thread_action'}
    assert seen_in_other_thread['correlation_id'] != 'thread'
    assert seen_in_other_thread['action_name'] != 'thread_action'


def test_values_pushed_in_an_asyncio_task_are_not_seen_by_other_tasks() -> None:
    async def run() -> List[Optional[str]]:
        first_pushed = asyncio.Event()
        second_pushed = asyncio.Event()

        async def task(name: str, pushed: asyncio.Event, wait_for: asyncio.Event) -> Optional[str]:
            PySOALogContextFilter.set_logging_action_name(name)
            pushed.set()
            await wait_for.wait()
            return PySOALogContextFilter.get_logging_action_name()

        return list(
            await asyncio.gather(
                task('first', first_pushed, second_pushed),
                task('second', second_pushed, first_pushed),
            ),
        )

    assert asyncio.run(run()) == ['first', 'second']
    assert PySOALogContextFilter.get_logging_action_name() is None
