"""The settings of a PySOA server."""

from conformity import fields
from conformity.fields.logging import (
    PYTHON_LOGGING_CONFIG_SCHEMA,
    PythonLogLevel,
)

from pysoa.common.settings import SOASettings
from pysoa.common.transport.base import ServerTransport
from pysoa.server.internal.event_loop import coroutine_middleware_config
from pysoa.server.middleware import ServerMiddleware


__all__ = ('ServerSettings',)


class ServerSettings(SOASettings):
    """
    The settings of a :class:`pysoa.server.server.Server`: its transport, middleware, metrics, the client settings
    for the services it calls, logging, harakiri limits, request logging levels, heartbeat file and the extra fields
    to redact from request logs.
    """

    schema = {
        'transport': fields.ClassConfigurationSchema(base_class=ServerTransport),
        'middleware': fields.List(
            fields.ClassConfigurationSchema(base_class=ServerMiddleware),
            description='The list of all `ServerMiddleware` objects that should be applied to requests processed by '
            'this server',
        ),
        'coroutine_middleware': coroutine_middleware_config,
        'client_routing': fields.SchemalessDictionary(
            key_type=fields.UnicodeString(),
            value_type=fields.SchemalessDictionary(),
            description='Client settings for sending requests to other services; keys are service names, and values '
            'are the corresponding client settings dicts',
        ),
        'logging': PYTHON_LOGGING_CONFIG_SCHEMA,
        'harakiri': fields.Dictionary(
            {
                'timeout': fields.Integer(
                    gte=0,
                    description='Seconds of inactivity (one request or one idle poll) after which the server '
                    'interrupts the job in progress and shuts down; 0 disables harakiri',
                ),
                'shutdown_grace': fields.Integer(
                    gt=0,
                    description='Seconds to wait for a graceful shutdown after harakiri before exiting forcefully',
                ),
            },
            description='Instructions for automatically terminating a server process when request processing takes '
            'longer than expected',
        ),
        'request_log_success_level': PythonLogLevel(
            description='The logging level at which full request and response contents are logged for successful '
            'requests',
        ),
        'request_log_error_level': PythonLogLevel(
            description='The logging level at which full request and response contents are logged for requests '
            'whose responses contain errors',
        ),
        'heartbeat_file': fields.Nullable(
            fields.UnicodeString(
                description='The path to a file touched at least every 2.5 seconds while the server runs; `{{pid}}` '
                'and `{{fid}}` are replaced with the process id and fork id',
            )
        ),
        'extra_fields_to_redact': fields.Set(
            fields.UnicodeString(),
            description='Field names, in addition to the built-in sensitive names, whose values are censored in '
            'request and response logs',
        ),
    }

    defaults = {
        'transport': {'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport'},
        'coroutine_middleware': [{'path': 'pysoa.server.coroutine:DefaultCoroutineMiddleware'}],
        'client_routing': {},
        'logging': {
            'version': 1,
            'formatters': {
                'console': {
                    'format': '%(asctime)s %(levelname)7s %(correlation_id)s %(request_id)s: %(message)s',
                },
                'syslog': {
                    'format': '%(service_name)s_service: %(name)s %(levelname)s %(module)s %(process)d '
                    'correlation_id %(correlation_id)s request_id %(request_id)s %(message)s',
                },
            },
            'filters': {
                'pysoa_logging_context_filter': {
                    '()': 'pysoa.common.logging.PySOALogContextFilter',
                },
            },
            'handlers': {
                'console': {
                    'level': 'INFO',
                    'class': 'logging.StreamHandler',
                    'formatter': 'console',
                    'filters': ['pysoa_logging_context_filter'],
                },
                'syslog': {
                    'level': 'INFO',
                    'class': 'pysoa.common.logging.SyslogHandler',
                    'facility': 23,  # SysLogHandler.LOG_LOCAL7
                    'address': ('localhost', 514),
                    'formatter': 'syslog',
                    'filters': ['pysoa_logging_context_filter'],
                },
            },
            'loggers': {},
            'root': {
                'handlers': ['console'],
                'level': 'INFO',
            },
            'disable_existing_loggers': False,
        },
        'harakiri': {
            'timeout': 300,
            'shutdown_grace': 30,
        },
        'request_log_success_level': 'INFO',
        'request_log_error_level': 'INFO',
        'heartbeat_file': None,
        'extra_fields_to_redact': set(),
    }
