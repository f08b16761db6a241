"""Data types of test plan values: conversions, shorthands, wildcards and the data type grammar."""

import copy
import datetime
import decimal

import freezegun
import pytest
import pytz

from pysoa.test.plan.errors import DataTypeConversionError
from pysoa.test.plan.grammar.data_types import (
    AnyValue,
    DataTypeGrammar,
    RegexValue,
    SubstitutionString,
    data_type_descriptions,
    get_all_data_type_names,
    get_parsed_data_type_value,
    get_typed_value,
)


def test_all_data_type_names() -> None:
    assert get_all_data_type_names() == [
        'None',
        'base64_bytes',
        'bool',
        'bytes',
        'date',
        'datetime',
        'decimal',
        'emptydict',
        'emptylist',
        'emptystr',
        'encoded_ascii',
        'encoded_unicode',
        'float',
        'int',
        'none',
        'not regex',
        'regex',
        'str',
        'time',
    ]
    assert set(data_type_descriptions) == set(get_all_data_type_names())


@pytest.mark.parametrize(
    ('type_name', 'value', 'expected'),
    [
        ('int', '42', 42),
        ('int', '-7', -7),
        ('int', '', 0),
        ('float', '1.5', 1.5),
        ('float', '', 0.0),
        ('decimal', '12.50', decimal.Decimal('12.50')),
        ('decimal', '', decimal.Decimal('0.0')),
        ('bool', 'true', True),
        ('bool', 'TRUE', True),
        ('bool', 'yes', False),
        ('bool', '', False),
        ('bytes', 'héllo', 'héllo'.encode()),
        ('bytes', '', b''),
        ('base64_bytes', 'aGVsbG8=', b'hello'),
        ('base64_bytes', '', b''),
        ('str', 'text', 'text'),
        ('str', '', ''),
        (None, 'text', 'text'),
        ('encoded_ascii', r'a\tb\n\u00e9', 'a\tb\né'),
        ('encoded_unicode', r'café\t\u2603', 'café\t☃'),
        ('emptystr', 'ignored', ''),
        ('emptylist', 'ignored', []),
        ('emptydict', 'ignored', {}),
        ('none', 'ignored', None),
        ('None', '', None),
        ('date', '2020,2,29', datetime.date(2020, 2, 29)),
        ('datetime', '2021,3,4', datetime.datetime(2021, 3, 4)),
        ('datetime', '2021,3,4,5,6,7', datetime.datetime(2021, 3, 4, 5, 6, 7)),
        ('datetime', '2021,3,4,5,6,7,890123', datetime.datetime(2021, 3, 4, 5, 6, 7, 890123)),  # microseconds
        ('time', '13,14,15', datetime.time(13, 14, 15)),
        ('time', '13,14,15,16', datetime.time(13, 14, 15, 16)),
    ],
)
def test_conversions(type_name: str, value: str, expected: object) -> None:
    result = get_typed_value(type_name, value)
    assert result == expected
    assert type(result) is type(expected)


@freezegun.freeze_time('2020-01-31 13:45:30.123456')
@pytest.mark.parametrize(
    ('type_name', 'value', 'expected'),
    [
        ('datetime', 'now', datetime.datetime(2020, 1, 31, 13, 45, 30)),
        ('datetime', 'utc_now', pytz.utc.localize(datetime.datetime(2020, 1, 31, 13, 45, 30))),
        ('datetime', 'midnight', datetime.datetime(2020, 1, 31)),
        ('datetime', 'utc_midnight', pytz.utc.localize(datetime.datetime(2020, 1, 31))),
        ('datetime', 'now 1', datetime.datetime(2020, 2, 1, 13, 45, 30)),
        ('datetime', 'now -1,2', datetime.datetime(2020, 1, 30, 15, 45, 30)),
        ('datetime', 'midnight 0,1,2,3,4', datetime.datetime(2020, 1, 31, 1, 2, 3, 4)),
        ('datetime', 'utc_midnight 1,2,3,4,5', pytz.utc.localize(datetime.datetime(2020, 2, 1, 2, 3, 4, 5))),
        ('date', 'today', datetime.date(2020, 1, 31)),
        ('date', 'utc_today', datetime.date(2020, 1, 31)),
        ('time', 'now', datetime.time(13, 45, 30)),
        ('time', 'utc_now 0,1', datetime.time(14, 45, 30)),
        ('time', 'midnight 0,1,2,3', datetime.time(1, 2, 3)),
    ],
)
def test_date_and_time_shorthands(type_name: str, value: str, expected: object) -> None:
    assert get_typed_value(type_name, value) == expected


@pytest.mark.parametrize(
    ('type_name', 'value', 'message'),
    [
        ('int', 'abc', "Cannot convert `abc` to int: invalid literal for int() with base 10: 'abc'"),
        ('float', 'x', 'Cannot convert `x` to float'),
        ('decimal', 'x', 'Cannot convert `x` to decimal'),
        ('base64_bytes', 'not base64!', 'Expected base64-encoded bytes, got `not base64!`'),
        ('encoded_ascii', 'café', 'Expected ASCII text, got `café`'),
        ('date', '2020,2', 'Expected 3 numbers (YYYY,MM,DD): `2020,2`'),
        ('date', 'tomorrow', 'Expected today, utc_today or YYYY,MM,DD, comma-separated integers, got `tomorrow`'),
        ('datetime', '2020,13,1', 'Cannot convert `2020,13,1` to datetime: month must be in 1..12'),
        ('datetime', '2020', 'Expected 3 to 7 numbers (YYYY,MM,DD[,hh,mm,ss[,microseconds]]): `2020`'),
        ('datetime', 'now 1,2,3,4,5,6', 'Expected at most 5 numbers (days,hours,minutes,seconds,microseconds)'),
        ('datetime', 'now x', 'Expected days[,hours[,minutes[,seconds[,microseconds]]]], comma-separated integers'),
        ('time', '25,0,0', 'Cannot convert `25,0,0` to time: hour must be in 0..23'),
        ('time', '1,2,3,4,5', 'Expected 1 to 4 numbers (hh[,mm[,ss[,microseconds]]]): `1,2,3,4,5`'),
        ('regex', '[unclosed', 'Invalid regular expression `[unclosed`'),
        ('integer', '1', 'Unknown data type `integer`'),
    ],
)
def test_conversion_errors(type_name: str, value: str, message: str) -> None:
    with pytest.raises(DataTypeConversionError) as info:
        get_typed_value(type_name, value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ('value', 'expected'),
    [
        ('13', datetime.time(13)),
        ('13,14', datetime.time(13, 14)),
    ],
)
def test_times_may_give_only_the_hour_or_the_hour_and_minutes(value: str, expected: datetime.time) -> None:
    assert get_typed_value('time', value) == expected


@pytest.mark.parametrize(
    ('type_name', 'expected'),
    [
        ('int', 0),
        ('float', 0.0),
        ('decimal', decimal.Decimal('0.0')),
        ('bool', False),
        ('str', ''),
        (None, ''),
        ('bytes', b''),
        ('base64_bytes', b''),
        ('encoded_ascii', ''),
        ('encoded_unicode', ''),
        ('emptylist', []),
    ],
)
def test_none_gives_the_empty_value_of_the_type(type_name: str, expected: object) -> None:
    result = get_typed_value(type_name, None)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ('type_name', 'value', 'expected'),
    [
        ('bytes', b'\xff\x00', b'\xff\x00'),
        ('str', 'héllo'.encode(), 'héllo'),
        ('int', b'42', 42),
        ('base64_bytes', b'aGVsbG8=', b'hello'),
        ('date', b'2020,2,29', datetime.date(2020, 2, 29)),
    ],
)
def test_bytes_values_are_accepted(type_name: str, value: bytes, expected: object) -> None:
    assert get_typed_value(type_name, value) == expected


@pytest.mark.parametrize('value', [AnyValue('int'), RegexValue('^a')])
def test_wildcard_values_pass_through_unchanged(value: object) -> None:
    assert get_typed_value('int', value) is value


def test_the_type_name_null_gives_none() -> None:
    assert get_typed_value('null', 'anything') is None


@pytest.mark.parametrize('type_name', ['date', 'datetime', 'time'])
@pytest.mark.parametrize('value', [None, 5, datetime.datetime(2020, 1, 2)])
def test_date_and_time_types_need_text(type_name: str, value: object) -> None:
    with pytest.raises(DataTypeConversionError, match=f'Expected text to convert to {type_name}, got '):
        get_typed_value(type_name, value)


def test_values_with_substitutions_stay_strings_until_substituted() -> None:
    value = get_typed_value('int', '[[GET_COUNT.count]]')
    assert isinstance(value, SubstitutionString)
    assert value == '[[GET_COUNT.0.count]]'  # upper-case action references default to the first call
    assert value.data_type == 'int'
    assert get_typed_value('str', 'a [[ACTION.1.x]] b [[lower.y]] [[UP]]') == 'a [[ACTION.1.x]] b [[lower.y]] [[UP.0]]'
    assert copy.deepcopy(value).data_type == 'int'
    assert get_typed_value('emptystr', '[[X.y]]') == ''


def test_regex_value() -> None:
    value = get_typed_value('regex', r'^[A-Z]+-\d+$')
    assert isinstance(value, RegexValue)
    assert value == 'ABC-12'
    assert value != 'abc-12'
    assert value != 12
    assert 'ABC-12' == value
    negated = get_typed_value('not regex', r'^\d')
    assert negated == 'abc'
    assert negated != '1bc'
    assert repr(negated) == r"RegexValue('^\\d', negate=True)"


@pytest.mark.parametrize(
    ('data_type', 'matching', 'not_matching'),
    [
        ('int', [0, -5], [True, 1.5, '1', None]),
        ('float', [1.5], [1, '1.5']),
        ('decimal', [decimal.Decimal('1')], [1.0]),
        ('bool', [True, False], [0, 'true']),
        ('str', ['', 'x'], [b'x', None]),
        ('bytes', [b'x'], ['x']),
        ('base64_bytes', [b'x'], ['x']),
        ('encoded_unicode', ['x'], [b'x']),
        (
            'datetime',
            [datetime.datetime(2020, 1, 2), '2020-01-02T03:04:05Z', '2020-01-02T03:04:05.678Z'],
            [datetime.date(2020, 1, 2), '2020-01-02', '2020-01-02T03:04:05'],
        ),
        ('date', [datetime.date(2020, 1, 2), '2020-01-02'], [datetime.datetime(2020, 1, 2), '2020-1-2']),
        ('time', [datetime.time(1, 2)], ['01:02']),
        ('emptylist', [[], [1]], [{}]),
        ('emptydict', [{}, {'a': 1}], [[]]),
        ('none', [None], [0]),
        ('list', [[1]], [(1,)]),  # other names compare with the type's name
    ],
)
def test_any_value(data_type: str, matching: list, not_matching: list) -> None:  # type: ignore[type-arg]
    any_value = AnyValue(data_type)
    for value in matching:
        assert any_value == value, value
    for value in not_matching:
        assert any_value != value, value


def test_any_value_permitting_none() -> None:
    assert AnyValue('int') != None  # noqa: E711
    assert AnyValue('int', permit_none=True) == None  # noqa: E711
    assert repr(AnyValue('int', permit_none=True)) == "AnyValue('int', permit_none=True)"


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('int', 'int'),
        ('base64_bytes', 'base64_bytes'),
        ('bytes', 'bytes'),
        ('datetime', 'datetime'),
        ('date', 'date'),
        ('not regex', 'not regex'),
        ('not \t regex', 'not regex'),
        ('None', 'None'),
        ('none', 'none'),
    ],
)
def test_data_type_grammar(text: str, expected: str) -> None:
    assert DataTypeGrammar.parse_string(text, parse_all=True)[0] == expected


@pytest.mark.parametrize('text', ['integer', 'dates', 'NONE', 'not'])
def test_data_type_grammar_rejects_other_words(text: str) -> None:
    with pytest.raises(Exception, match='data type'):
        DataTypeGrammar.parse_string(text, parse_all=True)


def test_get_parsed_data_type_value() -> None:
    assert get_parsed_data_type_value(DataTypeGrammar('data_type').parse_string('int'), '5') == 5
    assert get_parsed_data_type_value(DataTypeGrammar('other').parse_string('int'), '5') == '5'
