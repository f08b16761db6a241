"""The errors of the optional integrations in :mod:`pysoa.contrib`."""

from typing import Optional


__all__ = ('MissingExtraError',)


class MissingExtraError(ModuleNotFoundError):
    """
    An integration of :mod:`pysoa.contrib` was imported, but the library it needs is not installed. The message names
    the extra that installs it. Being a ``ModuleNotFoundError``, it can be caught like any missing module.

    :param integration: The module that was imported, e.g. ``pysoa.contrib.prometheus``.
    :param extra: The PySOA extra that installs what it needs, e.g. ``prometheus``.
    :param requirement: The package it needs, e.g. ``prometheus_client``.
    :param missing_module: The module that could not be imported (the error's ``name``).
    """

    def __init__(self, integration: str, extra: str, requirement: str, missing_module: Optional[str]) -> None:
        super().__init__(
            f'{integration} needs {requirement}, which is not installed (no module {missing_module}). Install it '
            f"with: pip install 'pysoa[{extra}]'",
            name=missing_module,
        )
        self.integration = integration
        self.extra = extra
