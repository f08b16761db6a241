from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.client.client import Client

from .services import (
    MainServer,
    OtherServer,
    local_service,
)


def make_config(**transport_kwargs: Any) -> Dict[str, Any]:
    """A client configuration for the services ``svc`` and ``other``, both in-process."""
    return {
        'svc': local_service(MainServer, **transport_kwargs),
        'other': local_service(OtherServer, **transport_kwargs),
    }


@pytest.fixture
def client() -> Client:
    return Client(make_config())
