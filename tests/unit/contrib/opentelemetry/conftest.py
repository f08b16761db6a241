"""The tracing tests need the OpenTelemetry SDK (dev-requirements.txt); each starts with no finished spans."""

import importlib.util
from typing import (
    Iterator,
    List,
)

import pytest


def _installed(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


collect_ignore_glob: List[str] = [] if _installed('opentelemetry.sdk') else ['*.py']


@pytest.fixture(autouse=True)
def _no_finished_spans() -> Iterator[None]:
    from tests.unit.contrib.opentelemetry.services import EXPORTER

    EXPORTER.clear()
    yield
    EXPORTER.clear()
