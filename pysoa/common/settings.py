"""The settings that clients and servers share."""

from conformity import fields
from conformity.settings import Settings
from pymetrics.recorders.base import MetricsRecorder


__all__ = ('SOASettings',)


class SOASettings(Settings):
    """
    Settings shared by clients and servers: the transport, the middleware and the metrics recorder.

    ``transport``, each ``middleware`` entry and ``metrics`` are class configurations, dicts of the form
    ``{'path': 'module.name:ClassName', 'kwargs': {...}}``. Validation imports the class, adds it to the dict under
    ``'object'``, and validates ``kwargs`` against the schema that class registers with
    ``ClassConfigurationSchema.provider``. Values given by the user are deep-merged over ``defaults``; subclasses
    merge their ``schema`` and ``defaults`` over their parents'. Invalid settings raise
    :class:`conformity.settings.Settings.ImproperlyConfigured`.
    """

    schema = {
        'transport': fields.ClassConfigurationSchema(),
        'middleware': fields.List(
            fields.ClassConfigurationSchema(),
            description='The list of all middleware objects that should be applied to this server or client',
        ),
        'metrics': fields.ClassConfigurationSchema(
            base_class=MetricsRecorder,
            description='Configuration for defining a usage and performance metrics recorder.',
        ),
    }

    defaults = {
        'middleware': [],
        'metrics': {'path': 'pymetrics.recorders.noop:NonOperationalMetricsRecorder'},
    }
