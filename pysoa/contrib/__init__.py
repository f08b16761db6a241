"""
Optional integrations with the tools that run next to a PySOA fleet, each installed with an extra of its own and
turned on by configuration:

* :mod:`pysoa.contrib.opentelemetry` (``pip install 'pysoa[opentelemetry]'``): client and server middleware that
  trace calls with OpenTelemetry, the trace context travelling in the job's context header.
* :mod:`pysoa.contrib.prometheus` (``pip install 'pysoa[prometheus]'``): a metrics recorder that exposes PySOA's
  metrics to Prometheus, also from the forked workers of ``--fork``.

Importing an integration whose extra is not installed raises :class:`pysoa.contrib.errors.MissingExtraError`.
"""

__all__ = ()
