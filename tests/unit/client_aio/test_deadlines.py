"""
The deadlines of an AsyncClient's waiting calls: each request expires once its deadline has passed, never before, in
deadline order, at most a little late; a stream of deadlines close together wakes the event loop a few times, not once
per deadline.
"""

import asyncio
from typing import (
    Any,
    Callable,
    List,
    Tuple,
    cast,
)

from pysoa.client.aio._deadlines import (
    SLACK_SECONDS,
    Deadlines,
)
from tests.unit.client_aio.support import (
    run_async,
    wait_until,
)


class Expired:
    """The ``expire`` of a Deadlines: records each request expired, with its timeout and the loop's time."""

    def __init__(self) -> None:
        self.calls: List[Tuple[int, float, float]] = []

    def __call__(self, request_id: int, timeout: float) -> None:
        self.calls.append((request_id, timeout, asyncio.get_running_loop().time()))

    @property
    def request_ids(self) -> List[int]:
        return [request_id for request_id, _, _ in self.calls]


@run_async
async def test_a_request_expires_once_its_deadline_has_passed_with_its_timeout() -> None:
    expired = Expired()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.05

    Deadlines(expired).add(loop, deadline, 7, 2.5)
    await wait_until(lambda: expired.calls, 'the request to expire')

    ((request_id, timeout, when),) = expired.calls
    assert (request_id, timeout) == (7, 2.5)
    assert deadline <= when < deadline + SLACK_SECONDS + 1


@run_async
async def test_requests_expire_in_deadline_order_each_once() -> None:
    expired = Expired()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(expired)
    now = loop.time()

    for request_id, delay in ((1, 0.09), (2, 0.03), (3, 0.06)):
        deadlines.add(loop, now + delay, request_id, delay)
    await wait_until(lambda: len(expired.calls) == 3, 'three requests to expire')
    await asyncio.sleep(0.1)  # nothing more comes: the heap is empty and no timer is left

    assert expired.request_ids == [2, 3, 1]


@run_async
async def test_an_earlier_deadline_added_later_is_not_kept_waiting_for_the_timer_of_a_later_one() -> None:
    expired = Expired()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(expired)

    deadlines.add(loop, loop.time() + 30, 1, 30)
    deadlines.add(loop, loop.time() + 0.02, 2, 0.02)
    await wait_until(lambda: expired.calls, 'the earlier request to expire')

    assert expired.request_ids == [2]
    deadlines.clear()


class TimerCountingLoop:
    """The parts of the running loop a Deadlines uses, counting the timers it sets."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.timers = 0

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        self.timers += 1
        return self.loop.call_at(when, callback, *args)


@run_async
async def test_deadlines_close_together_wake_the_loop_a_few_times_not_once_each() -> None:
    expired = Expired()
    loop = TimerCountingLoop()
    deadlines = Deadlines(expired)
    start = loop.time() + 0.02

    for request_id in range(200):  # one every half millisecond, 0.1 s in all
        deadlines.add(cast(asyncio.AbstractEventLoop, loop), start + request_id * 0.0005, request_id, 1)
    await wait_until(lambda: len(expired.calls) == 200, 'every request to expire')

    assert expired.request_ids == list(range(200))
    assert loop.timers <= 0.1 / SLACK_SECONDS + 3


@run_async
async def test_cleared_deadlines_never_expire() -> None:
    expired = Expired()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(expired)
    deadlines.add(loop, loop.time() + 0.02, 1, 0.02)

    deadlines.clear()
    await asyncio.sleep(0.05)

    assert expired.calls == []
