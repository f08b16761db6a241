"""Turning a JobResponse into the dict sent to a client, in the form that client's version understands."""

from typing import (
    Any,
    Dict,
    Tuple,
)

import attr

from pysoa.common.types import JobResponse


__all__ = (
    'OLDEST_CLIENT_VERSION',
    'client_version_from_meta',
    'job_response_to_dict',
)

OLDEST_CLIENT_VERSION = (0, 40, 0)
"""The version assumed for clients that do not announce one."""

# The newest ``added_in_version`` of any message attribute: clients at least this new get every attribute.
_NEWEST_ADDITION = (0, 70, 0)


def job_response_to_dict(job_response: JobResponse, client_version: Tuple[int, ...]) -> Dict[str, Any]:
    """
    Convert the response to its wire dict, leaving out attributes added in versions newer than the client's (a
    client older than 0.70.0 would reject errors carrying ``is_caller_error``).
    """
    if client_version >= _NEWEST_ADDITION:
        return attr.asdict(job_response)

    def known_to_client(attribute: 'attr.Attribute[Any]', _value: Any) -> bool:
        added_in = attribute.metadata.get('added_in_version')
        return added_in is None or added_in <= client_version

    return attr.asdict(job_response, filter=known_to_client)


def client_version_from_meta(meta: Dict[str, Any]) -> Tuple[int, ...]:
    """The version a request's ``meta`` announces, or :data:`OLDEST_CLIENT_VERSION`."""
    version = meta.get('client_version')
    if isinstance(version, (list, tuple)) and version:
        try:
            return tuple(int(part) for part in version)
        except (TypeError, ValueError):
            pass
    return OLDEST_CLIENT_VERSION
