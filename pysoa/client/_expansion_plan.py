"""
The I/O-free part of performing expansions, which the blocking client (:mod:`pysoa.client._expansion_runner`) and the
asynchronous one (``pysoa.client.aio._expansions``) drive: which requests each round sends, and what their responses
fill in.
"""

import logging
from typing import (
    Any,
    Dict,
    List,
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
    ActionResponse,
    JobResponse,
)


__all__ = (
    'ExpansionPlan',
    'PlannedRequest',
)

_logger = logging.getLogger('pysoa.client.client')

_Candidate = Tuple[Dict[str, Any], ExpansionNode]


class PlannedRequest:
    """
    One request of a round: a single action of a service, asking for every value of ``request_field`` the objects
    waiting on it need.
    """

    __slots__ = ('action_name', 'body', 'service_name', 'waiting')

    def __init__(
        self, service_name: str, action_name: str, body: Dict[str, List[Any]], waiting: List[_Candidate]
    ) -> None:
        self.service_name = service_name
        self.action_name = action_name
        self.body = body
        """The action's request body: ``{request_field: [value, ...]}``."""
        self.waiting = waiting


class _PendingRequest:
    __slots__ = ('request_field', 'values', 'waiting')

    def __init__(self, request_field: str) -> None:
        self.request_field = request_field
        self.values: Set[Any] = set()
        self.waiting: List[_Candidate] = []


class ExpansionPlan:
    """
    The rounds of expansions of one call's responses: each round, :meth:`next_requests` names the requests to send (in
    bulk, one per service action), the driver hands each response to :meth:`apply`, which fills in the objects
    waiting on it and finds those of the next round, then calls :meth:`raise_errors`.

    :param converter: The client's expansion configuration.
    :param actions: The action responses whose bodies to expand, in place.
    :param expansions: ``{type: ['expansion', 'expansion.nested', ...]}``.

    :raises InvalidExpansionKey: If ``expansions`` names a type or expansion the configuration does not define.
    """

    def __init__(self, converter: ExpansionConverter, actions: List[ActionResponse], expansions: Expansions) -> None:
        try:
            self._trees = converter.dict_to_trees(expansions)
        except KeyError as e:
            raise InvalidExpansionKey(f'Invalid key in expansion request: {e.args[0]}') from e
        self._candidates: List[_Candidate] = []
        for action in actions:
            self._candidates.extend(_roots_in(self._trees, action.body))
        self._already_requested: Dict[str, Set[Any]] = {}
        self._action_errors: List[ActionResponse] = []
        self._job_errors: List[Error] = []

    def next_requests(self) -> List[PlannedRequest]:
        """
        The requests of the next round; none when the expansions are done. Values already requested earlier in the
        call are not asked for again (that could expand forever).
        """
        pending = _collect_requests(self._candidates)
        self._candidates = []
        self._action_errors = []
        self._job_errors = []
        planned: List[PlannedRequest] = []
        for (service_name, action_name), request in pending.items():
            key = f'{service_name}.{action_name}.{request.request_field}'
            requested = self._already_requested.setdefault(key, set())
            values = request.values - requested
            if not values:
                _logger.info('Skipping expansion request %s for values already requested: %r', key, request.values)
                continue
            requested.update(values)
            planned.append(
                PlannedRequest(
                    service_name,
                    action_name,
                    {request.request_field: list(values)},
                    request.waiting,
                )
            )
        return planned

    def apply(self, request: PlannedRequest, job_response: JobResponse) -> None:
        """Fill in the objects waiting on ``request`` from its response, and note what the next round expands."""
        self._candidates.extend(
            _apply_response(
                job_response,
                request.waiting,
                self._trees,
                self._action_errors,
                self._job_errors,
            )
        )

    def raise_errors(self) -> None:
        """
        At the end of a round, raise the errors of its requests whose expansion configuration says
        ``raise_action_errors``.

        :raises CallActionError: If an action failed.
        :raises CallJobError: If a job failed (and no action did).
        """
        if self._action_errors:
            raise CallActionError(self._action_errors)
        if self._job_errors:
            raise CallJobError(self._job_errors)


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

    if not job_response.errors and action_response is not None and not action_response.errors and action_response.body:
        new_candidates.extend(_roots_in(trees, action_response.body))
    return new_candidates
