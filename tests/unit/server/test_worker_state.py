"""
The slots in shared memory where each ``--fork`` worker publishes its state to the supervisor: what a worker writes,
what the supervisor reads back, across a real fork, and how a slot caught mid-write reads.
"""

import os
import struct
from typing import (
    Any,
    Dict,
    Iterator,
)

import pytest

from pysoa.common.serializer import MsgpackSerializer
from pysoa.server.internal._worker_state import (
    WorkerPhase,
    WorkerStateTable,
)


META: Dict[str, Any] = {
    'client_version': [2, 0, 0],
    'reply_to': 'service.sample.0a1b!2c3d',
    'serializer': MsgpackSerializer(),
}
JOB: Dict[str, Any] = {
    'control': {},
    'context': {'correlation_id': 'abc-123'},
    'actions': [{'action': 'first', 'body': {}}, {'action': 'second'}],
}


@pytest.fixture
def table() -> Iterator[WorkerStateTable]:
    table = WorkerStateTable(2)
    table.reset(1)
    table.reset(2)
    yield table
    table.close()


def test_new_slot_reads_as_starting(table: WorkerStateTable) -> None:
    status = table.status(1)

    assert status is not None
    assert status.phase == WorkerPhase.STARTING


def test_ready_worker_reads_as_idle(table: WorkerStateTable) -> None:
    table.writer(1).on_ready()

    status = table.status(1)
    assert status is not None
    assert status.phase == WorkerPhase.IDLE


def test_busy_slot_holds_the_request_id_meta_action_names_and_correlation_id(table: WorkerStateTable) -> None:
    table.writer(2).on_request_start(17, META, JOB)

    request = table.busy_request(2)
    assert request is not None
    assert (request.request_id, request.action_names, request.correlation_id, request.wants_response) == (
        17,
        ('first', 'second'),
        'abc-123',
        True,
    )
    assert request.meta['reply_to'] == META['reply_to']
    assert isinstance(request.meta['serializer'], MsgpackSerializer)
    assert request.describe() == 'request 17 (actions: first, second; correlation id abc-123)'


def test_slot_is_idle_without_a_request_once_the_request_ends(table: WorkerStateTable) -> None:
    writer = table.writer(1)
    writer.on_request_start(17, META, JOB)
    writer.on_request_end()

    status = table.status(1)
    assert status is not None
    assert status.phase == WorkerPhase.IDLE
    assert table.busy_request(1) is None


def test_every_write_changes_the_sequence_number(table: WorkerStateTable) -> None:
    writer = table.writer(1)
    sequences = []
    for write in (writer.on_ready, lambda: writer.on_request_start(1, META, JOB), writer.on_request_end):
        write()
        status = table.status(1)
        assert status is not None
        sequences.append(status.sequence)

    assert len(set(sequences)) == 3


def test_slot_caught_in_the_middle_of_a_write_reads_as_unknown(table: WorkerStateTable) -> None:
    table.writer(1).on_request_start(17, META, JOB)
    memory = table._memory  # as a worker killed between the two halves of a write leaves it: an odd sequence number
    struct.pack_into('<Q', memory, 0, struct.unpack_from('<Q', memory, 0)[0] + 1)

    assert table.status(1) is None
    assert table.busy_request(1) is None


def test_slot_written_by_a_forked_worker_is_read_by_its_parent(table: WorkerStateTable) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            table.writer(2).on_request_start(42, META, JOB)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)

    request = table.busy_request(2)
    assert request is not None
    assert request.request_id == 42


def test_meta_too_large_for_the_slot_keeps_its_small_entries(table: WorkerStateTable) -> None:
    meta = dict(META, huge='x' * 100_000)

    table.writer(1).on_request_start(17, meta, JOB)

    request = table.busy_request(1)
    assert request is not None
    assert 'huge' not in request.meta
    assert request.meta['reply_to'] == META['reply_to']


def test_meta_entry_that_cannot_be_pickled_is_left_out(table: WorkerStateTable) -> None:
    meta = dict(META, unpicklable=lambda: None)

    table.writer(1).on_request_start(17, meta, JOB)

    request = table.busy_request(1)
    assert request is not None
    assert set(request.meta) == set(META)


def test_request_id_too_large_for_the_slot_leaves_a_busy_slot_without_a_request(table: WorkerStateTable) -> None:
    table.writer(1).on_request_start('x' * 100_000, META, JOB)

    status = table.status(1)
    assert status is not None
    assert status.phase == WorkerPhase.BUSY
    assert table.busy_request(1) is None


def test_request_asking_for_no_response_is_recorded_as_such(table: WorkerStateTable) -> None:
    table.writer(1).on_request_start(17, META, dict(JOB, control={'suppress_response': True}))

    request = table.busy_request(1)
    assert request is not None
    assert request.wants_response is False


def test_unsupervised_worker_reads_as_such(table: WorkerStateTable) -> None:
    table.writer(1).mark_unsupervised()

    status = table.status(1)
    assert status is not None
    assert status.phase == WorkerPhase.UNSUPERVISED
