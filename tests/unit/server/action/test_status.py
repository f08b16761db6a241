"""The status action: versions, build, health checks, the client-settings check and the class factories."""

import importlib
import platform
import sys
import textwrap
from pathlib import Path
from typing import (
    Any,
    Dict,
    List,
    Optional,
)

import conformity.version
import pytest

import pysoa.version
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.action.status import (
    BaseStatusAction,
    CheckMethodReturn,
    CheckMethodStatus,
    StatusActionFactory,
    make_default_status_action_class,
)
from pysoa.server.errors import ActionError
from pysoa.server.types import EnrichedActionRequest


VERSIONS = {
    'conformity': conformity.version.__version__,
    'pysoa': pysoa.version.__version__,
    'python': platform.python_version(),
}


def make_request(body: Optional[Dict[str, Any]] = None, client: Any = None) -> EnrichedActionRequest:
    return EnrichedActionRequest(action='status', body=body if body is not None else {}, client=client)


def run_status(action_class: type, body: Optional[Dict[str, Any]] = None, client: Any = None) -> Dict[str, Any]:
    response = action_class()(make_request(body, client))
    assert response.errors == []
    return response.body  # type: ignore[no-any-return]


# Versions and build


def test_default_request_returns_versions_and_empty_healthcheck() -> None:
    assert run_status(StatusActionFactory('1.2.3')) == {
        **VERSIONS,
        'version': '1.2.3',
        'healthcheck': {'errors': [], 'warnings': [], 'diagnostics': {}},
    }


def test_verbose_true_includes_healthcheck() -> None:
    assert 'healthcheck' in run_status(StatusActionFactory('1.2.3'), {'verbose': True})


def test_verbose_false_omits_healthcheck_and_skips_checks() -> None:
    class Status(StatusActionFactory('1.2.3')):  # type: ignore[misc]
        def check_explodes(self, request: EnrichedActionRequest) -> CheckMethodReturn:
            raise AssertionError('must not run')

    assert run_status(Status, {'verbose': False}) == {**VERSIONS, 'version': '1.2.3'}


def test_build_is_included_when_truthy() -> None:
    assert run_status(StatusActionFactory('1.2.3', 'build-42'), {'verbose': False}) == {
        **VERSIONS,
        'version': '1.2.3',
        'build': 'build-42',
    }


@pytest.mark.parametrize('build', [None, ''])
def test_build_is_omitted_when_falsy(build: Optional[str]) -> None:
    assert 'build' not in run_status(StatusActionFactory('1.2.3', build))


def test_non_boolean_verbose_is_rejected_by_request_schema() -> None:
    with pytest.raises(ActionError) as exc_info:
        StatusActionFactory('1.2.3')()(make_request({'verbose': 'yes'}))

    assert [(e.code, e.field) for e in exc_info.value.errors] == [('INVALID', 'verbose')]


def test_subclass_with_version_and_build_properties() -> None:
    class Status(BaseStatusAction):
        @property
        def _version(self) -> str:
            return '9.9'

        @property
        def _build(self) -> Optional[str]:
            return 'b1'

    body = run_status(Status, {'verbose': False})

    assert (body['version'], body['build']) == ('9.9', 'b1')


def test_base_status_action_without_version_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        BaseStatusAction()  # type: ignore[abstract]


# Health checks


class CheckedStatus(BaseStatusAction):
    _version = '1.0'

    def check_b_warning(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        self.diagnostics['b'] = 'was here'
        return [CheckMethodStatus(False, 'B_WARNING', 'b is wobbly')]

    def check_a_mixed(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        return [
            CheckMethodStatus(True, 'A_ERROR', 'a is broken'),
            (False, 'A_WARNING', 'a is slow'),  # type: ignore[list-item]
        ]

    def check_c_fine(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        return None

    def check_d_error(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        return iter([CheckMethodStatus(True, 'D_ERROR', 'd is down')])

    def not_a_check(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        raise AssertionError('only check_ methods run')


def test_check_methods_report_errors_warnings_and_diagnostics_in_alphabetical_order() -> None:
    assert run_status(CheckedStatus)['healthcheck'] == {
        'errors': [('A_ERROR', 'a is broken'), ('D_ERROR', 'd is down')],
        'warnings': [('A_WARNING', 'a is slow'), ('B_WARNING', 'b is wobbly')],
        'diagnostics': {'b': 'was here'},
    }


@pytest.mark.parametrize(
    'healthcheck',
    [
        {'errors': [('DATABASE_DOWN', 'The database is down')]},
        {'warnings': [('DISK_FULL', 'The disk is nearly full')]},
        {'diagnostics': {'hosts': 3}},
        {},
    ],
    ids=['errors only', 'warnings only', 'diagnostics only', 'empty'],
)
def test_custom_status_action_may_return_a_healthcheck_with_only_some_of_its_keys(
    healthcheck: Dict[str, Any],
) -> None:
    class Status(BaseStatusAction):
        _version = '1.0'

        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            return {**VERSIONS, 'version': '1.0', 'healthcheck': healthcheck}

    assert run_status(Status)['healthcheck'] == healthcheck


def test_check_methods_receive_the_request() -> None:
    received: List[EnrichedActionRequest] = []

    class Status(StatusActionFactory('1.0')):  # type: ignore[misc]
        def check_request(self, request: EnrichedActionRequest) -> CheckMethodReturn:
            received.append(request)
            return None

    request = make_request({'verbose': True})
    Status()(request)

    assert received == [request]


def test_diagnostics_are_reset_between_runs() -> None:
    class Status(StatusActionFactory('1.0')):  # type: ignore[misc]
        runs = 0

        def check_count(self, request: EnrichedActionRequest) -> CheckMethodReturn:
            type(self).runs += 1
            self.diagnostics[f'run_{self.runs}'] = True
            return None

    action = Status()
    action(make_request())
    response = action(make_request())

    assert response.body['healthcheck']['diagnostics'] == {'run_2': True}


def test_verbose_false_run_resets_diagnostics() -> None:
    action = CheckedStatus()
    action(make_request())

    action(make_request({'verbose': False}))

    assert action.diagnostics == {}


@pytest.mark.parametrize(
    'check',
    [
        lambda self: None,
        lambda self, request, extra: None,
        lambda self, *, request: None,
    ],
    ids=['no-argument', 'two-arguments', 'keyword-only'],
)
def test_check_method_with_wrong_signature_raises_runtime_error(check: Any) -> None:
    status_class = type('Status', (StatusActionFactory('1.0'),), {'check_bad': check})

    with pytest.raises(RuntimeError) as exc_info:
        status_class()(make_request())

    message, cause = exc_info.value.args
    assert message == 'Status action check_* methods must accept a single argument of type EnrichedActionRequest'
    assert isinstance(cause, TypeError)


def test_non_callable_check_attribute_raises_runtime_error() -> None:
    status_class = type('Status', (StatusActionFactory('1.0'),), {'check_interval': 5})

    with pytest.raises(RuntimeError, match='must accept a single argument'):
        status_class()(make_request())


def test_type_error_inside_check_method_is_not_reported_as_wrong_signature() -> None:
    class Status(StatusActionFactory('1.0')):  # type: ignore[misc]
        def check_buggy(self, request: EnrichedActionRequest) -> CheckMethodReturn:
            raise TypeError('bug in the check')

    with pytest.raises(TypeError, match='bug in the check'):
        Status()(make_request())


@pytest.mark.parametrize(
    'returned',
    [
        5,
        [5],
        [(True, 'CODE')],
        [(True, 'CODE', 'description', 'extra')],
        [(True, 5, 'description')],
        [(True, 'CODE', None)],
        'abc',
    ],
)
def test_check_method_with_malformed_return_raises_runtime_error(returned: Any) -> None:
    status_class = type('Status', (StatusActionFactory('1.0'),), {'check_bad': lambda self, request: returned})

    with pytest.raises(RuntimeError) as exc_info:
        status_class()(make_request())

    message, cause = exc_info.value.args
    assert message == 'Status action check_* methods must return None or an iterable of bool-str-str tuples.'
    assert isinstance(cause, (TypeError, ValueError))


# Factories


def test_status_action_factory_makes_named_subclass_of_base_class() -> None:
    status_class = StatusActionFactory('2.0', 'b7', base_class=CheckedStatus)

    assert status_class.__name__ == 'StatusAction'
    assert issubclass(status_class, CheckedStatus)
    body = run_status(status_class)
    assert (body['version'], body['build']) == ('2.0', 'b7')
    assert body['healthcheck']['errors'] == [('A_ERROR', 'a is broken'), ('D_ERROR', 'd is down')]


def test_status_action_factory_defaults_to_base_status_action() -> None:
    assert StatusActionFactory('2.0').__bases__ == (BaseStatusAction,)


def make_service_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, init_source: str) -> type:
    package = tmp_path / name
    (package / 'server').mkdir(parents=True)
    (package / '__init__.py').write_text(textwrap.dedent(init_source))
    (package / 'server' / '__init__.py').write_text('')
    (package / 'server' / 'main.py').write_text('class MyServer:\n    service_name = "my"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in (name, f'{name}.server', f'{name}.server.main'):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(f'{name}.server.main').MyServer  # type: ignore[no-any-return]


def test_default_status_action_uses_version_and_build_of_top_level_package(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_class = make_service_package(
        tmp_path, monkeypatch, 'versioned_service', "__version__ = '3.1.4'\n__build__ = 'build-15'\n"
    )

    status_class = make_default_status_action_class(server_class)

    assert issubclass(status_class, BaseStatusAction)
    assert run_status(status_class) == {
        **VERSIONS,
        'version': '3.1.4',
        'build': 'build-15',
        'healthcheck': {'errors': [], 'warnings': [], 'diagnostics': {}},
    }


def test_default_status_action_without_version_or_build_reports_unknown(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_class = make_service_package(tmp_path, monkeypatch, 'bare_service', '')

    body = run_status(make_default_status_action_class(server_class), {'verbose': False})

    assert body == {**VERSIONS, 'version': 'unknown'}


def test_default_status_action_treats_empty_build_as_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_class = make_service_package(
        tmp_path, monkeypatch, 'empty_build_service', "__version__ = '1.0'\n__build__ = ''\n"
    )

    assert 'build' not in run_status(make_default_status_action_class(server_class), {'verbose': False})


# _check_client_settings


class FakeClient:
    def __init__(self, settings: Dict[str, Any], result: Any = None, error: Optional[Exception] = None) -> None:
        self.settings = settings
        self.result = result
        self.error = error
        self.calls: List[Dict[str, Any]] = []

    def call_jobs_parallel(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return self.result


class ClientCheckingStatus(BaseStatusAction):
    _version = '1.0'
    check_client_settings = BaseStatusAction._check_client_settings


def test_client_settings_check_is_disabled_by_default() -> None:
    client = FakeClient({'foo': {}}, error=AssertionError('must not be called'))

    assert run_status(StatusActionFactory('1.0'), client=client)['healthcheck']['errors'] == []
    assert client.calls == []


def test_client_settings_check_without_client_does_nothing() -> None:
    assert run_status(ClientCheckingStatus)['healthcheck'] == {'errors': [], 'warnings': [], 'diagnostics': {}}


def test_client_settings_check_with_no_configured_services_does_nothing() -> None:
    client = FakeClient({}, error=AssertionError('must not be called'))

    assert run_status(ClientCheckingStatus, client=client)['healthcheck']['diagnostics'] == {}
    assert client.calls == []


def test_client_settings_check_calls_status_on_every_service_in_parallel() -> None:
    client = FakeClient(
        {'foo': {}, 'bar': {}},
        result=[
            JobResponse(actions=[ActionResponse(action='status', body={'version': 'f1'})]),
            JobResponse(actions=[ActionResponse(action='status', body={'version': 'b1'})]),
        ],
    )

    healthcheck = run_status(ClientCheckingStatus, client=client)['healthcheck']

    assert client.calls == [
        {
            'jobs': [
                {'service_name': 'foo', 'actions': [{'action': 'status', 'body': {'verbose': False}}]},
                {'service_name': 'bar', 'actions': [{'action': 'status', 'body': {'verbose': False}}]},
            ],
            'timeout': 2,
            'catch_transport_errors': True,
            'raise_job_errors': False,
            'raise_action_errors': False,
        },
    ]
    assert healthcheck == {
        'errors': [],
        'warnings': [],
        'diagnostics': {'services': {'foo': {'version': 'f1'}, 'bar': {'version': 'b1'}}},
    }


def test_client_settings_check_reports_each_kind_of_failure_per_service() -> None:
    client = FakeClient(
        {'transport_svc': {}, 'job_svc': {}, 'action_svc': {}, 'ok_svc': {}},
        result=[
            MessageReceiveTimeout('Timed out after 2 seconds'),
            JobResponse(errors=[Error(code='SERVER_ERROR', message='Job exploded')]),
            JobResponse(
                actions=[ActionResponse(action='status', errors=[Error(code='UNKNOWN', message='No status here')])],
            ),
            JobResponse(actions=[ActionResponse(action='status', body={'version': 'ok'})]),
        ],
    )

    healthcheck = run_status(ClientCheckingStatus, client=client)['healthcheck']

    assert healthcheck == {
        'errors': [
            (
                'TRANSPORT_SVC_TRANSPORT_ERROR',
                'Transport error calling the status action of service transport_svc: '
                'MessageReceiveTimeout: Timed out after 2 seconds',
            ),
            (
                'JOB_SVC_CALL_ERROR',
                'Job error calling the status action of service job_svc: SERVER_ERROR: Job exploded',
            ),
            ('ACTION_SVC_STATUS_ERROR', 'The status action of service action_svc failed: UNKNOWN: No status here'),
        ],
        'warnings': [],
        'diagnostics': {'services': {'ok_svc': {'version': 'ok'}}},
    }


def test_client_settings_check_reports_unknown_error_when_the_call_fails() -> None:
    client = FakeClient({'foo': {}, 'bar': {}}, error=ValueError('Unrecognized service name "foo"'))

    healthcheck = run_status(ClientCheckingStatus, client=client)['healthcheck']

    assert healthcheck['errors'] == [
        (
            'CHECK_SERVICES_UNKNOWN_ERROR',
            'Error calling the status action of the services foo, bar: ValueError: Unrecognized service name "foo"',
        ),
    ]
    assert healthcheck['diagnostics'] == {}
