"""
Several standalone Redis masters as the hosts of one transport: reply queues live on the master their name hashes
to (crc32), request queues are spread over all masters, and the forms hosts may be given in.
"""

import binascii
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    cast,
)

import msgpack
import pytest

from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.common.types import ActionResponse
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_transport,
    envelope,
    job_request,
    make_client,
    make_server,
    reply_queue_key,
    reply_queue_name,
    server_settings,
    standard_kwargs,
    v3_frame,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ThreadedServer


@pytest.fixture
def masters(redis_server: RedisServer, second_redis_server: RedisServer) -> List[RedisServer]:
    return [redis_server, second_redis_server]


@pytest.fixture
def two_host_kwargs(masters: List[RedisServer]) -> Dict[str, Any]:
    return standard_kwargs(*(m.port for m in masters))


def _hashed_index(key: str, ring_size: int) -> int:
    return int((binascii.crc32(key.encode('utf-8')) & 0xFFF) / (4096.0 / ring_size))


def _holders(masters: List[RedisServer], key: str) -> List[int]:
    """The positions of the masters holding ``key``."""
    holders = []
    for index, master in enumerate(masters):
        with master.client() as connection:
            if connection.exists(key):
                holders.append(index)
    return holders


def _response_body() -> Dict[str, Any]:
    return {'errors': [], 'context': {}, 'actions': [{'action': 'echo', 'errors': [], 'body': {'ok': True}}]}


# Reply queues -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('thread_id', 'expected_master'), [('7f0000000001', 1), ('7f0000000008', 0)])
def test_response_is_pushed_to_the_master_its_reply_queue_hashes_to(
    masters: List[RedisServer],
    two_host_kwargs: Dict[str, Any],
    thread_id: str,
    expected_master: int,
) -> None:
    server_transport = RedisServerTransport(SERVICE, RecordingMetricsRecorder(), **two_host_kwargs)
    reply_to = f'service.example.0123456789abcdef0123456789abcdef!{thread_id}'

    server_transport.send_response_message(1, {'reply_to': reply_to}, _response_body())

    assert _holders(masters, 'pysoa:' + reply_to) == [expected_master]


def test_client_receives_its_response_from_the_master_its_reply_queue_hashes_to(
    masters: List[RedisServer],
    two_host_kwargs: Dict[str, Any],
) -> None:
    transport = client_transport(two_host_kwargs)
    transport.send_request_message(1, {}, job_request(('echo', {})))
    server_transport = RedisServerTransport(SERVICE, RecordingMetricsRecorder(), **two_host_kwargs)
    server_transport.send_response_message(1, {'reply_to': reply_queue_name(transport)}, _response_body())
    key = reply_queue_key(transport)
    assert _holders(masters, key) == [_hashed_index(key, 2)]

    request_id, _meta, body = transport.receive_response_message(5)

    assert request_id == 1
    assert body == _response_body()


def test_servers_listing_the_masters_in_another_order_reply_to_the_wrong_master(
    masters: List[RedisServer],
    two_host_kwargs: Dict[str, Any],
) -> None:
    transport = client_transport(dict(two_host_kwargs, receive_timeout_in_seconds=1))
    transport.send_request_message(1, {}, job_request(('echo', {})))
    reversed_kwargs = standard_kwargs(*(m.port for m in reversed(masters)))
    server_transport = RedisServerTransport(SERVICE, RecordingMetricsRecorder(), **reversed_kwargs)

    server_transport.send_response_message(1, {'reply_to': reply_queue_name(transport)}, _response_body())

    assert _holders(masters, reply_queue_key(transport)) == [1 - _hashed_index(reply_queue_key(transport), 2)]
    with pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message()


# Request queues -----------------------------------------------------------------------------------------------------


def test_requests_are_spread_evenly_over_all_masters(
    masters: List[RedisServer],
    two_host_kwargs: Dict[str, Any],
) -> None:
    transport = client_transport(two_host_kwargs)

    for request_id in range(10):
        transport.send_request_message(request_id, {}, job_request(('echo', {})))

    lengths = []
    for master in masters:
        with master.client() as connection:
            lengths.append(connection.llen(REQUEST_QUEUE_KEY))
    assert lengths == [5, 5]


def test_server_takes_requests_from_every_master(masters: List[RedisServer], two_host_kwargs: Dict[str, Any]) -> None:
    reply_to = f'service.{SERVICE}.{"0" * 32}!000000000001'
    for index, master in enumerate(masters):
        with master.client() as connection:
            connection.rpush(
                REQUEST_QUEUE_KEY,
                v3_frame(
                    envelope(
                        request_id=index,
                        reply_to=reply_to,
                        body=job_request(('echo', {'from_master': index})),
                    )
                ),
            )
    server = make_server(RedisTestServer, two_host_kwargs)

    server.handle_next_request()
    server.handle_next_request()
    server.teardown()

    with masters[_hashed_index('pysoa:' + reply_to, 2)].client() as connection:
        frames = connection.lrange('pysoa:' + reply_to, 0, -1)
    responses = [msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False) for frame in frames]
    assert sorted(r['body']['actions'][0]['body']['from_master'] for r in responses) == [0, 1]


@pytest.fixture
def two_host_server(two_host_kwargs: Dict[str, Any]) -> Iterator[ThreadedServer]:
    with ThreadedServer(RedisTestServer, server_settings(two_host_kwargs)) as server:
        yield server
    assert server.errors == []


def test_client_and_server_listing_the_masters_in_the_same_order_work_together(
    two_host_kwargs: Dict[str, Any],
    two_host_server: ThreadedServer,
) -> None:
    client = make_client(two_host_kwargs)

    responses = cast(
        List[ActionResponse],
        list(
            client.call_actions_parallel(
                SERVICE,
                [{'action': 'echo', 'body': {'i': i}} for i in range(8)],
                timeout=10,
            )
        ),
    )

    assert [r.body for r in responses] == [{'i': i} for i in range(8)]


# Forms of hosts -----------------------------------------------------------------------------------------------------


def _round_trip(redis_server: RedisServer, kwargs: Dict[str, Any]) -> Any:
    client = make_client(kwargs)
    server = make_server(RedisTestServer, kwargs)
    future = client.call_action_future(SERVICE, 'echo', {'hosts': 'ok'}, timeout=10)
    server.handle_next_request()
    server.teardown()
    return future.result().body


def test_hosts_given_as_lists_work(redis_server: RedisServer) -> None:
    kwargs = {'backend_type': 'redis.standard', 'backend_layer_kwargs': {'hosts': [['127.0.0.1', redis_server.port]]}}

    assert _round_trip(redis_server, kwargs) == {'hosts': 'ok'}


def test_hosts_given_as_strings_use_redis_port(redis_server: RedisServer) -> None:
    kwargs = {
        'backend_type': 'redis.standard',
        'backend_layer_kwargs': {'hosts': ['127.0.0.1'], 'redis_port': redis_server.port},
    }

    assert _round_trip(redis_server, kwargs) == {'hosts': 'ok'}


def test_redis_db_puts_the_queues_in_that_database(redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(redis_server.port)
    kwargs['backend_layer_kwargs']['redis_db'] = 3
    transport = client_transport(kwargs)

    transport.send_request_message(1, {}, job_request(('echo', {})))

    with redis_server.client(db=3) as db_3, redis_server.client() as db_0:
        assert db_3.llen(REQUEST_QUEUE_KEY) == 1
        assert db_0.llen(REQUEST_QUEUE_KEY) == 0
