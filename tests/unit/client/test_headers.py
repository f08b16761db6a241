"""The control and context headers the client writes into every job request."""

import re
import uuid
from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.client.client import Client
from pysoa.common.types import JobRequest

from .conftest import make_config
from .services import recorder_of


def sent_job(client: Client, service_name: str = 'svc') -> JobRequest:
    [job_request] = recorder_of(client, service_name).job_requests
    return job_request


# Correlation id -----------------------------------------------------------------------------------------------------


def test_correlation_id_is_generated_as_32_hex_digits(client: Client) -> None:
    client.call_action('svc', 'echo')

    assert re.fullmatch('[0-9a-f]{32}', sent_job(client).context['correlation_id'])


def test_generated_correlation_id_is_a_version_4_uuid(client: Client) -> None:
    client.call_action('svc', 'echo')

    correlation_id = uuid.UUID(sent_job(client).context['correlation_id'])
    assert (correlation_id.version, correlation_id.variant) == (4, uuid.RFC_4122)


def test_each_request_gets_a_new_generated_correlation_id(client: Client) -> None:
    client.call_action('svc', 'echo')
    client.call_action('svc', 'echo')

    first, second = recorder_of(client, 'svc').job_requests
    assert first.context['correlation_id'] != second.context['correlation_id']


def test_correlation_id_argument_is_used(client: Client) -> None:
    client.call_action('svc', 'echo', correlation_id='from-argument')

    assert sent_job(client).context['correlation_id'] == 'from-argument'


def test_correlation_id_from_the_base_context_is_used() -> None:
    client = Client(make_config(), context={'correlation_id': 'from-base'})

    client.call_action('svc', 'echo')

    assert sent_job(client).context['correlation_id'] == 'from-base'


def test_correlation_id_argument_overrides_the_base_context() -> None:
    client = Client(make_config(), context={'correlation_id': 'from-base'})

    client.call_action('svc', 'echo', correlation_id='from-argument')

    assert sent_job(client).context['correlation_id'] == 'from-argument'


def test_per_call_context_overrides_the_correlation_id_argument() -> None:
    client = Client(make_config(), context={'correlation_id': 'from-base'})

    client.call_action('svc', 'echo', correlation_id='from-argument', context={'correlation_id': 'from-context'})

    assert sent_job(client).context['correlation_id'] == 'from-context'


def test_server_sees_the_correlation_id(client: Client) -> None:
    response = client.call_action('svc', 'headers', correlation_id='seen-by-server')

    assert response.body['context']['correlation_id'] == 'seen-by-server'


def test_every_job_of_a_parallel_call_shares_the_correlation_id(client: Client) -> None:
    client.call_jobs_parallel(
        [{'service_name': 'svc', 'actions': [{'action': 'echo'}]}] * 2
        + [{'service_name': 'other', 'actions': [{'action': 'echo'}]}],
        correlation_id='shared',
    )

    jobs = recorder_of(client, 'svc').job_requests + recorder_of(client, 'other').job_requests
    assert [job.context['correlation_id'] for job in jobs] == ['shared'] * 3


# Switches -----------------------------------------------------------------------------------------------------------


def test_switches_default_to_an_empty_list(client: Client) -> None:
    client.call_action('svc', 'echo')

    assert sent_job(client).context['switches'] == []


def test_switches_are_the_union_of_argument_base_context_and_per_call_context() -> None:
    client = Client(make_config(), context={'switches': [1, 2]})

    client.call_action('svc', 'echo', switches=[2, 3], context={'switches': [3, 4]})

    switches = sent_job(client).context['switches']
    assert isinstance(switches, list)
    assert sorted(switches) == [1, 2, 3, 4]


def test_switches_argument_may_be_a_set(client: Client) -> None:
    client.call_action('svc', 'echo', switches={5, 6})

    assert sorted(sent_job(client).context['switches']) == [5, 6]


def test_server_sees_the_switches(client: Client) -> None:
    response = client.call_action('svc', 'headers', switches=[7], context={'switches': [8]})

    assert sorted(response.body['context']['switches']) == [7, 8]


def test_caller_dicts_are_not_modified() -> None:
    base_context: Dict[str, Any] = {'switches': [1], 'caller': 'tests'}
    call_context: Dict[str, Any] = {'switches': [2], 'extra': 'value'}
    control_extra: Dict[str, Any] = {'priority': 'high'}
    switches = [3]
    client = Client(make_config(), context=base_context)

    client.call_action(
        'svc',
        'echo',
        switches=switches,
        context=call_context,
        control_extra=control_extra,
        timeout=5,
    )
    client.call_jobs_parallel(
        [{'service_name': 'svc', 'actions': [{'action': 'echo'}]}],
        switches=switches,
        context=call_context,
        control_extra=control_extra,
        timeout=5,
    )

    assert base_context == {'switches': [1], 'caller': 'tests'}
    assert call_context == {'switches': [2], 'extra': 'value'}
    assert control_extra == {'priority': 'high'}
    assert switches == [3]
    assert client.context is base_context


def test_per_call_context_switches_apply_to_every_request_of_the_call(client: Client) -> None:
    call_context = {'switches': [9]}

    client.call_actions_parallel('svc', [{'action': 'echo'}, {'action': 'echo'}], context=call_context)

    assert [job.context['switches'] for job in recorder_of(client, 'svc').job_requests] == [[9], [9]]


# Other context keys -------------------------------------------------------------------------------------------------


def test_base_context_and_per_call_context_keys_are_sent_with_per_call_taking_precedence() -> None:
    client = Client(make_config(), context={'caller': 'base', 'tenant': 't1'})

    client.call_action('svc', 'echo', context={'caller': 'call', 'locale': 'fr'})

    context = sent_job(client).context
    assert context['caller'] == 'call'
    assert context['tenant'] == 't1'
    assert context['locale'] == 'fr'


def test_context_header_has_exactly_the_expected_keys(client: Client) -> None:
    client.call_action('svc', 'echo', context={'caller': 'tests'})

    assert sorted(sent_job(client).context) == ['caller', 'correlation_id', 'switches']


@pytest.mark.parametrize(('key', 'expected'), [(1, '1'), (b'caller', 'caller')], ids=['int', 'bytes'])
def test_context_keys_are_coerced_to_strings(client: Client, key: Any, expected: str) -> None:
    client.call_action('svc', 'echo', context={key: 'value'})

    context = sent_job(client).context
    assert context[expected] == 'value'
    assert all(isinstance(k, str) for k in context)


def test_base_context_keys_are_coerced_to_strings() -> None:
    client = Client(make_config(), context={2: 'two'})  # type: ignore[dict-item]

    client.call_action('svc', 'echo')

    assert sent_job(client).context['2'] == 'two'


# Control header -----------------------------------------------------------------------------------------------------


def test_control_header_defaults(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo'}])

    assert sent_job(client).control == {'continue_on_error': False, 'suppress_response': False}


def test_control_header_carries_the_timeout(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo'}], timeout=15)

    assert sent_job(client).control == {'continue_on_error': False, 'suppress_response': False, 'timeout': 15}


@pytest.mark.parametrize('timeout', [None, 0])
def test_control_header_has_no_timeout_without_a_timeout(client: Client, timeout: Any) -> None:
    client.call_actions('svc', [{'action': 'echo'}], timeout=timeout)

    assert 'timeout' not in sent_job(client).control


def test_control_extra_is_added_to_the_control_header(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo'}], control_extra={'priority': 'high'}, continue_on_error=True)

    assert sent_job(client).control == {'continue_on_error': True, 'suppress_response': False, 'priority': 'high'}


def test_control_extra_timeout_wins_over_the_call_timeout(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo'}], timeout=15, control_extra={'timeout': 30})

    assert sent_job(client).control['timeout'] == 30


def test_send_request_message_expiry_becomes_the_control_timeout(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}], message_expiry_in_seconds=8, suppress_response=True)

    assert sent_job(client).control == {'continue_on_error': False, 'suppress_response': True, 'timeout': 8}


def test_server_sees_the_control_header(client: Client) -> None:
    response = client.call_action('svc', 'headers', timeout=4, control_extra={'priority': 'low'})

    assert response.body['control'] == {
        'continue_on_error': False,
        'suppress_response': False,
        'priority': 'low',
        'timeout': 4,
    }
