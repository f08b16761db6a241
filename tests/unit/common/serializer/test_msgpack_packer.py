"""The MessagePack serializer keeps one packer per thread; what it packs is what ``msgpack.packb`` would pack."""

import datetime
import threading
from typing import (
    Any,
    Dict,
    List,
)

import msgpack
import pytest

from pysoa.common.serializer import MsgpackSerializer, msgpack_serializer
from pysoa.common.serializer.errors import InvalidField
from pysoa.common.serializer.msgpack_extensions import encode_extension


def _packb(message: Dict[str, Any]) -> bytes:
    return msgpack.packb(message, default=encode_extension, use_bin_type=True)  # type: ignore[no-any-return]


def test_a_message_after_a_failed_one_is_packed_whole() -> None:
    serializer = MsgpackSerializer()
    with pytest.raises(InvalidField):
        serializer.dict_to_blob({'first': 'packed', 'then': object()})

    assert serializer.dict_to_blob({'next': [1, 2]}) == _packb({'next': [1, 2]})


def test_threads_packing_at_once_each_get_their_own_messages() -> None:
    serializer = MsgpackSerializer()
    failures: List[str] = []

    def pack_many(thread: int) -> None:
        for i in range(2000):
            # A date goes through the extension hook, where a thread may switch mid-message.
            message = {'thread': thread, 'i': i, 'on': datetime.date(2020, 1, 1 + thread), 'pad': 'x' * thread}
            if serializer.dict_to_blob(message) != _packb(message):
                failures.append(f'thread {thread}, message {i}')

    threads = [threading.Thread(target=pack_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []


def test_a_thread_does_not_keep_the_buffer_of_an_oversized_message() -> None:
    serializer = MsgpackSerializer()
    serializer.dict_to_blob({'small': 1})
    packer = msgpack_serializer._packers.packer

    large = {'data': b'x' * (msgpack_serializer._PACKER_KEEPS_BYTES + 1)}
    assert serializer.dict_to_blob(large) == _packb(large)

    assert msgpack_serializer._packers.packer is not packer
    assert serializer.dict_to_blob({'small': 2}) == _packb({'small': 2})
