"""A small service used by the process tests, written the way a PySOA user writes one."""

__version__ = '1.0.0'
