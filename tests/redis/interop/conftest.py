"""
Fixtures for the interoperability tests with PySOA 1.4.9 over a real Redis. The original itself comes from the
``original_python`` fixture (``tests/support/original_pysoa.py``, registered in ``tests/conftest.py``).
"""

import pathlib
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
)

import pytest

from tests.redis.interop.helpers import (
    WIRES,
    OriginalClient,
    Wire,
)


# Fixtures of the tests ------------------------------------------------------------------------------------------------


@pytest.fixture(params=WIRES, ids=lambda w: f'protocol-{w.protocol_version}-{w.serializer}')
def wire(request: pytest.FixtureRequest) -> Wire:
    """Each protocol version (2 and 3) with each serializer (MessagePack and JSON)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_original_client(
    original_python: str,
    tmp_path: pathlib.Path,
) -> Iterator[Callable[[Dict[str, object]], OriginalClient]]:
    """Starts clients of the original (:class:`OriginalClient`) with a given config; stops them after the test."""
    clients: List[OriginalClient] = []

    def make(config: Dict[str, object]) -> OriginalClient:
        clients.append(OriginalClient(original_python, config, tmp_path))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
