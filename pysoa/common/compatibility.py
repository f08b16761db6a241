"""
Names kept importable for code written against PySOA 1.x, which needed shims for old Pythons.

On every supported Python these are the standard library's own objects.
"""

import asyncio
from contextvars import ContextVar
from typing import Optional


__all__ = (
    'ContextVar',
    'set_running_loop',
)


def set_running_loop(loop: Optional[asyncio.AbstractEventLoop]) -> None:
    """Does nothing: current Pythons track the running event loop themselves. Kept for PySOA 1.x callers."""
