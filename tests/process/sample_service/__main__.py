from pysoa.server import standalone


def get_server():  # type: ignore[no-untyped-def]
    from tests.process.sample_service.server import SampleServer

    return SampleServer


if __name__ == '__main__':
    standalone.simple_main(get_server)
