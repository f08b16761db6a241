import sys
from typing import List

import pytest

from pysoa.utils import (
    dict_to_hashable,
    get_python_interpreter_arguments,
)


def test_equal_dicts_give_equal_hashables() -> None:
    first = {'hosts': [('a', 1), ('b', 2)], 'kwargs': {'db': 0, 'opts': {'x': {1, 2}}}}
    second = {'kwargs': {'opts': {'x': {2, 1}}, 'db': 0}, 'hosts': [('a', 1), ('b', 2)]}
    assert dict_to_hashable(first) == dict_to_hashable(second)
    assert hash(dict_to_hashable(first)) == hash(dict_to_hashable(second))


def test_different_dicts_give_different_hashables() -> None:
    assert dict_to_hashable({'hosts': ['a', 'b']}) != dict_to_hashable({'hosts': ['b', 'a']})
    assert dict_to_hashable({'db': 0}) != dict_to_hashable({'db': 1})


def test_hashable_keys_a_dict() -> None:
    cache = {dict_to_hashable({'a': [1, {'b': 2}]}): 'value'}
    assert cache[dict_to_hashable({'a': [1, {'b': 2}]})] == 'value'


@pytest.mark.parametrize(
    ('orig_argv', 'argv', 'expected'),
    [
        (
            ['python', '-W', 'error', '-m', 'svc', '--fork', '2'],
            ['/x/svc/__main__.py', '--fork', '2'],
            ['-W', 'error', '-m', 'svc'],
        ),
        (['python', '-X', 'dev', 'script.py', '-s', 'x'], ['script.py', '-s', 'x'], ['-X', 'dev']),
        (['python', 'script.py'], ['script.py'], []),
        (['python', '-c', 'pass', 'arg'], ['-c', 'arg'], ['-c', 'pass']),
        (['/usr/bin/python3', '-m', 'svc'], ['/x/svc/__main__.py'], ['-m', 'svc']),
    ],
)
def test_interpreter_arguments_exclude_script_and_program_arguments(
    monkeypatch: pytest.MonkeyPatch,
    orig_argv: List[str],
    argv: List[str],
    expected: List[str],
) -> None:
    monkeypatch.setattr(sys, 'orig_argv', orig_argv, raising=False)
    monkeypatch.setattr(sys, 'argv', argv)
    assert get_python_interpreter_arguments() == expected
