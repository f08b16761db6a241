"""
`factory_boy <https://factoryboy.readthedocs.io/>`_ factories for servers, their settings and actions, for tests that
need a server without a real service: ``ServerFactory(settings__data={...})``, ``ActionFactory(body={'ok': True})``.
Requires ``factory_boy`` (installed with ``pysoa[testing]``).
"""

import importlib
from typing import (
    Any,
    Dict,
    Optional,
    Type,
)

from pysoa.test._testing_extra import missing_testing_extra


try:
    import factory
except ImportError as e:
    raise missing_testing_extra(e, __name__) from e

from pysoa.common.types import Body
from pysoa.server.action.base import Action
from pysoa.server.server import Server
from pysoa.server.settings import ServerSettings
from pysoa.server.types import EnrichedActionRequest


__all__ = (
    'ActionFactory',
    'ServerFactory',
    'ServerSettingsFactory',
)

_LOCAL_SERVER_TRANSPORT = {'path': 'pysoa.common.transport.local:LocalServerTransport'}


class ServerSettingsFactory(factory.Factory):  # type: ignore[misc]
    """Builds :class:`ServerSettings` from ``data``; the transport is always the local placeholder transport."""

    class Meta:
        model = ServerSettings

    data = factory.Dict({})

    @classmethod
    def _create(
        cls, model_class: Type[ServerSettings], data: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> ServerSettings:
        settings_data = dict(data or {})
        settings_data.update(kwargs)
        settings_data['transport'] = dict(_LOCAL_SERVER_TRANSPORT)
        return model_class(settings_data)

    _build = _create

    @classmethod
    def from_module(cls, module_path: str) -> ServerSettings:
        """Build settings from the ``settings`` variable of the module at ``module_path``."""
        settings: ServerSettings = cls(data=importlib.import_module(module_path).settings)
        return settings


class ServerFactory(factory.Factory):  # type: ignore[misc]
    """Builds a :class:`Server` (set ``service_name`` with a subclass or ``factory.make_factory``)."""

    class Meta:
        model = Server

    settings = factory.SubFactory(ServerSettingsFactory)


def ActionFactory(body: Optional[Body] = None, exception: Optional[BaseException] = None) -> Type[Action]:
    """An :class:`Action` class whose ``run`` raises ``exception`` if given, else returns ``body`` (or ``{}``)."""

    class _GeneratedAction(Action):
        def run(self, request: EnrichedActionRequest) -> Body:
            if exception is not None:
                raise exception
            return body or {}

    return _GeneratedAction
