"""Snapshots of what every thread is doing, logged when harakiri strikes."""

import sys
import threading
import traceback
from typing import Dict


__all__ = ('get_thread_stacks',)


def get_thread_stacks() -> Dict[str, str]:
    """The formatted stack of every live thread, keyed by ``'<name> (<ident>)'``."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return {
        f'{names.get(ident, "unknown")} ({ident})': ''.join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    }
