"""What the subcommands read from the job response of their one action."""

from typing import (
    List,
    Tuple,
)

from pysoa.common.errors import Error
from pysoa.common.types import (
    Body,
    JobResponse,
)


__all__ = ('outcome',)


def outcome(job: JobResponse) -> Tuple[List[Error], Body]:
    """The errors of the job (or else of its action) and the action's response body (empty if it has none)."""
    action = job.actions[0] if job.actions else None
    errors = list(job.errors) or (list(action.errors) if action is not None else [])
    return errors, (action.body if action is not None and action.body else {})
