"""
What the synchronous backends (``standard``, ``sentinel``) and their asynchronous twins
(``redis_gateway._async_backend``) share: how a transport's backend layer settings are read, the checks of the
backends' arguments, and the words their errors use for Sentinels.
"""

import re
import warnings
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from pysoa.common.transport.redis_gateway._hosts import parse_host
from pysoa.common.transport.redis_gateway.backend.base import CannotGetConnectionError
from pysoa.common.transport.redis_gateway.constants import (
    REDIS_BACKEND_TYPE_SENTINEL,
    REDIS_BACKEND_TYPE_STANDARD,
)


__all__ = (
    'discovery_failure_message',
    'master_not_found_error',
    'normalize_backend_layer_kwargs',
    'readable_sentinel_error',
    'sentinel_address',
    'sentinel_hosts',
    'standard_hosts',
)

_URL_HOST = re.compile(r'^(unix|rediss?)://')

HostSetting = Union[str, Tuple[str, int]]


def normalize_backend_layer_kwargs(backend_type: str, backend_layer_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """
    A transport's ``backend_layer_kwargs`` setting as the backend's constructor takes it: hosts as ``(host, port)``
    pairs (host strings get ``redis_port``, by default 6379), ``redis_db`` moved into ``connection_kwargs``. The
    setting itself is not modified.

    :raises ValueError: If a host is neither a string nor a pair, or a standard backend is given Sentinel settings.
    """
    kwargs = dict(backend_layer_kwargs)
    connection_kwargs = dict(kwargs.pop('connection_kwargs', None) or {})
    redis_db = kwargs.pop('redis_db', None)
    if redis_db is not None:
        connection_kwargs['db'] = redis_db
    redis_port = kwargs.pop('redis_port', None)

    hosts = kwargs.pop('hosts', None)
    if hosts is not None:
        normalized = []
        for host in hosts:
            if (
                isinstance(host, (tuple, list))
                and len(host) == 2
                and isinstance(host[0], str)
                and isinstance(host[1], int)
            ):
                normalized.append((host[0], host[1]))
            elif isinstance(host, str):
                normalized.append(parse_host(host, redis_port or 6379))
            else:
                raise ValueError("connection_kwargs['hosts'] must be a list of tuples of (host, port), or strings")
        kwargs['hosts'] = normalized

    if backend_type == REDIS_BACKEND_TYPE_STANDARD:
        sentinel_only = sorted(k for k in kwargs if k.startswith('sentinel_'))
        if sentinel_only:
            raise ValueError(f'{", ".join(sentinel_only)} only apply to the {REDIS_BACKEND_TYPE_SENTINEL} backend')
    kwargs['connection_kwargs'] = connection_kwargs
    return kwargs


def standard_hosts(hosts: Optional[Iterable[HostSetting]]) -> List[HostSetting]:
    """
    The Redis masters a standard backend connects to, in ring order (by default ``localhost:6379``): ``(host, port)``
    pairs, or (deprecated, with a warning) ``redis://``, ``rediss://`` or ``unix://`` URLs. A host name alone gets
    port 6379.

    :raises ValueError: If ``hosts`` is a string rather than a list, or holds something else than a URL, a host name
                        or a ``(host, port)`` tuple.
    """
    if isinstance(hosts, (str, bytes)):
        raise ValueError('Redis hosts must be specified as an iterable list of hosts.')
    masters: List[HostSetting] = []
    for host in hosts or [('localhost', 6379)]:
        if isinstance(host, str) and _URL_HOST.match(host):
            warnings.warn(
                'Redis URL hosts are deprecated; use (host, port) tuples and connection_kwargs instead',
                DeprecationWarning,
                stacklevel=3,  # where the backend is made
            )
            masters.append(host)
        elif isinstance(host, str):
            masters.append((host, 6379))
        elif isinstance(host, tuple) and len(host) == 2 and isinstance(host[0], str) and isinstance(host[1], int):
            masters.append(host)
        else:
            raise ValueError(f'Redis host {host!r} must be a ("host", port) tuple or a host name string')
    return masters


def sentinel_hosts(
    hosts: Optional[Iterable[HostSetting]],
    sentinel_services: Optional[List[str]],
    sentinel_failover_retries: int,
) -> List[Tuple[str, int]]:
    """
    The Sentinels a Sentinel backend asks, as ``(host, port)`` pairs (a host name alone gets port 26379; by default
    ``localhost:26379``), once its other arguments are checked.

    :raises ValueError: If ``sentinel_failover_retries`` is negative, or ``sentinel_services`` is not a list of
                        strings.
    """
    if sentinel_failover_retries < 0:
        raise ValueError('sentinel_failover_retries must be a non-negative integer')
    if sentinel_services is not None and (
        not isinstance(sentinel_services, list) or not all(isinstance(s, str) for s in sentinel_services)
    ):
        raise ValueError('sentinel_services must be a list of service name strings')
    return [
        (host, 26379) if isinstance(host, str) else (host[0], host[1]) for host in (hosts or [('localhost', 26379)])
    ]


def sentinel_address(client: Any) -> str:
    """``host:port`` of a Redis (or Sentinel) client, synchronous or asynchronous."""
    kwargs = client.connection_pool.connection_kwargs
    return f'{kwargs.get("host")}:{kwargs.get("port")}'


def readable_sentinel_error(error: Exception, sentinels: Sequence[Any]) -> str:
    """redis-py's message with each Sentinel named by its address instead of its client's long repr."""
    message = str(error)
    for sentinel in sentinels:
        message = message.replace(str(sentinel), sentinel_address(sentinel))
    return message


def discovery_failure_message(failures: List[str]) -> str:
    """Why no Sentinel named the services, from each Sentinel's ``host:port: error``."""
    return (
        'Could not discover the Sentinel services from any Sentinel (' + '; '.join(failures) + '). Check the '
        'Sentinel hosts and sentinel_kwargs (TLS, password), or list the services in sentinel_services.'
    )


def master_not_found_error(service: str, reason: str) -> CannotGetConnectionError:
    """The error once no Sentinel named a master for ``service`` after every retry (``reason``: the last answer)."""
    return CannotGetConnectionError(
        f'Master not found; gave up reloading master info after failover. {reason}. Check that the Sentinels are '
        f'up and monitor service {service!r}, and their connection settings (TLS, password).',
    )
