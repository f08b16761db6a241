"""The asynchronous client transport's enqueue command: the bytes packed by hiredis for the same arguments."""

from typing import List

import pytest

from pysoa.common.transport.redis_gateway._async_client import (
    _ENQUEUE,
    _EnqueueCommand,
)
from pysoa.common.transport.redis_gateway.backend._packing import pack_command


@pytest.mark.parametrize(
    'frames',
    [
        pytest.param([b'pysoa-redis/3//content-type:application/msgpack;\x81\xa1a\x01'], id='one frame'),
        pytest.param([b''], id='an empty frame'),
        pytest.param([b'\r\n' * 70000], id='a large frame of line ends'),
        pytest.param([b'first', b'second'], id='two frames'),
    ],
)
@pytest.mark.parametrize('redis_expiry', [5, 70, 123456])
def test_the_enqueue_command_is_the_evalsha_hiredis_packs(frames: List[bytes], redis_expiry: int) -> None:
    command = _EnqueueCommand('pysoa:service.queue', 10000)

    packed = command.pack(redis_expiry, frames)

    assert packed == pack_command(
        ('EVALSHA', _ENQUEUE.sha, 1, 'pysoa:service.queue', redis_expiry, 10000, *frames),
    )
