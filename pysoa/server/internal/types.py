"""Feature switches: integers sent in every request's context, and the sets that test them."""

from typing import (
    Any,
    Iterable,
    Protocol,
    Union,
    runtime_checkable,
)


__all__ = (
    'RequestSwitchSet',
    'SupportsIntValue',
    'SwitchSet',
    'get_switch',
    'is_switch',
)


@runtime_checkable
class SupportsIntValue(Protocol):
    """A switch constant object whose ``value`` attribute converts to an int (an ``enum`` member, for example)."""

    @property
    def value(self) -> Any: ...


def get_switch(switch: Any) -> int:
    """
    Return the integer value of a switch: an int, anything with ``__int__``, or anything whose ``value`` has it.

    :raises TypeError: If the object is none of those.
    """
    if hasattr(switch, '__int__'):
        return int(switch)
    value = getattr(switch, 'value', None)
    if value is not None and hasattr(value, '__int__'):
        return int(value)
    raise TypeError('switch does not implement the switch constant interface')


def is_switch(switch: Any) -> bool:
    """Whether :func:`get_switch` accepts the object."""
    try:
        get_switch(switch)
    except TypeError:
        return False
    return True


class SwitchSet(frozenset):  # type: ignore[type-arg]
    """A frozen set of switch values (ints); ``in`` also accepts switch-like objects."""

    def __new__(cls, switches: Union[Iterable[Any], None] = None) -> 'SwitchSet':
        return super().__new__(cls, (get_switch(s) for s in switches or ()))

    def __contains__(self, switch: object) -> bool:
        try:
            return super().__contains__(get_switch(switch))
        except TypeError:
            return False


class RequestSwitchSet(SwitchSet):
    """The switches of a request, as ``request.switches``."""

    def is_active(self, switch: Any) -> bool:
        """Whether the switch is on for this request."""
        return switch in self
