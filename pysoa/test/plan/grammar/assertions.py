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
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

from pysoa.test.plan.grammar.tools import (
    PathSegment,
    get_all_paths,
    join_path,
    normalize_path,
    path_get,
    split_path,
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
    """
    What differs between expected and actual data. ``subset``: dicts and lists may have more in ``actual``.
    ``subset_lists``: a plain value (not a dict or list) in an expected list may be anywhere in the actual list; lists
    are otherwise compared index by index (as in PySOA 1.4.9).
    """

    def __init__(self, subset: bool, subset_lists: bool = False) -> None:
        self.subset = subset
        self.subset_lists = subset_lists
        self.missing: List[str] = []
        self.mismatched: List[Tuple[str, Any, Any]] = []
        self.not_found: List[Tuple[str, Any]] = []
        self.extra: List[str] = []

    def __bool__(self) -> bool:
        return bool(self.missing or self.mismatched or self.not_found or self.extra)

    @property
    def paths(self) -> List[str]:
        return (
            self.missing + [path for path, _, _ in self.mismatched] + [path for path, _ in self.not_found] + self.extra
        )

    def compare(self, expected: Any, actual: Any, path: str) -> None:
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or (not expected and actual):
                self.mismatched.append((path, expected, actual))
                return
            for key, value in expected.items():
                if key in actual:
                    self.compare(value, actual[key], _join(path, key))
                else:
                    self.missing.append(_join(path, key))
            if not self.subset:
                self.extra.extend(_join(path, key) for key in actual if key not in expected)
        elif isinstance(expected, (list, tuple)):
            if not isinstance(actual, (list, tuple)) or (not expected and actual):
                self.mismatched.append((path, expected, actual))
            else:
                self._compare_lists(expected, actual, path)
        elif not _equal(expected, actual):
            self.mismatched.append((path, expected, actual))

    def _compare_lists(self, expected: Sequence[Any], actual: Sequence[Any], path: str) -> None:
        for index, value in enumerate(expected):
            if self.subset_lists and not isinstance(value, (Mapping, list, tuple)):
                if not any(_equal(value, candidate) for candidate in actual):
                    self.not_found.append((_join(path, index), value))
            elif index < len(actual):
                self.compare(value, actual[index], _join(path, index))
            else:
                self.missing.append(_join(path, index))
        if not self.subset:
            self.extra.extend(_join(path, index) for index in range(len(expected), len(actual)))

    def message(self, expected: Any, actual: Any, msg: Optional[str]) -> str:
        lines = [msg] if msg else []
        if self.missing:
            lines.append('Missing values:')
            lines.extend(f'    {path}' for path in self.missing)
        if self.mismatched:
            lines.append('Mismatch values:')
            for path, expected_value, actual_value in self.mismatched:
                lines.append(
                    f'    {path or "(top)"}: expected {_describe(expected_value)}, actual {_describe(actual_value)}'
                )
        if self.not_found:
            lines.append('Not found in the list:')
            lines.extend(f'    {path}: {_describe(value)}' for path, value in self.not_found)
        if self.extra:
            lines.append('Extra values:')
            lines.extend(f'    {path}' for path in self.extra)
        lines.append('Expected: ' + pprint.pformat(expected, width=100))
        lines.append('Actual: ' + pprint.pformat(actual, width=100))
        return '\n'.join(lines)


def assert_subset_structure(expected: Any, actual: Any, subset_lists: bool = False, msg: Optional[str] = None) -> None:
    """
    Assert that ``expected`` is contained in ``actual``: dicts in ``actual`` may have more keys, and lists more items.
    Lists are compared index by index; with ``subset_lists``, a plain value (not a dict or list) in an expected list
    may be anywhere in the actual list. An empty expected dict or list only matches an empty one.
    """
    differences = _Differences(subset=True, subset_lists=subset_lists)
    differences.compare(expected, actual, '')
    if differences:
        raise _failure(differences.message(expected, actual, msg), differences.paths)


def assert_exact_structure(expected: Any, actual: Any, msg: Optional[str] = None) -> None:
    """Assert that ``actual`` equals ``expected`` exactly: no missing, different or extra keys and items."""
    differences = _Differences(subset=False)
    differences.compare(expected, actual, '')
    if differences:
        raise _failure(differences.message(expected, actual, msg), differences.paths)


def _find_values(data: Any, segments: Sequence[PathSegment], path: str = '') -> Iterator[Tuple[str, Any]]:
    """The values at a path, with the path each is at; a list index stands for every item of the list."""
    if not segments:
        yield path, data
        return
    segment, rest = segments[0], segments[1:]
    if isinstance(data, (list, tuple)) and isinstance(segment, int):
        for index, item in enumerate(data):
            yield from _find_values(item, rest, _join(path, index))
    elif isinstance(data, Mapping) and segment in data:
        yield from _find_values(data[segment], rest, _join(path, segment))


def assert_not_expected(not_expected: Any, actual: Any, msg: Optional[str] = None) -> None:
    """
    Assert that no path of ``not_expected`` holds the same value in ``actual`` (missing paths pass). A value expected
    not to be a list item must not be any item of the actual list.
    """
    unexpected = {}
    for path in get_all_paths(not_expected):
        value = path_get(not_expected, path)
        for actual_path, actual_value in _find_values(actual, split_path(path)):
            if _equal(value, actual_value):
                found_at = f' (found at {actual_path})' if actual_path != normalize_path(path) else ''
                unexpected[path] = f'    {path}: {_describe(actual_value)}{found_at}'
                break
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


def assert_expected_list_subset_of_actual(
    expected: Iterable[Any], actual: Iterable[Any], msg: Optional[str] = None
) -> None:
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


def assert_actual_list_not_subset(
    not_expected: Iterable[Any], actual: Iterable[Any], msg: Optional[str] = None
) -> None:
    """Assert that no item of ``not_expected`` equals an item of ``actual``."""
    actual = list(actual)
    found = [item for item in not_expected if any(_equal(item, candidate) for candidate in actual)]
    if found:
        lines = ([msg] if msg else []) + _format_list('Found but expected not to be:', found)
        lines += _format_list('Actual:', actual)
        raise AssertionError('\n'.join(lines))
