"""The spans of the calls a client has sent and not yet received the response of."""

import collections
import threading
from typing import (
    Optional,
    OrderedDict,
)

from opentelemetry.trace import (
    Span,
    Status,
    StatusCode,
)


__all__ = ('OutstandingSpans',)


class OutstandingSpans:
    """
    The open span of each request sent, by request id, until its response arrives. Requests whose response never
    arrives (their call timed out, or was forgotten) would otherwise keep their span forever: past ``maximum``, the
    oldest span is ended with an error status.

    :param maximum: How many spans to keep open at most.
    """

    def __init__(self, maximum: int) -> None:
        self._maximum = maximum
        self._spans: OrderedDict[int, Span] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many spans are open."""
        return len(self._spans)

    def add(self, request_id: int, span: Span) -> None:
        """Keep ``span`` open until :meth:`pop` takes it."""
        with self._lock:
            self._spans[request_id] = span
            oldest = self._spans.popitem(last=False)[1] if len(self._spans) > self._maximum else None
        if oldest is not None:
            oldest.set_status(Status(StatusCode.ERROR, 'No response received (too many calls waiting for one)'))
            oldest.end()

    def pop(self, request_id: int) -> Optional[Span]:
        """The open span of this request, no longer kept; ``None`` if there is none."""
        with self._lock:
            return self._spans.pop(request_id, None)
