"""``--fork N``: forked workers, respawning, and stopping them (real processes, real Redis)."""

import os
import signal
from typing import (
    Iterable,
    List,
)

from pysoa.client.client import Client
from pysoa.server.exit_codes import WORKERS_FAILED_EXIT_CODE
from tests.process.helpers import (
    ServiceProcess,
    StartService,
    handles_signal,
    process_group_members,
    wait_for,
    wait_until_answered_by,
    wait_until_gone,
)


def start_forked(start_sample_service: StartService, *arguments: str) -> ServiceProcess:
    service = start_sample_service('--fork', '2', *arguments)
    service.wait_until_serving(workers=2)
    return service


def signal_each(pids: Iterable[int], signal_number: int) -> None:
    for pid in pids:
        os.kill(pid, signal_number)


def test_two_forked_workers_both_serve_requests(start_sample_service: StartService, client: Client) -> None:
    service = start_forked(start_sample_service)
    workers = set(service.children())

    assert wait_until_answered_by(client, workers) == workers
    assert service.pid not in workers


def test_worker_killed_with_sigkill_is_replaced_and_service_continues(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_forked(start_sample_service)
    killed, survivor = service.children()

    os.kill(killed, signal.SIGKILL)
    replacement = (set(service.wait_for_children(2, exclude=[killed])) - {survivor}).pop()

    assert wait_until_answered_by(client, {replacement, survivor}) == {replacement, survivor}
    assert 'Re-spawning failed server process #' in service.output()


def test_worker_crashing_too_often_is_not_respawned(start_sample_service: StartService, client: Client) -> None:
    service = start_forked(start_sample_service)
    worker, survivor = service.children()

    for _ in range(3):  # the limit is 3 restarts within 15 seconds
        os.kill(worker, signal.SIGKILL)
        worker = (set(service.wait_for_children(2, exclude=[worker])) - {survivor}).pop()
    os.kill(worker, signal.SIGKILL)

    service.wait_for_output('has crashed too many times (3 times in 15 seconds); not respawning.')
    assert service.children() == [survivor]
    assert service.output().count('Re-spawning failed server process #') == 3
    assert wait_until_answered_by(client, {survivor}) == {survivor}


def test_supervisor_whose_workers_all_crashed_too_often_exits_with_the_workers_failed_status(
    start_sample_service: StartService,
) -> None:
    service = start_forked(start_sample_service)
    workers = service.children()

    for restart in range(4):  # the limit is 3 restarts within 15 seconds: the fourth crash of each is final
        if restart:
            workers = service.wait_for_children(2, exclude=workers)
        signal_each(workers, signal.SIGKILL)

    assert service.wait(15) == WORKERS_FAILED_EXIT_CODE
    assert service.output().count('has crashed too many times (3 times in 15 seconds); not respawning.') == 2


def test_with_no_respawn_the_parent_exits_with_the_workers_failed_status_once_its_workers_crashed(
    start_sample_service: StartService,
) -> None:
    service = start_forked(start_sample_service, '--no-respawn')

    signal_each(service.children(), signal.SIGKILL)

    assert service.wait(15) == WORKERS_FAILED_EXIT_CODE
    assert 'Re-spawning' not in service.output()


def test_with_no_respawn_the_parent_exits_0_once_its_workers_stopped_cleanly(
    start_sample_service: StartService,
) -> None:
    service = start_forked(start_sample_service, '--no-respawn')

    signal_each(service.children(), signal.SIGTERM)

    assert service.wait(15) == 0
    assert service.output().count('Server shutdown complete') == 2


def test_sigterm_to_the_parent_stops_every_worker(start_sample_service: StartService) -> None:
    service = start_forked(start_sample_service)
    workers = service.children()

    assert service.stop(signal.SIGTERM) == 0

    wait_until_gone(workers, 10, 'the workers to exit')
    assert service.output().count('Server shutdown complete') == 2
    assert process_group_members(service.pid) == []


def test_sighup_to_the_parent_stops_every_worker(start_sample_service: StartService) -> None:
    service = start_forked(start_sample_service)
    workers = service.children()

    assert service.stop(signal.SIGHUP) == 0

    wait_until_gone(workers, 10, 'the workers to exit')
    assert service.output().count('Server shutdown complete') == 2


def test_sigterm_while_workers_are_starting_stops_everything(start_sample_service: StartService) -> None:
    service = start_sample_service('--fork', '2')

    def two_workers_just_forked() -> List[int]:
        # As soon as the parent handles SIGTERM (it ignores it while it starts forking) and both workers exist, which
        # is before the workers' servers install their own handlers.
        workers = service.children()
        return workers if len(workers) == 2 and handles_signal(service.pid, signal.SIGTERM) else []

    workers = wait_for(two_workers_just_forked, 15, 'two workers', interval=0.002)
    service.send_signal(signal.SIGTERM)

    assert service.wait(15) == 0
    wait_until_gone(workers, 10, 'the workers to exit')
