import os
import signal
import time
from typing import (
    Any,
    Dict,
)

from pysoa.server.action.base import Action
from pysoa.server.types import EnrichedActionRequest
from tests.process.sample_service.server import SampleServer


# Masked in the thread that serves requests: harakiri's SIGALRM and the stop signals never interrupt it.
_MASKED_SIGNALS = {signal.SIGALRM, signal.SIGTERM, signal.SIGINT}


def hang_in_c() -> None:
    """Block for an hour inside one C call (a sleep), with the signals that could interrupt it masked."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _MASKED_SIGNALS)
    time.sleep(3600)


class HangAction(Action):
    """Hangs in C code, signals masked: neither harakiri nor SIGTERM can stop it."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        hang_in_c()
        return {}


class HangingServer(SampleServer):
    """
    The sample service plus the ``hang`` action. With ``HANG_AT_STARTUP_FILE`` set to a path, the first worker to
    start while that file exists claims it (renaming it to ``<path>.claimed`` and writing its pid there) and hangs in
    ``setup()``; later workers start normally.
    """

    action_class_map = {**SampleServer.action_class_map, 'hang': HangAction}

    def setup(self) -> None:
        super().setup()
        path = os.environ.get('HANG_AT_STARTUP_FILE')
        if path:
            try:
                os.rename(path, path + '.claimed')
            except FileNotFoundError:
                return
            with open(path + '.claimed', 'w') as f:
                f.write(str(os.getpid()))
            hang_in_c()
