"""
In-process services, a controllable transport, client middleware and a metrics recorder for the client tests.

Every service runs in the test's own thread through the local transport, so the client under test talks to real
servers with no network, no serialization and no timing.
"""

import copy
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
    Type,
)

from conformity import fields
from pymetrics.instruments import Metric
from pymetrics.recorders.default import DefaultMetricsRecorder

from pysoa.client.middleware import (
    ClientMiddleware,
    ClientRequestMiddlewareTask,
    ClientResponseMiddlewareTask,
)
from pysoa.common.errors import Error
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import MessageSendError
from pysoa.common.transport.local import (
    LocalClientTransport,
    LocalClientTransportSchema,
)
from pysoa.common.types import (
    ActionRequest,
    JobRequest,
    JobResponse,
)
from pysoa.server.action.base import Action
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareJobTask,
)
from pysoa.server.server import Server
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)


MODULE = 'tests.unit.client.services'


# Actions ------------------------------------------------------------------------------------------------------------


class EchoAction(Action):
    """Returns its request body."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class HeadersAction(Action):
    """Returns the context and control headers the server received."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'context': dict(request.context), 'control': dict(request.control)}


class SquareAction(Action):
    """Squares a number; the request schema requires an integer ``number``."""

    request_schema = fields.Dictionary({'number': fields.Integer()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'square': request.body['number'] ** 2}


class FailAction(Action):
    """Always fails with an action error."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError([Error(code='BROKEN', message='It is broken', field='thing')])


class ExplodeAction(Action):
    """Always raises an unexpected exception."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ValueError('kaboom')


class EmptyAction(Action):
    """Succeeds with an empty body."""

    def run(self, request: EnrichedActionRequest) -> None:
        return None


class RejectForbiddenJobsMiddleware(ServerMiddleware):
    """Server job middleware that fails the whole job if any of its actions is called ``forbidden``."""

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle(job_request: EnrichedJobRequest) -> JobResponse:
            if any(action.action == 'forbidden' for action in job_request.actions):
                raise JobError([Error(code='FORBIDDEN', message='This job is not allowed')])
            return process_job(job_request)

        return handle


SERVER_SETTINGS: Dict[str, Any] = {'middleware': [{'path': f'{MODULE}:RejectForbiddenJobsMiddleware'}]}

BASIC_ACTIONS: Dict[str, Type[Action]] = {
    'echo': EchoAction,
    'headers': HeadersAction,
    'square': SquareAction,
    'fail': FailAction,
    'explode': ExplodeAction,
    'empty': EmptyAction,
    'unsendable': EchoAction,  # the controllable transport refuses to send it when so configured
}


class MainServer(Server):
    service_name = 'svc'
    action_class_map = BASIC_ACTIONS


class OtherServer(Server):
    service_name = 'other'
    action_class_map = BASIC_ACTIONS


# Expansion services -------------------------------------------------------------------------------------------------

EVENTS: Dict[str, Dict[str, Any]] = {
    'e1': {'_type': 'event', 'id': 'e1', 'venue_id': 'v1', 'host_id': 'alice'},
    'e2': {'_type': 'event', 'id': 'e2', 'venue_id': 'v1', 'host_id': 'bob'},
    'e3': {'_type': 'event', 'id': 'e3', 'venue_id': 'v2'},
    'e4': {'_type': 'event', 'id': 'e4', 'venue_id': 'v404'},
    'e5': {'_type': 'event', 'id': 'e5', 'venue_id': 'v3'},
    'e6': {'_type': 'event', 'id': 'e6', 'secret_id': 's1'},
    'e7': {'_type': 'event', 'id': 'e7', 'venue_id': 'v1', 'venue': 'already here'},
}

VENUES: Dict[str, Dict[str, Any]] = {
    'v1': {'_type': 'venue', 'id': 'v1', 'address_id': 'a1'},
    'v2': {'_type': 'venue', 'id': 'v2', 'address_id': 'a2'},
    'v3': {'_type': 'venue', 'id': 'v3', 'address_id': 'a404'},
}

ADDRESSES: Dict[str, Dict[str, Any]] = {
    'a1': {'street': '1 Main Street'},
    'a2': {'street': '2 High Street'},
}

PEOPLE: Dict[str, Dict[str, Any]] = {
    'alice': {'_type': 'person', 'id': 'alice', 'friend_id': 'bob'},
    'bob': {'_type': 'person', 'id': 'bob', 'friend_id': 'alice'},
}


def _lookup(table: Dict[str, Dict[str, Any]], ids: List[str], field: str) -> Dict[str, Dict[str, Any]]:
    missing = sorted(set(ids) - set(table))
    if missing:
        raise ActionError([Error(code='NOT_FOUND', message=f'Not found: {missing}', field=field)])
    return {i: copy.deepcopy(table[i]) for i in ids}


class GetEventsAction(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'events': [copy.deepcopy(EVENTS[i]) for i in request.body['ids']]}


class GetPeopleAction(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'people': _lookup(PEOPLE, request.body['person_ids'], 'person_ids')}


class GetVenuesAction(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'venues': _lookup(VENUES, request.body['venue_ids'], 'venue_ids')}


class GetAddressesAction(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'addresses': _lookup(ADDRESSES, request.body['address_ids'], 'address_ids')}


class EventsServer(Server):
    service_name = 'events'
    action_class_map = {'get_events': GetEventsAction, 'get_people': GetPeopleAction}


class PlacesServer(Server):
    service_name = 'places'
    action_class_map = {'get_venues': GetVenuesAction, 'get_addresses': GetAddressesAction}


EXPANSION_CONFIG: Dict[str, Any] = {
    'type_routes': {
        'venue_route': {
            'service': 'places',
            'action': 'get_venues',
            'request_field': 'venue_ids',
            'response_field': 'venues',
        },
        'address_route': {
            'service': 'places',
            'action': 'get_addresses',
            'request_field': 'address_ids',
            'response_field': 'addresses',
        },
        'person_route': {
            'service': 'events',
            'action': 'get_people',
            'request_field': 'person_ids',
            'response_field': 'people',
        },
        'secret_route': {
            # The places server's job middleware rejects every job with a `forbidden` action.
            'service': 'places',
            'action': 'forbidden',
            'request_field': 'ids',
            'response_field': 'secrets',
        },
    },
    'type_expansions': {
        'event': {
            'venue': {
                'type': 'venue',
                'route': 'venue_route',
                'source_field': 'venue_id',
                'destination_field': 'venue',
                'raise_action_errors': True,
            },
            'host': {
                'type': 'person',
                'route': 'person_route',
                'source_field': 'host_id',
                'destination_field': 'host',
            },
            'secret': {
                'type': None,
                'route': 'secret_route',
                'source_field': 'secret_id',
                'destination_field': 'secret',
                'raise_action_errors': True,
            },
            'quiet_secret': {
                'type': None,
                'route': 'secret_route',
                'source_field': 'secret_id',
                'destination_field': 'secret',
            },
        },
        'venue': {
            'address': {
                'type': None,
                'route': 'address_route',
                'source_field': 'address_id',
                'destination_field': 'address',
            },
        },
        'person': {
            'friend': {
                'type': 'person',
                'route': 'person_route',
                'source_field': 'friend_id',
                'destination_field': 'friend',
            },
        },
    },
}


# Client side --------------------------------------------------------------------------------------------------------


@fields.ClassConfigurationSchema.provider(
    LocalClientTransportSchema().extend(
        contents={'unsendable_actions': fields.List(fields.UnicodeString())},
        optional_keys=('unsendable_actions',),
    )
)
class ControllableLocalTransport(LocalClientTransport):
    """
    The local transport, recording what passes through it, able to refuse to send jobs containing the configured
    ``unsendable_actions`` (with :class:`MessageSendError`), and raising the exceptions a test puts in
    :attr:`receive_errors` from its next receives, one per receive, before delivering any response.
    """

    def __init__(
        self,
        service_name: str,
        metrics: Any,
        unsendable_actions: Optional[List[str]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(service_name, metrics, **kwargs)
        self.unsendable_actions = set(unsendable_actions or ())
        self.receive_errors: List[Exception] = []
        self.sent: List[Tuple[int, Dict[str, Any], Dict[str, Any], Optional[int]]] = []
        self.receive_timeouts: List[Optional[int]] = []

    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        refused = self.unsendable_actions.intersection(action['action'] for action in body['actions'])
        if refused:
            raise MessageSendError(f'Refusing to send {sorted(refused)}')
        self.sent.append((request_id, meta, body, message_expiry_in_seconds))
        super().send_request_message(request_id, meta, body, message_expiry_in_seconds)

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        self.receive_timeouts.append(receive_timeout_in_seconds)
        if self.receive_errors:
            raise self.receive_errors.pop(0)
        return super().receive_response_message(receive_timeout_in_seconds)


class RecordingMiddleware(ClientMiddleware):
    """Records every request it sends and every response it receives."""

    def __init__(self) -> None:
        self.requests: List[Tuple[int, Dict[str, Any], JobRequest, Optional[int]]] = []
        self.responses: List[Tuple[Optional[int], Optional[JobResponse]]] = []
        self.events: List[Tuple[str, Optional[int]]] = []  # ('send' or 'receive', request id), in order

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            self.requests.append((request_id, meta, job_request, expiry))
            self.events.append(('send', request_id))
            send_request(request_id, meta, job_request, expiry)

        return send

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        def receive(timeout: Optional[int]) -> Tuple[Optional[int], Optional[JobResponse]]:
            result = get_response(timeout)
            self.responses.append(result)
            self.events.append(('receive', result[0]))
            return result

        return receive

    @property
    def job_requests(self) -> List[JobRequest]:
        return [job_request for _, _, job_request, _ in self.requests]


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class TrailMiddleware(ClientMiddleware):
    """
    Appends its name to a ``trail`` list in the request's meta and context on the way out, and in the response's
    context on the way back, so tests can see the order middleware ran in.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            meta.setdefault('trail', []).append(self.name)
            job_request.context.setdefault('trail', []).append(self.name)
            send_request(request_id, meta, job_request, expiry)

        return send

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        def receive(timeout: Optional[int]) -> Tuple[Optional[int], Optional[JobResponse]]:
            request_id, job_response = get_response(timeout)
            if job_response is not None:
                job_response.context.setdefault('trail', []).append(self.name)
            return request_id, job_response

        return receive


class SwitchAddingMiddleware(ClientMiddleware):
    """Adds switch 42 to every job request and an ``extra`` action at its end."""

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            job_request.context['switches'] = [*job_request.context['switches'], 42]
            job_request.actions.append(ActionRequest(action='echo', body={'added_by': 'middleware'}))
            send_request(request_id, meta, job_request, expiry)

        return send


class RequestIdShiftingMiddleware(ClientMiddleware):
    """Sends every request under a different id than the client chose, so its response matches no request."""

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            send_request(request_id + 1000000000, meta, job_request, expiry)

        return send


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'limit': fields.Integer(gt=0)}))
class RequestLimitMiddleware(ClientMiddleware):
    """Fails (with an ``AssertionError``) the request after ``limit`` requests, so a runaway loop ends a test."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            self.count += 1
            assert self.count <= self.limit, f'More than {self.limit} requests sent: runaway loop?'
            send_request(request_id, meta, job_request, expiry)

        return send


class RecordingMetricsRecorder(DefaultMetricsRecorder):
    """
    The default recorder (unconfigured, so it publishes nowhere and clears what it published), keeping a copy of
    everything it was asked to publish.
    """

    def __init__(self, prefix: Optional[str], config: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(prefix, config)
        self.published: List[Metric] = []

    def publish_all(self) -> None:
        self.published.extend(self.get_all_metrics())
        super().publish_all()


def local_service(server_class: Type[Server], **transport_kwargs: Any) -> Dict[str, Any]:
    """The client settings to call ``server_class`` in-process, recording requests and responses."""
    return {
        'transport': {
            'path': f'{MODULE}:ControllableLocalTransport',
            'kwargs': dict({'server_class': server_class, 'server_settings': SERVER_SETTINGS}, **transport_kwargs),
        },
        'middleware': [{'path': f'{MODULE}:RecordingMiddleware'}],
    }


def recorder_of(client: Any, service_name: str) -> RecordingMiddleware:
    """The recording middleware of a service the client has called."""
    [middleware] = [m for m in client.handlers[service_name].middleware if isinstance(m, RecordingMiddleware)]
    return middleware


def transport_of(client: Any, service_name: str) -> ControllableLocalTransport:
    """The transport of a service the client has called."""
    transport = client.handlers[service_name].transport
    assert isinstance(transport, ControllableLocalTransport)
    return transport
