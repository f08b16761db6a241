"""The heartbeat file: a file whose content a running server refreshes, so supervisors can tell it is alive."""

import logging
import os
import time
from typing import (
    IO,
    Optional,
)


__all__ = ('HeartbeatFile',)

_logger = logging.getLogger('pysoa.server')

MINIMUM_SECONDS_BETWEEN_BEATS = 2.5


class HeartbeatFile:
    """
    Writes the current Unix time into a file, at most every 2.5 seconds, while the server runs; the file is deleted
    when the server stops. ``{{pid}}`` in the path becomes the process id and, in forked workers, ``{{fid}}`` the
    fork id. Failures are logged as warnings and never stop the server.

    :param path_template: The file path, possibly with ``{{pid}}`` and ``{{fid}}``.
    :param forked_process_id: The fork id, if the server is one of several forked workers.
    """

    def __init__(self, path_template: str, forked_process_id: Optional[int] = None) -> None:
        path = path_template.replace('{{pid}}', str(os.getpid()))
        if forked_process_id is not None:
            path = path.replace('{{fid}}', str(forked_process_id))
        self.path = os.path.abspath(path)
        self._file: Optional[IO[str]] = None
        self._last_beat = 0.0

    def create(self) -> None:
        """Create (or truncate) the file and write the first beat."""
        try:
            self._file = open(self.path, 'w', encoding='utf-8')
        except OSError:
            _logger.warning('Could not create heartbeat file %s', self.path, exc_info=True)
            return
        self.beat(force=True)

    def beat(self, force: bool = False) -> None:
        """Write the current time, unless the last beat was less than 2.5 seconds ago."""
        now = time.time()
        if self._file is None or (not force and now - self._last_beat < MINIMUM_SECONDS_BETWEEN_BEATS):
            return
        try:
            self._file.seek(0)
            self._file.write(str(now))
            self._file.truncate()
            self._file.flush()
            self._last_beat = now
        except OSError:
            _logger.warning('Could not update heartbeat file %s', self.path, exc_info=True)

    def delete(self) -> None:
        """Close and delete the file."""
        if self._file is None:
            return
        try:
            self._file.close()
            os.remove(self.path)
        except OSError:
            _logger.warning('Could not delete heartbeat file %s', self.path, exc_info=True)
        self._file = None
