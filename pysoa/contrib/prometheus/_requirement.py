"""Fails the import of the Prometheus integration, saying what to install, when prometheus_client is missing."""

from pysoa.contrib.errors import MissingExtraError


try:
    import prometheus_client  # noqa: F401
except ModuleNotFoundError as e:
    if not (e.name or '').startswith('prometheus_client'):
        raise
    raise MissingExtraError('pysoa.contrib.prometheus', 'prometheus', 'prometheus_client', e.name) from e
