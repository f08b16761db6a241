"""Small helpers used across the library."""

import sys
from typing import (
    Any,
    Callable,
    Hashable,
    Iterable,
    List,
    Mapping,
    TypeVar,
)


__all__ = (
    'chain_middleware',
    'dict_to_hashable',
    'get_python_interpreter_arguments',
)


def dict_to_hashable(d: Mapping[Any, Any]) -> Hashable:
    """
    Return a hashable value that is equal for two mappings exactly when their contents are equal, recursing into
    nested mappings, lists, tuples and sets. Used to key caches on settings dicts.
    """
    return frozenset((key, _to_hashable(value)) for key, value in d.items())


def _to_hashable(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return dict_to_hashable(value)
    if isinstance(value, (list, tuple)):
        return tuple(_to_hashable(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_to_hashable(v) for v in value)
    return value  # type: ignore[no-any-return]


def get_python_interpreter_arguments() -> List[str]:
    """
    Return the arguments given to the Python interpreter itself, without the interpreter's path, the script path, or
    the program's own arguments: for ``python -W error -m my_service --fork 2`` this is
    ``['-W', 'error', '-m', 'my_service']``; for ``python -X dev my_script.py -s x`` it is ``['-X', 'dev']``.
    """
    original = _original_argv()
    program_argument_count = len(sys.argv) - 1
    before_program_arguments = original[1 : len(original) - program_argument_count]
    if before_program_arguments and sys.argv and before_program_arguments[-1] == sys.argv[0]:
        # A script path ends the interpreter's arguments; ``-m module`` and ``-c command`` are kept.
        if len(before_program_arguments) < 2 or before_program_arguments[-2] not in ('-m', '-c'):
            before_program_arguments = before_program_arguments[:-1]
    return before_program_arguments


def _original_argv() -> List[str]:
    original = getattr(sys, 'orig_argv', None)  # Python 3.10+
    if original is not None:
        return list(original)
    try:
        with open('/proc/self/cmdline', 'rb') as f:
            return [a.decode(sys.getfilesystemencoding(), 'surrogateescape') for a in f.read().split(b'\0') if a]
    except OSError:
        return [sys.executable, *sys.argv]


_Step = TypeVar('_Step')


def chain_middleware(wrappers: Iterable[Callable[[_Step], _Step]], innermost: _Step) -> _Step:
    """
    Wrap ``innermost`` in each wrapper, so that the first wrapper is the outermost: ``chain_middleware([a, b], f)``
    is ``a(b(f))``. Used for client, server and coroutine middleware alike.
    """
    step = innermost
    for wrap in reversed(list(wrappers)):
        step = wrap(step)
    return step
