"""The responses a task asked for with ``AsyncClient.send_request`` and collects with ``get_all_responses``."""

import asyncio
import collections
from typing import (
    AsyncIterator,
    Deque,
    Dict,
    Optional,
    Tuple,
)

from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import JobResponse


__all__ = ('Claims',)


class Claims:
    """
    The requests one task sent to one service with ``send_request`` and has not collected yet: the future of each
    response, and the order they arrived in.

    :param service_name: The service (for messages).
    """

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name
        self._waiting: Dict[int, asyncio.Future[JobResponse]] = {}
        self._arrived: Deque[int] = collections.deque()

    def add(self, request_id: int, future: 'asyncio.Future[JobResponse]') -> None:
        """Keep the response to this request (whenever the future settles) for :meth:`collect`."""
        self._waiting[request_id] = future

        def arrived(done: 'asyncio.Future[JobResponse]') -> None:
            if not done.cancelled():
                done.exception()  # nobody may ever collect it: asyncio must not log it as never retrieved
            self._arrived.append(request_id)

        future.add_done_callback(arrived)

    async def collect(self, timeout: Optional[float]) -> AsyncIterator[Tuple[int, JobResponse]]:
        """
        Yield ``(request_id, job_response)`` as each response arrives, until none is left.

        :raises MessageReceiveTimeout: If no response arrives within ``timeout`` seconds (``None``: no limit); the
                                       others can be collected later.
        """
        while self._waiting:
            if not self._arrived:
                await asyncio.wait(list(self._waiting.values()), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if not self._arrived:
                    raise MessageReceiveTimeout(
                        f'No response from service {self.service_name} arrived within {timeout:g} seconds',
                    )
            request_id = self._arrived.popleft()
            future = self._waiting.pop(request_id, None)
            if future is not None:
                yield request_id, future.result()
