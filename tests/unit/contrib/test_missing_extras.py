"""Importing an integration whose library is not installed fails with the extra to install."""

import importlib
import sys

import pytest

from pysoa.contrib.errors import MissingExtraError


@pytest.mark.parametrize(
    ('integration', 'library', 'requirement', 'extra'),
    [
        ('pysoa.contrib.opentelemetry', 'opentelemetry', 'opentelemetry-api', 'opentelemetry'),
        ('pysoa.contrib.prometheus', 'prometheus_client', 'prometheus_client', 'prometheus'),
    ],
)
def test_importing_an_integration_without_its_library_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
    integration: str,
    library: str,
    requirement: str,
    extra: str,
) -> None:
    for name in list(sys.modules):
        if name.split('.')[0] == library or name == integration or name.startswith(f'{integration}.'):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, library, None)  # as if it were not installed

    with pytest.raises(MissingExtraError) as raised:
        importlib.import_module(integration)

    assert str(raised.value).startswith(f'{integration} needs {requirement}, which is not installed')
    assert str(raised.value).endswith(f"Install it with: pip install 'pysoa[{extra}]'")
    assert isinstance(raised.value, ModuleNotFoundError)
    assert (raised.value.name or '').split('.')[0] == library
