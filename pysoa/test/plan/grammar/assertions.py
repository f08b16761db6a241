"""
Comparisons of expected and actual response data used by the expectation directives. Each raises an
``AssertionError`` whose message lists what was missing or different, with the full expected and actual data.
Expected values may be :class:`~pysoa.test.plan.grammar.data_types.AnyValue` /
:class:`~pysoa.test.plan.grammar.data_types.RegexValue` wildcards (or ``unittest.mock.ANY``).
"""

import pprint
from typing import (
    Any,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
)

from pysoa.test.plan.grammar.tools import (
    get_all_paths,
    join_path,
    path_get,
)


__all__ = (
    'assert_actual_list_not_subset',
    'assert_exact_structure',
    'assert_expected_list_subset_of_actual',
    'assert_lists_match_any_order',
    'assert_not_expected',
    'assert_not_present',
    'assert_subset_structure',
)


def _equal(expected: Any, actual: Any) -> bool:
    # bool is an int in Python; a test plan expecting `1` should not pass on `True` (and the other way round).
    if isinstance(expected, bool) != isinstance(actual, bool) and not hasattr(expected, '__dict__'):
        return False
    return bool(expected == actual)


def _describe(value: Any) -> str:
    return f'{value!r} ({type(value).__name__})'


def _join(path: str, key: Any) -> str:
    text = join_path([key])
    return f'{path}.{text}' if path else text


def _failure(message: str, failed_paths: List[str]) -> AssertionError:
    """An ``AssertionError`` that also tells which paths failed (``failed_paths``), to find the fixture line."""
    error = AssertionError(message)
    error.failed_paths = failed_paths  # type: ignore[attr-defined]
    return error


class _Differences:
    def __init__(self) -> None:
        self.missing: List[str] = []
        self.mismatched: List[Tuple[str, Any, Any]] = []
        self.extra: List[str] = []

    def __bool__(self) -> bool:
        return bool(self.missing or self.mismatched or self.extra)

    @property
    def paths(self) -> List[str]:
        return self.missing + [path for path, _, _ in self.mismatched] + self.extra

    def compare(self, expected: Any, actual: Any, path: str, subset: bool) -> None:
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or (not expected and actual):
                self.mismatched.append((path, expected, actual))
                return
            for key, value in expected.items():
                if key in actual:
                    self.compare(value, actual[key], _join(path, key), subset)
                else:
                    self.missing.append(_join(path, key))
            if not subset:
                self.extra.extend(_join(path, key) for key in actual if key not in expected)
        elif isinstance(expected, (list, tuple)):
            if not isinstance(actual, (list, tuple)) or (not expected and actual):
                self.mismatched.append((path, expected, actual))
                return
            for index, value in enumerate(expected):
                if index < len(actual):
                    self.compare(value, actual[index], _join(path, index), subset)
                else:
                    self.missing.append(_join(path, index))
            if not subset:
                self.extra.extend(_join(path, index) for index in range(len(expected), len(actual)))
        elif not _equal(expected, actual):
            self.mismatched.append((path, expected, actual))

    def message(self, expected: Any, actual: Any, msg: Optional[str]) -> str:
        lines = [msg] if msg else []
        if self.missing:
            lines.append('Missing values:')
            lines.extend(f'    {path}' for path in self.missing)
        if self.mismatched:
            lines.append('Mismatch values:')
            for path, expected_value, actual_value in self.mismatched:
                lines.append(f'    {path or "(top)"}: expected {_describe(expected_value)}, '
                             f'actual {_describe(actual_value)}')
        if self.extra:
            lines.append('Extra values:')
            lines.extend(f'    {path}' for path in self.extra)
        lines.append('Expected: ' + pprint.pformat(expected, width=100))
        lines.append('Actual: ' + pprint.pformat(actual, width=100))
        return '\n'.join(lines)


def assert_subset_structure(expected: Any, actual: Any, subset_lists: bool = True, msg: Optional[str] = None) -> None:
    """
    Assert that ``expected`` is contained in ``actual``: dicts in ``actual`` may have more keys, and (with
    ``subset_lists``) lists more items after the expected ones; an empty expected dict or list only matches an empty
    one.
    """
    differences = _Differences()
    differences.compare(expected, actual, '', subset=True)
    if not subset_lists:
        _check_list_lengths(expected, actual, '', differences)
    if differences:
        raise _failure(differences.message(expected, actual, msg), differences.paths)


def _check_list_lengths(expected: Any, actual: Any, path: str, differences: _Differences) -> None:
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key, value in expected.items():
            if key in actual:
                _check_list_lengths(value, actual[key], _join(path, key), differences)
    elif isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        differences.extra.extend(_join(path, index) for index in range(len(expected), len(actual)))
        for index, value in enumerate(expected[:len(actual)]):
            _check_list_lengths(value, actual[index], _join(path, index), differences)


def assert_exact_structure(expected: Any, actual: Any, msg: Optional[str] = None) -> None:
    """Assert that ``actual`` equals ``expected`` exactly: no missing, different or extra keys and items."""
    differences = _Differences()
    differences.compare(expected, actual, '', subset=False)
    if differences:
        raise _failure(differences.message(expected, actual, msg), differences.paths)


def assert_not_expected(not_expected: Any, actual: Any, msg: Optional[str] = None) -> None:
    """Assert that no path of ``not_expected`` holds the same value in ``actual`` (missing paths pass)."""
    unexpected = {}
    for path in get_all_paths(not_expected):
        try:
            actual_value = path_get(actual, path)
        except (KeyError, IndexError):
            continue
        if _equal(path_get(not_expected, path), actual_value):
            unexpected[path] = f'    {path}: {_describe(actual_value)}'
    if unexpected:
        lines = ([msg] if msg else []) + ['Unexpected values:'] + list(unexpected.values())
        lines.append('Actual: ' + pprint.pformat(actual, width=100))
        raise _failure('\n'.join(lines), list(unexpected))


def assert_not_present(not_present: Any, actual: Any, msg: Optional[str] = None) -> None:
    """Assert that none of the paths (a list of paths, or the leaf paths of a dict) exists in ``actual``."""
    paths = get_all_paths(not_present) if isinstance(not_present, Mapping) else list(not_present)
    present = {}
    for path in paths:
        try:
            value = path_get(actual, path)
        except (KeyError, IndexError):
            continue
        present[path] = f'    {path}: {_describe(value)}'
    if present:
        lines = ([msg] if msg else []) + ['Values present that should not be:'] + list(present.values())
        lines.append('Actual: ' + pprint.pformat(actual, width=100))
        raise _failure('\n'.join(lines), list(present))


def _format_list(title: str, items: Iterable[Any]) -> List[str]:
    return [title] + [f'    {item!r}' for item in items]


def assert_expected_list_subset_of_actual(expected: Iterable[Any], actual: Iterable[Any],
                                          msg: Optional[str] = None) -> None:
    """Assert that every item of ``expected`` equals some item of ``actual``."""
    actual = list(actual)
    missing = [item for item in expected if not any(_equal(item, candidate) for candidate in actual)]
    if missing:
        lines = ([msg] if msg else []) + _format_list('Expected but not found:', missing)
        lines += _format_list('Actual:', actual)
        raise AssertionError('\n'.join(lines))


def assert_lists_match_any_order(expected: Iterable[Any], actual: Iterable[Any], msg: Optional[str] = None) -> None:
    """Assert that ``expected`` and ``actual`` have equal items, in any order (each actual item used once)."""
    remaining = list(actual)
    missing = []
    for item in expected:
        for index, candidate in enumerate(remaining):
            if _equal(item, candidate):
                del remaining[index]
                break
        else:
            missing.append(item)
    if missing or remaining:
        lines = [msg] if msg else []
        if missing:
            lines += _format_list('Expected but not found:', missing)
        if remaining:
            lines += _format_list('Found but not expected:', remaining)
        raise AssertionError('\n'.join(lines))


def assert_actual_list_not_subset(not_expected: Iterable[Any], actual: Iterable[Any],
                                  msg: Optional[str] = None) -> None:
    """Assert that no item of ``not_expected`` equals an item of ``actual``."""
    actual = list(actual)
    found = [item for item in not_expected if any(_equal(item, candidate) for candidate in actual)]
    if found:
        lines = ([msg] if msg else []) + _format_list('Found but expected not to be:', found)
        lines += _format_list('Actual:', actual)
        raise AssertionError('\n'.join(lines))
