"""The quick-start demo runs end to end: Redis and the example service start, every call style works, all stop."""

import os
import pathlib
import subprocess
import sys
from typing import List

import pytest


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _processes_started_by(marker: str) -> List[str]:
    result = subprocess.run(['ps', '-eo', 'pid,args'], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if marker in line and 'ps -eo' not in line]


@pytest.mark.timeout(120)
def test_demo_calls_the_example_service_in_every_call_style_and_stops_what_it_started() -> None:
    environment = {**os.environ, 'PYTHONPATH': str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, '-m', 'example_service.demo'],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=110,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    for expected in (
        "body: {'square': 49}",
        "greet: {'greeting': 'Bonjour, Ada!'}",
        "square: {'square': 16}",
        "slow_echo: {'echo': 'async!'}",
        "'sum': 14, 'correlation_id': 'demo-correlation-id'",
        "name: {'code': 'INVALID'",
        "language: {'code': 'UNKNOWN'",
        "body: {'square': 144}",
        "'version': '1.0.0'",
        'Done: every call style worked.',
        'Stopping the example service and redis-server',
    ):
        assert expected in output, output
    assert _processes_started_by('example_service -s example_service.settings') == []


@pytest.mark.timeout(120)
def test_ctrl_c_stops_the_demo_and_everything_it_started(tmp_path: pathlib.Path) -> None:
    import signal
    import time

    output_file = tmp_path / 'demo.out'
    environment = {**os.environ, 'PYTHONPATH': str(REPO_ROOT), 'PYTHONUNBUFFERED': '1'}
    with open(output_file, 'w') as output:
        demo = subprocess.Popen(
            [sys.executable, '-m', 'example_service.demo'],
            cwd=REPO_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while 'Starting the example service' not in output_file.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, output_file.read_text()
            time.sleep(0.05)
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 130, output_file.read_text()
    finally:
        if demo.poll() is None:
            demo.kill()

    assert 'Interrupted.' in output_file.read_text()
    assert _processes_started_by('example_service -s example_service.settings') == []
