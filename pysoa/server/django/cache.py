"""
Django cache backends that suit a PySOA server, where a "request" is a job: configure them in Django's ``CACHES``.
The server calls ``close()`` on every cache after each job and ``close(for_shutdown=True)`` when it stops.
"""

from typing import Any

from django.core.cache.backends.locmem import LocMemCache


__all__ = (
    'PySOAMemcachedCache',
    'PySOAProcessScopedMemoryCache',
    'PySOAPyLibMCCache',
    'PySOARequestScopedMemoryCache',
)


class PySOARequestScopedMemoryCache(LocMemCache):  # type: ignore[misc]
    """An in-memory cache emptied after every job: values live for one request only."""

    def close(self, **kwargs: Any) -> None:
        self.clear()


class PySOAProcessScopedMemoryCache(LocMemCache):  # type: ignore[misc]
    """An in-memory cache that lives as long as the server process."""

    def close(self, **kwargs: Any) -> None:
        """Keep everything: the cache outlives each job."""


try:
    from django.core.cache.backends.memcached import PyLibMCCache as _PyLibMCCache
except ImportError:  # pragma: no cover -- every supported Django has it
    _PyLibMCCache = None

try:
    from django.core.cache.backends.memcached import MemcachedCache as _MemcachedCache
except ImportError:  # removed in Django 4.1
    _MemcachedCache = None


if _PyLibMCCache is not None:

    class PySOAPyLibMCCache(_PyLibMCCache):  # type: ignore[misc]
        """A memcached cache (pylibmc) that keeps its connections between jobs and closes them at shutdown."""

        def close(self, for_shutdown: bool = False, **kwargs: Any) -> None:
            if for_shutdown:
                super().close(**kwargs)


if _MemcachedCache is not None:

    class PySOAMemcachedCache(_MemcachedCache):  # type: ignore[misc]
        """A memcached cache (python-memcached) that keeps its connections between jobs and closes them at shutdown."""

        def close(self, for_shutdown: bool = False, **kwargs: Any) -> None:
            if for_shutdown:
                super().close(**kwargs)
elif _PyLibMCCache is not None:
    # Django 4.1 removed the python-memcached backend; keep the name importable, backed by pylibmc.
    PySOAMemcachedCache = PySOAPyLibMCCache  # type: ignore[misc]
