"""What a running server logs about its transport: where it listens, and transport errors it recovers from."""

import re

from tests.process.helpers import (
    StartService,
    unreachable_redis,
)
from tests.support.redis_processes import RedisServer


TRANSIENT_ERROR_LOGGED = 'Transient error receiving message from transport'
# Each line the default console format writes starts with the time.
LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ')


def test_startup_logs_the_redis_hosts_and_queue_but_not_the_password(
    start_sample_service: StartService,
    redis_server: RedisServer,
) -> None:
    password = 'sample-secret-4711'
    service = start_sample_service(env={'SAMPLE_REDIS_PASSWORD': password, 'SAMPLE_REDIS_NO_RETRY': '1'})

    # This Redis has no password, so every receive then fails: the output includes those errors too.
    service.wait_for_output(TRANSIENT_ERROR_LOGGED)
    output = service.output()
    startup_line = f'Listening for requests on queue pysoa:service.sample of Redis 127.0.0.1:{redis_server.port}.'
    assert any(' INFO ' in line and line.endswith(startup_line) for line in output.splitlines()), output
    assert password not in output


def test_transient_transport_error_is_logged_as_one_warning_line_without_traceback(
    start_sample_service: StartService,
) -> None:
    service = start_sample_service(env=unreachable_redis())

    service.wait_for_output(TRANSIENT_ERROR_LOGGED, count=2)
    output = service.output()
    warnings = [line for line in output.splitlines() if TRANSIENT_ERROR_LOGGED in line]
    assert all(' WARNING ' in line and 'Connection refused' in line for line in warnings), output
    assert 'Traceback' not in output
    assert all(LOG_LINE.match(line) for line in output.splitlines()), output
