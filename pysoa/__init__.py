"""PySOA: a library for writing fast Python (micro)services and their clients."""

from pysoa.version import __version__, __version_info__


__all__ = ('__version__', '__version_info__')
