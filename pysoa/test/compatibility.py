"""Kept for code written against PySOA 1.x: ``mock`` is the standard library's ``unittest.mock``."""

from unittest import mock


__all__ = ('mock',)
