from pysoa.server import standalone


def get_server():
    from tests.process.hanging_service.server import HangingServer

    return HangingServer


if __name__ == '__main__':
    standalone.simple_main(get_server)
