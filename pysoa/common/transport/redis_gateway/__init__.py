"""The Redis gateway transport: requests and responses travel through Redis lists, optionally behind Sentinel."""

from pysoa.common.transport.redis_gateway.url_settings import settings_from_url


__all__ = ('settings_from_url',)
