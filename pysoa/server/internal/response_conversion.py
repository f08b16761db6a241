"""Turning a JobResponse into the dict sent to a client, in the form that client's version understands."""

import decimal
from typing import (
    Any,
    Dict,
    Optional,
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

# Real versions are three small numbers; anything far beyond that is junk, not a version.
_MAX_VERSION_PARTS = 8
_MAX_VERSION_PART = 2 ** 31 - 1
_MAX_VERSION_PART_DIGITS = len(str(_MAX_VERSION_PART))

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
    """
    The version a request's ``meta`` announces, or :data:`OLDEST_CLIENT_VERSION` if it announces none or an unusable
    one (anything but a list of one to eight whole numbers from 0 to 2**31 - 1). Takes little time whatever the
    request holds.
    """
    version = meta.get('client_version')
    if not isinstance(version, (list, tuple)) or not 0 < len(version) <= _MAX_VERSION_PARTS:
        return OLDEST_CLIENT_VERSION
    parts = []
    for value in version:
        part = _version_part(value)
        if part is None:
            return OLDEST_CLIENT_VERSION
        parts.append(part)
    return tuple(parts)


def _version_part(value: Any) -> Optional[int]:
    """One part of a version as an int, or ``None`` if it is not a whole number from 0 to the maximum."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():  # also rules out infinities and NaN
            return None
        number = int(value)
    elif isinstance(value, decimal.Decimal):
        # int() of a Decimal with a huge exponent takes minutes or exhausts memory: check the magnitude first.
        if not value.is_finite() or value.adjusted() > _MAX_VERSION_PART_DIGITS or value != value.to_integral_value():
            return None
        number = int(value)
    else:
        return None
    return number if 0 <= number <= _MAX_VERSION_PART else None
