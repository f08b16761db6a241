"""The heartbeat file (``heartbeat_file``): named per process, refreshed while the server runs, deleted at exit."""

import pathlib
import signal
import time

from tests.process.helpers import (
    StartService,
    wait_for,
)


def read_beat(path: pathlib.Path) -> float:
    return float(path.read_text(encoding='utf-8'))


def test_heartbeat_file_is_named_after_the_process_and_holds_the_current_time(
    start_sample_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    before = time.time()
    service = start_sample_service(heartbeat_file=str(tmp_path / 'heartbeat-{{pid}}.txt'))
    heartbeat = tmp_path / f'heartbeat-{service.pid}.txt'

    beat = wait_for(lambda: heartbeat.exists() and read_beat(heartbeat), 15, f'{heartbeat} to be written')

    assert before <= beat <= time.time()
    assert [p.name for p in tmp_path.glob('heartbeat-*')] == [heartbeat.name]


def test_heartbeat_advances_while_the_server_is_idle(
    start_sample_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    service = start_sample_service(heartbeat_file=str(tmp_path / 'heartbeat-{{pid}}.txt'))
    heartbeat = tmp_path / f'heartbeat-{service.pid}.txt'
    first_beat = wait_for(lambda: heartbeat.exists() and read_beat(heartbeat), 15, f'{heartbeat} to be written')

    # Beats come at most every 2.5 seconds, after an idle poll (1 second here) or a request.
    later_beat = wait_for(lambda: read_beat(heartbeat) > first_beat and read_beat(heartbeat), 6, 'a later beat')

    assert 2.5 <= later_beat - first_beat < 6
    assert service.is_running()


def test_heartbeat_file_is_deleted_when_the_server_stops(
    start_sample_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    service = start_sample_service(heartbeat_file=str(tmp_path / 'heartbeat-{{pid}}.txt'))
    heartbeat = tmp_path / f'heartbeat-{service.pid}.txt'
    wait_for(heartbeat.exists, 15, f'{heartbeat} to be written')

    assert service.stop(signal.SIGTERM) == 0

    assert not heartbeat.exists()


def test_each_forked_worker_writes_its_own_heartbeat_file(
    start_sample_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    service = start_sample_service('--fork', '2', heartbeat_file=str(tmp_path / 'heartbeat-{{fid}}-{{pid}}.txt'))
    workers = service.wait_for_children(2)

    def both_files() -> bool:
        return len(list(tmp_path.glob('heartbeat-*'))) == 2

    wait_for(both_files, 15, 'two heartbeat files')
    names = sorted(p.name for p in tmp_path.glob('heartbeat-*'))
    assert [name.split('-')[1] for name in names] == ['1', '2']
    assert sorted(int(name.split('-')[2].split('.')[0]) for name in names) == workers
