"""
Performing expansions: after a call returns objects with a ``_type``, fetch the related objects its expansion
configuration names (in bulk, one request per service action and round) and put them into the returned objects.
"""

import logging
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Protocol,
    Set,
    Tuple,
)

from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    InvalidExpansionKey,
)
from pysoa.client.expander import (
    ExpansionConverter,
    ExpansionNode,
    Expansions,
    TypeNode,
)
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobResponse,
)


__all__ = (
    'ExpansionRequests',
    'perform_expansions',
)

_logger = logging.getLogger('pysoa.client.client')

_Candidate = Tuple[Dict[str, Any], ExpansionNode]


class ExpansionRequests(Protocol):
    """
    How expansion requests reach their services: through the client that made the call, with the call's headers
    (switches, correlation id, context, extra control) and timeout.
    """

    def send(self, service_name: str, actions: List[ActionRequest]) -> int:
        """Send a job; return its request id."""

    def receive(self, service_name: str, request_ids: List[int]) -> Iterable[Tuple[int, JobResponse]]:
        """Yield ``(request_id, job_response)`` for these requests as their responses arrive."""

    def forget(self, service_name: str, request_ids: List[int]) -> None:
        """Stop waiting for these requests: their responses are dropped if they ever arrive."""


class _PendingRequest:
    __slots__ = ('request_field', 'values', 'waiting')

    def __init__(self, request_field: str) -> None:
        self.request_field = request_field
        self.values: Set[Any] = set()
        self.waiting: List[_Candidate] = []


def perform_expansions(
    requests: ExpansionRequests,
    converter: ExpansionConverter,
    actions: List[ActionResponse],
    expansions: Expansions,
) -> None:
    """
    Expand, in place, the objects in the bodies of ``actions``.

    :param requests: How to send the expansion requests and receive their responses.
    :param converter: The client's expansion configuration.
    :param actions: The action responses whose bodies to expand.
    :param expansions: ``{type: ['expansion', 'expansion.nested', ...]}``.

    :raises InvalidExpansionKey: If ``expansions`` names a type or expansion the configuration does not define.
    :raises CallActionError: If an expansion whose configuration says ``raise_action_errors`` failed.
    :raises CallJobError: Likewise for job errors.
    """
    if not expansions:
        return
    try:
        trees = converter.dict_to_trees(expansions)
    except KeyError as e:
        raise InvalidExpansionKey(f'Invalid key in expansion request: {e.args[0]}') from e

    candidates: List[_Candidate] = []
    for action in actions:
        candidates.extend(_roots_in(trees, action.body))

    already_requested: Dict[str, Set[Any]] = {}
    while candidates:
        sent = _send_expansion_requests(requests, _collect_requests(candidates), already_requested)
        candidates = []
        action_errors: List[ActionResponse] = []
        job_errors: List[Error] = []
        try:
            for service_name, waiting_by_request_id in sent.items():
                for request_id, job_response in requests.receive(service_name, list(waiting_by_request_id)):
                    candidates.extend(_apply_response(
                        job_response, waiting_by_request_id[request_id], trees, action_errors, job_errors,
                    ))
        except Exception:
            # Nobody can ask for the other responses any more: drop them when they come instead of keeping them.
            for service_name, waiting_by_request_id in sent.items():
                requests.forget(service_name, list(waiting_by_request_id))
            raise
        if action_errors:
            raise CallActionError(action_errors)
        if job_errors:
            raise CallJobError(job_errors)


def _roots_in(trees: List[TypeNode], body: Any) -> List[_Candidate]:
    return [(obj, node) for tree in trees for obj in tree.find_objects(body) for node in tree.expansions]


def _collect_requests(candidates: List[_Candidate]) -> Dict[Tuple[str, str], _PendingRequest]:
    pending: Dict[Tuple[str, str], _PendingRequest] = {}
    for obj, node in candidates:
        if node.destination_field in obj:
            continue
        value = obj.get(node.source_field)
        if not value:
            continue
        request = pending.get((node.service, node.action))
        if request is None:
            request = pending[(node.service, node.action)] = _PendingRequest(node.request_field)
        request.values.add(value)
        request.waiting.append((obj, node))
    return pending


def _send_expansion_requests(
    requests: ExpansionRequests,
    pending: Dict[Tuple[str, str], _PendingRequest],
    already_requested: Dict[str, Set[Any]],
) -> Dict[str, Dict[int, List[_Candidate]]]:
    sent: Dict[str, Dict[int, List[_Candidate]]] = {}
    for (service_name, action_name), request in pending.items():
        key = f'{service_name}.{action_name}.{request.request_field}'
        requested = already_requested.setdefault(key, set())
        values = request.values - requested
        if not values:
            # Every value was fetched earlier in this call: asking again could expand forever.
            _logger.info('Skipping expansion request %s for values already requested: %r', key, request.values)
            continue
        requested.update(values)
        request_id = requests.send(
            service_name, [ActionRequest(action=action_name, body={request.request_field: list(values)})],
        )
        sent.setdefault(service_name, {})[request_id] = request.waiting
    return sent


def _apply_response(
    job_response: JobResponse,
    waiting: List[_Candidate],
    trees: List[TypeNode],
    action_errors: List[ActionResponse],
    job_errors: List[Error],
) -> List[_Candidate]:
    """Fill in the waiting objects; return the new candidates the response brings."""
    new_candidates: List[_Candidate] = []
    searched_nodes: Set[int] = set()
    action_response = job_response.actions[0] if job_response.actions else None
    if job_response.errors or (action_response is not None and action_response.errors):
        # One failed request, however many objects waited on it: report it once if any of them asks to raise.
        if any(node.raise_action_errors for _, node in waiting):
            if job_response.errors:
                job_errors.extend(job_response.errors)
            else:
                assert action_response is not None
                action_errors.append(action_response)
        return new_candidates
    for obj, node in waiting:
        if action_response is None:
            continue
        if not action_response.body:
            continue
        found = action_response.body.get(node.response_field)
        source_value = obj.get(node.source_field)
        if isinstance(found, dict) and source_value in found:
            obj[node.destination_field] = found[source_value]
        if node.expansions and id(node) not in searched_nodes:
            searched_nodes.add(id(node))
            new_candidates.extend(
                (child_obj, child) for child_obj in node.find_objects(action_response.body) for child in node.expansions
            )

    if not job_response.errors and action_response is not None and not action_response.errors and \
            action_response.body:
        new_candidates.extend(_roots_in(trees, action_response.body))
    return new_candidates
