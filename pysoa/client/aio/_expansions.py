"""
Expansions for the :class:`pysoa.client.aio.AsyncClient`: the algorithm of
:func:`pysoa.client._expansion_runner.perform_expansions`, whose plan it shares
(:class:`pysoa.client._expansion_plan.ExpansionPlan`), with the requests of each round sent and awaited concurrently.
"""

from typing import (
    TYPE_CHECKING,
    List,
)

from pysoa.client._expansion_plan import ExpansionPlan
from pysoa.client._options import CallOptions
from pysoa.client.expander import ExpansionConverter
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)


if TYPE_CHECKING:
    from pysoa.client.aio._client import AsyncClient


__all__ = ('perform_expansions',)


async def perform_expansions(
    client: 'AsyncClient',
    converter: ExpansionConverter,
    actions: List[ActionResponse],
    options: CallOptions,
) -> None:
    """
    Expand, in place, the objects in the bodies of ``actions``, as ``options.expansions`` asks; see
    :func:`pysoa.client._expansion_runner.perform_expansions`. Expansion requests carry the call's headers and
    timeout.

    :raises InvalidExpansionKey: If the expansions name a type or expansion the configuration does not define.
    :raises CallActionError: If an expansion whose configuration says ``raise_action_errors`` failed.
    :raises CallJobError: Likewise for job errors.
    """
    if not options.expansions:
        return
    plan = ExpansionPlan(converter, actions, options.expansions)
    # Each expansion request is a job of its own: the call's continue_on_error is about the call's job.
    request_options = CallOptions(
        timeout=options.timeout,
        switches=options.switches,
        correlation_id=options.correlation_id,
        context=options.context,
        control_extra=options.control_extra,
    )
    while True:
        planned = plan.next_requests()
        if not planned:
            return
        jobs = [
            {'service_name': request.service_name, 'actions': [{'action': request.action_name, 'body': request.body}]}
            for request in planned
        ]
        responses = await client._wait_for_all(await client._send_all(jobs, request_options), request_options)
        for request, job_response in zip(planned, responses):
            assert isinstance(job_response, JobResponse), 'transport errors are not caught'
            plan.apply(request, job_response)
        plan.raise_errors()
