"""The runtime side of the mock directives: building, configuring, starting, checking and stopping the patches."""

import builtins
import importlib
from typing import (
    Any,
    Dict,
    List,
    Tuple,
)
from unittest import mock

from pysoa.test.plan.errors import (
    StatusError,
    set_fixture_line,
)


__all__ = (
    'AttrDict',
    'check_mock_expectations',
    'start_mock_patches',
    'stop_mock_patches',
    'to_call',
)

RUNTIME_KEY = '_mock_patches_started'
"""Where the patches a directive started are kept in the test or action case (so it stops only its own)."""


class AttrDict(dict):  # type: ignore[type-arg]
    """A dict whose items are also attributes (a JSON object configured as a mock's return value)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def _is_any(value: Any) -> bool:
    return isinstance(value, dict) and value == {'mock.ANY': True}


def to_mock_value(value: Any) -> Any:
    """A parsed JSON value as a mock result: ``{"mock.ANY": true}`` is ``mock.ANY``, objects become AttrDicts."""
    if _is_any(value):
        return mock.ANY
    if isinstance(value, dict):
        return AttrDict((key, to_mock_value(item)) for key, item in value.items())
    if isinstance(value, list):
        return [to_mock_value(item) for item in value]
    return value


def _with_any(value: Any) -> Any:
    if _is_any(value):
        return mock.ANY
    if isinstance(value, dict):
        return {key: _with_any(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_any(item) for item in value]
    return value


def to_call(arguments: Any) -> Any:
    """``[[args...], {kwargs}]`` (parsed JSON) as a ``mock.call``."""
    args, kwargs = arguments
    return mock.call(*_with_any(args), **_with_any(kwargs))


def resolve_exception(name: str) -> Any:
    """``ValueError`` (a builtin) or ``package.module:Name``."""
    if ':' in name:
        module_name, _, attribute = name.partition(':')
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as e:
            raise StatusError(f'Could not find the exception class `{name}`: {e}') from e
    if not hasattr(builtins, name):
        raise StatusError(f'No builtin exception named `{name}` (use `package.module:Name` for others)')
    return getattr(builtins, name)


def _walk(target: Any, path: List[str]) -> Any:
    for segment in path:
        target = getattr(target, segment)
    return target


def _resolve(kind: str, value: Any) -> Any:
    return resolve_exception(value) if kind == 'exception' else to_mock_value(value)


def _usable_alone(side_effect: Any) -> bool:
    """A single side effect that Mock understands by itself: successive values, an exception, or a function."""
    return isinstance(side_effect, (list, type, BaseException)) or callable(side_effect)


def _configure(mock_object: Any, entries: List[Tuple[str, str, Any]]) -> None:
    """Apply ``(path, kind, value)`` entries shallowest first; repeated ``side_effect`` values form a list."""
    side_effects: Dict[str, List[Any]] = {}
    for path, kind, value in entries:
        if path.split('.')[-1] == 'side_effect':
            side_effects.setdefault(path, []).append(_resolve(kind, value))
    for path, kind, value in sorted(entries, key=lambda entry: entry[0].count('.')):
        segments = path.split('.')
        parent = _walk(mock_object, segments[:-1])
        if kind == 'delete':
            delattr(parent, segments[-1])
        elif path in side_effects:
            values = side_effects.pop(path)
            setattr(parent, segments[-1], values[0] if len(values) == 1 and _usable_alone(values[0]) else values)
        elif segments[-1] != 'side_effect':
            setattr(parent, segments[-1], _resolve(kind, value))


def start_mock_patches(case: Dict[str, Any]) -> None:
    """Start a ``mock.patch`` for each target of the case's ``mock_patches`` and configure it."""
    started = case.setdefault(RUNTIME_KEY, [])
    for target, data in case.get('mock_patches', {}).items():
        new_mock = mock.MagicMock()
        _configure(new_mock, [tuple(entry) for entry in data.get('configure', [])])
        patcher = mock.patch(target, new=new_mock)
        patcher.start()
        started.append((target, patcher, new_mock))


def stop_mock_patches(case: Dict[str, Any]) -> None:
    """Stop the patches :func:`start_mock_patches` started for this case, last first."""
    started = case.pop(RUNTIME_KEY, [])
    for _target, patcher, _mock in reversed(started):
        patcher.stop()


def check_mock_expectations(case: Dict[str, Any]) -> None:
    """Check the ``expect [not] called`` lines of each mock of the case."""
    for target, _patcher, mock_object in case.get(RUNTIME_KEY, []):
        for path, expectation in case['mock_patches'][target].get('expects', {}).items():
            try:
                _check_expectation(target, mock_object, path, expectation)
            except AssertionError as e:
                raise set_fixture_line(e, expectation.get('line')) from None


def _check_expectation(target: str, mock_object: Any, path: str, expectation: Dict[str, Any]) -> None:
    name = f'{target}.{path}' if path else target
    called = _walk(mock_object, path.split('.') if path else [])
    if expectation.get('not_called'):
        if called.call_count:
            raise AssertionError(
                f'Expected {name} not to be called, but it was called {called.call_count} time(s): '
                f'{called.call_args_list}'
            )
        return
    # The mock's own calls (not those of its attributes or return value), in order, and no others.
    calls = [to_call(arguments) for arguments in expectation.get('calls', [])]
    if list(called.call_args_list) != calls:
        raise AssertionError(
            f'Mock {name} was not called as expected.\nExpected calls: {calls}\n'
            f'Actual calls: {list(called.call_args_list)}'
        )
