"""Prints how the ``pip freeze`` on standard input differs from a lock file: ``name  locked -> installed``."""

import sys
from typing import Dict, Iterable


def pins(lines: Iterable[str]) -> Dict[str, str]:
    """``{normalized name: version}`` of the ``name==version`` lines."""
    found = {}
    for line in lines:
        name, separator, version = line.strip().partition('==')
        if separator and not name.startswith('#'):
            found[name.lower().replace('_', '-')] = version
    return found


def main(lock_path: str) -> None:
    with open(lock_path, encoding='utf-8') as lock_file:
        locked = pins(lock_file)
    installed = pins(sys.stdin)
    changes = [
        f'{name:30} {locked.get(name, "(not locked)")} -> {installed.get(name, "(not installed)")}'
        for name in sorted(set(locked) | set(installed))
        if locked.get(name) != installed.get(name)
    ]
    print('\n'.join(changes) if changes else 'none: the lock is up to date')


if __name__ == '__main__':
    main(sys.argv[1])
