"""When the calls waiting on a service stop waiting: one timer for all of them, instead of one per call."""

import asyncio
import heapq
import math
from typing import (
    Callable,
    List,
    Optional,
    Tuple,
)


__all__ = ('Deadlines',)

#: How late a deadline may pass, at most: after the timer fires, the next one is set no sooner than this, so that a
#: steady stream of calls (each with a deadline just after the last) does not wake the event loop once per call.
SLACK_SECONDS = 0.05


class Deadlines:
    """
    The deadlines of the requests of one service, in a heap, with one timer set for the earliest. When a deadline
    passes (at most :data:`SLACK_SECONDS` late), ``expire(request_id, timeout)`` is called; a request answered before
    its deadline stays in the heap until then (``expire`` must do nothing for it), which costs less than taking it out.

    :param expire: Called for each request whose deadline passed, with the timeout to name in the error.
    """

    def __init__(self, expire: Callable[[int, float], None]) -> None:
        self._expire = expire
        self._heap: List[Tuple[float, int, float]] = []
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_at = math.inf

    def add(self, loop: asyncio.AbstractEventLoop, deadline: float, request_id: int, timeout: float) -> None:
        """Expire the request at ``deadline`` (the loop's time)."""
        heapq.heappush(self._heap, (deadline, request_id, timeout))
        if deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(deadline, self._expire_due, loop)
            self._timer_at = deadline

    def _expire_due(self, loop: asyncio.AbstractEventLoop) -> None:
        heap = self._heap
        now = loop.time()
        while heap and heap[0][0] <= now:
            _, request_id, timeout = heapq.heappop(heap)
            self._expire(request_id, timeout)
        if heap:
            self._timer_at = max(heap[0][0], now + SLACK_SECONDS)
            self._timer = loop.call_at(self._timer_at, self._expire_due, loop)
        else:
            self._timer, self._timer_at = None, math.inf

    def clear(self) -> None:
        """Forget every deadline."""
        if self._timer is not None:
            self._timer.cancel()
        self._heap.clear()
        self._timer, self._timer_at = None, math.inf
