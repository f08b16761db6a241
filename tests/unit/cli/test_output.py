"""How ``pysoa call`` prints values (JSON, whatever the service sent) and errors (one line each)."""

import datetime
import decimal
import io

from pysoa.cli._output import (
    print_errors,
    print_json,
    to_json_value,
)
from pysoa.common.errors import Error


def test_dates_and_times_become_iso_8601() -> None:
    assert to_json_value(
        {
            'when': datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc),
            'day': datetime.date(2024, 5, 1),
            'at': datetime.time(8, 15),
        }
    ) == {'when': '2024-05-01T12:30:00+00:00', 'day': '2024-05-01', 'at': '08:15:00'}


def test_decimals_keep_their_digits_as_strings() -> None:
    assert to_json_value([decimal.Decimal('10.10')]) == ['10.10']


def test_tuples_and_sets_become_lists_and_keys_strings() -> None:
    assert to_json_value({1: (1, 2), (3, 4): {5}}) == {'1': [1, 2], '[3, 4]': [5]}


def test_other_values_become_their_string() -> None:
    assert to_json_value(b'\x00raw') == "b'\\x00raw'"


def test_json_is_indented_and_keeps_non_ascii_characters() -> None:
    out = io.StringIO()

    print_json({'greeting': 'Grüß Gott'}, out)

    assert out.getvalue() == '{\n  "greeting": "Grüß Gott"\n}\n'


def test_each_error_is_one_line_of_code_field_and_message() -> None:
    out = io.StringIO()

    print_errors([Error(code='INVALID', message='Not an\ninteger', field='number'), Error(code='X', message='m')], out)

    assert out.getvalue() == 'INVALID\tnumber\tNot an integer\nX\t-\tm\n'
