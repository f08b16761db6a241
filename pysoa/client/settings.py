"""The settings a :class:`pysoa.client.client.Client` uses for each service it calls."""

import collections
import copy
import threading
from typing import (
    Any,
    Mapping,
    Tuple,
    Type,
)

from conformity import fields

from pysoa.client.middleware import ClientMiddleware
from pysoa.common.settings import SOASettings
from pysoa.common.transport.base import ClientTransport


__all__ = (
    'ClientSettings',
    'get_validated_settings',
)


class ClientSettings(SOASettings):
    """
    The settings for calling one service: transport (by default the Redis gateway client transport, which needs at
    least ``kwargs.backend_type``), client middleware, and metrics. A client's configuration is a dict of these,
    keyed by service name.
    """

    schema = {
        'transport': fields.ClassConfigurationSchema(base_class=ClientTransport),
        'middleware': fields.List(
            fields.ClassConfigurationSchema(base_class=ClientMiddleware),
            description='The list of all `ClientMiddleware` objects that should be applied to requests made from this '
            'client to the associated service',
        ),
    }

    defaults = {
        'transport': {'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport'},
    }


_CACHE_SIZE = 256
_validated: 'collections.OrderedDict[Tuple[type, int], Tuple[Mapping[str, Any], Any, ClientSettings]]' = (
    collections.OrderedDict()
)
_validated_lock = threading.Lock()


def get_validated_settings(settings_class: Type[ClientSettings], config: Mapping[str, Any]) -> ClientSettings:
    """
    Return ``settings_class(config)``, reusing the result for a config equal to one validated before. Servers build
    a client for every job from the same routing settings, and validation (which imports classes) dominates that
    cost. A config that changed since it was validated is validated again.
    """
    key = (settings_class, id(config))
    with _validated_lock:
        cached = _validated.get(key)
    if cached is not None:
        cached_config, snapshot, settings = cached
        try:
            if cached_config is config and config == snapshot:
                return settings
        except Exception:  # a value whose comparison fails: do not cache it
            return settings_class(config)

    settings = settings_class(config)
    try:
        snapshot = copy.deepcopy(config)
    except Exception:
        return settings
    with _validated_lock:
        _validated[key] = (config, snapshot, settings)
        while len(_validated) > _CACHE_SIZE:
            _validated.popitem(last=False)
    return settings
