"""
Running a PySOA server for tests: in a background thread of the test process, or as a separate process. Both loop
over ``handle_next_request`` (so they work before and without ``Server.run``'s signal handling).
"""

import importlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
from types import FrameType
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Type,
)

from pysoa.server.server import Server


__all__ = (
    'ServerProcess',
    'ThreadedServer',
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class ThreadedServer:
    """
    A server handling requests in a daemon thread until :meth:`stop`. Its transport's receive timeout bounds how long
    stopping takes, so give it a short ``receive_timeout_in_seconds``.
    """

    def __init__(self, server_class: Type[Server], settings: Dict[str, Any]) -> None:
        self.server = server_class(server_class.settings_class(settings))
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._serve,
            name=f'test-server-{server_class.service_name}',
            daemon=True,
        )
        self.errors: List[BaseException] = []

    def _serve(self) -> None:
        self.server.setup()
        while not self._stopping.is_set():
            try:
                self.server.handle_next_request()
            except Exception as e:  # recorded for the test to inspect; the loop goes on like a real server's
                self.errors.append(e)

    def start(self) -> 'ThreadedServer':
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(30)
        self.server.teardown()

    def __enter__(self) -> 'ThreadedServer':
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


class ServerProcess:
    """
    A server in a separate Python process (``python -m tests.support.server_runner <Class path> <settings JSON>``),
    stopped with SIGTERM. ``python`` may be another interpreter, e.g. one with PySOA 1.4.9 installed, in which case
    ``extra_path`` should not include this repository.
    """

    def __init__(
        self,
        server_class_path: str,
        settings: Dict[str, Any],
        python: str = sys.executable,
        extra_path: Optional[List[str]] = None,
        script: Optional[str] = None,
    ) -> None:
        self.command = [python, script or '-m', *([] if script else ['tests.support.server_runner'])]
        self.command += [server_class_path, json.dumps(settings)]
        path = [str(REPO_ROOT)] if extra_path is None else extra_path
        self.env = {**os.environ, 'PYTHONPATH': os.pathsep.join(path)}
        self.process: Optional[subprocess.Popen[str]] = None

    def start(self) -> 'ServerProcess':
        # Output goes to a file, not a pipe: a chatty server can never block on a full pipe nobody reads.
        self._output = tempfile.TemporaryFile(mode='w+')
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd='/',
            stdout=self._output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not self.output().startswith('ready'):  # the server prints 'ready' once set up
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f'Server process failed to start:\n{self.output()}')
            time.sleep(0.02)
        return self

    def output(self) -> str:
        """What the server printed so far."""
        self._output.seek(0)
        return self._output.read()

    def stop(self) -> str:
        """Stop the server and return what it printed."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.output()
        self._output.close()
        return output

    def __enter__(self) -> 'ServerProcess':
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def _main(server_class_path: str, settings_json: str) -> None:
    module_name, _, class_name = server_class_path.partition(':')
    server_class = getattr(importlib.import_module(module_name), class_name)
    server = server_class(server_class.settings_class(json.loads(settings_json)))
    stopping = threading.Event()

    def stop(_signum: int, _frame: Optional[FrameType]) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    server.setup()
    print('ready', flush=True)
    while not stopping.is_set():
        server.handle_next_request()


if __name__ == '__main__':
    _main(sys.argv[1], sys.argv[2])
