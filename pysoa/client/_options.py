"""The options of one client call, gathered once from its arguments and passed down whole."""

from typing import (
    Any,
    Mapping,
    NamedTuple,
    Optional,
    Union,
)

from pysoa.client._headers import Switches
from pysoa.client.expander import Expansions
from pysoa.common.types import (
    ActionRequest,
    Context,
    Control,
)


__all__ = (
    'ActionRequestArgument',
    'CallOptions',
)

ActionRequestArgument = Union[ActionRequest, Mapping[str, Any]]
"""An action to send: an :class:`ActionRequest`, or a dict of its attributes (``{'action': ..., 'body': ...}``)."""


class CallOptions(NamedTuple):
    """
    The arguments that the ``call_*`` methods of the client share, with the same names and defaults, built once per
    call.

    A named tuple: immutable, and the cheapest such object to build, which every call does. For the same reason the
    client builds it with ``CallOptions.__new__(CallOptions, name=value, ...)``: calling ``__new__`` directly skips
    ``type.__call__``, which takes longer than the rest (keyword arguments are checked all the same).
    """

    expansions: Optional[Expansions] = None
    raise_job_errors: bool = True
    raise_action_errors: bool = True
    catch_transport_errors: bool = False
    timeout: Optional[int] = None
    """Both the expiry of the requests and, unless the caller gives another, how long to wait for the responses."""
    switches: Switches = None
    correlation_id: Optional[str] = None
    continue_on_error: bool = False
    context: Optional[Context] = None
    control_extra: Optional[Control] = None
