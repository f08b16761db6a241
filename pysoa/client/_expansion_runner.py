"""
Performing expansions: after a call returns objects with a ``_type``, fetch the related objects its expansion
configuration names (in bulk, one request per service action and round) and put them into the returned objects.
"""

from typing import (
    Dict,
    Iterable,
    List,
    Protocol,
    Tuple,
)

from pysoa.client._expansion_plan import (
    ExpansionPlan,
    PlannedRequest,
)
from pysoa.client.expander import (
    ExpansionConverter,
    Expansions,
)
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobResponse,
)


__all__ = (
    'ExpansionRequests',
    'perform_expansions',
)


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
    plan = ExpansionPlan(converter, actions, expansions)
    while True:
        planned = plan.next_requests()
        if not planned:
            return
        sent: Dict[str, Dict[int, PlannedRequest]] = {}
        for request in planned:
            request_id = requests.send(
                request.service_name,
                [ActionRequest(action=request.action_name, body=request.body)],
            )
            sent.setdefault(request.service_name, {})[request_id] = request
        try:
            for service_name, by_request_id in sent.items():
                for request_id, job_response in requests.receive(service_name, list(by_request_id)):
                    plan.apply(by_request_id[request_id], job_response)
        except Exception:
            # Nobody can ask for the other responses any more: drop them when they come instead of keeping them.
            for service_name, by_request_id in sent.items():
                requests.forget(service_name, list(by_request_id))
            raise
        plan.raise_errors()
