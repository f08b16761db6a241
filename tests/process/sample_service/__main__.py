from typing import Type

from pysoa.server import standalone
from pysoa.server.server import Server


def get_server() -> Type[Server]:
    from tests.process.sample_service.server import SampleServer

    return SampleServer


if __name__ == '__main__':
    standalone.simple_main(get_server)
