"""
Every public module of the package (no path component starting with an underscore) declares its public API in
``__all__``: each name there exists, and every public class or function the module defines is listed. Private
helpers live in underscore modules or have underscore names.
"""

import importlib
import inspect
import pkgutil
from types import ModuleType
from typing import (
    List,
    Set,
)

import pytest

import pysoa


def _is_public(module_name: str) -> bool:
    return not any(part.startswith('_') for part in module_name.split('.'))


def _public_module_names() -> List[str]:
    names = ['pysoa']
    for info in pkgutil.walk_packages(pysoa.__path__, 'pysoa.'):
        if _is_public(info.name):
            names.append(info.name)
    return sorted(names)


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as e:  # an optional integration whose extra is not installed
        pytest.skip(f'{name} needs an optional dependency: {e}')


def _defined_public_names(module: ModuleType) -> Set[str]:
    """The public classes and functions the module defines itself (not those it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith('_')
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, '__module__', None) == module.__name__
    }


def _is_empty_package(module: ModuleType) -> bool:
    """A package whose ``__init__`` defines nothing (it only holds modules)."""
    return hasattr(module, '__path__') and not [
        name for name, value in vars(module).items() if not name.startswith('_') and not inspect.ismodule(value)
    ]


PUBLIC_MODULES = _public_module_names()


def test_the_package_has_public_modules_to_check() -> None:
    assert 'pysoa.client.client' in PUBLIC_MODULES
    assert 'pysoa.server.server' in PUBLIC_MODULES


@pytest.mark.parametrize('module_name', PUBLIC_MODULES)
def test_public_module_declares_its_api_in_all(module_name: str) -> None:
    module = _import(module_name)

    exported = getattr(module, '__all__', None)
    if exported is None and _is_empty_package(module):
        return

    assert exported is not None, f'{module_name} has no __all__: list its public names (or make it private)'
    assert not [name for name in exported if not hasattr(module, name)], f'{module_name}.__all__ names missing names'
    missing = sorted(_defined_public_names(module) - set(exported))
    assert not missing, f'{module_name} defines public names not in its __all__: {missing}'
