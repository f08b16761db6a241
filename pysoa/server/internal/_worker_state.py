"""
The state each ``--fork`` worker publishes to its supervisor, in memory they share: one fixed-size slot per worker.

A worker writes its own slot, and can be killed at any instant, even in the middle of a write; the supervisor only
reads, without a lock and without ever waiting for a worker. Every write is framed by the slot's sequence number (odd
while the write is in progress), so a reader tells a consistent slot from one being written (or whose writer died
mid-write) and never acts on a torn one.
"""

import enum
import mmap
import pickle
import struct
import time
from dataclasses import dataclass
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
)


__all__ = (
    'BusyRequest',
    'WorkerPhase',
    'WorkerStateTable',
    'WorkerStateWriter',
    'WorkerStatus',
)

# Sequence number, phase, since when (time.monotonic(), the same clock in every process), payload length.
_HEADER = struct.Struct('<QIdI')
_SEQUENCE = struct.Struct('<Q')
_SLOT_SIZE = 8192
_PAYLOAD_CAPACITY = _SLOT_SIZE - _HEADER.size
_READ_ATTEMPTS = 3
# What a busy slot names of its job, for the supervisor's log: a few action names and the correlation id, shortened.
_MAXIMUM_ACTION_NAMES = 5
_MAXIMUM_NAME_LENGTH = 100


class WorkerPhase(enum.IntEnum):
    """What a worker is doing, as its slot says."""

    STARTING = 0
    """Forked, and not ready yet: its server is starting up."""
    IDLE = 1
    """Ready, and waiting for a request."""
    BUSY = 2
    """Handling a request."""
    UNSUPERVISED = 3
    """Running a server that cannot report its state (its class's ``main`` takes no request hook)."""


@dataclass(frozen=True)
class WorkerStatus:
    """A consistent reading of a slot's header."""

    sequence: int
    """Changes with every write: the same sequence number read twice means nothing happened in between."""
    phase: WorkerPhase
    since: float
    """When the phase began, on the :func:`time.monotonic` clock."""


@dataclass(frozen=True)
class BusyRequest:
    """The request a busy worker is handling: enough to answer it, and to name it in a log line."""

    request_id: Any
    meta: Dict[str, Any]
    action_names: Tuple[str, ...]
    correlation_id: Optional[str]
    wants_response: bool
    """False if the job's control header says ``suppress_response``."""

    def describe(self) -> str:
        """``request 17 (actions: a, b; correlation id c)``, for log lines."""
        details = [f'actions: {", ".join(self.action_names) or "none"}']
        if self.correlation_id:
            details.append(f'correlation id {self.correlation_id}')
        return f'request {self.request_id!r} ({"; ".join(details)})'


class WorkerStateTable:
    """
    The slots of ``worker_count`` workers (indexes 1 to ``worker_count``) in an anonymous shared memory mapping.
    Create it in the supervisor before forking: each forked worker inherits the mapping and writes its slot through
    :meth:`writer`.
    """

    def __init__(self, worker_count: int) -> None:
        self.worker_count = worker_count
        # An anonymous mapping is MAP_SHARED: forked children write into the same pages the parent reads.
        self._memory = mmap.mmap(-1, _SLOT_SIZE * worker_count)

    def _offset(self, index: int) -> int:
        if not 1 <= index <= self.worker_count:
            raise IndexError(f'Worker index {index} is not between 1 and {self.worker_count}')
        return (index - 1) * _SLOT_SIZE

    def reset(self, index: int) -> None:
        """Mark the slot as starting. Only while no worker process of this index is running."""
        _HEADER.pack_into(self._memory, self._offset(index), 0, WorkerPhase.STARTING, time.monotonic(), 0)

    def writer(self, index: int) -> 'WorkerStateWriter':
        """What the worker of this index writes its slot with (in the worker process)."""
        return WorkerStateWriter(self._memory, self._offset(index))

    def status(self, index: int) -> Optional[WorkerStatus]:
        """The slot's header, or ``None`` if it is being written (or its writer died while writing it)."""
        offset = self._offset(index)
        for _ in range(_READ_ATTEMPTS):
            sequence, phase, since, _length = _HEADER.unpack_from(self._memory, offset)
            if sequence % 2 == 0 and _SEQUENCE.unpack_from(self._memory, offset)[0] == sequence:
                try:
                    return WorkerStatus(sequence, WorkerPhase(phase), since)
                except ValueError:
                    return None
        return None

    def busy_request(self, index: int) -> Optional[BusyRequest]:
        """
        The request the slot says its worker is handling, or ``None`` if it is not busy or the request could not be
        recorded. Read it once the worker is gone, when the slot no longer changes.
        """
        offset = self._offset(index)
        for _ in range(_READ_ATTEMPTS):
            sequence, phase, _since, length = _HEADER.unpack_from(self._memory, offset)
            if sequence % 2 or phase != WorkerPhase.BUSY or not 0 < length <= _PAYLOAD_CAPACITY:
                return None
            start = offset + _HEADER.size
            payload = self._memory[start : start + length]
            if _SEQUENCE.unpack_from(self._memory, offset)[0] == sequence:
                return _decode_request(payload)
        return None

    def close(self) -> None:
        self._memory.close()


class WorkerStateWriter:
    """
    Writes one worker's slot: the :class:`~pysoa.server.internal.worker_hooks.RequestHook` a forked worker's server
    reports to. Never raises: a state that cannot be written leaves the slot as it was, which only makes the
    supervisor less able to help.
    """

    def __init__(self, memory: mmap.mmap, offset: int) -> None:
        self._memory = memory
        self._offset = offset
        self._sequence: int = _SEQUENCE.unpack_from(memory, offset)[0]

    def _write(self, phase: WorkerPhase, payload: bytes = b'') -> None:
        sequence = self._sequence | 1  # odd: a write is in progress
        _SEQUENCE.pack_into(self._memory, self._offset, sequence)
        if payload:
            start = self._offset + _HEADER.size
            self._memory[start : start + len(payload)] = payload
        _HEADER.pack_into(self._memory, self._offset, sequence, phase, time.monotonic(), len(payload))
        self._sequence = sequence + 1
        _SEQUENCE.pack_into(self._memory, self._offset, self._sequence)

    def mark_unsupervised(self) -> None:
        """Tell the supervisor that this worker's server will report nothing, so it must not be judged by it."""
        self._write(WorkerPhase.UNSUPERVISED)

    def on_ready(self) -> None:
        self._write(WorkerPhase.IDLE)

    def on_request_start(self, request_id: Any, meta: Dict[str, Any], job_request: Any) -> None:
        try:
            payload = _encode_request(request_id, meta, job_request)
        except Exception:
            payload = b''  # busy all the same, with a request the supervisor cannot answer
        self._write(WorkerPhase.BUSY, payload)

    def on_request_end(self) -> None:
        self._write(WorkerPhase.IDLE)


def _shortened(value: Any) -> Optional[str]:
    return value[:_MAXIMUM_NAME_LENGTH] if isinstance(value, str) else None


def _summary(job_request: Any) -> Tuple[Tuple[str, ...], Optional[str], bool]:
    if not isinstance(job_request, dict):
        return (), None, True
    names: List[str] = []
    actions = job_request.get('actions')
    for action in actions[:_MAXIMUM_ACTION_NAMES] if isinstance(actions, list) else ():
        name = _shortened(action.get('action')) if isinstance(action, dict) else None
        names.append(name if name is not None else '?')
    context = job_request.get('context')
    correlation_id = _shortened(context.get('correlation_id')) if isinstance(context, dict) else None
    control = job_request.get('control')
    wants_response = not (isinstance(control, dict) and control.get('suppress_response'))
    return tuple(names), correlation_id, wants_response


def _pickled(value: Any) -> Optional[bytes]:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # whatever a request holds that cannot be pickled
        return None


def _encode_request(request_id: Any, meta: Dict[str, Any], job_request: Any) -> bytes:
    """
    The request in at most a slot's payload capacity. If the whole meta does not fit, it keeps as many of its smaller
    entries as fit (the reply queue and the serializer are small); if even the request id does not fit, nothing.
    """
    summary = _summary(job_request)
    payload = _pickled((request_id, meta, *summary))
    if payload is not None and len(payload) <= _PAYLOAD_CAPACITY:
        return payload

    base = _pickled((request_id, {}, *summary))
    if base is None or len(base) > _PAYLOAD_CAPACITY:
        return b''
    room = _PAYLOAD_CAPACITY - len(base)
    sized = []
    for key, value in meta.items():
        entry = _pickled({key: value})
        if entry is not None:
            sized.append((len(entry), key))
    kept: Dict[str, Any] = {}
    for size, key in sorted(sized, key=lambda item: item[0]):
        if size > room:
            break
        kept[key] = meta[key]
        room -= size
    payload = _pickled((request_id, kept, *summary))
    return payload if payload is not None and len(payload) <= _PAYLOAD_CAPACITY else base


def _decode_request(payload: bytes) -> Optional[BusyRequest]:
    try:
        request_id, meta, action_names, correlation_id, wants_response = pickle.loads(payload)  # from our worker
    except Exception:
        return None
    if not isinstance(meta, dict):
        return None
    return BusyRequest(request_id, meta, tuple(action_names), correlation_id, bool(wants_response))
