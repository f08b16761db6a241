"""The example service's server."""

from example_service.actions import (
    GreetAction,
    SlowEchoAction,
    SquareAction,
    SumOfSquaresAction,
)
from pysoa.server.server import Server


class ExampleServer(Server):
    """An example service: squares, greetings, a nested call and an async echo."""

    service_name = 'example'
    action_class_map = {
        'square': SquareAction,
        'greet': GreetAction,
        'sum_of_squares': SumOfSquaresAction,
        'slow_echo': SlowEchoAction,
    }
