"""
How much PySOA's serializers cost on top of the raw libraries, for a typical request envelope and for one full of
extension types. Run: ``python benchmarks/serializer_benchmark.py [--number N]``.
"""

import argparse
import datetime
import decimal
import json
import timeit
from typing import (
    Any,
    Callable,
    Dict,
)

import msgpack
import pytz
from currint import Amount

from pysoa.common.serializer import (
    JSONSerializer,
    MsgpackSerializer,
)


TYPICAL_ENVELOPE: Dict[str, Any] = {
    'request_id': 123456,
    'meta': {
        'client_version': [2, 0, 0],
        'reply_to': 'service.example.0123456789abcdef0123456789abcdef!7f0000000001',
        '__expiry__': 1700000000.123,
    },
    'body': {
        'control': {'continue_on_error': False, 'suppress_response': False},
        'context': {'switches': [1, 5], 'correlation_id': 'a2c4e6f8a2c4e6f8a2c4e6f8a2c4e6f8'},
        'actions': [{'action': 'square', 'body': {'number': 42}}],
    },
}

EXTENSION_ENVELOPE: Dict[str, Any] = {
    'request_id': 1,
    'meta': {},
    'body': {
        'events': [
            {
                'starts': datetime.datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=pytz.UTC),
                'local_start': datetime.datetime(2026, 11, 21, 11, 0, 0),
                'day': datetime.date(2026, 11, 21),
                'door_time': datetime.time(9, 30),
                'fee_rate': decimal.Decimal('0.0325'),
                'price': Amount.from_code_and_minor('USD', 2500),
            }
            for _ in range(10)
        ],
    },
}


def per_call_microseconds(function: Callable[[], Any], number: int) -> float:
    best = min(timeit.repeat(function, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--number', type=int, default=20000, help='calls per timing run')
    number = parser.parse_args().number

    serializer = MsgpackSerializer()
    json_serializer = JSONSerializer()
    typical_blob = serializer.dict_to_blob(TYPICAL_ENVELOPE)
    extension_blob = serializer.dict_to_blob(EXTENSION_ENVELOPE)
    typical_json = json_serializer.dict_to_blob(TYPICAL_ENVELOPE)

    rows = [
        ('raw msgpack.packb, typical envelope', lambda: msgpack.packb(TYPICAL_ENVELOPE, use_bin_type=True)),
        ('MsgpackSerializer.dict_to_blob, typical envelope', lambda: serializer.dict_to_blob(TYPICAL_ENVELOPE)),
        ('raw msgpack.unpackb, typical envelope', lambda: msgpack.unpackb(typical_blob, raw=False)),
        ('MsgpackSerializer.blob_to_dict, typical envelope', lambda: serializer.blob_to_dict(typical_blob)),
        ('MsgpackSerializer.dict_to_blob, 60 extension values', lambda: serializer.dict_to_blob(EXTENSION_ENVELOPE)),
        ('MsgpackSerializer.blob_to_dict, 60 extension values', lambda: serializer.blob_to_dict(extension_blob)),
        ('raw json.dumps, typical envelope', lambda: json.dumps(TYPICAL_ENVELOPE).encode()),
        ('JSONSerializer.dict_to_blob, typical envelope', lambda: json_serializer.dict_to_blob(TYPICAL_ENVELOPE)),
        ('JSONSerializer.blob_to_dict, typical envelope', lambda: json_serializer.blob_to_dict(typical_json)),
    ]
    print(f'typical envelope: {len(typical_blob)} bytes msgpack, {len(typical_json)} bytes JSON')
    for label, function in rows:
        print(f'{label:55s} {per_call_microseconds(function, number):8.2f} us/call')


if __name__ == '__main__':
    main()
