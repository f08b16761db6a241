"""What a server tells the process that supervises it: when it is ready, and which request it is handling."""

from typing import (
    Any,
    Dict,
    Protocol,
)


__all__ = ('RequestHook',)


class RequestHook(Protocol):
    """
    Receives a server's progress, so that a supervisor (the ``--fork`` supervisor) can tell a worker that hangs from
    one that works, and answer the caller of a request the worker will never answer. The server calls it from the
    thread that serves requests; each call must be quick and must never raise.
    """

    def on_ready(self) -> None:
        """The server has started (its ``setup()`` is done) and is about to take requests."""

    def on_request_start(self, request_id: Any, meta: Dict[str, Any], job_request: Any) -> None:
        """
        The server took a request from its transport and starts handling it: ``request_id`` and ``meta`` are what
        its transport's ``send_response_message`` needs to answer it, ``job_request`` the job (a dict, unvalidated).
        """

    def on_request_end(self) -> None:
        """The server is done with the request (its response, if any, was sent) and is idle again."""
