"""The version a client announces, which decides the form of the responses it is sent (:func:`job_response_to_dict`)."""

import decimal
from typing import (
    Any,
    Dict,
    Optional,
    Tuple,
)

from pysoa.common._wire import job_response_to_dict


__all__ = (
    'OLDEST_CLIENT_VERSION',
    'client_version_from_meta',
    'job_response_to_dict',
)

OLDEST_CLIENT_VERSION = (0, 40, 0)
"""The version assumed for clients that do not announce one."""

# Real versions are three small numbers; anything far beyond that is junk, not a version.
_MAX_VERSION_PARTS = 8
_MAX_VERSION_PART = 2**31 - 1
_MAX_VERSION_PART_DIGITS = len(str(_MAX_VERSION_PART))


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
