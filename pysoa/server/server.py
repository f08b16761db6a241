"""
The base class of every PySOA service: subclass :class:`Server`, set ``service_name`` and ``action_class_map``, and run
it with ``pysoa.server.standalone``.
"""

import logging
import logging.config
import random
import reprlib
import signal
import sys
import threading
import time
import traceback
from types import FrameType
from typing import (
    Any,
    Callable,
    ClassVar,
    Dict,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
)

from conformity.error import Error as ConformityError
from pymetrics.instruments import (
    Timer,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.client import Client
from pysoa.common._fast_validation import FastSchema
from pysoa.common._metrics import make_metrics_recorder
from pysoa.common.constants import (
    ERROR_CODE_ACTION_TIMEOUT,
    ERROR_CODE_JOB_TIMEOUT,
    ERROR_CODE_RESPONSE_NOT_SERIALIZABLE,
    ERROR_CODE_RESPONSE_TOO_LARGE,
    ERROR_CODE_SERVER_ERROR,
    ERROR_CODE_UNKNOWN,
)
from pysoa.common.errors import Error
from pysoa.common.logging import (
    PySOALogContextFilter,
    RecursivelyCensoredDictWrapper,
)
from pysoa.common.serializer.errors import InvalidField
from pysoa.common.transport.base import ServerTransport
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveTimeout,
    MessageTooLarge,
    TransientPySOATransportError,
)
from pysoa.common.types import (
    ActionResponse,
    Context,
    JobResponse,
)
from pysoa.server.action.introspection import IntrospectionAction
from pysoa.server.action.status import make_default_status_action_class
from pysoa.server.django.database import (
    django_close_old_database_connections,
    django_reset_database_queries,
)
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.exit_codes import (
    HARAKIRI_EXIT_CODE,
    HARAKIRI_FORCED_EXIT_CODE,
    TRANSPORT_FAILURE_EXIT_CODE,
    UNHANDLED_ERROR_EXIT_CODE,
)
from pysoa.server.internal._fork_templating import apply_fork_id_to_metrics_settings
from pysoa.server.internal._harakiri import exit_now
from pysoa.server.internal._heartbeat import HeartbeatFile
from pysoa.server.internal._request_logging import (
    RequestLogger,
    make_censoring_wrapper_class,
)
from pysoa.server.internal._response_conversion import (
    client_version_from_meta,
    job_response_to_dict,
)
from pysoa.server.internal._startup import (
    daemonize,
    load_django_server_settings,
    load_settings_module,
    parse_server_arguments,
)
from pysoa.server.internal._thread_dumps import get_thread_stacks
from pysoa.server.internal.event_loop import AsyncEventLoopThread
from pysoa.server.internal.worker_hooks import RequestHook
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareActionTask,
    ServerMiddlewareJobTask,
)
from pysoa.server.schemas import JobRequestSchema
from pysoa.server.settings import ServerSettings
from pysoa.server.types import (
    ActionType,
    EnrichedActionRequest,
    EnrichedJobRequest,
    IntrospectionActionType,
)
from pysoa.utils import chain_middleware
from pysoa.version import __version__


__all__ = (
    'HarakiriInterrupt',
    'Server',
    'ServerMiddlewareActionTask',
    'ServerMiddlewareJobTask',
)

_R = TypeVar('_R', JobResponse, ActionResponse)


class HarakiriInterrupt(BaseException):
    """
    Raised in the main thread when a job outlives the harakiri timeout. Deliberately not an ``Exception``, so that
    ``except Exception`` in actions does not swallow it.
    """


class Server:
    """
    The base class of PySOA services.

    Subclasses set :attr:`service_name` and :attr:`action_class_map` (action name → action class, or any factory
    ``factory(settings) -> callable(request) -> ActionResponse``). Every server also answers the ``status`` and
    ``introspect`` actions unless the map defines them. The server receives job requests from its transport,
    validates them, runs their actions through the configured middleware, and sends the responses back.

    :param settings: The server's settings (an instance of :attr:`settings_class`).
    :param forked_process_id: The 1-based index of this worker when the service runs several forked processes.
    """

    settings_class: ClassVar[Type[ServerSettings]] = ServerSettings
    request_class: ClassVar[Type[EnrichedActionRequest]] = EnrichedActionRequest
    client_class: ClassVar[Type[Client]] = Client
    use_django: ClassVar[bool] = False
    service_name: ClassVar[Optional[str]] = None
    action_class_map: ClassVar[Mapping[str, ActionType]] = {}
    introspection_action: ClassVar[Optional[IntrospectionActionType]] = None

    _default_status_action_classes: ClassVar[Dict[type, ActionType]] = {}
    _skip_django_database_cleanup: bool = False

    #: The status for the process to exit with once :meth:`run` has returned: 0 after a shutdown asked for by a
    #: signal, else one of :mod:`pysoa.server.exit_codes` telling why the server could not go on.
    exit_code: int = 0

    #: Told when the server is ready and when each request starts and ends (the ``--fork`` supervisor sets it in each
    #: worker, through :meth:`main`, to tell hung workers from busy ones); ``None`` by default.
    request_hook: Optional[RequestHook] = None

    def __init__(self, settings: ServerSettings, forked_process_id: Optional[int] = None) -> None:
        if not self.service_name:
            raise AttributeError('Server subclass must set service_name')
        self.settings = settings
        self.forked_process_id = forked_process_id

        apply_fork_id_to_metrics_settings(settings['metrics'], str(forked_process_id or 'main'))
        self.metrics: MetricsRecorder = make_metrics_recorder(settings['metrics'])

        transport_class = settings['transport']['object']
        self.transport: ServerTransport = transport_class(
            self.service_name,
            self.metrics,
            forked_process_id or 1,
            **settings['transport'].get('kwargs', {}),
        )

        self._async_event_loop_thread = AsyncEventLoopThread(
            [m['object'](**m.get('kwargs', {})) for m in settings['coroutine_middleware']]
        )

        self.shutting_down = False
        self._shutdown_lock = threading.Lock()
        self._last_signal = 0
        self._last_signal_received = 0.0
        self._idle_timer: Optional[Timer] = None
        self._heartbeat: Optional[HeartbeatFile] = None

        self.middleware: List[ServerMiddleware] = [m['object'](**m.get('kwargs', {})) for m in settings['middleware']]
        self.job_middleware_stack: ServerMiddlewareJobTask = self.make_middleware_stack(
            [m.job for m in self.middleware],
            self.execute_job,
        )
        # Each request gets a new action instance, wrapped in these (the stack itself depends on the action).
        self._action_middleware: List[Callable[[Any], Any]] = [m.action for m in self.middleware]

        self.logger = logging.getLogger('pysoa.server')
        self.job_logger = logging.getLogger('pysoa.server.job')
        self.request_log_success_level: int = logging.getLevelName(settings['request_log_success_level'])
        self.request_log_error_level: int = logging.getLevelName(settings['request_log_error_level'])
        self.logging_dict_wrapper_class: Type[RecursivelyCensoredDictWrapper] = make_censoring_wrapper_class(
            settings['extra_fields_to_redact'],
        )
        self._request_logger = RequestLogger(
            self.job_logger,
            self.request_log_success_level,
            self.request_log_error_level,
            self.logging_dict_wrapper_class,
        )

    @staticmethod
    def make_middleware_stack(middleware: List[Callable[[Any], Any]], base: Any) -> Any:
        """Wrap ``base`` in each middleware callable, the first one outermost."""
        return chain_middleware(middleware, base)

    def make_client(self, context: Context, extra_context: Optional[Context] = None, **kwargs: Any) -> Client:
        """
        Return a client, configured from the ``client_routing`` setting, whose requests carry ``context`` (typically
        the current request's context, so correlation id and switches chain into nested calls) plus
        ``extra_context``, with ``calling_service`` set to this service's name.
        """
        context = dict(context)
        if extra_context:
            context.update(extra_context)
        context['calling_service'] = self.service_name
        return self.client_class(self.settings['client_routing'], context=context, **kwargs)

    # Request processing -------------------------------------------------------------------------------------------

    def handle_next_request(self) -> None:
        """
        Receive one job request from the transport, process it, and send the response. An idle poll (no request
        within the transport's receive timeout) runs :meth:`perform_idle_actions` instead. A request the transport
        cannot read is logged and dropped.
        """
        if self._idle_timer is None:
            self._idle_timer = self.metrics.timer('server.idle_time', resolution=TimerResolution.MICROSECONDS)
            self._idle_timer.start()

        try:
            request_id, meta, job_request = self.transport.receive_request_message()
            if request_id is None or meta is None or job_request is None:
                self.logger.warning('Transport returned an incomplete request message; treating it as an idle poll')
                raise MessageReceiveTimeout('Incomplete request message')
        except MessageReceiveTimeout:
            self._idle_timer.stop()
            self._idle_timer = None
            self.perform_idle_actions()
            self._set_busy_metrics(False)
            return
        except (InvalidMessageError, MessageTooLarge):
            self.logger.exception('Dropping a request the transport could not read')
            return

        self._idle_timer.stop()
        self._idle_timer = None
        self.handle_message(request_id, meta, job_request)

    def handle_message(self, request_id: int, meta: Dict[str, Any], job_request: Any) -> None:
        """
        Process one request the transport received, and send its response through the transport (unless the job
        asked for none). :meth:`handle_next_request` calls it for each request it receives; the local transport calls
        it directly with the request a client sends.

        :param request_id: The request's id.
        :param meta: The request's ``meta``, passed back to the transport with the response.
        :param job_request: The job request, as received (not yet validated).
        """
        self._set_busy_metrics(True)
        self.metrics.publish_all()

        PySOALogContextFilter.set_logging_request_context(**_logging_context(request_id, job_request))
        request_hook = self.request_hook
        if request_hook is not None:
            request_hook.on_request_start(request_id, meta, job_request)
        try:
            self._request_logger.log_request(job_request)
            client_version = client_version_from_meta(meta)

            self.perform_pre_request_actions()
            job_response = self.process_job(job_request)
            try:
                response_dict = job_response_to_dict(job_response, client_version)
            except Exception as e:
                self.metrics.counter('server.error.response_conversion_failure').increment()
                job_response = self.handle_unhandled_exception(
                    e,
                    JobResponse,
                    variables={'job_response': job_response},
                )
                response_dict = job_response_to_dict(job_response, client_version)

            control = job_request.get('control') if isinstance(job_request, dict) else None
            if not (isinstance(control, dict) and control.get('suppress_response')):
                job_response, response_dict = self._send_response(
                    request_id,
                    meta,
                    job_request,
                    job_response,
                    response_dict,
                    client_version,
                )

            self._request_logger.log_response(job_request, job_response, response_dict)
        finally:
            if request_hook is not None:
                request_hook.on_request_end()
            PySOALogContextFilter.clear_logging_request_context()
            self.perform_post_request_actions()
            self._set_busy_metrics(False)

    def _send_response(
        self,
        request_id: int,
        meta: Dict[str, Any],
        job_request: Any,
        job_response: JobResponse,
        response_dict: Dict[str, Any],
        client_version: Any,
    ) -> Any:
        """
        Send the response; if the transport refuses it as too large or unserializable, send a job error instead. A
        response that cannot be delivered at all (no usable reply queue, or an id or meta that cannot be echoed) is
        dropped with one log line: that is the request's problem, not the transport's, so the server keeps serving.
        """
        if self.shutting_down:
            # This was the last request: the response must not start waiting for one more.
            self.transport.stop_receiving()
        try:
            self.transport.send_response_message(request_id, meta, response_dict)
            return job_response, response_dict
        except MessageTooLarge as e:
            self.metrics.counter('server.error.response_too_large').increment()
            job_response = self.handle_job_error_code(
                ERROR_CODE_RESPONSE_TOO_LARGE,
                'Could not send the response because it was too large',
                self._request_logger.loggable(job_request),
                self._request_logger.loggable(response_dict),
                extra={'serialized_length_in_bytes': e.message_size_in_bytes},
            )
        except InvalidField:
            self.metrics.counter('server.error.response_not_serializable').increment()
            job_response = self.handle_job_error_code(
                ERROR_CODE_RESPONSE_NOT_SERIALIZABLE,
                'Could not send the response because it failed to serialize',
                self._request_logger.loggable(job_request),
                self._request_logger.loggable(response_dict),
            )
        except InvalidMessageError:
            self._drop_response(request_id)
            return job_response, response_dict

        response_dict = job_response_to_dict(job_response, client_version)
        try:
            self.transport.send_response_message(request_id, meta, response_dict)
        except (InvalidMessageError, InvalidField, MessageTooLarge):
            self._drop_response(request_id)
        return job_response, response_dict

    def _drop_response(self, request_id: Any) -> None:
        self.metrics.counter('server.error.response_not_sent').increment()
        self.logger.exception('Could not send the response to request %r; dropping it', request_id)

    def _set_busy_metrics(self, busy: bool) -> None:
        self.metrics.gauge('server.worker.running').set(1)
        self.metrics.gauge('server.worker.busy').set(1 if busy else 0)

    def process_job(self, job_request: Dict[str, Any]) -> JobResponse:
        """
        Validate a job request dict, run it through the job middleware and :meth:`execute_job`, and return the
        response. Never raises: validation failures and exceptions become job errors.
        """
        try:
            validation_errors = _JOB_REQUEST_SCHEMA.errors(job_request)
            if validation_errors:
                return JobResponse(errors=[_validation_error(e) for e in validation_errors])

            enriched_request = EnrichedJobRequest(
                client=self.make_client(job_request['context']),
                run_coroutine=self._async_event_loop_thread.run_coroutine,
                **job_request,
            )
            job_response = self.job_middleware_stack(enriched_request)
            if 'correlation_id' in enriched_request.context:
                job_response.context['correlation_id'] = enriched_request.context['correlation_id']
            return job_response
        except HarakiriInterrupt:
            self.metrics.counter('server.error.harakiri', harakiri_level='job').increment()
            return JobResponse(
                errors=[
                    Error(
                        code=ERROR_CODE_JOB_TIMEOUT,
                        message=(
                            'The service job ran for too long and had to be interrupted (probably a middleware issue).'
                        ),
                        is_caller_error=False,
                    )
                ]
            )
        except JobError as e:
            self.metrics.counter('server.error.job_error').increment()
            return JobResponse(errors=e.errors)
        except Exception as e:
            self.metrics.counter('server.error.unhandled_error').increment()
            return self.handle_unhandled_exception(e, JobResponse)

    def execute_job(self, job_request: EnrichedJobRequest) -> JobResponse:
        """
        Run the job's actions in order, each through the action middleware, and collect their responses. Stops after
        the first action with errors unless the control header says ``continue_on_error``.

        :raises JobError: If an action or action middleware raises it.
        """
        action_responses: List[ActionResponse] = []
        switches = job_request.context.get('switches') or ()
        continue_on_error = job_request.control.get('continue_on_error', False)

        for action_request in job_request.actions:
            request = self.request_class(
                action=action_request.action,
                body=action_request.body,
                switches=switches,
                context=job_request.context,
                control=job_request.control,
                client=job_request.client,
                run_coroutine=job_request.run_coroutine,
            )
            request._server = self
            action_response, interrupted = self._run_action(request)
            action_responses.append(action_response)
            if interrupted or (action_response.errors and not continue_on_error):
                break

        return JobResponse(actions=action_responses)

    def _run_action(self, request: EnrichedActionRequest) -> Any:
        action_name = request.action
        action_factory = self.get_action_factory(action_name)
        if action_factory is None:
            return ActionResponse(
                action=action_name,
                errors=[
                    Error(
                        code=ERROR_CODE_UNKNOWN,
                        message=f'The action "{action_name}" was not found on this server.',
                        field='action',
                        is_caller_error=True,
                    )
                ],
            ), False

        PySOALogContextFilter.set_logging_action_name(action_name)
        try:
            action = self.make_middleware_stack(self._action_middleware, action_factory(self.settings))
            return action(request), False
        except HarakiriInterrupt:
            self.metrics.counter('server.error.harakiri', harakiri_level='action').increment()
            return ActionResponse(
                action=action_name,
                errors=[
                    Error(
                        code=ERROR_CODE_ACTION_TIMEOUT,
                        message=f'The action "{action_name}" ran for too long and had to be interrupted.',
                        is_caller_error=False,
                    )
                ],
            ), True
        except ActionError as e:
            return ActionResponse(action=action_name, errors=e.errors), False
        except JobError:
            raise
        except Exception as e:
            self.metrics.counter('server.error.unhandled_error').increment()
            return self.handle_unhandled_exception(e, ActionResponse, action=action_name), False
        finally:
            PySOALogContextFilter.clear_logging_action_name()

    def get_action_factory(self, action_name: str) -> Optional[ActionType]:
        """
        Return what builds the named action: ``factory(settings)`` returns the callable that runs it. Looks in
        :attr:`action_class_map`, then at the built-in ``introspect`` and ``status`` actions; ``None`` if unknown.
        """
        if action_name in self.action_class_map:
            return self.action_class_map[action_name]
        if action_name == 'introspect':
            introspection_action = type(self).introspection_action or IntrospectionAction
            return lambda _settings: introspection_action(self)
        if action_name == 'status':
            server_class = type(self)
            status_class = Server._default_status_action_classes.get(server_class)
            if status_class is None:
                status_class = make_default_status_action_class(server_class)
                Server._default_status_action_classes[server_class] = status_class
            return status_class
        return None

    # Errors ---------------------------------------------------------------------------------------------------------

    def handle_unhandled_exception(
        self,
        exception: BaseException,
        response_type: Type[_R],
        variables: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> _R:
        """
        Log an unexpected exception and return a response of ``response_type`` carrying a ``SERVER_ERROR`` with its
        message, traceback and (``repr``-formatted) ``variables``. Call it from an ``except`` block.
        """
        try:
            error_text = str(exception)
        except Exception:
            self.metrics.counter('server.error.error_formatting_failure').increment()
            error_text = 'Error formatting error'
        traceback_text = traceback.format_exc()
        self.logger.exception(error_text)

        formatted_variables: Optional[Dict[str, Any]] = None
        if variables is not None:
            formatted_variables = {}
            for name, value in variables.items():
                try:
                    formatted_variables[name] = repr(value)
                except Exception:
                    self.metrics.counter('server.error.variable_formatting_failure').increment()
                    formatted_variables[name] = 'Error formatting variables'

        return response_type(
            errors=[
                Error(
                    code=ERROR_CODE_SERVER_ERROR,
                    message=f'Internal server error: {error_text}',
                    traceback=traceback_text,
                    variables=formatted_variables,
                    is_caller_error=False,
                )
            ],
            **kwargs,
        )

    def handle_job_error_code(
        self,
        code: str,
        message: str,
        request_for_logging: Any,
        response_for_logging: Any,
        extra: Optional[Dict[str, Any]] = None,
    ) -> JobResponse:
        """Log a job-level failure (with the current exception) and return a job response carrying that error."""
        data = {'request': request_for_logging, 'response': response_for_logging}
        if extra:
            data.update(extra)
        self.logger.error(message, exc_info=True, extra={'data': data})
        return JobResponse(errors=[Error(code=code, message=message, is_caller_error=False)])

    # Hooks ----------------------------------------------------------------------------------------------------------

    @classmethod
    def initialize(cls, settings: ServerSettings) -> Type['Server']:
        """Return the class to instantiate for these settings (``cls`` by default); called before the server starts."""
        return cls

    @classmethod
    def pre_fork(cls) -> None:
        """Called once in the parent process before it forks worker processes. Overriders must call ``super``."""

    def setup(self) -> None:
        """Called once before the server starts serving (also by the local transport). Overriders call ``super``."""

    def teardown(self) -> None:
        """Called once when the server shuts down. Overriders must call ``super``."""

    def perform_pre_request_actions(self) -> None:
        """Called before each job is processed. Overriders must call ``super``."""
        self.metrics.publish_all()
        if self.use_django:
            django_reset_database_queries()
            self._close_old_database_connections()

    def perform_post_request_actions(self) -> None:
        """Called after each job is processed (and its response sent). Overriders must call ``super``."""
        if self.use_django:
            self._close_old_database_connections()
            self._close_django_caches()
        if self._heartbeat is not None:
            self._heartbeat.beat()

    def perform_idle_actions(self) -> None:
        """Called after each idle poll of the transport. Overriders must call ``super``."""
        if self.use_django:
            self._close_old_database_connections()
        if self._heartbeat is not None:
            self._heartbeat.beat()

    def _close_old_database_connections(self) -> None:
        if not self._skip_django_database_cleanup:
            django_close_old_database_connections()

    def _close_django_caches(self, shutdown: bool = False) -> None:
        if not self.use_django:
            return
        from django.core.cache import caches

        if shutdown:
            self.logger.info('Closing all Django caches')
        for cache in caches.all():
            cache.close(for_shutdown=shutdown)

    # Running --------------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """
        Serve requests until told to stop: SIGINT or SIGTERM finish the job in progress and stop (a second signal
        stops at once), too many transport errors in a row stop the server, and harakiri interrupts a job that
        outlives ``harakiri.timeout``. Calls :meth:`setup` first and :meth:`teardown` last. Sets :attr:`exit_code`
        when the server stops because it cannot go on.
        """
        self.logger.info(
            'Service "%s" server starting up, pysoa version %s, listening on transport %s.',
            self.service_name,
            __version__,
            self.transport,
        )
        self.logger.info('Listening for requests on %s.', self.transport.describe())
        self.setup()
        self.metrics.counter('server.worker.startup').increment()
        self._set_busy_metrics(False)
        self.metrics.publish_all()

        self._async_event_loop_thread.start()
        if self.settings['heartbeat_file']:
            self._heartbeat = HeartbeatFile(self.settings['heartbeat_file'], self.forked_process_id)
            self._heartbeat.create()

        signal.signal(signal.SIGINT, self.handle_shutdown_signal)
        signal.signal(signal.SIGTERM, self.handle_shutdown_signal)
        signal.signal(signal.SIGALRM, self.harakiri)
        if self.request_hook is not None:
            self.request_hook.on_ready()

        self.transport.start_receiving()
        try:
            self._serve_until_shutdown()
        except HarakiriInterrupt:
            self.metrics.counter('server.error.harakiri', harakiri_level='server').increment()
            self.logger.error('Harakiri interrupt occurred outside of action or job handling')
        except Exception:
            self.metrics.counter('server.error.unknown').increment()
            self.logger.exception('Unhandled server error; shutting down')
            self.exit_code = UNHANDLED_ERROR_EXIT_CODE
        finally:
            self.transport.stop_receiving()
            self.teardown()
            self.metrics.counter('server.worker.shutdown').increment()
            self.metrics.gauge('server.worker.running').set(0)
            self.metrics.gauge('server.worker.busy').set(0)
            self.metrics.publish_all()
            self._async_event_loop_thread.join()
            self._close_django_caches(shutdown=True)
            if self._heartbeat is not None:
                self._heartbeat.delete()
            signal.alarm(0)
            self.logger.info('Server shutdown complete')

    def _serve_until_shutdown(self) -> None:
        transient_failures = 0
        harakiri_timeout = self.settings['harakiri']['timeout']
        while not self.shutting_down:
            signal.alarm(harakiri_timeout)
            try:
                self.handle_next_request()
                if transient_failures > 0:
                    transient_failures -= 1
            except TransientPySOATransportError as e:
                # Only the error itself: its traceback, deep in the Redis client, is noise unless debugging.
                self.logger.debug('Transport error details', exc_info=True)
                if transient_failures > 5:
                    self.logger.error(
                        'Too many errors receiving message from transport; shutting down! Last error: %s',
                        _describe_error(e),
                    )
                    self.exit_code = TRANSPORT_FAILURE_EXIT_CODE
                    break
                delay = (2**transient_failures + random.random()) / 4.0
                self.logger.warning(
                    'Transient error receiving message from transport (%s); retrying in %.2f seconds',
                    _describe_error(e),
                    delay,
                )
                time.sleep(delay)
                transient_failures += 1
            finally:
                self.metrics.publish_all()

    def handle_shutdown_signal(self, signal_number: int, _frame: Optional[FrameType]) -> None:
        """
        The SIGINT/SIGTERM handler: the first signal asks the server to stop after the job in progress; a second one
        stops it at once, except that a SIGINT and a SIGTERM less than a second apart (as Ctrl+C in some terminals
        sends) count as one.
        """
        if not self._shutdown_lock.acquire(False):
            return
        try:
            if self.shutting_down:
                if (
                    self._last_signal in (signal.SIGINT, signal.SIGTERM)
                    and self._last_signal != signal_number
                    and time.time() - self._last_signal_received < 1
                ):
                    self.logger.info('Ignoring duplicate shutdown signal received within one second of the first')
                else:
                    self.logger.warning('Received double interrupt, forcing shutdown')
                    sys.exit(1)
            else:
                self.logger.warning('Received interrupt, initiating shutdown')
                self.shutting_down = True
            self._last_signal = signal_number
            self._last_signal_received = time.time()
        finally:
            self._shutdown_lock.release()

    def harakiri(self, signal_number: int, _frame: Optional[FrameType]) -> None:
        """
        The SIGALRM handler, called when one request (or idle poll) took longer than ``harakiri.timeout``: interrupt
        it with :class:`HarakiriInterrupt` and shut down; if the shutdown itself outlives ``harakiri.shutdown_grace``,
        leave the process at once (a supervisor such as ``--fork`` starts a replacement).
        """
        if not self._shutdown_lock.acquire(False):
            return
        try:
            thread_stacks = get_thread_stacks()
            grace = self.settings['harakiri']['shutdown_grace']
            if self.shutting_down:
                self.logger.error(
                    'Graceful shutdown failed %s seconds after harakiri. Exiting now!',
                    grace,
                    extra={'data': {'thread_status': thread_stacks}},
                )
                self.metrics.counter('server.error.harakiri', harakiri_level='emergency').increment()
                self.metrics.publish_all()
                exit_now(HARAKIRI_FORCED_EXIT_CODE)
            timeout = self.settings['harakiri']['timeout']
            self.logger.warning(
                'No activity for %s seconds, triggering harakiri with grace period of %s seconds',
                timeout,
                grace,
                extra={'data': {'thread_status': thread_stacks}},
            )
            self.logger.info(
                'Thread stacks at harakiri:\n%s',
                '\n'.join(f'{name}:\n{stack}' for name, stack in thread_stacks.items()),
            )
            signal.alarm(grace)
            self.shutting_down = True
            self.exit_code = HARAKIRI_EXIT_CODE
        finally:
            self._shutdown_lock.release()
        raise HarakiriInterrupt()

    @classmethod
    def main(cls, forked_process_id: Optional[int] = None, request_hook: Optional[RequestHook] = None) -> None:
        """
        Run a server of this class from the command line: ``-s/--settings`` names the settings module (not needed
        with ``use_django``, whose settings come from Django), ``-d/--daemon`` forks into the background first.
        Usually called through :func:`pysoa.server.standalone.simple_main` or ``django_main``. Exits with the
        server's :attr:`exit_code` if it stopped because it could not go on. ``request_hook`` becomes the server's
        :attr:`request_hook`.
        """
        arguments = parse_server_arguments(cls.service_name or cls.__name__, cls.use_django)
        if cls.use_django:
            settings_data = load_django_server_settings()
        else:
            settings_data = load_settings_module(arguments.settings)
        settings = cls.settings_class(settings_data)

        PySOALogContextFilter.set_service_name(cls.service_name or '')
        logging.config.dictConfig(settings['logging'])
        if arguments.daemon:
            daemonize()
        server = cls.initialize(settings)(settings, forked_process_id)
        if request_hook is not None:
            server.request_hook = request_hook
        server.run()
        if server.exit_code:
            sys.exit(server.exit_code)


def _describe_error(error: BaseException) -> str:
    """An exception on one line: its class and arguments."""
    text = ' - '.join(str(argument) for argument in error.args)
    return ' '.join(f'{type(error).__name__}: {text}'.split()) if text else type(error).__name__


_BOUNDED_REPR = reprlib.Repr()  # limits depth and length


_JOB_REQUEST_SCHEMA = FastSchema(JobRequestSchema)


def _validation_error(error: ConformityError) -> Error:
    return Error(code=error.code, message=error.message, field=error.pointer, is_caller_error=False)


def _logging_context(request_id: Any, job_request: Any) -> Dict[str, Any]:
    context = job_request.get('context') if isinstance(job_request, dict) else None
    logging_context = {k: v for k, v in context.items() if isinstance(k, str)} if isinstance(context, dict) else {}
    logging_context['request_id'] = request_id
    # Every log line of the request formats these two: a hostile request must not make that fail or flood the log.
    for name in ('correlation_id', 'request_id'):
        value = logging_context.get(name)
        if not isinstance(value, (str, int, float, type(None))):
            logging_context[name] = _BOUNDED_REPR.repr(value)
    return logging_context
