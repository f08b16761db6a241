"""
Public-API snippets that 1.4.9 users' code runs, run under PySOA 1.4.9 and under this project: the results must be
the same. Each test names the 1.4.9 behaviour it pins down.
"""

import pytest

from tests.differential.conftest import RunBoth


pytestmark = pytest.mark.interop


SERVICE = '''
import json

from conformity import fields

from pysoa.client.client import Client
from pysoa.server.action.base import Action
from pysoa.server.server import Server


def local_client(server_class):
    return Client({server_class.service_name: {'transport': {
        'path': 'pysoa.common.transport.local:LocalClientTransport',
        'kwargs': {'server_class': server_class, 'server_settings': {}},
    }}})


def outcome(client, service, action, body=None):
    """The error codes of one call, else its body."""
    response = client.call_actions(service, [{'action': action, 'body': body or {}}], raise_action_errors=False)
    result = response.actions[0]
    return {'errors': sorted(e.code for e in result.errors)} if result.errors else {'body': result.body}
'''


def test_a_custom_status_action_may_return_a_healthcheck_with_only_some_of_its_keys(run_both: RunBoth) -> None:
    original, ours = run_both(
        SERVICE
        + """
from pysoa.server.action.status import BaseStatusAction


class StatusAction(BaseStatusAction):
    _version = '3.1.4'

    def run(self, request):
        return {'version': '3.1.4', 'healthcheck': dict(self.KEYS)}


results = []
for keys in ({'warnings': []}, {'errors': [['DOWN', 'database down']]}, {'diagnostics': {'x': 1}}, {}):
    StatusAction.KEYS = keys

    class StatusServer(Server):
        service_name = 'status_service'
        action_class_map = {'status': StatusAction}

    result = outcome(local_client(StatusServer), 'status_service', 'status')
    results.append(result.get('errors') or sorted(result['body']['healthcheck']))
print(json.dumps(results))
"""
    )

    assert ours == original


def test_introspect_resolves_one_variant_of_a_switched_action_by_name(run_both: RunBoth) -> None:
    original, ours = run_both(
        SERVICE
        + '''
from pysoa.server.action.switched import SwitchedAction


class OldWay(Action):
    """The old way."""

    def run(self, request):
        return {}


class NewWay(Action):
    """The new way."""

    def run(self, request):
        return {}


class Plain(Action):
    """Not switched."""

    def run(self, request):
        return {}


class Way(SwitchedAction):
    switch_to_action_map = ((5, NewWay), (7, OldWay))


class IntrospectedServer(Server):
    service_name = 'introspected'
    action_class_map = {'way': Way, 'plain': Plain}


client = local_client(IntrospectedServer)
results = {}
for name in ('way', 'way[switch:5]', 'way[switch:7]', 'way[switch:99]', 'way[DEFAULT]', 'plain', 'plain[DEFAULT]',
             'missing[DEFAULT]'):
    result = outcome(client, 'introspected', 'introspect', {'action_name': name})
    if 'body' in result:
        body = result['body']
        result = {
            'action_names': body['action_names'],
            'documentation': {k: v['documentation'] for k, v in body['actions'].items()},
        }
    results[name] = result
print(json.dumps(results, sort_keys=True))
'''
    )

    assert ours == original


def test_local_transport_refuses_a_server_class_that_is_not_a_server_when_the_client_is_built(
    run_both: RunBoth,
) -> None:
    original, ours = run_both(
        SERVICE
        + """
class NotAServer(object):
    service_name = 'not_a_server'


try:
    local_client(NotAServer)
except Exception as error:
    print(json.dumps([type(error).__module__, type(error).__qualname__, 'server_class' in str(error)]))
else:
    print(json.dumps('no error when the client was built'))
"""
    )

    assert ours == original


def test_local_transport_schemas_are_dictionary_classes(run_both: RunBoth) -> None:
    original, ours = run_both("""
import json

from conformity import fields

from pysoa.common.transport.local import LocalClientTransportSchema, LocalServerTransportSchema

print(json.dumps([
    [isinstance(schema, type), issubclass(schema, fields.Dictionary), sorted(schema().contents)]
    for schema in (LocalClientTransportSchema, LocalServerTransportSchema)
]))
""")

    assert ours == original


def test_expansion_nodes_compare_by_identity_and_are_hashable(run_both: RunBoth) -> None:
    original, ours = run_both("""
import json

from pysoa.client.expander import ExpansionNode, TypeNode

type_nodes = [TypeNode(node_type='bar'), TypeNode(node_type='bar')]
expansion_nodes = [
    ExpansionNode(node_type='foo', name='foo', source_field='foo_id', destination_field='foo', service='foos',
                  action='get_foo', request_field='id', response_field='foo')
    for _ in range(2)
]
print(json.dumps([
    [nodes[0] == nodes[1], nodes[0] == nodes[0], len({nodes[0], nodes[1], nodes[0]})]
    for nodes in (type_nodes, expansion_nodes)
]))
""")

    assert ours == original


def test_protocol_version_is_extracted_from_message_data_given_by_keyword(run_both: RunBoth) -> None:
    original, ours = run_both("""
import json

from pysoa.common.transport.redis_gateway.constants import ProtocolVersion

results = []
for data in (b'pysoa-redis/3//content-type:application/msgpack;{}', b'content-type:application/json;{}', b'{}'):
    version, rest = ProtocolVersion.extract_version(message_data=data)
    results.append([int(version), rest.decode()])
print(json.dumps(results))
""")

    assert ours == original
