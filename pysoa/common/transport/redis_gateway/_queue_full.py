"""
What the client transports (synchronous and asynchronous) do when the enqueue script refuses a request because the
service's queue is full: how long to wait before trying again, and the error once they stop trying.
"""

import random
import time
from typing import Optional

from pysoa.common.transport.errors import MessageSendError


__all__ = (
    'full_queue_error',
    'retry_delay',
)


def retry_delay(attempt: int, retries: int, expires_at: Optional[float]) -> Optional[float]:
    """
    How long to wait, in seconds, after try number ``attempt`` (from 0) found the queue full: about a quarter second,
    doubling with each try, with jitter. ``None`` (give up) once ``retries`` retries are spent, or if the next try would
    come after the request expires (``expires_at``, a Unix time): no server would run it then.
    """
    delay: float = (2**attempt + random.random()) / 4.0
    if attempt == retries or (expires_at is not None and time.time() + delay >= expires_at):
        return None
    return delay


def full_queue_error(queue_name: str, retries_made: int, retries: int) -> MessageSendError:
    """The error of a request given up on while its queue was full, after ``retries_made`` of ``retries`` retries."""
    message = f'Redis queue {queue_name} was full after {retries_made} retries'
    if retries_made < retries:
        message += ', and the message would have expired before the next one'
    return MessageSendError(message)
