"""
Restarting a server when its code changes (``--use-file-watcher``), for development.

The process started by the user becomes a supervisor that runs the server in a child process (the same command,
with ``PYSOA_RELOADER_RUN_MAIN=true`` in its environment) and starts a new child whenever one exits with
:data:`NEED_RELOAD_EXIT_CODE`; SIGTERM and SIGHUP sent to the supervisor are passed on to the child, and the
supervisor exits when it does, with its status. The child watches the files of its loaded modules (with inotify if
the ``inotify_simple`` package is installed, else by checking modification times every second) and, when one changes,
stops the server gracefully (it finishes the request in progress) and exits with that code.
"""

import os
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
)

from pysoa.utils import get_python_interpreter_arguments


__all__ = (
    'NEED_RELOAD_EXIT_CODE',
    'Reloader',
    'get_reloader',
)

NEED_RELOAD_EXIT_CODE = 3
_RUN_MAIN_VARIABLE = 'PYSOA_RELOADER_RUN_MAIN'
_WRAPPER_VARIABLE = 'PYSOA_RELOADER_WRAPPER_BIN'
_POLL_INTERVAL = 1.0
_STOP_TIMEOUT = 6.0


class Reloader:
    """
    :param main_module_name: The module the service is run as (``python -m <main_module_name>``).
    :param watch_modules: Module name prefixes whose files to watch; ``None`` watches every loaded module.
    :param signal_forks: Whether the server runs forked workers. Kept for compatibility: either way a reload sends
                         the server process one SIGTERM, which a forking supervisor passes on to each worker once.
    """

    def __init__(
        self,
        main_module_name: str,
        watch_modules: Optional[Sequence[str]] = None,
        signal_forks: bool = False,
    ) -> None:
        self.main_module_name = main_module_name
        self.watch_modules = list(watch_modules) if watch_modules else None
        self.signal_forks = signal_forks
        self.reload_triggered = False
        self._stopped = threading.Event()

    # The supervising process --------------------------------------------------------------------------------------

    def main(
        self,
        run: Callable[..., Any],
        args: Optional[Sequence[Any]] = None,
        kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        """
        In the child, run ``run(*args, **kwargs)`` while watching files; elsewhere, supervise children. ``None``
        ``args`` or ``kwargs`` mean no arguments.
        """
        if os.environ.get(_RUN_MAIN_VARIABLE) == 'true':
            self._run_child(run, args or (), kwargs or {})
        else:
            self._supervise()

    def restart_command(self) -> List[str]:
        """The command that starts a child: ``$PYSOA_RELOADER_WRAPPER_BIN`` or this interpreter, then the program."""
        wrapper = os.environ.get(_WRAPPER_VARIABLE)
        if wrapper:
            command = wrapper.split(' ')
        else:
            command = [sys.executable, *get_python_interpreter_arguments()]
            if '-m' not in command and '-c' not in command:
                command.append(sys.argv[0])
        return [*command, *sys.argv[1:]]

    def _supervise(self) -> None:
        environment = {**os.environ, _RUN_MAIN_VARIABLE: 'true'}
        child: Optional[subprocess.Popen[bytes]] = None
        stop_requested = False

        def pass_on(signal_number: int, _frame: Optional[FrameType]) -> None:
            # A stop signal sent to this process alone must stop the server too, not leave it running orphaned.
            nonlocal stop_requested
            stop_requested = True
            if child is not None:
                child.send_signal(signal_number)

        for signal_number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signal_number, pass_on)
        while True:
            child = subprocess.Popen(self.restart_command(), env=environment)
            if stop_requested:  # the stop signal came while no child was running
                child.send_signal(signal.SIGTERM)
            while True:
                try:
                    exit_code = child.wait()
                    break
                except KeyboardInterrupt:
                    continue  # the child got the same Ctrl+C and is stopping; wait for it
            if exit_code == NEED_RELOAD_EXIT_CODE and stop_requested:
                sys.exit(0)
            if exit_code != NEED_RELOAD_EXIT_CODE:
                if exit_code < 0:
                    signal.signal(-exit_code, signal.SIG_DFL)
                    os.kill(os.getpid(), -exit_code)
                sys.exit(exit_code)

    # The child ----------------------------------------------------------------------------------------------------

    def _run_child(self, run: Callable[..., Any], args: Sequence[Any], kwargs: Dict[str, Any]) -> None:
        watcher = threading.Thread(target=self._watch, name='pysoa-file-watcher', daemon=True)
        watcher.start()
        try:
            run(*args, **kwargs)
        except SystemExit:
            if not self.reload_triggered:
                raise
            # A server forced out by the reload (it did not stop in time) is reloaded all the same.
        finally:
            self._stopped.set()
        sys.exit(NEED_RELOAD_EXIT_CODE if self.reload_triggered else 0)

    def watched_files(self) -> List[str]:
        """The source files of the loaded modules to watch."""
        files = set()
        for name, module in list(sys.modules.items()):
            if self.watch_modules is not None and not any(name.startswith(prefix) for prefix in self.watch_modules):
                continue
            path = getattr(module, '__file__', None)
            if path:
                files.add(path[:-1] if path.endswith(('.pyc', '.pyo')) else path)
        return sorted(f for f in files if os.path.exists(f))

    def _watch(self) -> None:
        if self._wait_for_change():
            self._trigger_reload()

    def _wait_for_change(self) -> bool:
        try:
            return _wait_with_inotify(self.watched_files(), self._stopped)
        except ImportError:
            return _wait_with_polling(self.watched_files, self._stopped)

    def _trigger_reload(self) -> None:
        print('File change detected; reloading server process', flush=True)
        self.reload_triggered = True
        # Exactly one stop signal, so that the server (or each forked worker) finishes its request in progress: a
        # second one tells it to stop at once. Only if it has not stopped in time does the second one follow.
        os.kill(os.getpid(), signal.SIGTERM)
        if not self._stopped.wait(_STOP_TIMEOUT):
            os.kill(os.getpid(), signal.SIGTERM)


def _modification_times(files: Iterable[str]) -> Dict[str, float]:
    times = {}
    for path in files:
        try:
            times[path] = os.stat(path).st_mtime
        except OSError:
            times[path] = -1.0
    return times


def _wait_with_polling(get_files: Callable[[], List[str]], stopped: threading.Event) -> bool:
    known = _modification_times(get_files())
    while not stopped.wait(_POLL_INTERVAL):
        current = _modification_times(get_files())
        if any(current.get(path, -1.0) != mtime for path, mtime in known.items()):
            return True
        known.update({path: mtime for path, mtime in current.items() if path not in known})
    return False


def _wait_with_inotify(files: List[str], stopped: threading.Event) -> bool:
    import inotify_simple  # type: ignore[import-not-found]  # optional

    watcher = inotify_simple.INotify()
    mask = (
        inotify_simple.flags.MODIFY
        | inotify_simple.flags.ATTRIB
        | inotify_simple.flags.MOVE_SELF
        | inotify_simple.flags.DELETE_SELF
        | inotify_simple.flags.CLOSE_WRITE
    )
    for path in files:
        try:
            watcher.add_watch(path, mask)
        except OSError:
            pass
    try:
        while not stopped.is_set():
            if watcher.read(timeout=int(_POLL_INTERVAL * 1000)):
                return True
        return False
    finally:
        watcher.close()


def get_reloader(main_module_name: str, watch_modules: Optional[Sequence[str]], signal_forks: bool = False) -> Reloader:
    """The reloader for a service run as ``python -m <main_module_name>``."""
    return Reloader(main_module_name, watch_modules, signal_forks)
