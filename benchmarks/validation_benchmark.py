"""
What validating a request costs with Conformity and with the compiled checks of ``pysoa.common._fast_validation``: a
typical job request (``JobRequestSchema``) and typical action bodies of the example service, valid and invalid, in
microseconds per validation. Run: ``python benchmarks/validation_benchmark.py [--number N]``.
"""

import argparse
import pathlib
import sys
import timeit
from typing import (
    Any,
    Callable,
    Dict,
    Tuple,
)

from conformity import fields

from pysoa.common._fast_validation import (
    FastSchema,
    _generate,
    compile_check,
)
from pysoa.server.schemas import JobRequestSchema


TYPICAL_JOB_REQUEST: Dict[str, Any] = {
    'control': {'continue_on_error': False, 'suppress_response': False},
    'context': {'switches': [1, 5], 'correlation_id': 'a2c4e6f8a2c4e6f8a2c4e6f8a2c4e6f8', 'caller': 'example.client'},
    'actions': [{'action': 'square', 'body': {'number': 42}}],
}
INVALID_JOB_REQUEST: Dict[str, Any] = {**TYPICAL_JOB_REQUEST, 'actions': [{'action': 'square', 'body': {1: 42}}]}
GREET_BODY: Dict[str, Any] = {'name': 'Ada Lovelace', 'language': 'fr'}
INVALID_GREET_BODY: Dict[str, Any] = {'name': '', 'language': 'de'}
SQUARE_BODY: Dict[str, Any] = {'number': 42}
REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def per_call_microseconds(function: Callable[[], Any], number: int) -> float:
    best = min(timeit.repeat(function, number=number, repeat=5))
    return best / number * 1e6


def microseconds_per_validation(field: fields.Base, value: Any, number: int) -> Tuple[float, float, float]:
    """Conformity's ``errors``, the compiled check and ``FastSchema.errors``, for one value."""
    check = compile_check(field)
    schema = FastSchema(field)
    assert schema.errors(value) == field.errors(value)
    return (
        per_call_microseconds(lambda: field.errors(value), number),
        per_call_microseconds(lambda: check(value), number),
        per_call_microseconds(lambda: schema.errors(value), number),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--number', type=int, default=20000, help='validations per timing run')
    number = parser.parse_args().number

    sys.path.insert(0, str(REPO_ROOT))  # example_service lives in the checkout
    from example_service.actions import (
        GreetAction,
        SquareAction,
    )

    cases = [
        ('typical job request', JobRequestSchema, TYPICAL_JOB_REQUEST),
        ('invalid job request', JobRequestSchema, INVALID_JOB_REQUEST),
        ('greet request body', GreetAction.request_schema, GREET_BODY),
        ('invalid greet request body', GreetAction.request_schema, INVALID_GREET_BODY),
        ('square request body', SquareAction.request_schema, SQUARE_BODY),
    ]
    print(f'{"value":28s} {"Conformity":>12s} {"check":>12s} {"FastSchema":>12s} {"speed-up":>9s}')
    for label, field, value in cases:
        conformity, compiled, fast = microseconds_per_validation(field, value, number)
        print(f'{label:28s} {conformity:9.2f} us {compiled:9.2f} us {fast:9.2f} us {conformity / fast:8.1f}x')

    # compile_check caches its result, so time the uncached step it runs once per schema.
    compile_cost = per_call_microseconds(lambda: _generate(JobRequestSchema), max(1, number // 100))
    print(f'compiling JobRequestSchema once: {compile_cost:.0f} us')


if __name__ == '__main__':
    main()
