from pysoa.server import standalone


def get_server():
    from greeting_service.server import GreetingServer

    return GreetingServer


if __name__ == '__main__':
    standalone.simple_main(get_server)
