"""
What both client transports do when a service's queue is full: wait about a quarter second, doubling with each try,
until the retries are spent or the request would expire first; then say which of the two stopped them.
"""

import time

from pysoa.common.transport.redis_gateway._queue_full import (
    full_queue_error,
    retry_delay,
)


def test_the_wait_doubles_with_each_try_with_up_to_a_quarter_second_of_jitter() -> None:
    delays = [retry_delay(attempt, 5, None) for attempt in range(5)]

    for attempt, delay in enumerate(delays):
        assert delay is not None
        assert 2**attempt / 4 <= delay < (2**attempt + 1) / 4


def test_no_retry_is_left_once_the_retries_are_spent() -> None:
    assert retry_delay(3, 3, None) is None


def test_no_retry_is_made_that_would_come_after_the_request_expires() -> None:
    assert retry_delay(0, 3, time.time() + 0.2) is None
    assert retry_delay(0, 3, time.time() + 60) is not None


def test_the_error_says_how_many_retries_were_made() -> None:
    assert str(full_queue_error('service.example', 3, 3)) == 'Redis queue service.example was full after 3 retries'


def test_the_error_says_when_the_request_would_have_expired_before_the_next_retry() -> None:
    assert str(full_queue_error('service.example', 1, 3)) == (
        'Redis queue service.example was full after 1 retries, and the message would have expired before the next one'
    )
