"""
The data types of test plan values: ``input int: count: 3`` gives the integer 3. Also the expectation-only values:
:class:`RegexValue` (``expect regex:``) and :class:`AnyValue` (``expect any int:``), and :class:`ClockValue`, which
holds a date or time relative to the clock (``input datetime: at: now``) until the plan runs.
"""

import base64
import binascii
import codecs
import datetime
import decimal
import re
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    Type,
)

import pytz
from pyparsing import (
    ParseResults,
    Regex,
)

from pysoa.test.plan.errors import DataTypeConversionError


__all__ = (
    'AnyValue',
    'ClockValue',
    'DataTypeGrammar',
    'RegexValue',
    'SubstitutionString',
    'data_type_descriptions',
    'freeze_clock_values',
    'get_all_data_type_names',
    'get_parsed_data_type_value',
    'get_typed_value',
    'resolve_clock_values',
)


data_type_descriptions: Dict[str, str] = {
    'base64_bytes': 'Base64-encoded bytes (the value is decoded)',
    'bool': 'A boolean: true for `true` in any case, false for anything else',
    'bytes': 'Bytes (the UTF-8 encoding of the value)',
    'date': 'A date: `today`, `utc_today` or `YYYY,MM,DD`',
    'datetime': (
        'A date and time: `now`, `utc_now`, `midnight` or `utc_midnight`, optionally followed by a space and '
        '`days[,hours[,minutes[,seconds[,microseconds]]]]` to add, or `YYYY,MM,DD[,hh,mm,ss[,microseconds]]`'
    ),
    'decimal': 'A decimal.Decimal',
    'emptydict': 'An empty dict (the value is ignored)',
    'emptylist': 'An empty list (the value is ignored)',
    'emptystr': 'An empty string (the value is ignored)',
    'encoded_ascii': 'An ASCII string whose backslash escapes (`\\n`, `\\u00e9`...) are decoded',
    'encoded_unicode': 'A string whose backslash escapes (`\\n`, `\\u00e9`...) are decoded',
    'float': 'A floating point number',
    'int': 'An integer',
    'none': 'None (the value is ignored)',
    'None': 'None (the value is ignored)',
    'not regex': 'Expectations only: a string that does not match this regular expression (`re.match`)',
    'regex': 'Expectations only: a string that matches this regular expression (`re.match`)',
    'str': 'A string (the default)',
    'time': (
        'A time: `now`, `utc_now` or `midnight`, optionally followed by a space and '
        '`days[,hours[,minutes[,seconds[,microseconds]]]]` to add, or `hh[,mm[,ss[,microseconds]]]`'
    ),
}
"""Every data type name with a description of the values it takes."""


def get_all_data_type_names() -> List[str]:
    """The names of all data types, in alphabetical order."""
    return sorted(data_type_descriptions)


def _make_grammar() -> Regex:
    names = sorted(data_type_descriptions, key=lambda name: (-len(name), name))  # longest first
    pattern = '|'.join(re.escape(name).replace(r'\ ', r'[ \t]+') for name in names)
    grammar = Regex(rf'(?:{pattern})(?![A-Za-z0-9_$])')
    grammar.add_parse_action(lambda tokens: ' '.join(tokens[0].split()))  # `not   regex` → `not regex`
    grammar.set_name('data type')
    return grammar


DataTypeGrammar = _make_grammar()
"""The pyparsing expression matching one data type name (results name: none; directives give it ``data_type``)."""


class SubstitutionString(str):
    """
    A value that contains ``[[...]]`` substitutions: kept as a string until the plan runs, remembering the data type
    to convert it to once substituted.
    """

    data_type: Optional[str]

    def __new__(cls, value: str, data_type: Optional[str] = None) -> 'SubstitutionString':
        instance = super().__new__(cls, value)
        instance.data_type = data_type
        return instance

    def __reduce__(self) -> Tuple[Any, ...]:
        return SubstitutionString, (str(self), self.data_type)

    def __deepcopy__(self, memo: Dict[int, Any]) -> 'SubstitutionString':
        return self


class RegexValue:
    """Equal to strings that match (``re.match``) the pattern, or with ``negate`` to those that do not."""

    def __init__(self, pattern: str, negate: bool = False) -> None:
        try:
            self.regex = re.compile(pattern)
        except re.error as e:
            raise DataTypeConversionError(f'Invalid regular expression `{pattern}`: {e}') from e
        self.pattern = pattern
        self.negate = negate

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, RegexValue):
            return (self.pattern, self.negate) == (other.pattern, other.negate)
        if not isinstance(other, str):
            return False
        return bool(self.regex.match(other)) != self.negate

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f'RegexValue({self.pattern!r}{", negate=True" if self.negate else ""})'


_DATETIME_STRING = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$')
_DATE_STRING = re.compile(r'^\d{4}-\d{2}-\d{2}$')

_ANY_VALUE_TYPES: Dict[str, Tuple[Type[Any], ...]] = {
    'base64_bytes': (bytes,),
    'bool': (bool,),
    'bytes': (bytes,),
    'decimal': (decimal.Decimal,),
    'emptydict': (dict,),
    'emptylist': (list,),
    'emptystr': (str,),
    'encoded_ascii': (str,),
    'encoded_unicode': (str,),
    'float': (float,),
    'regex': (str,),
    'not regex': (str,),
    'str': (str,),
    'time': (datetime.time,),
}


class AnyValue:
    """
    Equal to any value of a data type: ``AnyValue('int') == 5``. ``datetime`` also accepts strings like
    ``2020-01-02T03:04:05.678Z`` and ``date`` strings like ``2020-01-02``. With ``permit_none``, also equal to None.
    """

    def __init__(self, data_type: str, permit_none: bool = False) -> None:
        self.data_type = data_type
        self.permit_none = permit_none

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, AnyValue):
            return (self.data_type, self.permit_none) == (other.data_type, other.permit_none)
        if other is None and self.permit_none:
            return True
        data_type = self.data_type
        if data_type == 'int':
            return isinstance(other, int) and not isinstance(other, bool)
        if data_type == 'datetime':
            return isinstance(other, datetime.datetime) or (
                isinstance(other, str) and bool(_DATETIME_STRING.match(other))
            )
        if data_type == 'date':
            return (isinstance(other, datetime.date) and not isinstance(other, datetime.datetime)) or (
                isinstance(other, str) and bool(_DATE_STRING.match(other))
            )
        if data_type in ('none', 'None'):
            return other is None
        if data_type in _ANY_VALUE_TYPES:
            return isinstance(other, _ANY_VALUE_TYPES[data_type])
        return type(other).__name__ == data_type

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f'AnyValue({self.data_type!r}{", permit_none=True" if self.permit_none else ""})'


# Conversions ---------------------------------------------------------------------------------------------------------

_UPPER_CASE_REFERENCE = re.compile(r'\[\[([A-Z][A-Z0-9_-]*)((?:\.[^\[\]]*)?)\]\]')


def _insert_default_indexes(value: str) -> str:
    """``[[GET_USER.name]]`` → ``[[GET_USER.0.name]]``: upper-case action references default to the first call."""

    def insert(match: 're.Match[str]') -> str:
        action, rest = match.group(1), match.group(2)
        if rest[1:].partition('.')[0].isdigit():
            return match.group(0)
        return f'[[{action}.0{rest}]]'

    return _UPPER_CASE_REFERENCE.sub(insert, value)


def _integers(value: str, what: str) -> List[int]:
    try:
        return [int(part) for part in value.split(',')]
    except ValueError:
        raise DataTypeConversionError(f'Expected {what}, comma-separated integers, got `{value}`') from None


def _delta(value: str) -> datetime.timedelta:
    parts = _integers(value, 'days[,hours[,minutes[,seconds[,microseconds]]]]')
    if len(parts) > 5:
        raise DataTypeConversionError(
            f'Expected at most 5 numbers (days,hours,minutes,seconds,microseconds): `{value}`',
        )
    names = ('days', 'hours', 'minutes', 'seconds', 'microseconds')
    return datetime.timedelta(**dict(zip(names, parts)))


# The clock shorthands below take the time from `at` (naive UTC, as freezegun freezes it) or, without it, from the
# clock, looked up when called (not bound now) so that freezegun's frozen clock applies.


def _now(at: Optional[datetime.datetime]) -> datetime.datetime:
    return at or datetime.datetime.now()


def _utc_now(at: Optional[datetime.datetime]) -> datetime.datetime:
    return pytz.utc.localize(at) if at else datetime.datetime.now(pytz.utc)


_DATETIME_SHORTHANDS: Dict[str, Callable[[Optional[datetime.datetime]], datetime.datetime]] = {
    'now': _now,
    'utc_now': _utc_now,
    'midnight': lambda at: datetime.datetime.combine(_now(at).date(), datetime.time()),
    'utc_midnight': lambda at: _utc_now(at).replace(hour=0, minute=0, second=0),
}
_CLOCK_SHORTHANDS = ('today', 'utc_today', *_DATETIME_SHORTHANDS)


def _shorthand_datetime(
    value: str, allowed: Tuple[str, ...], at: Optional[datetime.datetime]
) -> Optional[datetime.datetime]:
    """A datetime from ``shorthand[ delta]`` (microseconds zeroed), or None if the value is not a shorthand."""
    name, _, delta = value.partition(' ')
    if name not in allowed:
        return None
    result = _DATETIME_SHORTHANDS[name](at).replace(microsecond=0)
    if delta.strip():
        result += _delta(delta.strip())
    return result


def _to_datetime(value: str, at: Optional[datetime.datetime] = None) -> datetime.datetime:
    shorthand = _shorthand_datetime(value, ('now', 'utc_now', 'midnight', 'utc_midnight'), at)
    if shorthand is not None:
        return shorthand
    parts = _integers(value, 'now, utc_now, midnight, utc_midnight or YYYY,MM,DD[,hh,mm,ss[,microseconds]]')
    if not 3 <= len(parts) <= 7:
        raise DataTypeConversionError(f'Expected 3 to 7 numbers (YYYY,MM,DD[,hh,mm,ss[,microseconds]]): `{value}`')
    year, month, day, hour, minute, second, microsecond = parts + [0] * (7 - len(parts))
    return datetime.datetime(year, month, day, hour, minute, second, microsecond)


def _to_date(value: str, at: Optional[datetime.datetime] = None) -> datetime.date:
    if value == 'today':
        return _now(at).date()
    if value == 'utc_today':
        return _utc_now(at).date()
    parts = _integers(value, 'today, utc_today or YYYY,MM,DD')
    if len(parts) != 3:
        raise DataTypeConversionError(f'Expected 3 numbers (YYYY,MM,DD): `{value}`')
    return datetime.date(*parts)


def _to_time(value: str, at: Optional[datetime.datetime] = None) -> datetime.time:
    shorthand = _shorthand_datetime(value, ('now', 'utc_now', 'midnight'), at)
    if shorthand is not None:
        return shorthand.time()
    parts = _integers(value, 'now, utc_now, midnight or hh[,mm[,ss[,microseconds]]]')
    if len(parts) > 4:
        raise DataTypeConversionError(f'Expected 1 to 4 numbers (hh[,mm[,ss[,microseconds]]]): `{value}`')
    hour, minute, second, microsecond = parts + [0] * (4 - len(parts))
    return datetime.time(hour, minute, second, microsecond)


def _decode_escapes(value: str, ascii_only: bool) -> str:
    if ascii_only:
        try:
            value.encode('ascii')
        except UnicodeEncodeError:
            raise DataTypeConversionError(f'Expected ASCII text, got `{value}`') from None
    # Non-Latin-1 characters become escapes first, so that decoding keeps them intact.
    return codecs.decode(value.encode('latin-1', 'backslashreplace'), 'unicode_escape')


def _to_base64_bytes(value: str) -> bytes:
    try:
        return base64.b64decode(value.encode('ascii'), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise DataTypeConversionError(f'Expected base64-encoded bytes, got `{value}`') from None


_DATE_AND_TIME_CONVERTERS: Dict[str, Callable[[str, Optional[datetime.datetime]], Any]] = {
    'date': _to_date,
    'datetime': _to_datetime,
    'time': _to_time,
}

_CONVERTERS: Dict[str, Callable[[str], Any]] = {
    'base64_bytes': _to_base64_bytes,
    'bool': lambda value: value.lower() == 'true',
    'bytes': lambda value: value.encode('utf-8'),
    'date': _to_date,
    'datetime': _to_datetime,
    'decimal': lambda value: decimal.Decimal(value or '0.0'),
    'emptydict': lambda _value: {},
    'emptylist': lambda _value: [],
    'emptystr': lambda _value: '',
    'encoded_ascii': lambda value: _decode_escapes(value, ascii_only=True),
    'encoded_unicode': lambda value: _decode_escapes(value, ascii_only=False),
    'float': lambda value: float(value or 0.0),
    'int': lambda value: int(value or 0),
    'none': lambda _value: None,
    'None': lambda _value: None,
    'null': lambda _value: None,  # not a data type of the grammar, only of get_typed_value (as in 1.4.9)
    'not regex': lambda value: RegexValue(value, negate=True),
    'regex': RegexValue,
    'str': lambda value: value,
    'time': _to_time,
}

_TYPES_IGNORING_THE_VALUE = ('emptydict', 'emptylist', 'emptystr', 'none', 'None', 'null')


def get_typed_value(type_name: Optional[str], value: Any) -> Any:
    """
    Convert a value from a test fixture to ``type_name`` (``str`` if None; ``null`` gives None). A value containing a
    ``[[...]]`` substitution stays a string (a :class:`SubstitutionString` that is converted once substituted).

    The value is normally a string. Bytes are decoded from UTF-8 first (and kept as they are for ``bytes``), None
    gives the empty value of the type (``0``, ``''``, ``b''``...), and :class:`AnyValue` and :class:`RegexValue`
    wildcards are returned unchanged.

    :raises DataTypeConversionError: If the type is unknown or the value cannot be converted (``date``,
                                     ``datetime`` and ``time`` only convert text).
    """
    type_name = type_name or 'str'
    if type_name not in _CONVERTERS:
        raise DataTypeConversionError(f'Unknown data type `{type_name}`')
    if isinstance(value, (AnyValue, RegexValue)) or (isinstance(value, bytes) and type_name == 'bytes'):
        return value
    if value is None and type_name not in _DATE_AND_TIME_CONVERTERS:
        value = ''
    try:
        if isinstance(value, bytes):
            value = value.decode('utf-8')
        if not isinstance(value, str) and type_name in _DATE_AND_TIME_CONVERTERS:
            raise DataTypeConversionError(f'Expected text to convert to {type_name}, got {value!r}')
        if isinstance(value, str) and '[[' in value and type_name not in _TYPES_IGNORING_THE_VALUE:
            return SubstitutionString(_insert_default_indexes(value), type_name)
        return _CONVERTERS[type_name](value)
    except DataTypeConversionError:
        raise
    except (ValueError, TypeError, ArithmeticError, OverflowError, UnicodeError) as e:
        raise DataTypeConversionError(f'Cannot convert `{value}` to {type_name}: {e}') from e


class ClockValue:
    """
    A date or time that a test plan gives relative to the clock (``now``, ``utc_now 1``, ``midnight``, ``today``...):
    the plan keeps it until its test case or action case runs, then replaces it with its value
    (:func:`resolve_clock_values`), taken at the frozen time if ``freeze time`` applies to it.

    :ivar frozen_at: None, or a callable returning the frozen time (naive UTC) to take the value at.
    """

    def __init__(self, data_type: str, value: str) -> None:
        self.data_type = data_type
        self.value = value
        self.frozen_at: Optional[Callable[[], datetime.datetime]] = None

    def resolve(self) -> Any:
        """The value, at the frozen time if there is one, else at the time of the clock."""
        return _DATE_AND_TIME_CONVERTERS[self.data_type](self.value, self.frozen_at() if self.frozen_at else None)

    def __repr__(self) -> str:
        return f'ClockValue({self.data_type!r}, {self.value!r})'


def _replace_clock_values(data: Any, replace: Callable[[ClockValue], Any]) -> Any:
    if isinstance(data, ClockValue):
        return replace(data)
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = _replace_clock_values(value, replace)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            data[index] = _replace_clock_values(value, replace)
    return data


def resolve_clock_values(data: Any) -> Any:
    """
    Replace every :class:`ClockValue` in ``data`` (dicts and lists are changed in place) with its value; returns the
    data (or the value, if ``data`` is a ``ClockValue``).
    """
    return _replace_clock_values(data, ClockValue.resolve)


def freeze_clock_values(data: Any, frozen_at: Callable[[], datetime.datetime]) -> None:
    """Make every :class:`ClockValue` in ``data`` (in dicts and lists) take its value at the time ``frozen_at()``."""

    def freeze(value: ClockValue) -> ClockValue:
        value.frozen_at = frozen_at
        return value

    _replace_clock_values(data, freeze)


def get_parsed_data_type_value(parse_results: ParseResults, value: str) -> Any:
    """
    Convert ``value`` to the data type named ``data_type`` in the directive's parse results (default ``str``). Dates
    and times relative to the clock (``now``, ``today``...) are checked, then returned as a :class:`ClockValue` to
    resolve when the plan runs.
    """
    data_type = (parse_results['data_type'] if 'data_type' in parse_results else None) or 'str'
    typed_value = get_typed_value(data_type, value)
    if isinstance(typed_value, (datetime.date, datetime.time)) and value.partition(' ')[0] in _CLOCK_SHORTHANDS:
        return ClockValue(data_type, value)
    return typed_value
