"""The ``status`` action: version information and optional health checks."""

import abc
import importlib
import inspect
import platform
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)

from conformity import fields
from conformity.version import __version__ as conformity_version

from pysoa.common.errors import Error
from pysoa.common.types import (
    Body,
    JobResponse,
)
from pysoa.server.action.base import Action
from pysoa.server.types import EnrichedActionRequest
from pysoa.version import __version__ as pysoa_version


if TYPE_CHECKING:
    from pysoa.server.settings import ServerSettings


__all__ = (
    'BaseStatusAction',
    'CheckMethodReturn',
    'CheckMethodStatus',
    'StatusActionFactory',
    'make_default_status_action_class',
)


class CheckMethodStatus(NamedTuple):
    """One problem reported by a status action ``check_`` method."""

    is_error: bool
    """``True`` for an error, ``False`` for a warning."""

    code: str
    """A machine-readable code for the problem."""

    description: str
    """A human-readable description of the problem."""


CheckMethodReturn = Optional[Iterable[CheckMethodStatus]]
"""What a status action ``check_`` method returns: ``None`` (or an empty iterable) when all is well."""

_CHECK_SIGNATURE_MESSAGE = 'Status action check_* methods must accept a single argument of type EnrichedActionRequest'
_CHECK_RETURN_MESSAGE = 'Status action check_* methods must return None or an iterable of bool-str-str tuples.'


class BaseStatusAction(Action):
    """
    The base class of the ``status`` action that every server offers: it reports the versions of Conformity, PySOA,
    Python and the service (and the service's build, if it has one), and runs the service's health checks.

    Subclasses define the :attr:`_version` property (and optionally :attr:`_build`); :func:`StatusActionFactory` makes
    such a subclass from a version and a build. To add health checks, define methods whose names start with
    ``check_``. Each is called with the request, in alphabetical order, and returns ``None`` or an iterable of
    :class:`CheckMethodStatus` (or plain ``(is_error, code, description)`` tuples) describing the problems it found;
    it may also record information in the ``self.diagnostics`` dict, which starts empty on every run. Health checks
    run, and their results are returned in ``healthcheck``, unless the request sets ``verbose`` to ``False``. Example::

        class StatusAction(BaseStatusAction):
            _version = '1.2.3'

            def check_database(self, request):
                self.diagnostics['database_hosts'] = get_database_hosts()
                if not database_is_reachable():
                    return [CheckMethodStatus(True, 'DATABASE_UNREACHABLE', 'The database cannot be reached')]
                return None

    The disabled helper :meth:`_check_client_settings` checks the status of every service the server's client is
    configured to call; enable it with ``check_client_settings = BaseStatusAction._check_client_settings``.
    """

    description = (
        'Returns version information for the service, PySOA, Conformity and Python, and the service build if there is '
        'one. Unless the `verbose` request field is `false`, also runs the service health checks and returns their '
        'errors, warnings and diagnostic information in the `healthcheck` response field.'
    )

    request_schema = fields.Dictionary(
        {
            'verbose': fields.Boolean(
                description='Whether to run the health checks and return the `healthcheck` response field; defaults '
                'to true, so set it to false for a quick version check',
            ),
        },
        optional_keys=('verbose',),
    )

    response_schema = fields.Dictionary(
        {
            'build': fields.UnicodeString(description='The build of the service, if it has one'),
            'conformity': fields.UnicodeString(description='The version of Conformity the service uses'),
            'healthcheck': fields.Dictionary(
                {
                    'errors': fields.List(
                        fields.Tuple(
                            fields.UnicodeString(description='The error code'),
                            fields.UnicodeString(description='The error description'),
                        ),
                        description='The errors the health checks found, as (code, description) pairs',
                    ),
                    'warnings': fields.List(
                        fields.Tuple(
                            fields.UnicodeString(description='The warning code'),
                            fields.UnicodeString(description='The warning description'),
                        ),
                        description='The warnings the health checks found, as (code, description) pairs',
                    ),
                    'diagnostics': fields.SchemalessDictionary(
                        key_type=fields.UnicodeString(),
                        description='Diagnostic information the health checks recorded',
                    ),
                },
                optional_keys=('errors', 'warnings', 'diagnostics'),
                description='The results of the health checks (present unless `verbose` was false)',
            ),
            'pysoa': fields.UnicodeString(description='The version of PySOA the service uses'),
            'python': fields.UnicodeString(description='The version of Python the service runs on'),
            'version': fields.UnicodeString(description='The version of the service'),
        },
        optional_keys=('build', 'healthcheck'),
    )

    def __init__(self, settings: Optional['ServerSettings'] = None) -> None:
        """:param settings: The server's settings."""
        super().__init__(settings)
        self.diagnostics: Dict[str, Any] = {}

    @property
    @abc.abstractmethod
    def _version(self) -> str:
        """The version of the service."""

    @property
    def _build(self) -> Optional[str]:
        """The build of the service, or ``None`` (the default) if it has none."""
        return None

    def run(self, request: EnrichedActionRequest) -> Body:
        """
        Report the versions and, unless ``verbose`` is false, run the ``check_`` methods.

        :raises RuntimeError: If a ``check_`` method cannot be called with just the request, or returns something other
                              than ``None`` or an iterable of ``(is_error, code, description)`` tuples.
        """
        self.diagnostics = {}

        body: Body = {
            'conformity': conformity_version,
            'pysoa': pysoa_version,
            'python': platform.python_version(),
            'version': self._version,
        }
        if self._build:
            body['build'] = self._build

        if not request.body or request.body.get('verbose') is True:
            errors: List[Tuple[str, str]] = []
            warnings: List[Tuple[str, str]] = []
            for name in dir(self):  # dir() is sorted, so the checks run in alphabetical order
                if not name.startswith('check_'):
                    continue
                for is_error, code, description in _run_check(getattr(self, name), request):
                    (errors if is_error else warnings).append((code, description))
            body['healthcheck'] = {'errors': errors, 'warnings': warnings, 'diagnostics': self.diagnostics}

        return body

    def _check_client_settings(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        """
        A health check, disabled by default, that calls ``status`` (with ``verbose`` false) on every service the
        request's client is configured to call, in parallel with a two-second timeout. Each service's response body is
        recorded in ``self.diagnostics['services'][<service name>]``; failures are reported as the errors
        ``<SERVICE>_TRANSPORT_ERROR``, ``<SERVICE>_CALL_ERROR`` (job errors) and ``<SERVICE>_STATUS_ERROR`` (action
        errors), with the service name upper-cased, or ``CHECK_SERVICES_UNKNOWN_ERROR`` if the calls fail altogether.

        Enable it in a subclass with ``check_client_settings = BaseStatusAction._check_client_settings``.
        """
        client = request.client
        if not client:
            return None
        service_names = list(getattr(client, 'settings', None) or ())
        if not service_names:
            return None

        try:
            responses: Sequence[Union[JobResponse, BaseException]] = client.call_jobs_parallel(
                jobs=[
                    {'service_name': name, 'actions': [{'action': 'status', 'body': {'verbose': False}}]}
                    for name in service_names
                ],
                timeout=2,
                catch_transport_errors=True,
                raise_job_errors=False,
                raise_action_errors=False,
            )
        except Exception as e:
            return [
                CheckMethodStatus(
                    True,
                    'CHECK_SERVICES_UNKNOWN_ERROR',
                    f'Error calling the status action of the services {", ".join(service_names)}: '
                    f'{_describe_exception(e)}',
                ),
            ]

        problems: List[CheckMethodStatus] = []
        services: Dict[str, Any] = self.diagnostics.setdefault('services', {})
        for name, response in zip(service_names, responses):
            code_prefix = name.upper()
            if isinstance(response, BaseException):
                problems.append(
                    CheckMethodStatus(
                        True,
                        f'{code_prefix}_TRANSPORT_ERROR',
                        f'Transport error calling the status action of service {name}: {_describe_exception(response)}',
                    )
                )
            elif response.errors:
                problems.append(
                    CheckMethodStatus(
                        True,
                        f'{code_prefix}_CALL_ERROR',
                        f'Job error calling the status action of service {name}: {_describe_errors(response.errors)}',
                    )
                )
            elif not response.actions or response.actions[0].errors:
                problems.append(
                    CheckMethodStatus(
                        True,
                        f'{code_prefix}_STATUS_ERROR',
                        f'The status action of service {name} failed: '
                        f'{_describe_errors(response.actions[0].errors) if response.actions else "no action response"}',
                    )
                )
            else:
                services[name] = response.actions[0].body
        return problems


def _run_check(check: Any, request: EnrichedActionRequest) -> List[Tuple[Any, str, str]]:
    """Call one ``check_`` method and return its problems as a list of ``(is_error, code, description)`` tuples."""
    try:
        signature: Optional[inspect.Signature] = inspect.signature(check)
    except TypeError as e:  # not callable
        raise RuntimeError(_CHECK_SIGNATURE_MESSAGE, e) from e
    except ValueError:  # a callable whose signature cannot be determined: just try it
        signature = None
    if signature is not None:
        try:
            signature.bind(request)
        except TypeError as e:
            raise RuntimeError(_CHECK_SIGNATURE_MESSAGE, e) from e

    result = check(request)
    if result is None:
        return []
    problems = []
    try:
        for is_error, code, description in result:
            if not isinstance(code, str) or not isinstance(description, str):
                raise TypeError(f'code and description must be str, not {code!r} and {description!r}')
            problems.append((is_error, code, description))
    except (TypeError, ValueError) as e:
        raise RuntimeError(_CHECK_RETURN_MESSAGE, e) from e
    return problems


def _describe_exception(exception: BaseException) -> str:
    text = str(exception)
    return f'{type(exception).__name__}: {text}' if text else type(exception).__name__


def _describe_errors(errors: Iterable[Error]) -> str:
    return '; '.join(f'{e.code}: {e.message}' for e in errors) or 'unknown error'


def StatusActionFactory(
    version: str,
    build: Optional[str] = None,
    base_class: Type[BaseStatusAction] = BaseStatusAction,
) -> Type[BaseStatusAction]:
    """
    Make a status action class for a service.

    :param version: The version of the service, reported as ``version``.
    :param build: The build of the service, reported as ``build`` if truthy.
    :param base_class: The class to subclass: :class:`BaseStatusAction` or a subclass of it with health checks.

    :return: A subclass of ``base_class`` named ``StatusAction``.
    """
    return type('StatusAction', (base_class,), {'_version': version, '_build': build, '__module__': __name__})


def make_default_status_action_class(server_class: type) -> Type[BaseStatusAction]:
    """
    Make the status action class a server uses when its ``action_class_map`` has no ``status`` action, from the
    ``__version__`` and ``__build__`` attributes of the top-level package of the module that defines the server
    class (for a server class in ``my_service.server``, the ``my_service`` package). A missing or empty
    ``__version__`` is reported as ``'unknown'``; a missing or empty ``__build__`` means no build.

    :param server_class: The server class.

    :return: The status action class.
    """
    package = importlib.import_module(server_class.__module__.split('.', 1)[0])
    version = getattr(package, '__version__', None)
    build = getattr(package, '__build__', None)
    return StatusActionFactory(str(version) if version else 'unknown', str(build) if build else None)
