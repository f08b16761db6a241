from typing import Type

from pysoa.server import standalone
from pysoa.server.server import Server


def get_server() -> Type[Server]:
    from tests.cli.cli_service.server import CliServer

    return CliServer


if __name__ == '__main__':
    standalone.simple_main(get_server)
