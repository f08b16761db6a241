"""Run the example service: ``python -m example_service -s example_service.settings [--fork N]``."""

from pysoa.server import standalone


def get_server_class() -> type:
    from example_service.server import ExampleServer

    return ExampleServer


if __name__ == '__main__':
    standalone.simple_main(get_server_class)  # type: ignore[arg-type]
