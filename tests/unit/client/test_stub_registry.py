"""
The stub registry's contract, which every client (the synchronous one, and any other) relies on: how a job is split
into stubbed and real actions when it is sent, and how its outcome is put together when the response comes.
"""

from typing import (
    Any,
    Dict,
    List,
)

import attr
import pytest

from pysoa.client._stub_registry import (
    StubAnswer,
    StubRegistry,
)
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
    JobResponse,
)


FAILURE = Error(code='FAILED', message='It failed')


@attr.s(eq=False)
class FixedStub:
    """Answers its action with the same answer every time, and remembers the requests."""

    service: str = attr.ib()
    action: str = attr.ib()
    fixed_answer: StubAnswer = attr.ib(factory=lambda: StubAnswer(response=ActionResponse(action='stubbed')))
    requests: List[ActionRequest] = attr.ib(factory=list)

    def answer(self, request: ActionRequest) -> StubAnswer:
        self.requests.append(request)
        return self.fixed_answer


def job(*action_names: str, continue_on_error: bool = False) -> JobRequest:
    return JobRequest(
        control={'continue_on_error': continue_on_error, 'timeout': 5},
        context={'correlation_id': 'abc', 'switches': [3]},
        actions=[ActionRequest(action=name, body={'position': position}) for position, name in enumerate(action_names)],
    )


def answered(body: Dict[str, Any]) -> StubAnswer:
    return StubAnswer(response=ActionResponse(action='stubbed', body=body))


@pytest.fixture
def registry() -> StubRegistry:
    return StubRegistry()


# Activation -----------------------------------------------------------------------------------------------------------


def test_a_registry_without_stubs_is_inactive(registry: StubRegistry) -> None:
    assert not registry.active


def test_a_registry_is_active_until_its_last_stub_is_deactivated(registry: StubRegistry) -> None:
    first, second = FixedStub('svc', 'a'), FixedStub('svc', 'b')
    registry.activate(first)
    registry.activate(second)

    registry.deactivate(first)
    assert registry.active

    registry.deactivate(second)
    assert not registry.active


def test_the_latest_stub_of_an_action_answers_it(registry: StubRegistry) -> None:
    outer, inner = FixedStub('svc', 'a'), FixedStub('svc', 'a')
    registry.activate(outer)
    registry.activate(inner)

    registry.answer_job('svc', job('a'))

    assert (len(outer.requests), len(inner.requests)) == (0, 1)


# Splitting a job ------------------------------------------------------------------------------------------------------


def test_a_job_of_a_service_without_stubs_is_not_answered(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a'))

    assert registry.answer_job('other', job('a')) is None


def test_a_job_without_stubbed_actions_is_not_answered(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a'))

    assert registry.answer_job('svc', job('b', 'c')) is None


def test_stubbed_actions_are_answered_when_the_job_is_sent(registry: StubRegistry) -> None:
    stub = FixedStub('svc', 'a')
    registry.activate(stub)

    registry.answer_job('svc', job('b', 'a'))

    assert stub.requests == [ActionRequest(action='a', body={'position': 1})]


def test_the_real_actions_are_left_for_the_real_service_with_the_job_headers(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a'))
    request = job('b', 'a', 'c')

    stubbed = registry.answer_job('svc', request)

    assert stubbed is not None
    assert stubbed.real_request == JobRequest(
        control=request.control,
        context=request.context,
        actions=[request.actions[0], request.actions[2]],
    )


def test_a_purely_stubbed_job_has_no_real_request(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a', answered({'stub': 1})))

    stubbed = registry.answer_job('svc', job('a', 'a'))

    assert stubbed is not None
    assert stubbed.real_request is None
    assert stubbed.outcome() == JobResponse(actions=[ActionResponse(action='stubbed', body={'stub': 1})] * 2)


# Outcomes -------------------------------------------------------------------------------------------------------------


def test_the_outcome_puts_the_real_responses_back_in_their_positions(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a', answered({'stub': True})))
    stubbed = registry.answer_job('svc', job('b', 'a', 'c'))
    assert stubbed is not None

    outcome = stubbed.outcome(
        JobResponse(
            context={'from': 'server'},
            actions=[ActionResponse(action='b', body={'real': 0}), ActionResponse(action='c', body={'real': 2})],
        )
    )

    assert isinstance(outcome, JobResponse)
    assert [action.body for action in outcome.actions] == [{'real': 0}, {'stub': True}, {'real': 2}]
    assert outcome.context == {'from': 'server'}


def test_the_job_stops_after_a_failed_stubbed_action(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a', StubAnswer(response=ActionResponse(action='a', errors=[FAILURE]))))

    stubbed = registry.answer_job('svc', job('a', 'b'))

    assert stubbed is not None
    assert stubbed.real_request is None
    assert stubbed.outcome() == JobResponse(actions=[ActionResponse(action='a', errors=[FAILURE])])


def test_a_job_that_continues_on_error_goes_on_after_a_failed_stubbed_action(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a', StubAnswer(response=ActionResponse(action='a', errors=[FAILURE]))))

    stubbed = registry.answer_job('svc', job('a', 'b', continue_on_error=True))

    assert stubbed is not None
    assert stubbed.real_request is not None
    assert [action.action for action in stubbed.real_request.actions] == ['b']


def test_a_failed_job_stops_even_without_job_errors(registry: StubRegistry) -> None:
    second = FixedStub('svc', 'b')
    registry.activate(FixedStub('svc', 'a', StubAnswer(job_failed=True)))
    registry.activate(second)

    stubbed = registry.answer_job('svc', job('a', 'b'))

    assert stubbed is not None
    assert second.requests == []


def test_a_receive_error_is_the_outcome_of_the_job(registry: StubRegistry) -> None:
    error = MessageReceiveTimeout('No response')
    registry.activate(FixedStub('svc', 'a', StubAnswer(receive_error=error)))

    stubbed = registry.answer_job('svc', job('b', 'a'))

    assert stubbed is not None
    assert stubbed.outcome(JobResponse(actions=[ActionResponse(action='b')])) is error


# Request ids and stand-ins --------------------------------------------------------------------------------------------


def test_stubbed_request_ids_count_down_from_zero(registry: StubRegistry) -> None:
    assert [registry.next_request_id() for _ in range(3)] == [0, -1, -2]


class Owner:
    """Something that keeps stand-ins (a client)."""


def test_a_stand_in_is_made_for_a_stubbed_service_and_kept(registry: StubRegistry) -> None:
    owner = Owner()
    registry.activate(FixedStub('svc', 'a'))

    stand_in = registry.stand_in(owner, 'svc', lambda _owner, service_name: [service_name])

    assert stand_in == ['svc']
    assert registry.stand_in(owner, 'svc', lambda _owner, service_name: ['another']) is stand_in


def test_no_stand_in_is_made_for_a_service_without_stubs(registry: StubRegistry) -> None:
    registry.activate(FixedStub('svc', 'a'))

    assert registry.stand_in(Owner(), 'other', lambda _owner, service_name: [service_name]) is None


def test_stand_ins_are_dropped_when_their_service_stops_being_stubbed(registry: StubRegistry) -> None:
    owner = Owner()
    stub = FixedStub('svc', 'a')
    registry.activate(FixedStub('other', 'a'))
    registry.activate(stub)
    registry.stand_in(owner, 'svc', lambda _owner, service_name: [service_name])

    registry.deactivate(stub)

    assert registry.stand_in(owner, 'svc', lambda _owner, service_name: [service_name]) is None
