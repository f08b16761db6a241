"""Run the example service: ``python -m example_service -s example_service.settings [--fork N]``."""

from typing import Type

from pysoa.server import standalone
from pysoa.server.server import Server


def get_server_class() -> Type[Server]:
    from example_service.server import ExampleServer

    return ExampleServer


if __name__ == '__main__':
    standalone.simple_main(get_server_class)
