"""
Expansions for the :class:`pysoa.client.aio.AsyncClient`: the algorithm of
:func:`pysoa.client.expansion_runner.perform_expansions`, whose steps it shares, with the requests of each round sent
and awaited concurrently.
"""

import logging
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    List,
    Set,
    Tuple,
)

from pysoa.client._options import CallOptions
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    InvalidExpansionKey,
)
from pysoa.client.expander import ExpansionConverter
from pysoa.client.expansion_runner import (
    _apply_response,
    _Candidate,
    _collect_requests,
    _PendingRequest,
    _roots_in,
)
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)


if TYPE_CHECKING:
    from pysoa.client.aio._client import AsyncClient


__all__ = ('perform_expansions',)

_logger = logging.getLogger('pysoa.client.client')


async def perform_expansions(
    client: 'AsyncClient',
    converter: ExpansionConverter,
    actions: List[ActionResponse],
    options: CallOptions,
) -> None:
    """
    Expand, in place, the objects in the bodies of ``actions``, as ``options.expansions`` asks; see
    :func:`pysoa.client.expansion_runner.perform_expansions`. Expansion requests carry the call's headers and
    timeout.

    :raises InvalidExpansionKey: If the expansions name a type or expansion the configuration does not define.
    :raises CallActionError: If an expansion whose configuration says ``raise_action_errors`` failed.
    :raises CallJobError: Likewise for job errors.
    """
    if not options.expansions:
        return
    try:
        trees = converter.dict_to_trees(options.expansions)
    except KeyError as e:
        raise InvalidExpansionKey(f'Invalid key in expansion request: {e.args[0]}') from e

    candidates: List[_Candidate] = []
    for action in actions:
        candidates.extend(_roots_in(trees, action.body))

    # Each expansion request is a job of its own: the call's continue_on_error is about the call's job.
    request_options = CallOptions(
        timeout=options.timeout, switches=options.switches, correlation_id=options.correlation_id,
        context=options.context, control_extra=options.control_extra,
    )
    already_requested: Dict[str, Set[Any]] = {}
    while candidates:
        jobs, waiting = _expansion_jobs(_collect_requests(candidates), already_requested)
        candidates = []
        action_errors: List[ActionResponse] = []
        job_errors: List[Error] = []
        if not jobs:
            continue
        responses = await client._wait_for_all(await client._send_all(jobs, request_options), request_options)
        for waiting_objects, job_response in zip(waiting, responses):
            assert isinstance(job_response, JobResponse), 'transport errors are not caught'
            candidates.extend(_apply_response(job_response, waiting_objects, trees, action_errors, job_errors))
        if action_errors:
            raise CallActionError(action_errors)
        if job_errors:
            raise CallJobError(job_errors)


def _expansion_jobs(
    pending: Dict[Tuple[str, str], _PendingRequest],
    already_requested: Dict[str, Set[Any]],
) -> Tuple[List[Dict[str, Any]], List[List[_Candidate]]]:
    """The jobs to send for this round, and the objects waiting on each."""
    jobs: List[Dict[str, Any]] = []
    waiting: List[List[_Candidate]] = []
    for (service_name, action_name), request in pending.items():
        key = f'{service_name}.{action_name}.{request.request_field}'
        requested = already_requested.setdefault(key, set())
        values = request.values - requested
        if not values:
            # Every value was fetched earlier in this call: asking again could expand forever.
            _logger.info('Skipping expansion request %s for values already requested: %r', key, request.values)
            continue
        requested.update(values)
        jobs.append({
            'service_name': service_name,
            'actions': [{'action': action_name, 'body': {request.request_field: list(values)}}],
        })
        waiting.append(request.waiting)
    return jobs, waiting
