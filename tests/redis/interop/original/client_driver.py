"""
Drives a client of PySOA 1.4.9 for the tests: ``python client_driver.py <client config JSON>``.

It prints ``ready``, then answers one JSON line on stdout for each JSON line it reads on stdin, until stdin closes:

* ``{"method": "<Client method>", "args": [...], "kwargs": {...}}`` calls that method of the client. Arguments are
  decoded with ``wire_values.from_json``, so they may hold tagged extension-type values. ``*_future`` methods answer
  ``{"future": <id>}``; ``{"method": "result", "args": [<id>]}`` then waits for that future's result.
* The answer is ``{"returned": <result>}`` or ``{"raised": {"type": ..., "message": ..., "errors": ..., "actions":
  ...}}``. Results are JSON data: responses become dicts with their fields (bodies tagged with
  ``wire_values.to_json``), generators become lists, ``Error`` objects become dicts of their fields.

JSON cannot hold tuples, and PySOA 1.4.9 only accepts Redis hosts as ``(host, port)`` tuples, so ``hosts`` lists in
the transports' ``backend_layer_kwargs`` are turned into tuples.
"""

import inspect
import itertools
import json
import sys

import attr
import wire_values

import pysoa.version
from pysoa.client.client import Client
from pysoa.common.types import (
    ActionResponse,
    Error,
    JobResponse,
)


if pysoa.version.__version__ != '1.4.9':
    raise RuntimeError(f'Expected PySOA 1.4.9, imported {pysoa.version.__version__} from {pysoa.__file__}')


def encode(result):
    if isinstance(result, Error):
        return attr.asdict(result)
    if isinstance(result, ActionResponse):
        return {
            'action': result.action,
            'errors': [encode(e) for e in result.errors],
            'body': wire_values.to_json(result.body),
        }
    if isinstance(result, JobResponse):
        return {
            'errors': [encode(e) for e in result.errors],
            'actions': [encode(a) for a in result.actions],
            'context': wire_values.to_json(result.context),
        }
    if isinstance(result, (list, tuple)) or inspect.isgenerator(result):
        return [encode(item) for item in result]
    return wire_values.to_json(result)


def encode_exception(exception):
    return {
        'type': type(exception).__name__,
        'message': str(exception),
        'errors': encode(getattr(exception, 'errors', None) or []),
        'actions': encode(getattr(exception, 'actions', None) or []),
    }


def main(config_json):
    config = json.loads(config_json)
    for service_settings in config.values():
        layer = service_settings['transport'].get('kwargs', {}).get('backend_layer_kwargs', {})
        if 'hosts' in layer:
            layer['hosts'] = [tuple(h) if isinstance(h, list) else h for h in layer['hosts']]
    client = Client(config)
    futures = {}
    future_ids = itertools.count(1)
    print('ready', flush=True)

    for line in sys.stdin:
        command = json.loads(line)
        args = wire_values.from_json(command.get('args', []))
        kwargs = wire_values.from_json(command.get('kwargs', {}))
        try:
            if command['method'] == 'result':
                answer = {'returned': encode(futures.pop(args[0]).result())}
            elif command['method'].endswith('_future'):
                future_id = next(future_ids)
                futures[future_id] = getattr(client, command['method'])(*args, **kwargs)
                answer = {'future': future_id}
            else:
                answer = {'returned': encode(getattr(client, command['method'])(*args, **kwargs))}
        except Exception as e:
            answer = {'raised': encode_exception(e)}
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    main(sys.argv[1])
