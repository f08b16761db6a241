"""
Runs a server of PySOA 1.4.9 until SIGTERM: ``python runner.py <module>:<ServerClass> <settings JSON>``, where the
module is in this directory. It prints ``ready`` once the server is set up, then loops over ``handle_next_request``
(what ``tests.support.server_runner`` does for this project's servers).

JSON cannot hold tuples, and PySOA 1.4.9 only accepts Redis hosts as ``(host, port)`` tuples, so ``hosts`` lists
in the transport's ``backend_layer_kwargs`` are turned into tuples.
"""

import importlib
import json
import signal
import sys

import pysoa.version


if pysoa.version.__version__ != '1.4.9':
    raise RuntimeError(f'Expected PySOA 1.4.9, imported {pysoa.version.__version__} from {pysoa.__file__}')


def with_host_tuples(transport_kwargs):
    layer = transport_kwargs.get('backend_layer_kwargs') or {}
    if 'hosts' in layer:
        layer['hosts'] = [tuple(h) if isinstance(h, list) else h for h in layer['hosts']]
    return transport_kwargs


def main(server_class_path, settings_json):
    module_name, _, class_name = server_class_path.partition(':')
    server_class = getattr(importlib.import_module(module_name), class_name)
    settings = json.loads(settings_json)
    with_host_tuples(settings['transport'].get('kwargs', {}))
    server = server_class(server_class.settings_class(settings))

    stopping = []
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.append(True))
    server.setup()
    print('ready', flush=True)
    while not stopping:
        server.handle_next_request()
    server.teardown()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
