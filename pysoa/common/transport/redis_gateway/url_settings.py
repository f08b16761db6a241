"""
Redis transport settings from one URL, for services and clients configured by their environment (twelve-factor):

* ``redis://[user:password@]host[:port][/db]``: one Redis;
* ``rediss://[user:password@]host[:port][/db]``: one Redis over TLS;
* ``redis+sentinel://[user:password@]host[:port][,host[:port]...][/db]``: the masters that Redis Sentinels name.

The port defaults to 6379 (26379 for Sentinels) and the database to 0. The user name and password (percent-encoded
if need be) are those of the Redis masters. Query parameters add to the settings:

* ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile`` (``rediss`` only): the CA file to verify the server with (by
  default the system's), and a client certificate and key;
* ``ssl_check_hostname`` (``rediss`` only): ``true`` (the default for URLs) or ``false``, whether the server's
  certificate must name the host connected to;
* ``service`` (``redis+sentinel`` only, repeatable): a Sentinel service (master name) to use, in order; by default
  every master the Sentinels monitor.

Example: ``SOA_SERVER_SETTINGS = {'transport': server_transport_settings()}`` takes the URL from the
``PYSOA_REDIS_URL`` environment variable.
"""

import os
import urllib.parse
from typing import (
    Any,
    Dict,
    List,
    Mapping,
    Optional,
    Tuple,
)

from pysoa.common.transport.redis_gateway._hosts import (
    InvalidHost,
    parse_host,
)
from pysoa.common.transport.redis_gateway.constants import (
    REDIS_BACKEND_TYPE_SENTINEL,
    REDIS_BACKEND_TYPE_STANDARD,
)


__all__ = (
    'REDIS_URL_ENVIRONMENT_VARIABLE',
    'RedisUrlError',
    'client_transport_settings',
    'redis_url_from_environment',
    'server_transport_settings',
    'settings_from_url',
)

REDIS_URL_ENVIRONMENT_VARIABLE = 'PYSOA_REDIS_URL'
"""The environment variable the URL is read from when none is given."""

CLIENT_TRANSPORT_PATH = 'pysoa.common.transport.redis_gateway.client:RedisClientTransport'
SERVER_TRANSPORT_PATH = 'pysoa.common.transport.redis_gateway.server:RedisServerTransport'

_SCHEMES = {
    'redis': (REDIS_BACKEND_TYPE_STANDARD, 6379, False),
    'rediss': (REDIS_BACKEND_TYPE_STANDARD, 6379, True),
    'redis+sentinel': (REDIS_BACKEND_TYPE_SENTINEL, 26379, False),
}
_TLS_FILES = ('ssl_ca_certs', 'ssl_certfile', 'ssl_keyfile')
_BOOLEANS = {'true': True, '1': True, 'yes': True, 'false': False, '0': False, 'no': False}
_FORMS = (
    'redis://[user:password@]host[:port][/db], rediss://[user:password@]host[:port][/db] (TLS) or '
    'redis+sentinel://[user:password@]host[:port][,host[:port]...][/db]'
)


class RedisUrlError(ValueError):
    """A Redis URL that cannot be read, or none at all; the message says what to write (never the password)."""


def redis_url_from_environment(environ: Optional[Mapping[str, str]] = None) -> str:
    """
    The Redis URL in the ``PYSOA_REDIS_URL`` environment variable.

    :param environ: The environment to read (by default ``os.environ``).

    :raises RedisUrlError: If the variable is not set or empty.
    """
    url = (os.environ if environ is None else environ).get(REDIS_URL_ENVIRONMENT_VARIABLE, '').strip()
    if not url:
        raise RedisUrlError(
            f'Set the {REDIS_URL_ENVIRONMENT_VARIABLE} environment variable to the Redis URL of the services: {_FORMS}',
        )
    return url


def settings_from_url(url: str) -> Dict[str, Any]:
    """
    The settings (constructor keyword arguments) of the Redis client and server transports for a Redis URL: the
    ``kwargs`` of a ``transport`` setting. See the module documentation for the URL forms.

    For example, ``settings_from_url('redis://redis.internal:6380/2')`` is ``{'backend_type': 'redis.standard',
    'backend_layer_kwargs': {'hosts': [('redis.internal', 6380)], 'connection_kwargs': {'db': 2}}}``.

    :raises RedisUrlError: If the URL is not one of those forms.
    """
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise RedisUrlError(f'Unsupported Redis URL scheme "{parts.scheme}://": write {_FORMS}')
    backend_type, default_port, tls = _SCHEMES[scheme]

    user_info, _, host_list = parts.netloc.rpartition('@')
    connection_kwargs: Dict[str, Any] = _credentials(user_info)
    db = _database(parts.path, url)
    if db is not None:
        connection_kwargs['db'] = db
    if tls:
        connection_kwargs['ssl'] = True
        connection_kwargs['ssl_check_hostname'] = True

    backend_layer_kwargs: Dict[str, Any] = {'hosts': _hosts(host_list, default_port, backend_type, url)}
    for name, values in _query(parts.query, url).items():
        if name == 'service' and backend_type == REDIS_BACKEND_TYPE_SENTINEL:
            backend_layer_kwargs['sentinel_services'] = values
        elif name in _TLS_FILES and tls:
            connection_kwargs[name] = _single(name, values, url)
        elif name == 'ssl_check_hostname' and tls:
            connection_kwargs[name] = _boolean(name, _single(name, values, url), url)
        else:
            raise RedisUrlError(
                f'Unsupported parameter "{name}" in Redis URL {_redacted(url)}: {_parameters_for(scheme)}',
            )
    backend_layer_kwargs['connection_kwargs'] = connection_kwargs
    return {'backend_type': backend_type, 'backend_layer_kwargs': backend_layer_kwargs}


def client_transport_settings(url: Optional[str] = None) -> Dict[str, Any]:
    """
    The ``transport`` setting of a client (one entry of its configuration) calling services over the Redis at
    ``url``: ``{'path': <RedisClientTransport>, 'kwargs': settings_from_url(url)}``.

    :param url: The Redis URL; by default the ``PYSOA_REDIS_URL`` environment variable's.

    :raises RedisUrlError: If the URL cannot be read, or is not given and the variable is not set.
    """
    return {'path': CLIENT_TRANSPORT_PATH, 'kwargs': settings_from_url(url or redis_url_from_environment())}


def server_transport_settings(url: Optional[str] = None) -> Dict[str, Any]:
    """
    The ``transport`` setting of a server taking requests from the Redis at ``url``:
    ``{'path': <RedisServerTransport>, 'kwargs': settings_from_url(url)}``.

    :param url: The Redis URL; by default the ``PYSOA_REDIS_URL`` environment variable's.

    :raises RedisUrlError: If the URL cannot be read, or is not given and the variable is not set.
    """
    return {'path': SERVER_TRANSPORT_PATH, 'kwargs': settings_from_url(url or redis_url_from_environment())}


def _split(url: str) -> urllib.parse.SplitResult:
    if '://' not in url:
        raise RedisUrlError(f'"{_redacted(url)}" is not a Redis URL: write {_FORMS}')
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError as e:
        raise RedisUrlError(f'Redis URL {_redacted(url)} cannot be read ({e}): write {_FORMS}') from None
    if parts.fragment:
        raise RedisUrlError(f'Redis URL {_redacted(url)} has a fragment ("#..."): percent-encode "#" as "%23"')
    return parts


def _credentials(user_info: str) -> Dict[str, Any]:
    credentials: Dict[str, Any] = {}
    if not user_info:
        return credentials
    user, has_password, password = user_info.partition(':')
    if user:
        credentials['username'] = urllib.parse.unquote(user)
    if has_password:
        credentials['password'] = urllib.parse.unquote(password)
    return credentials


def _database(path: str, url: str) -> Optional[int]:
    name = path[1:] if path.startswith('/') else path
    if not name:
        return None
    if not name.isdigit():
        raise RedisUrlError(f'Redis URL {_redacted(url)} names database "{name}": the database is a number, as in /0')
    return int(name)


def _hosts(host_list: str, default_port: int, backend_type: str, url: str) -> List[Tuple[str, int]]:
    hosts = host_list.split(',')
    if len(hosts) > 1 and backend_type != REDIS_BACKEND_TYPE_SENTINEL:
        raise RedisUrlError(
            f'Redis URL {_redacted(url)} names several hosts: only redis+sentinel:// URLs can (several Redis masters '
            f'need the transport settings, see backend_layer_kwargs.hosts)',
        )
    parsed = []
    for host in hosts:
        if not host:
            raise RedisUrlError(f'Redis URL {_redacted(url)} has no host: write {_FORMS}')
        try:
            parsed.append(parse_host(urllib.parse.unquote(host), default_port))
        except InvalidHost as e:
            raise RedisUrlError(f'In Redis URL {_redacted(url)}: {e}') from None
    return parsed


def _query(query: str, url: str) -> Dict[str, List[str]]:
    try:
        return urllib.parse.parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise RedisUrlError(f'Redis URL {_redacted(url)} has a query that is not name=value&...') from None


def _single(name: str, values: List[str], url: str) -> str:
    if len(values) != 1 or not values[0]:
        raise RedisUrlError(f'Redis URL {_redacted(url)} must give "{name}" exactly one value')
    return values[0]


def _boolean(name: str, value: str, url: str) -> bool:
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise RedisUrlError(f'Redis URL {_redacted(url)} sets "{name}" to "{value}": write true or false') from None


def _parameters_for(scheme: str) -> str:
    if scheme == 'rediss':
        return f'rediss:// URLs take {", ".join([*_TLS_FILES, "ssl_check_hostname"])}'
    if scheme == 'redis+sentinel':
        return 'redis+sentinel:// URLs take service (repeatable)'
    return 'redis:// URLs take no parameters (for TLS, use rediss://)'


def _redacted(url: str) -> str:
    """The URL with its password, if it has one, replaced by ``***``."""
    head, at, host_part = url.rpartition('@')
    scheme, separator, user_info = head.rpartition('://')
    if not at or ':' not in user_info:
        return url
    return f'{scheme}{separator}{user_info.partition(":")[0]}:***@{host_part}'
