"""
Paths into nested data and ``[[...]]`` variable substitution, shared by the directives.

A *path* names a place in nested dicts and lists: segments are separated by dots, all-digit segments are list
indexes, and a segment wrapped in braces is taken literally (it may contain dots, or be a dict key made of digits):

* ``a.b.0.c`` → ``{'a': {'b': [{'c': value}]}}``
* ``a.{b.c}`` → ``{'a': {'b.c': value}}``
* ``a.{0}`` → ``{'a': {'0': value}}``
"""

import re
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Union,
)

from pyparsing import (
    And,
    Each,
    Keyword,
    Literal,
    MatchFirst,
    Opt,
    Or,
    ParseElementEnhance,
    ParserElement,
    Suppress,
    ZeroOrMore,
)

from pysoa.test.plan.errors import StatusError


__all__ = (
    'UNSPECIFIED',
    'get_all_paths',
    'join_path',
    'normalize_path',
    'path_get',
    'path_put',
    'recursive_parse_expr_repr',
    'split_path',
    'substitute_variables',
)

PathSegment = Union[str, int]


def split_path(path: str) -> List[PathSegment]:
    """
    Split a path into its segments: ``int`` for list indexes, ``str`` for dict keys (braces removed).

    :raises ValueError: If the braces are unbalanced.
    """
    raw_segments: List[str] = []
    current: List[str] = []
    depth = 0
    for character in path:
        if character == '{':
            depth += 1
        elif character == '}':
            depth -= 1
            if depth < 0:
                raise ValueError(f'Unbalanced braces in path `{path}`')
        elif character == '.' and depth == 0:
            raw_segments.append(''.join(current))
            current = []
            continue
        current.append(character)
    if depth:
        raise ValueError(f'Unbalanced braces in path `{path}`')
    raw_segments.append(''.join(current))

    segments: List[PathSegment] = []
    for raw in raw_segments:
        if _is_braced(raw):
            segments.append(raw[1:-1])
        elif raw.isdigit():
            segments.append(int(raw))
        else:
            segments.append(raw)
    return segments


def _is_braced(segment: str) -> bool:
    """True if the segment is ``{...}`` with the first brace closed by the last character."""
    if len(segment) < 2 or segment[0] != '{' or segment[-1] != '}':
        return False
    depth = 0
    for index, character in enumerate(segment):
        depth += {'{': 1, '}': -1}.get(character, 0)
        if depth == 0:
            return index == len(segment) - 1
    return False


class _Unspecified:
    """A list item that an expectation does not mention: equal to anything, and not a leaf of :func:`get_all_paths`."""

    def __eq__(self, other: Any) -> bool:
        return True

    def __ne__(self, other: Any) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return '<unspecified>'

    def __deepcopy__(self, memo: Dict[int, Any]) -> '_Unspecified':
        return self


UNSPECIFIED = _Unspecified()
"""Pads the lists of expected values (``path_put(..., pad_with_unspecified=True)``): it matches any actual item."""


def _new_container(next_segment: Optional[PathSegment], value: Any) -> Any:
    if isinstance(next_segment, int) or (next_segment is None and isinstance(value, list)):
        return []
    return {}


def path_put(
    target: Union[Dict[Any, Any], List[Any]], path: str, value: Any, pad_with_unspecified: bool = False
) -> None:
    """
    Put ``value`` at ``path`` inside ``target``, creating the dicts and lists on the way. Lists grow as needed,
    padded with empty containers (or, for expected values, with :data:`UNSPECIFIED`, which matches anything).

    :raises ValueError: If the path is malformed or runs into a value that is not a container.
    """
    segments = split_path(path)
    current: Any = target
    for position, segment in enumerate(segments):
        is_last = position == len(segments) - 1
        next_segment = None if is_last else segments[position + 1]
        if isinstance(current, list):
            if not isinstance(segment, int):
                raise ValueError(f'Path `{path}`: `{segment}` is not a list index')
            while len(current) <= segment:
                current.append(UNSPECIFIED if pad_with_unspecified else _new_container(next_segment, value))
            key: Any = segment
        elif isinstance(current, dict):
            key = str(segment)
        else:
            raise ValueError(f'Path `{path}`: cannot put a value inside {current!r}')

        if is_last:
            current[key] = value
            return
        child = current[key] if (isinstance(current, list) or key in current) else None
        if isinstance(child, dict) or (isinstance(child, list) and isinstance(next_segment, int)):
            current = child
            continue
        if child is not UNSPECIFIED and child not in (None, {}, []):
            raise ValueError(f'Path `{path}`: cannot put a value inside {child!r}')
        current[key] = _new_container(next_segment, value)
        current = current[key]


def path_get(data: Any, path: str) -> Any:
    """
    Get the value at ``path`` inside ``data``. Digit segments index lists and tuples (sets in sorted order), or are
    integer dict keys; other segments (and braced digits) are string dict keys.

    :raises KeyError: If a dict key is missing (or the path goes through a value that is not a container).
    :raises IndexError: If a list index is out of range.
    """
    current = data
    for segment in split_path(path):
        if isinstance(current, Mapping):
            if segment not in current:
                raise KeyError(segment)
            current = current[segment]
        elif isinstance(current, (list, tuple, set, frozenset)):
            if not isinstance(segment, int):
                raise KeyError(segment)
            sequence = sorted(current) if isinstance(current, (set, frozenset)) else current
            current = sequence[segment]
        else:
            raise KeyError(segment)
    return current


def _escape_key(key: Any) -> str:
    text = str(key)
    if '.' in text or (text.isdigit() and not isinstance(key, int)) or _is_braced(text):
        return '{' + text + '}'
    return text


def join_path(segments: Iterable[Any]) -> str:
    """The path of these segments: ``int`` segments are list indexes, string keys are brace-escaped if needed."""
    return '.'.join(_escape_key(segment) for segment in segments)


def normalize_path(path: str) -> str:
    """A path in its canonical spelling (``a.{b}.0`` → ``a.b.0``), to compare paths."""
    return join_path(split_path(path))


def get_all_paths(data: Any, current_path: str = '', allow_blank: bool = False) -> List[str]:
    """
    The paths of all leaves of ``data`` (empty dicts and lists count as leaves). Keys containing dots or made of
    digits are brace-escaped. A leaf at the top (``current_path`` empty) is listed as ``''`` only if
    ``allow_blank``.
    """
    children: Iterable[Any]
    if data is UNSPECIFIED:
        return []
    if isinstance(data, Mapping) and data:
        children = ((_escape_key(key), value) for key, value in data.items())
    elif isinstance(data, (list, tuple)) and data:
        children = ((str(index), value) for index, value in enumerate(data))
    else:
        return [current_path] if (current_path or allow_blank) else []
    paths: List[str] = []
    for key, value in children:
        paths.extend(get_all_paths(value, f'{current_path}.{key}' if current_path else key, allow_blank))
    return paths


# Substitution --------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\[\[([^\[\]]+)\]\]')
_UPPER_CASE_SEGMENT = re.compile(r'^[A-Z][A-Z0-9_-]*$')


def _candidates(token: str) -> List[str]:
    """The names to try for a token, in order: as given, first segment lower-cased, with ``.0`` inserted or removed."""
    first, dot, rest = token.partition('.')
    names = [token, first.lower() + dot + rest]
    names += [f'{name.partition(".")[0]}.0{dot}{rest}' for name in list(names)]
    if _UPPER_CASE_SEGMENT.match(first) and rest.partition('.')[0] == '0':
        # An upper-case reference got `.0` inserted when it was parsed; it may name a model constant after all.
        names.append(first + (('.' + rest.partition('.')[2]) if rest.partition('.')[2] else ''))
    return list(dict.fromkeys(names))


def _look_up(token: str, sources: Iterable[Any]) -> Any:
    sources = list(sources)
    for name in _candidates(token.strip()):
        for source in sources:
            try:
                return path_get(source, name)
            except (KeyError, IndexError, ValueError):
                continue
    available = sorted({str(key) for source in sources if isinstance(source, Mapping) for key in source})
    raise StatusError(
        f'Could not find value for substitution [[{token}]]: no earlier response of the test case or model constant '
        f'has it' + (f' (names available: {", ".join(available)})' if available else '')
    )


def _substitute_string(value: str, sources: Iterable[Any]) -> Any:
    sources = list(sources)
    whole = _TOKEN.fullmatch(value)
    if whole:
        return _look_up(whole.group(1), sources)
    return _TOKEN.sub(lambda match: str(_look_up(match.group(1), sources)), value)


def substitute_variables(data: Any, *sources: Any) -> Any:
    """
    Resolve the ``[[name.path]]`` tokens in every string of ``data`` (dicts and lists are changed in place; the
    result is also returned). A token that is the whole string is replaced by the value it names (keeping its type);
    tokens inside a longer string are replaced by their ``str()``. Each token is looked up in ``sources`` in order:
    as given, with its first segment lower-cased, then with ``.0`` inserted after the first segment (so
    ``[[GET_USER.id]]`` finds ``get_user.0.id``).

    Strings that were parsed with a data type other than ``str`` are converted to it once substituted.

    :raises StatusError: If a token names nothing in the sources.
    """
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = substitute_variables(value, *sources)
        return data
    if isinstance(data, list):
        for index, value in enumerate(data):
            data[index] = substitute_variables(value, *sources)
        return data
    if isinstance(data, str) and '[[' in data:
        result = _substitute_string(data, sources)
        data_type = getattr(data, 'data_type', None)
        if data_type and isinstance(result, str):
            from pysoa.test.plan.grammar.data_types import get_typed_value

            return get_typed_value(data_type, result)
        return result
    return data


# Grammar rendering ---------------------------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    """``a : b , c = d [. e]`` → ``a: b, c=d [.e]``."""
    for before, after in ((' :', ':'), (' ,', ','), (' = ', '='), ('[. ', '[.'), (' [.', '[.')):
        text = text.replace(before, after)
    return text


def recursive_parse_expr_repr(
    parse_expression: ParserElement,
    include_optional: bool = True,
    include_suppressed: bool = True,
    include_internal_names: bool = False,
) -> str:
    """
    Render a pyparsing expression in the BNF-ish style the test plan documentation uses: named tokens as ``<name>``,
    literals as themselves, ``[optional]`` parts and ``(a | b)`` alternatives.
    """
    expression = parse_expression
    if hasattr(expression, 'plan_repr'):
        return str(expression.plan_repr)
    custom_name = getattr(expression, 'customName', None)
    if custom_name and not include_internal_names and not isinstance(expression, (Literal, Keyword)):
        return custom_name if custom_name.startswith('<') else f'<{custom_name}>'
    if isinstance(expression, (Literal, Keyword)):
        return expression.match
    if isinstance(expression, Suppress):
        return (
            recursive_parse_expr_repr(expression.expr, include_optional, include_suppressed)
            if include_suppressed
            else ''
        )
    if isinstance(expression, Opt):
        if not include_optional:
            return ''
        return '[' + recursive_parse_expr_repr(expression.expr, include_optional, include_suppressed) + ']'
    if isinstance(expression, ZeroOrMore):
        return '[' + recursive_parse_expr_repr(expression.expr, include_optional, include_suppressed) + ' ...]'
    if isinstance(expression, (MatchFirst, Or)):
        return (
            '('
            + ' | '.join(recursive_parse_expr_repr(e, include_optional, include_suppressed) for e in expression.exprs)
            + ')'
        )
    if isinstance(expression, (And, Each)):
        parts = (recursive_parse_expr_repr(e, include_optional, include_suppressed) for e in expression.exprs)
        return _tidy(' '.join(part for part in parts if part))
    if isinstance(expression, ParseElementEnhance) and expression.expr is not None:
        return recursive_parse_expr_repr(expression.expr, include_optional, include_suppressed)
    return f'<{expression}>'
