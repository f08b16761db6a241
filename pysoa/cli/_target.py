"""
Where the ``pysoa`` command finds the service it calls: a Redis URL (``--redis`` or ``PYSOA_REDIS_URL``), a settings
module (``--settings``), or a server class run in this process (``--local``).
"""

import importlib
import os
import sys
from types import ModuleType
from typing import (
    Any,
    Dict,
    List,
    Mapping,
    Optional,
    Tuple,
)

from pysoa.cli._errors import UsageError
from pysoa.client.client import Client
from pysoa.client.settings import ClientSettings
from pysoa.common.transport.redis_gateway.url_settings import (
    CLIENT_TRANSPORT_PATH,
    REDIS_URL_ENVIRONMENT_VARIABLE,
    SERVER_TRANSPORT_PATH,
    RedisUrlError,
    client_transport_settings,
)
from pysoa.server.server import Server


__all__ = ('client_for',)

_LOCAL_CLIENT_TRANSPORT_PATH = 'pysoa.common.transport.local:LocalClientTransport'
_LOCAL_SERVER_TRANSPORT_PATH = 'pysoa.common.transport.local:LocalServerTransport'
_SERVER_ONLY_TRANSPORT_SETTINGS = ('chunk_messages_larger_than_bytes',)


def client_for(
    service: str,
    redis_url: Optional[str],
    settings: Optional[str],
    local: Optional[str],
    environ: Mapping[str, str],
) -> Client:
    """
    A client that calls ``service`` where the command line says it is.

    :param redis_url: ``--redis``: a Redis URL (see :mod:`pysoa.common.transport.redis_gateway.url_settings`).
    :param settings: ``--settings``: ``module`` or ``module:VARIABLE``: a client routing dict
                     (``SOA_CLIENT_SETTINGS``, or the ``client_routing`` of ``SOA_SERVER_SETTINGS``), failing that the
                     Redis transport of ``SOA_SERVER_SETTINGS``; with ``local``, the server's settings.
    :param local: ``--local``: the import path of the server class to run in this process.
    :param environ: The environment, for ``PYSOA_REDIS_URL`` when none of the above is given.

    :raises UsageError: If the options contradict each other, or what they name cannot be used.
    """
    if local:
        if redis_url:
            raise UsageError('--local runs the service in this process: give it no --redis URL')
        return _client(service, {'transport': _local_transport(service, local, settings)})
    if redis_url and settings:
        raise UsageError('give either --redis or --settings, not both')
    if settings:
        return _client(service, _settings_of(service, settings))
    url = redis_url or environ.get(REDIS_URL_ENVIRONMENT_VARIABLE)
    if not url:
        raise UsageError(
            f'say where service {service} is: --redis URL (or the {REDIS_URL_ENVIRONMENT_VARIABLE} environment '
            f'variable), --settings MODULE (with SOA_CLIENT_SETTINGS) or --local SERVER_CLASS_PATH',
        )
    try:
        return _client(service, {'transport': client_transport_settings(url)})
    except RedisUrlError as e:
        raise UsageError(str(e)) from None


def _client(service: str, settings: Mapping[str, Any]) -> Client:
    try:
        return Client({service: settings})
    except ClientSettings.ImproperlyConfigured as e:
        raise UsageError(f'the client settings of service {service} are not valid: {e}') from None


def _import(module_name: str, what: str) -> ModuleType:
    # A console script's path starts with its own folder, not the current one, where the user's modules are.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ImportError as e:
        raise UsageError(f'cannot import the {what} module {module_name}: {e}') from None


def _module_and_variable(spec: str, what: str) -> Tuple[ModuleType, str]:
    module_name, _, variable = spec.partition(':')
    return _import(module_name, what), variable


def _settings_of(service: str, spec: str) -> Mapping[str, Any]:
    module, variable = _module_and_variable(spec, 'settings')
    if variable:
        routing = getattr(module, variable, None)
        if not isinstance(routing, Mapping):
            raise UsageError(f'{spec} is not a dict of client settings by service name')
        routings = [(spec, routing)]
    else:
        routings = _routings_of(module)
    for source, routing in routings:
        if service in routing:
            settings = routing[service]
            if not isinstance(settings, Mapping):
                raise UsageError(f'the settings of service {service} in {source} are not a dict')
            return settings

    server_settings = getattr(module, 'SOA_SERVER_SETTINGS', None)
    if not variable and isinstance(server_settings, Mapping):
        own_redis = _client_settings_of_server_transport(server_settings.get('transport'))
        if own_redis is not None:
            return own_redis
    if routings:
        raise UsageError(
            f'no client settings for service {service} in '
            + '; '.join(
                f'{source} (it has: {", ".join(sorted(str(name) for name in routing)) or "no service"})'
                for source, routing in routings
            )
        )
    raise UsageError(
        f'settings module {module.__name__} has neither SOA_CLIENT_SETTINGS nor SOA_SERVER_SETTINGS with '
        f'client_routing or a Redis transport',
    )


def _routings_of(module: ModuleType) -> List[Tuple[str, Mapping[str, Any]]]:
    """The client routing dicts of a settings module, with where each comes from."""
    routings: List[Tuple[str, Mapping[str, Any]]] = []
    client_settings = getattr(module, 'SOA_CLIENT_SETTINGS', None)
    if isinstance(client_settings, Mapping):
        routings.append((f'{module.__name__}.SOA_CLIENT_SETTINGS', client_settings))
    server_settings = getattr(module, 'SOA_SERVER_SETTINGS', None)
    if isinstance(server_settings, Mapping) and isinstance(server_settings.get('client_routing'), Mapping):
        source = f'the client_routing of {module.__name__}.SOA_SERVER_SETTINGS'
        routings.append((source, server_settings['client_routing']))
    return routings


def _client_settings_of_server_transport(transport: Any) -> Optional[Dict[str, Any]]:
    """Client settings for the Redis a server's ``transport`` setting takes requests from, if it is Redis."""
    if not isinstance(transport, Mapping) or transport.get('path') != SERVER_TRANSPORT_PATH:
        return None
    kwargs = {k: v for k, v in (transport.get('kwargs') or {}).items() if k not in _SERVER_ONLY_TRANSPORT_SETTINGS}
    return {'transport': {'path': CLIENT_TRANSPORT_PATH, 'kwargs': kwargs}}


def _local_transport(service: str, server_class_path: str, settings: Optional[str]) -> Dict[str, Any]:
    module_name, separator, class_name = server_class_path.partition(':')
    if not separator:
        module_name, _, class_name = server_class_path.rpartition('.')
    server_class = getattr(_import(module_name, 'server'), class_name, None) if module_name and class_name else None
    if not (isinstance(server_class, type) and issubclass(server_class, Server)):
        raise UsageError(f'--local {server_class_path} is not a Server class (write module.name:ClassName)')
    if server_class.service_name != service:
        raise UsageError(f'--local {server_class_path} is service {server_class.service_name}, not {service}')

    server_settings: Mapping[str, Any] = {}
    if settings:
        module, variable = _module_and_variable(settings, 'settings')
        server_settings = getattr(module, variable or 'SOA_SERVER_SETTINGS', None)  # type: ignore[assignment]
        if not isinstance(server_settings, Mapping):
            raise UsageError(f'{settings} has no server settings ({variable or "SOA_SERVER_SETTINGS"})')
    try:  # as the local transport will, so that settings it cannot use are a usage error now
        server_class.settings_class(dict(server_settings, transport={'path': _LOCAL_SERVER_TRANSPORT_PATH}))
    except server_class.settings_class.ImproperlyConfigured as e:
        raise UsageError(f'the server settings of {server_class_path} are not valid: {e}') from None
    return {
        'path': _LOCAL_CLIENT_TRANSPORT_PATH,
        'kwargs': {'server_class': server_class, 'server_settings': server_settings},
    }
