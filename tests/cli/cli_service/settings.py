"""The whole transport configuration is the ``PYSOA_REDIS_URL`` environment variable."""

from pysoa.common.transport.redis_gateway.url_settings import server_transport_settings


SOA_SERVER_SETTINGS = {'transport': server_transport_settings()}
SOA_SERVER_SETTINGS['transport']['kwargs']['receive_timeout_in_seconds'] = 1  # stops fast at the end of a test
