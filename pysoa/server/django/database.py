"""Keeping Django database connections healthy in a long-running PySOA server process."""

import logging
from typing import Any


__all__ = (
    'django_close_old_database_connections',
    'django_reset_database_queries',
)

_logger = logging.getLogger('pysoa.server.django.database')


def _connections() -> Any:
    try:
        from django.conf import settings
        from django.db import connections
    except ImportError:
        return None
    if not getattr(settings, 'DATABASES', None):
        return None
    return connections


def django_reset_database_queries() -> None:
    """Clear the query log of every Django database connection (it grows without bound with ``DEBUG = True``)."""
    connections = _connections()
    if connections is None:
        return
    from django.db import reset_queries

    reset_queries()


def django_close_old_database_connections() -> None:
    """
    Close every Django database connection that is unusable or older than its ``CONN_MAX_AGE``, as Django does at
    the start and end of each web request. Connections inside a transaction (not in autocommit mode) are left alone.
    """
    connections = _connections()
    if connections is None:
        return
    from django.db import DatabaseError

    for connection in connections.all(initialized_only=True) if _supports_initialized_only() else connections.all():
        try:
            if connection.get_autocommit():
                connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            _logger.warning('Could not check database connection %s', connection.alias, exc_info=True)


def _supports_initialized_only() -> bool:
    import inspect

    from django.db import connections

    return 'initialized_only' in inspect.signature(connections.all).parameters
