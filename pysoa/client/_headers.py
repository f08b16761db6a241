"""Building the control and context headers of the job requests a client sends."""

import os
from typing import (
    AbstractSet,
    Any,
    Dict,
    Iterable,
    Optional,
    Union,
)

from pysoa.common.types import (
    Context,
    Control,
    str_key,
)


__all__ = (
    'Switches',
    'make_context_header',
    'make_control_header',
    'new_correlation_id',
)

Switches = Union[Iterable[int], AbstractSet[int], None]


def make_control_header(
    continue_on_error: bool = False,
    control_extra: Optional[Control] = None,
    message_expiry_in_seconds: Optional[int] = None,
    suppress_response: bool = False,
) -> Control:
    """
    The control header: ``continue_on_error`` and ``suppress_response``, then ``control_extra``; a request with an
    expiry also carries it as ``timeout`` unless ``control_extra`` sets one.
    """
    control: Control = {'continue_on_error': continue_on_error, 'suppress_response': suppress_response}
    if control_extra:
        control.update(control_extra)
    if message_expiry_in_seconds and not (control_extra and 'timeout' in control_extra):
        control['timeout'] = message_expiry_in_seconds
    return control


def make_context_header(
    base_context: Context,
    switches: Switches = None,
    correlation_id: Optional[str] = None,
    context_extra: Optional[Context] = None,
) -> Context:
    """
    The context header: the client's base context; ``correlation_id`` from the argument, else the base context, else
    a new one; ``switches`` the union of the argument's, the base context's and ``context_extra``'s; then the other
    keys of ``context_extra`` on top; keys that are not ``str`` are converted (``bytes`` decoded as UTF-8). None of the
    given dicts is modified.
    """
    if not (base_context or context_extra):
        return {
            'switches': list(set(switches)) if switches else [],
            'correlation_id': new_correlation_id() if correlation_id is None else correlation_id,
        }
    context: Dict[str, Any] = dict(base_context)
    all_switches = set(switches or ())
    all_switches.update(base_context.get('switches') or ())
    if context_extra:
        all_switches.update(context_extra.get('switches') or ())
    context['switches'] = list(all_switches)

    if correlation_id is not None:
        context['correlation_id'] = correlation_id
    elif not base_context.get('correlation_id'):
        context['correlation_id'] = new_correlation_id()

    if context_extra:
        context.update((key, value) for key, value in context_extra.items() if key != 'switches')
    return {str_key(key): value for key, value in context.items()}


def new_correlation_id() -> str:
    """
    A new correlation id: a random (version 4) UUID in 32 hex digits, the form of ``uuid.uuid4().hex``, made at a
    third of its cost.
    """
    random = bytearray(os.urandom(16))
    random[6] = random[6] & 0x0F | 0x40  # version 4
    random[8] = random[8] & 0x3F | 0x80  # the RFC 4122 variant
    return random.hex()
