"""
Test doubles for the services your code calls.

:class:`stub_action` makes every :class:`pysoa.client.client.Client` in the process answer one action of one service
with a mock, whatever the client's configuration, while the other actions and services work as usual. It is a
context manager::

    with stub_action('users', 'get_user', body={'id': 1, 'name': 'Ann'}) as get_user:
        assert client.call_action('users', 'get_user', {'id': 1}).body == {'id': 1, 'name': 'Ann'}
    assert get_user.call_body == {'id': 1}

a decorator of test functions and methods, which passes the mock as an extra positional argument and stacks with
``mock.patch`` decorators in any order (arguments follow the ``mock.patch`` rule: innermost decorator first)::

    @stub_action('users', 'get_user', errors=[Error(code='NOT_FOUND', message='No such user', field='id')])
    @mock.patch('my_service.emails.send')
    def test_unknown_user(self, send_email, get_user):
        ...

a decorator of test classes (every ``test*`` method gets a fresh stub), or started and stopped by hand::

    def setUp(self):
        stub = stub_action('users', 'get_user', side_effect=lambda body: {'id': body['id']})
        self.get_user = stub.start()
        self.addCleanup(stub.stop)

The mock can return a body dict, an :class:`~pysoa.common.types.ActionResponse` or a
:class:`~pysoa.common.types.JobResponse`, and raise :class:`~pysoa.server.errors.ActionError` (action errors),
:class:`~pysoa.server.errors.JobError` (job errors), or ``MessageReceiveError``/``MessageReceiveTimeout`` (raised when
the response is received); see :class:`stub_action` for the details.

For a whole fake service there are :class:`StubClient` (a client whose services are all canned) and the classes it is
built from, :class:`StubClientTransport` and :class:`StubServer`::

    client = StubClient({'users': {'get_user': {'body': {'id': 1}}, 'delete_user': {'errors': [
        {'code': 'FORBIDDEN', 'message': 'Not allowed'},
    ]}}})
    client.stub_action('billing', 'charge', body={'charged': True})
"""

import copy
import functools
import inspect
import re
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)
from unittest import mock

from conformity import fields
from pymetrics.recorders.base import MetricsRecorder
from pymetrics.recorders.noop import noop_metrics

from pysoa.client.client import Client
from pysoa.client.settings import ClientSettings
from pysoa.common.errors import Error
from pysoa.common.transport.local import LocalClientTransport
from pysoa.common.types import (
    ActionResponse,
    Body,
)
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from pysoa.test._stubbing import (
    StubRegistration,
    activate,
    deactivate,
    get_stubbed_requests,
    get_stubbed_responses,
    patchings_entered,
)


__all__ = (
    'Errors',
    'StubClient',
    'StubClientSettings',
    'StubClientTransport',
    'StubClientTransportSchema',
    'StubServer',
    'StubbedActionMock',
    'get_stubbed_requests',
    'get_stubbed_responses',
    'stub_action',
)

Errors = Iterable[Union[Error, Mapping[str, Any]]]
"""Errors given as :class:`pysoa.common.errors.Error` objects or as dicts of their attributes."""

_T = TypeVar('_T')
_R = TypeVar('_R')


def _camel_case(name: str) -> str:
    """``'get_user-v2'`` → ``'GetUserV2'``: split on non-alphanumerics, first letter of each part upper-cased."""
    return ''.join(part[:1].upper() + part[1:] for part in re.split(r'[\W_]+', name))


def _to_errors(errors: Errors) -> List[Error]:
    return [e if isinstance(e, Error) else Error(**e) for e in errors]


# Patching stubs ----------------------------------------------------------------------------------------------------


class StubbedActionMock(mock.MagicMock):
    """
    The mock a :class:`stub_action` answers its action with. It is called with one positional argument, the request
    body, and has two shortcuts to the bodies it was called with.
    """

    @property
    def call_body(self) -> Optional[Body]:
        """The body of the latest call, or ``None`` if it was never called."""
        call_args = self.call_args
        return None if call_args is None else cast(Body, call_args[0][0])

    @property
    def call_bodies(self) -> Tuple[Body, ...]:
        """The bodies of all calls, oldest first."""
        return tuple(call_args[0][0] for call_args in self.call_args_list)


class stub_action:
    """
    Answer one action of one service with a :class:`StubbedActionMock` (named ``'<service>.<action>'``) in every
    :class:`pysoa.client.client.Client` while active. Use it as a context manager (which returns the mock), a decorator
    of test functions and methods (which get the mock as an extra positional argument) or classes, or with
    :meth:`start` and :meth:`stop`.

    Stubbed actions are answered when the request is sent; the other actions of the same job go to the real service
    in one request, and their responses are merged back in order when the response is received, with every call style
    (``call_action``, ``call_actions``, the parallel calls, futures, ``send_request`` with ``get_all_responses``). The
    mock's result becomes the action's response:

    * a dict is the response body;
    * an :class:`~pysoa.common.types.ActionResponse` is used as it is;
    * a :class:`~pysoa.common.types.JobResponse` gives its errors to the job and its first action (if any) to this
      action;
    * anything else (such as ``None``) gives an empty response;
    * an :class:`~pysoa.server.errors.ActionError` gives the action its errors, a :class:`~pysoa.server.errors.JobError`
      gives the job its errors; a ``MessageReceiveError`` or ``MessageReceiveTimeout`` is raised (once) when the
      response is received; any other exception is raised by ``send_request`` (so by the ``call_*`` method).

    As on a real server, the job stops after an action with errors unless ``continue_on_error`` was requested (as a
    keyword or positionally), and after job errors; it also stops after a receive error. A real action that fails
    truncates the merged response after it, even though the stubs of later actions have already been called. Purely
    stubbed jobs get request ids from a process-global counter starting at 0 and counting down, so they never equal a
    real request's (positive) id; a mixed job has the id of its real request.

    Receive stubbed responses while the stub is active (a future sent while it was active resolves at any time).
    Stubs apply to every client in the process, including those servers create for their actions' nested calls, and
    to services no client is configured for.

    Each call is recorded in the request registry (:func:`get_stubbed_requests`) and each response it produced in the
    response registry (:func:`get_stubbed_responses`), as ``{'service', 'action', 'body'}`` dicts, unless the
    corresponding ``register_*_schema_contract`` flag is ``False``.

    Stubs nest: the most recently started stub of an action answers it, and stopping it makes the previous one answer
    again; the real client behaviour is back once every stub has stopped (also when the test raised).

    :param service: The service name.
    :param action: The action name.
    :param body: The body of the mock's default response.
    :param errors: The errors (:class:`~pysoa.common.errors.Error` objects or dicts) of the mock's default response.
    :param side_effect: The mock's ``side_effect``: a callable called with the body, an exception to raise, or an
                        iterable of results (or exceptions), one per call.
    :param register_response_schema_contract: Whether to record the stub's responses in :func:`get_stubbed_responses`.
    :param register_request_schema_contract: Whether to record the stub's requests in :func:`get_stubbed_requests`.
    """

    attribute_name = None
    """For ``mock.patch`` interoperability: the mock is passed positionally, not as a keyword."""

    new = mock.DEFAULT
    """For ``mock.patch`` interoperability (and pytest's): the mock is passed to decorated functions."""

    def __init__(
        self,
        service: str,
        action: str,
        body: Optional[Body] = None,
        errors: Optional[Errors] = None,
        side_effect: Any = None,
        register_response_schema_contract: bool = True,
        register_request_schema_contract: bool = True,
    ) -> None:
        assert isinstance(service, str), 'service name must be a unicode string'
        assert isinstance(action, str), 'action name must be a unicode string'
        self.service = service
        self.action = action
        self.body = body
        self.errors = errors
        self.side_effect = side_effect
        self.register_response_schema_contract = register_response_schema_contract
        self.register_request_schema_contract = register_request_schema_contract
        self._mock: Optional[StubbedActionMock] = None
        self._registration: Optional[StubRegistration] = None
        self._depth = 0
        self.patchings: List[Any] = []
        """For ``mock.patch`` interoperability: the other patchers entered with this one (a stub enters none)."""

    def __repr__(self) -> str:
        return f'<stub_action {self.service}.{self.action}{" (enabled)" if self.enabled else ""}>'

    @property
    def enabled(self) -> bool:
        """Whether the stub is active."""
        return self._depth > 0

    @property
    def is_local(self) -> bool:
        """For ``mock.patch`` interoperability: the same as :attr:`enabled`."""
        return self.enabled

    def _make_mock(self) -> StubbedActionMock:
        stub_mock = StubbedActionMock(name=f'{self.service}.{self.action}')
        if self.body is not None or self.errors is not None:
            stub_mock.return_value = ActionResponse(
                action=self.action,
                errors=_to_errors(self.errors or []),
                body=self.body or {},
            )
        if self.side_effect:
            stub_mock.side_effect = self.side_effect
        return stub_mock

    def __enter__(self) -> StubbedActionMock:
        """Start the stub with a fresh mock and return it; re-entering an active stub returns the same mock."""
        if self._mock is not None and self._depth:
            self._depth += 1
            return self._mock
        self._mock = self._make_mock()
        self._registration = StubRegistration(
            service=self.service,
            action=self.action,
            mock=self._mock,
            register_request_schema_contract=self.register_request_schema_contract,
            register_response_schema_contract=self.register_response_schema_contract,
        )
        activate(self._registration)
        self._depth = 1
        return self._mock

    def __exit__(self, exc_type: Any = None, exc_value: Any = None, traceback: Any = None) -> Literal[False]:
        """Stop the stub (once exited as many times as entered); exceptions are never suppressed."""
        if self._depth == 1:
            self.stop()
        elif self._depth:
            self._depth -= 1
        return False

    def start(self) -> StubbedActionMock:
        """Start the stub and return its mock, like ``mock.patch(...).start()``; an active stub returns its mock."""
        if self._mock is not None and self._depth:
            return self._mock
        return self.__enter__()

    def stop(self) -> None:
        """Stop the stub, however many times it was started or entered; does nothing if it is not active."""
        self._depth = 0
        if self._registration is not None:
            deactivate(self._registration)
            self._registration = None

    def _copy(self) -> 'stub_action':
        return type(self)(
            self.service,
            self.action,
            body=self.body,
            errors=self.errors,
            side_effect=self.side_effect,
            register_response_schema_contract=self.register_response_schema_contract,
            register_request_schema_contract=self.register_request_schema_contract,
        )

    @overload
    def __call__(self, func: Type[_T]) -> Type[_T]: ...

    @overload
    def __call__(self, func: Callable[..., _R]) -> Callable[..., _R]:
        # Like mock.patch's typing: the decorated function takes one more argument, which mypy cannot express.
        ...

    def __call__(self, func: Any) -> Any:
        """Decorate a test class (each ``test*`` method gets a fresh copy of this stub) or a function."""
        if isinstance(func, type):
            return self.decorate_class(func)
        if inspect.iscoroutinefunction(func):
            return self.decorate_async_callable(func)
        if callable(func):
            return self.decorate_callable(func)
        raise TypeError(f'stub_action can only decorate a class or a callable, not {func!r}')

    def decorate_class(self, klass: Type[_T]) -> Type[_T]:
        """Decorate each ``test*`` method of the class with a fresh copy of this stub, like ``mock.patch``."""
        for name in dir(klass):
            if not name.startswith(mock.patch.TEST_PREFIX):
                continue
            value = getattr(klass, name)
            if callable(value):
                setattr(klass, name, self._copy()(value))
        return klass

    def decorate_callable(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a function, like ``mock.patch``: it gets the mock as an extra positional argument."""
        return self._decorate(func, coroutine=False)

    def decorate_async_callable(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """
        Decorate a function returning an awaitable (such as a coroutine function), like ``mock.patch``: the stub is
        active while the awaitable runs, and the function gets the mock as an extra positional argument.
        """
        return self._decorate(func, coroutine=True)

    def _decorate(self, func: Callable[..., Any], coroutine: bool) -> Callable[..., Any]:
        existing = getattr(func, 'patchings', None)
        if isinstance(existing, list):
            # Already decorated by mock.patch or another stub: share its list, as mock.patch decorators do.
            existing.append(self)
            return func

        # mock.patch (and stub) decorators applied on top of this one append themselves to this same list.
        patchings: List[Any] = [self]
        patched: Callable[..., Any]
        if coroutine:

            @functools.wraps(func)
            async def patched_coroutine(*args: Any, **kwargs: Any) -> Any:
                with patchings_entered(patchings, args, kwargs) as (new_args, new_kwargs):
                    return await cast(Callable[..., Awaitable[Any]], func)(*new_args, **new_kwargs)

            patched = patched_coroutine
        else:

            @functools.wraps(func)
            def patched_function(*args: Any, **kwargs: Any) -> Any:
                with patchings_entered(patchings, args, kwargs) as (new_args, new_kwargs):
                    return func(*new_args, **new_kwargs)

            patched = patched_function
        setattr(patched, 'patchings', patchings)
        return patched


# Stub services -----------------------------------------------------------------------------------------------------


class _StubAction(Action):
    """Base of the generated stub actions: no validation; raise the errors if any, else return the body."""

    stub_body: Optional[Body] = None
    stub_errors: List[Error] = []

    def run(self, request: EnrichedActionRequest) -> Optional[Body]:
        if self.stub_errors:
            raise ActionError(self.stub_errors)
        # A copy, so that callers changing their response (expansions do) do not change the stub's next responses.
        return copy.deepcopy(self.stub_body)

    def __call__(self, action_request: EnrichedActionRequest) -> ActionResponse:
        body = self.run(action_request)
        return ActionResponse(action=action_request.action, body=body if body is not None else {})


def _make_stub_action_class(action: str, body: Optional[Body] = None, errors: Optional[Errors] = None) -> Type[Action]:
    name = _camel_case(action) or 'StubAction'
    return type(
        name,
        (_StubAction,),
        {
            '__module__': __name__,
            '__qualname__': name,
            '__doc__': f'Stub of the {action} action.',
            'stub_body': body,
            'stub_errors': _to_errors(errors or []),
        },
    )


class StubServer(Server):
    """A :class:`pysoa.server.server.Server` whose actions can be stubbed with canned bodies or errors."""

    def stub_action(self, action: str, body: Optional[Body] = None, errors: Optional[Errors] = None) -> None:
        """
        Make this server answer ``action`` with ``body``, or with an action error of ``errors`` if given. The action
        skips request and response validation.
        """
        action_class_map: Dict[str, Any] = dict(self.action_class_map)
        action_class_map[action] = _make_stub_action_class(action, body, errors)
        # On the instance: the class's map may be shared with other servers.
        setattr(self, 'action_class_map', action_class_map)


_ERROR_SCHEMA = fields.Dictionary(
    {
        'code': fields.UnicodeString(description='The error code'),
        'message': fields.UnicodeString(description='The error message'),
        'field': fields.UnicodeString(description='The field the error is about, if any'),
        'traceback': fields.UnicodeString(description='A traceback, if any'),
        'variables': fields.SchemalessDictionary(description='Variables relevant to the error, if any'),
        'denied_permissions': fields.List(fields.UnicodeString(), description='Denied permissions, if any'),
    },
    optional_keys=('field', 'traceback', 'variables', 'denied_permissions'),
)


class StubClientTransportSchema(fields.Dictionary):
    """
    The schema of the :class:`StubClientTransport` keyword arguments: a Conformity ``Dictionary`` whose contents,
    optional keys and description default to those of the stub transport's optional ``action_map``.
    """

    contents = {
        'action_map': fields.SchemalessDictionary(
            key_type=fields.UnicodeString(description='The action name'),
            value_type=fields.Dictionary(
                {
                    'body': fields.SchemalessDictionary(
                        key_type=fields.UnicodeString(),
                        description='The body the action returns',
                    ),
                    'errors': fields.List(
                        fields.Any(fields.ObjectInstance(Error), _ERROR_SCHEMA),
                        description='The errors the action fails with',
                    ),
                },
                optional_keys=('body', 'errors'),
            ),
            description='The stubbed actions: `{action: {"body": {...}}}` or `{action: {"errors": [...]}}`',
        ),
    }
    optional_keys = frozenset({'action_map'})
    description = 'The settings for the stub client transport'


@fields.ClassConfigurationSchema.provider(StubClientTransportSchema())
class StubClientTransport(LocalClientTransport):
    """
    A local transport to a generated :class:`StubServer` subclass (named ``<CamelCasedService>Server``) whose actions
    are given by ``action_map``, with default server settings.

    :param service_name: The service name.
    :param metrics: The metrics recorder (the no-op recorder by default).
    :param action_map: ``{action: {'body': {...}}}`` or ``{action: {'errors': [...]}}`` for each stubbed action.
    """

    server: StubServer

    def __init__(
        self,
        service_name: str = 'test',
        metrics: Optional[MetricsRecorder] = None,
        action_map: Optional[Mapping[str, Mapping[str, Any]]] = None,
    ) -> None:
        server_class = type(
            f'{_camel_case(service_name)}Server',
            (StubServer,),
            {
                '__module__': __name__,
                'service_name': service_name,
                'action_class_map': {
                    action: _make_stub_action_class(action, spec.get('body'), spec.get('errors'))
                    for action, spec in (action_map or {}).items()
                },
            },
        )
        super().__init__(
            service_name,
            metrics if metrics is not None else noop_metrics,
            server_class=server_class,
            server_settings={},
        )

    def stub_action(self, action: str, body: Optional[Body] = None, errors: Optional[Errors] = None) -> None:
        """Stub one more action of the server: see :meth:`StubServer.stub_action`."""
        self.server.stub_action(action, body=body, errors=errors)


class StubClientSettings(ClientSettings):
    """Client settings whose default transport is :class:`StubClientTransport`."""

    defaults = {
        'transport': {'path': 'pysoa.test.stub_service:StubClientTransport'},
    }


class StubClient(Client):
    """
    A client whose services are all stubs (see :class:`StubClientTransport`), for code under test that needs a client.

    :param service_action_map: ``{service: {action: {'body': {...}} or {'errors': [...]}}}``.
    """

    settings_class = StubClientSettings

    def __init__(self, service_action_map: Optional[Mapping[str, Mapping[str, Any]]] = None, **_: Any) -> None:
        super().__init__(
            {
                service_name: {'transport': {'kwargs': {'action_map': action_map}}}
                for service_name, action_map in (service_action_map or {}).items()
            }
        )

    def stub_action(
        self,
        service_name: str,
        action: str,
        body: Optional[Body] = None,
        errors: Optional[Errors] = None,
    ) -> None:
        """Make ``service_name`` (configured or not) answer ``action`` with ``body``, or with ``errors`` if given."""
        if service_name not in self.settings:
            self.settings[service_name] = self.settings_class({})
        # The real handler's transport, even while a stub_action of the service stands in for the handler.
        transport = self._get_real_handler(service_name).transport
        if not isinstance(transport, StubClientTransport):
            raise TypeError(f'Service {service_name} does not use a StubClientTransport, so it cannot be stubbed')
        transport.stub_action(action, body=body, errors=errors)
