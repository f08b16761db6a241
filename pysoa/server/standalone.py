"""
The entry point of a PySOA service. In the service's ``__main__.py`` (or ``standalone.py``)::

    from pysoa.server import standalone

    if __name__ == '__main__':
        standalone.simple_main(lambda: MyServer)

and run it with ``python -m my_service -s my_service.settings [--fork N] [--no-respawn] [--use-file-watcher]``
(with ``--fork``, also ``--hung-worker-timeout``, ``--startup-timeout`` and ``--shutdown-timeout``).
Django services use :func:`django_main` instead.

Importing this module from a script run by path (``python my_service/standalone.py``) exits with status 99: that
imports the service's modules twice, under two names. Run it with ``python -m`` or a console script instead.
"""

import argparse
import os
import sys
from typing import (
    Callable,
    List,
    Optional,
    Type,
)

from pysoa.server.internal._command_line import parse_service_arguments
from pysoa.server.internal._metrics_endpoint import start_metrics_endpoint
from pysoa.server.server import Server
from pysoa.utils import get_python_interpreter_arguments


__all__ = (
    'django_main',
    'is_double_import',
    'simple_main',
)


def is_double_import() -> bool:
    """Whether the service was started as ``python path/to/file.py`` (the double-import trap)."""
    path_entry = sys.path[0] if sys.path else ''
    if not path_entry or path_entry.endswith(('/bin', '/sbin')):
        return False
    return '-m' not in get_python_interpreter_arguments()


if is_double_import():
    print(
        'ERROR: You have triggered a double-import trap: the service was started as a script (python path/to/file.py), '
        'which makes Python import its modules twice under two names. Start it with `python -m your_service_package` '
        'or through a console script entry point instead.',
        file=sys.stderr,
    )
    sys.exit(99)


def _parse_standalone_arguments(django: bool) -> argparse.Namespace:
    return parse_service_arguments(None, use_django=django)


def _run(server_class: Type[Server], arguments: argparse.Namespace) -> None:
    start_metrics_endpoint(arguments.metrics_port, forked=arguments.fork_processes > 1)
    if arguments.fork_processes > 1:
        from pysoa.server.internal._forking import run_forked_workers

        exit_code = run_forked_workers(
            server_class,
            arguments.fork_processes,
            respawn=not arguments.no_respawn,
            hung_worker_timeout=arguments.hung_worker_timeout,
            startup_timeout=arguments.startup_timeout,
            shutdown_timeout=arguments.shutdown_timeout,
        )
        if exit_code:
            sys.exit(exit_code)
    else:
        server_class.main()


def _main(server_getter: Callable[[], Type[Server]], arguments: argparse.Namespace) -> None:
    server_class = server_getter()
    if arguments.use_file_watcher is None:
        _run(server_class, arguments)
        return

    from pysoa.server.autoreload import get_reloader

    watch_modules: Optional[List[str]] = [m for m in arguments.use_file_watcher.split(',') if m] or None
    main_module = getattr(sys.modules.get('__main__'), '__spec__', None)
    main_module_name = main_module.name if main_module is not None else server_class.__module__
    get_reloader(main_module_name, watch_modules, signal_forks=arguments.fork_processes > 1).main(
        _run,
        (server_class, arguments),
    )


def simple_main(server_getter: Callable[[], Type[Server]]) -> None:
    """
    Run the service whose server class ``server_getter()`` returns, with the options ``-s/--settings MODULE``,
    ``-d/--daemon``, ``--fork N``, ``--no-respawn``, ``--hung-worker-timeout SECONDS``, ``--startup-timeout
    SECONDS``, ``--shutdown-timeout SECONDS``, ``--metrics-port [HOST:]PORT`` and ``--use-file-watcher [MODULES]``
    (``--help`` describes each; an unknown option is a usage error, exit status 2). See
    :func:`pysoa.server.internal._forking.run_forked_workers` for what the ``--fork`` options do.
    """
    _main(server_getter, _parse_standalone_arguments(django=False))


def django_main(server_getter: Callable[[], Type[Server]]) -> None:
    """
    Like :func:`simple_main` for a Django service: ``-s/--settings`` names the Django settings module (default
    ``$DJANGO_SETTINGS_MODULE``), whose ``SOA_SERVER_SETTINGS`` are the server settings. Their ``logging`` replaces
    Django's ``LOGGING``; without it an empty Django ``LOGGING`` becomes the PySOA default. Then ``django.setup()``.
    """
    arguments = _parse_standalone_arguments(django=True)
    if arguments.settings:
        os.environ['DJANGO_SETTINGS_MODULE'] = arguments.settings
    _configure_django()
    _main(server_getter, arguments)


def _configure_django() -> None:
    import importlib
    import warnings

    import django
    from django.conf import settings as django_settings

    from pysoa.server.settings import ServerSettings

    module_name = os.environ['DJANGO_SETTINGS_MODULE']
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f'Cannot import Django settings module `{module_name}`.') from e
    soa_settings = getattr(module, 'SOA_SERVER_SETTINGS', None)
    if soa_settings is None:
        raise ValueError(f'Cannot find `SOA_SERVER_SETTINGS` in the Django settings module `{module_name}`.')
    logging_config = getattr(module, 'LOGGING', None)
    if 'logging' in soa_settings:
        if logging_config and logging_config != soa_settings['logging']:
            warnings.warn('SOA_SERVER_SETTINGS["logging"] replaces the Django LOGGING setting', stacklevel=2)
        logging_config = soa_settings['logging']
    elif not logging_config:
        logging_config = ServerSettings.defaults['logging']
    setattr(module, 'LOGGING', logging_config)
    if django_settings.configured:  # the module was read already: override there too
        setattr(django_settings, 'LOGGING', logging_config)
    django.setup()
