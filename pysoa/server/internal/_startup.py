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

from pysoa.server.internal._command_line import parse_service_arguments


__all__ = (
    'daemonize',
    'load_django_server_settings',
    'load_settings_module',
    'parse_server_arguments',
)


def parse_server_arguments(
    service_name: str,
    use_django: bool,
    argv: Optional[Sequence[str]] = None,
) -> argparse.Namespace:
    """
    Parse the service's command line (by default ``sys.argv[1:]``): every option of a service, those of
    :mod:`pysoa.server.standalone` included. A missing ``-s/--settings`` (without Django), an invalid value or an
    unknown option prints the usage and exits with status 2.
    """
    return parse_service_arguments(service_name, use_django, argv)


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
