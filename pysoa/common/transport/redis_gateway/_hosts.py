"""Reading a Redis host written as a string: ``host``, ``host:port``, ``[IPv6 address]:port``."""

import re
from typing import (
    Optional,
    Tuple,
)


__all__ = (
    'InvalidHost',
    'check_not_url',
    'parse_host',
)

_URL = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://')
_BRACKETED = re.compile(r'^\[(?P<address>[^\[\]]+)\](?::(?P<port>[^:]*))?$')


class InvalidHost(ValueError):
    """A Redis host string that names no host and port (the message says what is wrong and what to write)."""


def _port(text: str, host: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidHost(f'Redis host "{host}" has an invalid port "{text}": write "host:port" with a port 1-65535')
    return int(text)


def check_not_url(host: str) -> None:
    """
    :raises InvalidHost: If the host string is a URL (``redis://...``), which the transports cannot connect to (it
                         would be taken as a host name).
    """
    if _URL.match(host):
        raise InvalidHost(
            f'Redis host "{_scheme_only(host)}" is a URL: write hosts as "host:port" strings or ("host", port) pairs, '
            f'or build the whole transport settings from a URL with '
            f'pysoa.common.transport.redis_gateway.settings_from_url()',
        )


def parse_host(host: str, default_port: int) -> Tuple[str, int]:
    """
    The ``(host, port)`` pair a host string names: ``"redis.internal:6380"``, ``"[::1]:6380"``, or a host alone
    (``"redis.internal"``, ``"10.0.0.5"``, ``"::1"``, ``"[::1]"``), which gets ``default_port``. A URL is taken as a
    host name, as before host strings had ports (the settings schema refuses it, see :func:`check_not_url`).

    :raises InvalidHost: If the string is empty or has a port that is not a number from 1 to 65535.
    """
    if _URL.match(host):
        return host, default_port
    if not host or host != host.strip():
        raise InvalidHost(f'Redis host {host!r} must be a host name or address, optionally followed by ":port"')
    bracketed = _BRACKETED.match(host)
    if bracketed:
        port: Optional[str] = bracketed.group('port')
        return bracketed.group('address'), default_port if port is None else _port(port, host)
    if host.count(':') == 1:  # two or more colons: a bare IPv6 address
        name, port = host.split(':')
        if not name:
            raise InvalidHost(f'Redis host "{host}" has no host name before its port: write "host:port"')
        return name, _port(port, host)
    return host, default_port


def _scheme_only(url: str) -> str:
    """The URL without what follows its scheme, which may hold a password."""
    return url.split('://', 1)[0] + '://...'
