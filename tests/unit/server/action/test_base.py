"""Action: request validation, the validate hook, run, response validation and the response it returns."""

from typing import (
    Any,
    Dict,
    List,
    Optional,
)

import pytest
from conformity import fields

from pysoa.common.errors import Error
from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.errors import (
    ActionError,
    ResponseValidationError,
)
from pysoa.server.types import EnrichedActionRequest


class SquareAction(Action):
    """Squares a number."""

    request_schema = fields.Dictionary({'number': fields.Integer(), 'label': fields.UnicodeString()})
    response_schema = fields.Dictionary({'square': fields.Integer()})

    def __init__(self, settings: Optional[Dict[str, Any]] = None, result: Any = 'compute') -> None:
        super().__init__(settings)  # type: ignore[arg-type]
        self.result = result
        self.ran = False

    def run(self, request: EnrichedActionRequest) -> Optional[Dict[str, Any]]:
        self.ran = True
        if self.result == 'compute':
            return {'square': request.body['number'] ** 2}
        return self.result  # type: ignore[no-any-return]


def make_request(body: Dict[str, Any], action: str = 'square') -> EnrichedActionRequest:
    return EnrichedActionRequest(action=action, body=body)


def test_valid_request_returns_run_result_as_response_body() -> None:
    response = SquareAction()(make_request({'number': 3, 'label': 'x'}))

    assert response == ActionResponse(action='square', body={'square': 9})


def test_settings_are_stored_on_the_action() -> None:
    settings: Any = {'some': 'settings'}

    assert SquareAction(settings).settings is settings


def test_settings_default_to_none() -> None:
    class NoOpAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            return None

    assert NoOpAction().settings is None


def test_request_validation_errors_become_caller_errors_with_field_pointers() -> None:
    action = SquareAction()

    with pytest.raises(ActionError) as exc_info:
        action(make_request({'number': 'three'}))

    assert sorted(exc_info.value.errors, key=lambda e: e.field or '') == [
        Error(code='MISSING', message='Missing key: label', field='label', is_caller_error=True),
        Error(code='INVALID', message='Not an integer', field='number', is_caller_error=True),
    ]
    assert not action.ran


def test_request_validation_error_for_extra_key_has_no_field() -> None:
    with pytest.raises(ActionError) as exc_info:
        SquareAction()(make_request({'number': 3, 'label': 'x', 'extra': 1}))

    assert exc_info.value.errors == [
        Error(code='UNKNOWN', message='Extra keys present: extra', field=None, is_caller_error=True),
    ]


def test_nested_request_validation_error_field_is_dotted_path() -> None:
    class NestedAction(Action):
        request_schema = fields.Dictionary({'items': fields.List(fields.Dictionary({'id': fields.Integer()}))})

        def run(self, request: EnrichedActionRequest) -> None:
            return None

    with pytest.raises(ActionError) as exc_info:
        NestedAction()(make_request({'items': [{'id': 1}, {'id': 'two'}]}))

    assert [e.field for e in exc_info.value.errors] == ['items.1.id']


def test_validate_hook_runs_after_schema_validation_and_before_run() -> None:
    calls: List[str] = []

    class HookedAction(Action):
        request_schema = fields.Dictionary({'number': fields.Integer()})

        def validate(self, request: EnrichedActionRequest) -> None:
            calls.append(f'validate {request.body}')

        def run(self, request: EnrichedActionRequest) -> None:
            calls.append('run')

    HookedAction()(make_request({'number': 1}))
    with pytest.raises(ActionError):
        HookedAction()(make_request({'number': 'one'}))

    assert calls == ["validate {'number': 1}", 'run']


def test_action_error_from_validate_hook_propagates_and_run_is_skipped() -> None:
    error = Error(code='NOT_ALLOWED', message='Not today', field='number')

    class RejectingAction(SquareAction):
        def validate(self, request: EnrichedActionRequest) -> None:
            raise ActionError([error])

    action = RejectingAction()
    with pytest.raises(ActionError) as exc_info:
        action(make_request({'number': 3, 'label': 'x'}))

    assert exc_info.value.errors == [
        Error(code='NOT_ALLOWED', message='Not today', field='number', is_caller_error=True),
    ]
    assert not action.ran


def test_run_returning_none_gives_response_with_empty_body() -> None:
    response = SquareAction(result=None)(make_request({'number': 3, 'label': 'x'}))

    assert response == ActionResponse(action='square', body={})
    assert response.errors == []


def test_run_returning_none_skips_response_validation() -> None:
    # The response schema requires 'square', but an empty response (None) is not validated.
    response = SquareAction(result=None)(make_request({'number': 3, 'label': 'x'}))

    assert response.body == {}


def test_response_validation_error_is_raised_for_invalid_response_body() -> None:
    with pytest.raises(ResponseValidationError) as exc_info:
        SquareAction(result={'square': 'nine'})(make_request({'number': 3, 'label': 'x'}, action='my_square'))

    error = exc_info.value
    assert error.action == 'my_square'
    assert [(e.code, e.pointer) for e in error.errors] == [('INVALID', 'square')]
    assert str(error) == 'my_square had an invalid response:\n\tsquare INVALID: Not an integer'


def test_response_validation_error_lists_every_problem() -> None:
    with pytest.raises(ResponseValidationError) as exc_info:
        SquareAction(result={'cube': 27})(make_request({'number': 3, 'label': 'x'}))

    lines = str(exc_info.value).split('\n\t')
    assert lines[0] == 'square had an invalid response:'
    assert sorted(lines[1:]) == ['None UNKNOWN: Extra keys present: cube', 'square MISSING: Missing key: square']


def test_action_without_schemas_accepts_any_request_and_response() -> None:
    class EchoAction(Action):
        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            return {'echo': request.body, 'anything': object}

    body = {'whatever': [1, 'two'], 'nothing': None}

    response = EchoAction()(make_request(body, action='echo'))

    assert response == ActionResponse(action='echo', body={'echo': body, 'anything': object})


def test_schema_class_attributes_default_to_none() -> None:
    assert Action.description is None
    assert Action.request_schema is None
    assert Action.response_schema is None


def test_action_without_run_cannot_be_instantiated() -> None:
    class Incomplete(Action):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]
