"""Loading a server's settings at startup, from a settings module or from Django, and daemonizing."""

import argparse
import importlib
import os
import sys
from typing import (
    Any,
    Dict,
    Optional,
    Sequence,
)


__all__ = (
    'daemonize',
    'load_django_server_settings',
    'load_settings_module',
    'parse_server_arguments',
)


def parse_server_arguments(
    service_name: str, use_django: bool, argv: Optional[Sequence[str]] = None,
) -> argparse.Namespace:
    """Parse the server's own command-line options, ignoring the options of ``pysoa.server.standalone``."""
    parser = argparse.ArgumentParser(description=f'Server for the {service_name} SOA service')
    parser.add_argument(
        '-d', '--daemon', action='store_true',
        help='run the server process as a daemon (fork once; the parent prints the PID and exits)',
    )
    if not use_django:
        parser.add_argument(
            '-s', '--settings', required=True,
            help='the settings module to use (its SOA_SERVER_SETTINGS or settings variable)',
        )
    arguments, _unknown = parser.parse_known_args(argv)
    return arguments


def load_settings_module(module_name: str) -> Dict[str, Any]:
    """
    Return the ``SOA_SERVER_SETTINGS`` (or ``settings``) dict of a settings module.

    :raises ValueError: If the module cannot be imported or has neither variable.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f'Cannot import settings module `{module_name}`: {e}') from e
    for variable in ('SOA_SERVER_SETTINGS', 'settings'):
        value = getattr(module, variable, None)
        if value is not None:
            return value  # type: ignore[no-any-return]
    raise ValueError(f'Cannot find `SOA_SERVER_SETTINGS` or `settings` variable in settings module `{module_name}`.')


def load_django_server_settings() -> Dict[str, Any]:
    """
    Return ``django.conf.settings.SOA_SERVER_SETTINGS``.

    :raises ImportError: If Django is not installed.
    :raises ValueError: If the Django settings have no ``SOA_SERVER_SETTINGS``.
    """
    from django.conf import settings

    value = getattr(settings, 'SOA_SERVER_SETTINGS', None)
    if value is None:
        raise ValueError('Cannot find `SOA_SERVER_SETTINGS` in the Django settings.')
    return value  # type: ignore[no-any-return]


def daemonize() -> None:
    """Fork once; the parent prints ``PID=<child pid>`` and exits, the child carries on."""
    pid = os.fork()
    if pid:
        print(f'PID={pid}')
        sys.stdout.flush()
        os._exit(0)
