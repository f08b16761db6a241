"""The rate at which responses come to the asynchronous client's reply queue, and how long awaited ones should take."""

import pytest

from pysoa.common.transport.redis_gateway._async_receiver import (
    RATE_SECONDS,
    ResponseRate,
)


def test_the_rate_is_not_known_before_responses_were_counted_for_a_whole_measure() -> None:
    rate = ResponseRate()
    rate.count(10, 100.0)
    rate.count(10, 100.0 + RATE_SECONDS / 2)

    assert rate.per_second == 0
    assert rate.expected_wait(1000) == 0


def test_the_rate_counts_every_response_from_the_first_to_the_end_of_the_measure() -> None:
    rate = ResponseRate()
    rate.count(10, 0.0)
    rate.count(10, RATE_SECONDS / 2)
    rate.count(10, RATE_SECONDS)

    assert rate.per_second == pytest.approx(30 / RATE_SECONDS)


def test_awaited_responses_are_expected_to_take_their_number_over_the_rate() -> None:
    rate = ResponseRate()
    rate.count(0, 0.0)
    rate.count(500, 0.5)

    assert rate.expected_wait(2000) == pytest.approx(2.0)


def test_after_a_restart_the_next_measure_starts_with_the_next_response_and_the_last_rate_stays_until_then() -> None:
    rate = ResponseRate()
    rate.count(0, 0.0)
    rate.count(100, 1.0)
    rate.restart()

    rate.count(50, 64.0)  # after a minute without calls: not 50 responses in 63 seconds
    assert rate.per_second == pytest.approx(100)
    rate.count(50, 64.0 + 2 * RATE_SECONDS)
    assert rate.per_second == pytest.approx(100 / (2 * RATE_SECONDS))
