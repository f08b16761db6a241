"""The message classes: fields, defaults, conversion to and from the wire dicts."""

from typing import (
    Any,
    Dict,
)

import attr
import pytest

from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
    JobResponse,
    UnicodeKeysDict,
)


def to_wire(obj: object) -> Dict[str, Any]:
    return attr.asdict(obj, dict_factory=UnicodeKeysDict)


def test_error_wire_form_has_every_key_including_nones() -> None:
    assert to_wire(Error(code='X', message='Y')) == {
        'code': 'X',
        'message': 'Y',
        'field': None,
        'traceback': None,
        'variables': None,
        'denied_permissions': None,
        'is_caller_error': False,
    }


def test_error_field_order_matches_the_positional_signature() -> None:
    error = Error('C', 'M', 'f', 'tb', {'v': 1}, ['perm'], True)
    assert [a.name for a in attr.fields(Error)] == [
        'code',
        'message',
        'field',
        'traceback',
        'variables',
        'denied_permissions',
        'is_caller_error',
    ]
    assert (error.field, error.traceback, error.variables, error.denied_permissions, error.is_caller_error) == (
        'f',
        'tb',
        {'v': 1},
        ['perm'],
        True,
    )


def test_error_is_frozen() -> None:
    error = Error(code='X', message='Y')
    with pytest.raises(attr.exceptions.FrozenInstanceError):
        error.code = 'Z'  # type: ignore[misc]


def test_error_is_caller_error_records_the_version_it_was_added_in() -> None:
    assert attr.fields(Error).is_caller_error.metadata == {'added_in_version': (0, 70, 0)}


def test_error_repr_is_the_attrs_repr() -> None:
    assert repr(Error(code='X', message='Y')) == (
        "Error(code='X', message='Y', field=None, traceback=None, variables=None, denied_permissions=None, "
        'is_caller_error=False)'
    )


def test_error_requires_code_and_message() -> None:
    with pytest.raises(TypeError):
        Error(code='X')  # type: ignore[call-arg]


def test_error_with_an_unknown_key_is_refused() -> None:
    with pytest.raises(TypeError):
        Error(code='X', message='Y', severity='high')  # type: ignore[call-arg]


def test_action_request_defaults_to_an_empty_body_not_shared_between_instances() -> None:
    first, second = ActionRequest(action='a'), ActionRequest(action='b')
    first.body['x'] = 1
    assert second.body == {}


def test_action_response_converts_error_dicts() -> None:
    response = ActionResponse(action='a', errors=[{'code': 'X', 'message': 'Y'}])
    assert response.errors == [Error(code='X', message='Y')]


def test_action_response_keeps_error_instances() -> None:
    error = Error(code='X', message='Y')
    assert ActionResponse(action='a', errors=[error]).errors[0] is error


def test_job_request_defaults() -> None:
    assert to_wire(JobRequest()) == {'control': {}, 'context': {}, 'actions': []}


def test_job_request_converts_action_dicts() -> None:
    job = JobRequest(actions=[{'action': 'a', 'body': {'n': 1}}, ActionRequest(action='b')])
    assert job.actions == [ActionRequest(action='a', body={'n': 1}), ActionRequest(action='b')]


def test_job_response_converts_nested_dicts() -> None:
    response = JobResponse(
        errors=[{'code': 'J', 'message': 'job'}],
        actions=[{'action': 'a', 'errors': [{'code': 'A', 'message': 'action'}], 'body': {}}],
    )
    assert response.errors == [Error(code='J', message='job')]
    assert response.actions[0].errors == [Error(code='A', message='action')]


def test_job_response_round_trips_through_its_wire_dict() -> None:
    response = JobResponse(
        errors=[Error(code='J', message='job', field='f')],
        context={'correlation_id': 'abc'},
        actions=[ActionResponse(action='a', errors=[Error(code='A', message='m')], body={'k': [1, 2]})],
    )
    wire = to_wire(response)
    assert wire == {
        'errors': [
            {
                'code': 'J',
                'message': 'job',
                'field': 'f',
                'traceback': None,
                'variables': None,
                'denied_permissions': None,
                'is_caller_error': False,
            },
        ],
        'context': {'correlation_id': 'abc'},
        'actions': [
            {
                'action': 'a',
                'errors': [
                    {
                        'code': 'A',
                        'message': 'm',
                        'field': None,
                        'traceback': None,
                        'variables': None,
                        'denied_permissions': None,
                        'is_caller_error': False,
                    },
                ],
                'body': {'k': [1, 2]},
            },
        ],
    }
    assert JobResponse(**wire) == response


def test_job_request_round_trips_through_its_wire_dict() -> None:
    job = JobRequest(
        control={'continue_on_error': False},
        context={'switches': [1], 'correlation_id': 'c'},
        actions=[ActionRequest(action='a', body={'x': 1})],
    )
    assert JobRequest(**to_wire(job)) == job


def test_messages_compare_by_value() -> None:
    assert JobRequest(actions=[ActionRequest(action='a')]) == JobRequest(actions=[ActionRequest(action='a')])
    assert ActionResponse(action='a') != ActionResponse(action='b')


def test_messages_are_mutable() -> None:
    response = ActionResponse(action='a')
    response.body = {'changed': True}
    assert response.body == {'changed': True}


def test_unicode_keys_dict_turns_keys_into_str() -> None:
    d = UnicodeKeysDict()
    d[b'bytes'] = 1
    d[7] = 2
    d.setdefault(b'other', 3)
    d['text'] = 4
    assert d == {'bytes': 1, '7': 2, 'other': 3, 'text': 4}
    assert all(type(k) is str for k in d)
