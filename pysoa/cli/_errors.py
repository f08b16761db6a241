"""The exit statuses of the ``pysoa`` command, and the error for a command line it cannot act on."""

__all__ = (
    'EXIT_ERRORS',
    'EXIT_NO_ANSWER',
    'EXIT_OK',
    'EXIT_USAGE',
    'UsageError',
)

EXIT_OK = 0
"""The call succeeded (``status``: the service is healthy)."""

EXIT_ERRORS = 1
"""The action or job returned errors (``status``: a health check found errors)."""

EXIT_USAGE = 2
"""The command line, or the settings it names, cannot be used."""

EXIT_NO_ANSWER = 3
"""No answer within the timeout, or the request or response could not travel (a transport error)."""


class UsageError(Exception):
    """A command line, or the settings it names, that the command cannot act on; the message says what to change."""
