"""Fails the import of the OpenTelemetry integration, saying what to install, when the OpenTelemetry API is missing."""

from pysoa.contrib.errors import MissingExtraError


try:
    import opentelemetry.trace  # noqa: F401
except ModuleNotFoundError as e:
    if not (e.name or '').startswith('opentelemetry'):
        raise
    raise MissingExtraError('pysoa.contrib.opentelemetry', 'opentelemetry', 'opentelemetry-api', e.name) from e
