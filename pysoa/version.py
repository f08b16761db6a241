"""The version of this PySOA distribution."""

__all__ = ('__version__', '__version_info__')

__version_info__ = (2, 0, 0)
__version__ = '.'.join(str(part) for part in __version_info__)
