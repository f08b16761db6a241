"""
Logging helpers: a filter adding the PySOA request context to records, a wrapper censoring sensitive values in logged
dicts, and a syslog handler that fragments or truncates messages too long for one packet.
"""

from pysoa.common.logging._censoring import RecursivelyCensoredDictWrapper
from pysoa.common.logging._context_filter import PySOALogContextFilter
from pysoa.common.logging._syslog import SyslogHandler


__all__ = (
    'PySOALogContextFilter',
    'RecursivelyCensoredDictWrapper',
    'SyslogHandler',
)
