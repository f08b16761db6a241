"""
Client errors that say what to do: a service missing from the configuration (naming ``client_routing`` in a nested
call), and call timeouts that are not whole seconds (fractions are rounded up; nonsense is refused at the call).
"""

import math
from typing import Any

import pytest

from pysoa.client.client import Client
from pysoa.common.transport.local import LocalClientTransport
from pysoa.server.action.base import Action
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest

from .services import transport_of


class CallMissingServiceAction(Action):
    """Calls a service its server's client_routing does not name."""

    def run(self, request: EnrichedActionRequest) -> None:
        request.client.call_action('billing', 'get_invoices')


class CallingServer(Server):
    service_name = 'orders'
    action_class_map = {'call_billing': CallMissingServiceAction}


def local_client(server_class: type, server_settings: Any) -> Client:
    return Client(
        {
            server_class.service_name: {  # type: ignore[attr-defined]
                'transport': {
                    'path': f'{LocalClientTransport.__module__}:{LocalClientTransport.__name__}',
                    'kwargs': {'server_class': server_class, 'server_settings': server_settings},
                }
            }
        }
    )


def test_a_call_to_an_unknown_service_names_the_services_the_client_knows(client: Client) -> None:
    with pytest.raises(Client.ImproperlyConfigured) as error:
        client.call_action('billing', 'get_invoices')

    assert str(error.value) == (
        'Unrecognized service name "billing": this client has no settings for it (it has settings for "other", '
        '"svc"). Add "billing" to the configuration the client is built with.'
    )


def test_a_call_to_an_unknown_service_from_a_client_without_settings_says_it_has_none() -> None:
    with pytest.raises(Client.ImproperlyConfigured, match=r'\(it has settings for no service\)'):
        Client({}).call_action('billing', 'get_invoices')


def test_a_nested_call_to_an_unknown_service_names_the_client_routing_setting_of_the_calling_service() -> None:
    client = local_client(
        CallingServer,
        {
            'client_routing': {
                'users': {
                    'transport': {
                        'path': f'{LocalClientTransport.__module__}:{LocalClientTransport.__name__}',
                        'kwargs': {'server_class': CallingServer, 'server_settings': {}},
                    }
                }
            }
        },
    )

    response = client.call_action('orders', 'call_billing', raise_action_errors=False)

    (error,) = response.errors
    assert error.message == (
        'Internal server error: Unrecognized service name "billing": service "orders" calls it, but its '
        'client_routing setting has no entry for it (it has entries for "users"). Add "billing" to the '
        'client_routing setting of service "orders".'
    )


def test_a_nested_call_from_a_service_without_client_routing_says_it_is_empty() -> None:
    client = local_client(CallingServer, {})

    response = client.call_action('orders', 'call_billing', raise_action_errors=False)

    assert '(it is empty)' in response.errors[0].message


@pytest.mark.parametrize(('timeout', 'expiry'), [(0.5, 1), (2.0, 2), (2.25, 3), (7, 7)])
def test_a_fractional_timeout_is_rounded_up_to_whole_seconds(client: Client, timeout: float, expiry: int) -> None:
    response = client.call_action('svc', 'headers', timeout=timeout)

    assert response.body['control']['timeout'] == expiry
    assert transport_of(client, 'svc').sent[-1][3] == expiry


def test_a_fractional_timeout_works_in_every_call_style(client: Client) -> None:
    echo = {'action': 'echo', 'body': {'n': 1}}

    assert client.call_action('svc', 'echo', {'n': 1}, timeout=0.5).body == {'n': 1}
    assert client.call_actions('svc', [echo], timeout=0.5).actions[0].body == {'n': 1}
    assert [r.body for r in client.call_actions_parallel('svc', [echo], timeout=0.5)] == [{'n': 1}]
    assert client.call_jobs_parallel([{'service_name': 'svc', 'actions': [echo]}], timeout=0.5)[0].actions[0].body == {
        'n': 1
    }
    assert client.call_action_future('svc', 'echo', {'n': 1}, timeout=0.5).result().body == {'n': 1}


def test_a_fractional_message_expiry_of_send_request_is_rounded_up(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}], message_expiry_in_seconds=0.1)

    assert transport_of(client, 'svc').sent[-1][3] == 1


@pytest.mark.parametrize('timeout', ['5', b'5', True, [5]])
def test_a_timeout_that_is_not_a_number_is_refused_at_the_call(client: Client, timeout: Any) -> None:
    with pytest.raises(TypeError, match=r'timeout must be a number of seconds \(int or float\), not '):
        client.call_action('svc', 'echo', timeout=timeout)


@pytest.mark.parametrize('timeout', [-1, -0.5, math.inf, math.nan])
def test_a_negative_or_infinite_timeout_is_refused_at_the_call(client: Client, timeout: float) -> None:
    with pytest.raises(ValueError, match='timeout must be a positive, finite number of seconds, not '):
        client.call_action('svc', 'echo', timeout=timeout)


def test_a_zero_timeout_still_means_the_transport_default(client: Client) -> None:
    response = client.call_action('svc', 'headers', timeout=0)

    assert 'timeout' not in response.body['control']
    assert not transport_of(client, 'svc').sent[-1][3]
