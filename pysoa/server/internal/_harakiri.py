"""The last resort of harakiri: leaving a process whose graceful shutdown did not finish in time."""

import atexit
import os
import threading
import time


__all__ = ('exit_now',)


def exit_now(exit_code: int = 1) -> None:
    """
    Run the registered ``atexit`` functions (in a helper thread, for at most 5 seconds, since the main thread may be
    stuck), then leave the process at once with ``exit_code``, skipping anything else Python would do at exit.
    """
    run_exit_functions = getattr(atexit, '_run_exitfuncs', None)
    if run_exit_functions is not None:
        helper = threading.Thread(target=run_exit_functions, name='pysoa-harakiri-atexit', daemon=True)
        helper.start()
        helper.join(5)
    else:
        time.sleep(2)
    os._exit(exit_code)
