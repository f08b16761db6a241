"""
Real ``redis-server`` processes for tests: standalone servers, a master with a replica watched by three Sentinels,
and a server that only speaks TLS with ACL users. Each listens on free loopback ports, keeps nothing on disk, and is
stopped when its test (or session) is done. A Redis already listening on 6379 is never used or touched.
"""

import functools
import os
import pathlib
import shutil
import socket
import subprocess
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Set,
)

import redis


__all__ = (
    'RedisServer',
    'SentinelCluster',
    'TlsFiles',
    'free_port',
    'make_tls_files',
    'redis_server_binary',
    'wait_for',
)

_ports_handed_out: Set[int] = set()


def redis_server_binary() -> str:
    """The path of ``redis-server``, or a failure that says how to get it."""
    binary = shutil.which('redis-server')
    if binary is None:
        raise RuntimeError(
            "redis-server is not installed. The test command (bash scripts/test.sh) installs Debian's redis-server "
            'package when run as root; otherwise install it yourself: apt-get install -y redis-server',
        )
    return binary


def free_port() -> int:
    """A loopback TCP port nobody listens on (never 6379), not handed out before in this process."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(('127.0.0.1', 0))
            port: int = probe.getsockname()[1]
        if port != 6379 and port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def wait_for(condition: Callable[[], Any], timeout: float, description: str, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` seconds pass (failure)."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except Exception as e:  # the condition may fail while the thing it checks is starting
            last_error = e
        time.sleep(interval)
    raise TimeoutError(f'Timed out after {timeout}s waiting for {description} (last error: {last_error!r})')


class RedisServer:
    """
    One ``redis-server`` process, configured by ``directives`` (lines of a redis.conf), in its own directory.

    :param directory: Where its config, log and (if any) Sentinel state live.
    :param port: The plain TCP port (``0`` disables it, e.g. for TLS-only servers).
    :param directives: Extra redis.conf lines.
    :param sentinel: Run it as a Sentinel (``redis-server <conf> --sentinel``).
    :param ping_kwargs: Connection arguments for the readiness check (TLS or ACL credentials).
    """

    def __init__(
        self,
        directory: pathlib.Path,
        port: int,
        directives: Sequence[str] = (),
        sentinel: bool = False,
        ping_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.directory = directory
        self.port = port
        self.directives = list(directives)
        self.sentinel = sentinel
        self.ping_kwargs = ping_kwargs or {'host': '127.0.0.1', 'port': port}
        self.tls_port: Optional[int] = None
        self.process: Optional[subprocess.Popen[bytes]] = None
        directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / 'redis.conf'
        self.log_file = directory / 'redis.log'

    def start(self) -> 'RedisServer':
        lines = [
            'bind 127.0.0.1',
            f'port {self.port}',
            f'dir {self.directory}',
            f'logfile {self.log_file}',
            'daemonize no',
            'protected-mode no',
        ]
        if not self.sentinel:
            lines += ['save ""', 'appendonly no']
        self.config_file.write_text('\n'.join([*lines, *self.directives]) + '\n')
        command = [redis_server_binary(), str(self.config_file)]
        if self.sentinel:
            command.append('--sentinel')
        with open(self.directory / 'redis.out', 'wb') as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for(self._ready, 15, f'redis-server on port {self.port} to answer PING')
        except TimeoutError:
            self.stop()
            raise RuntimeError(f'redis-server did not start; its log says:\n{self._log_tail()}') from None
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f'redis-server exited with status {self.process.returncode}:\n{self._log_tail()}')
        with redis.Redis(socket_timeout=1, **self.ping_kwargs) as client:
            return bool(client.ping())

    def _log_tail(self) -> str:
        lines: List[str] = []
        for path in (self.directory / 'redis.out', self.log_file):
            try:
                lines += path.read_text(errors='replace').splitlines()[-20:]
            except OSError:
                pass
        return '\n'.join(lines) or '(no output)'

    def client(self, **kwargs: Any) -> redis.Redis:
        """A redis-py client for this server (plain TCP unless ``kwargs`` say otherwise)."""
        options = dict(self.ping_kwargs)
        options.update(kwargs)
        return redis.Redis(**options)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def kill(self) -> None:
        """Stop the process at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class SentinelCluster:
    """
    A master and one replica of the Sentinel service ``service_name``, watched by three Sentinels (quorum 2) that
    fail over quickly (the master is considered down after 1 s).
    """

    def __init__(self, directory: pathlib.Path, service_name: str = 'pysoa-test-master') -> None:
        self.service_name = service_name
        master_port, replica_port = free_port(), free_port()
        self.master = RedisServer(directory / 'master', master_port)
        self.replica = RedisServer(directory / 'replica', replica_port, [f'replicaof 127.0.0.1 {master_port}'])
        self.sentinels: List[RedisServer] = []
        for index in range(3):
            port = free_port()
            self.sentinels.append(
                RedisServer(
                    directory / f'sentinel-{index}',
                    port,
                    [
                        'sentinel resolve-hostnames no',
                        f'sentinel monitor {service_name} 127.0.0.1 {master_port} 2',
                        f'sentinel down-after-milliseconds {service_name} 1000',
                        f'sentinel failover-timeout {service_name} 4000',
                        f'sentinel parallel-syncs {service_name} 1',
                    ],
                    sentinel=True,
                )
            )

    @property
    def sentinel_hosts(self) -> List[tuple]:  # type: ignore[type-arg]
        return [('127.0.0.1', s.port) for s in self.sentinels]

    def start(self) -> 'SentinelCluster':
        self.master.start()
        self.replica.start()
        wait_for(
            lambda: self.replica.client().info('replication').get('master_link_status') == 'up',
            15,
            'the replica to sync with the master',
        )
        for sentinel in self.sentinels:
            sentinel.start()
        for sentinel in self.sentinels:
            wait_for(
                functools.partial(self._sentinel_sees_everything, sentinel),
                20,
                f'Sentinel on port {sentinel.port}',
            )
        return self

    def _sentinel_sees_everything(self, sentinel: RedisServer) -> bool:
        with sentinel.client() as client:
            master = client.sentinel_master(self.service_name)
            replicas = client.sentinel_slaves(self.service_name)
        return int(master.get('num-other-sentinels', 0)) >= 2 and any(
            r.get('master-link-status') == 'ok' for r in replicas
        )

    def master_port(self) -> int:
        """The port of the current master, as the first Sentinel reports it."""
        with self.sentinels[0].client() as client:
            _host, port = client.sentinel_get_master_addr_by_name(self.service_name)
        return int(port)

    def failover(self) -> int:
        """Force a failover (``SENTINEL FAILOVER``) and wait until every Sentinel names the new master's port."""
        old_port = self.master_port()
        with self.sentinels[0].client() as client:
            client.execute_command('SENTINEL', 'FAILOVER', self.service_name)

        def every_sentinel_agrees() -> Optional[int]:
            ports = set()
            for sentinel in self.sentinels:
                with sentinel.client() as client:
                    ports.add(int(client.sentinel_get_master_addr_by_name(self.service_name)[1]))
            return ports.pop() if len(ports) == 1 and old_port not in ports else None

        new_port: int = wait_for(every_sentinel_agrees, 30, 'the Sentinels to agree on a new master')
        servers = {self.master.port: self.master, self.replica.port: self.replica}
        wait_for(
            lambda: servers[new_port].client().info('replication').get('role') == 'master',
            15,
            'the new master to take its role',
        )
        return new_port

    def stop(self) -> None:
        for server in [*self.sentinels, self.replica, self.master]:
            server.stop()


class TlsFiles:
    """A certificate authority and a server certificate for ``127.0.0.1``/``localhost``, made with ``openssl``."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.ca_certificate = directory / 'ca.crt'
        self.server_certificate = directory / 'server.crt'
        self.server_key = directory / 'server.key'


def make_tls_files(
    directory: pathlib.Path,
    subject_alt_names: Optional[str] = 'IP:127.0.0.1,DNS:localhost',
    authority: Optional[TlsFiles] = None,
) -> TlsFiles:
    """
    A server certificate and key in ``directory``, for ``subject_alt_names`` (``None``: a certificate that names no
    host, as many made for PySOA 1.4.9 services do), signed by ``authority``'s CA or by a new CA made here.
    """
    openssl = shutil.which('openssl')
    if openssl is None:
        raise RuntimeError('openssl is needed to make test certificates: apt-get install -y openssl')
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory)

    def run(*arguments: str) -> None:
        subprocess.run([openssl, *arguments], cwd=directory, check=True, capture_output=True)

    if authority is None:
        run(
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-keyout',
            'ca.key',
            '-out',
            'ca.crt',
            '-days',
            '2',
            '-subj',
            '/CN=PySOA test CA',
        )
    else:
        files.ca_certificate = authority.ca_certificate
    ca_key = files.ca_certificate.with_suffix('.key')
    subject = '/CN=localhost' if subject_alt_names else '/CN=PySOA test server'
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', subject)
    names = []
    if subject_alt_names:
        (directory / 'san.ext').write_text(f'subjectAltName={subject_alt_names}\n')
        names = ['-extfile', 'san.ext']
    run(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        str(files.ca_certificate),
        '-CAkey',
        str(ca_key),
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        *names,
    )
    os.chmod(files.server_key, 0o600)
    return files
