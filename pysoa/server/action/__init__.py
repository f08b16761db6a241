"""Actions: the units of work a server runs."""

from pysoa.server.action.base import Action


__all__ = ('Action',)
