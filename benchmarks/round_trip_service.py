"""
The service the benchmarks' PySOA servers run, ``round_trip_bench``, written against the public API that PySOA 1.4.9
and this re-implementation share, so that the same code runs under either: whichever ``pysoa`` the interpreter
imports. Two actions, each with Conformity request and response schemas: ``square`` (``{'number': n}`` ->
``{'square': n * n}``) and ``echo`` (returns its request body, ``{'message': str, 'number': int}``).

``round_trip_worker.py`` imports it to run one server process or a local-transport client. Run standalone, as a real
service (one process, or a supervisor and N forked workers), with this directory on ``PYTHONPATH``::

    ROUND_TRIP_BENCH_REDIS_PORT=P python -m round_trip_service -s round_trip_service [--fork N]

Standalone, every worker prints ``round_trip_bench ready <path of the pysoa it imports>`` on stderr once set up.

Keep this file importable by Python 3.9.
"""

import os
import sys
from typing import (
    Any,
    Dict,
)

from conformity import fields

import pysoa
from pysoa.server.action.base import Action
from pysoa.server.server import Server


SERVICE_NAME = 'round_trip_bench'
"""The service's name; its request queue is ``pysoa:round_trip_bench``."""

REDIS_PORT_VARIABLE = 'ROUND_TRIP_BENCH_REDIS_PORT'
"""The environment variable that gives the standalone service its Redis port (on 127.0.0.1)."""

RECEIVE_TIMEOUT_SECONDS = 5
"""How long each blocking pop waits: PySOA's default receive timeout."""

ECHO_MESSAGE = 'The quick brown fox jumps over the lazy dog.'

QUIET_LOGGING: Dict[str, Any] = {
    'version': 1,
    'handlers': {'stderr': {'class': 'logging.StreamHandler', 'stream': 'ext://sys.stderr'}},
    'root': {'handlers': ['stderr'], 'level': 'WARNING'},
    'disable_existing_loggers': False,
}
"""Warnings and errors only, on stderr: what the standalone service configures (PySOA's default logs at INFO)."""


def redis_transport_kwargs(port: int) -> Dict[str, Any]:
    """The Redis transport settings of both the client and the server, for a Redis on 127.0.0.1:``port``."""
    return {
        'backend_type': 'redis.standard',
        'backend_layer_kwargs': {'hosts': [('127.0.0.1', port)]},
        'receive_timeout_in_seconds': RECEIVE_TIMEOUT_SECONDS,
    }


def redis_server_settings(port: int) -> Dict[str, Any]:
    """The server settings: the Redis transport, quiet logging, everything else the default."""
    return {
        'transport': {
            'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
            'kwargs': redis_transport_kwargs(port),
        },
        'logging': QUIET_LOGGING,
    }


def request_body(action: str, i: int) -> Dict[str, Any]:
    """The body of the ``i``-th call of ``action``."""
    if action == 'square':
        return {'number': i}
    return {'message': ECHO_MESSAGE, 'number': i}


def expected_response(action: str, i: int) -> Dict[str, Any]:
    """The body the ``i``-th call of ``action`` must return."""
    if action == 'square':
        return {'square': i * i}
    return request_body(action, i)


class SquareAction(Action):
    description = 'Squares a number.'
    request_schema = fields.Dictionary({'number': fields.Integer()})
    response_schema = fields.Dictionary({'square': fields.Integer()})

    def run(self, request: Any) -> Dict[str, Any]:
        return {'square': request.body['number'] ** 2}


_ECHO_SCHEMA = fields.Dictionary({'message': fields.UnicodeString(), 'number': fields.Integer()})


class EchoAction(Action):
    description = 'Returns its request body.'
    request_schema = _ECHO_SCHEMA
    response_schema = _ECHO_SCHEMA

    def run(self, request: Any) -> Dict[str, Any]:
        return dict(request.body)


class RoundTripServer(Server):
    service_name = SERVICE_NAME
    action_class_map = {'square': SquareAction, 'echo': EchoAction}
    announce_ready = False
    """Whether ``setup`` prints ``round_trip_bench ready`` (and pysoa's path) on stderr: the start-up signal."""

    def setup(self) -> None:
        super().setup()
        if self.announce_ready:
            # One write: the workers of a forked service share the log.
            sys.stderr.write(f'{SERVICE_NAME} ready {pysoa.__file__}\n')
            sys.stderr.flush()


SOA_SERVER_SETTINGS = redis_server_settings(int(os.environ.get(REDIS_PORT_VARIABLE, '0')))
"""The settings module's settings (``-s round_trip_service``); port 0 when the variable is not set (unused then)."""


if __name__ == '__main__':
    from pysoa.server import standalone

    RoundTripServer.announce_ready = True
    standalone.simple_main(lambda: RoundTripServer)
