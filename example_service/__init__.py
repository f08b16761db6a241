"""An example PySOA service: a few actions showing schemas, nested calls and async work."""

__version__ = '1.0.0'
