"""
Test cases for a service's own tests: each test gets ``self.client``, a client calling the service in-process
through the local transport, and helpers asserting on the errors an action returns.

* :class:`PyTestServerTestCase` (also ``ServerTestCase``) for pytest-style test classes;
* :class:`UnitTestServerTestCase` for ``unittest.TestCase`` suites.

Set ``server_class`` and, optionally, ``server_settings`` (otherwise Django's ``SOA_SERVER_SETTINGS`` for Django
services, or the ``SOA_SERVER_SETTINGS`` of the module named by the ``PYSOA_SETTINGS_MODULE`` environment variable).
"""

import contextlib
import functools
import importlib
import inspect
import os
import traceback
import unittest
import warnings
from typing import (
    Any,
    Callable,
    ClassVar,
    ContextManager,
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
    Type,
)

from pysoa.test._testing_extra import missing_testing_extra


try:
    import pytest
except ImportError as e:
    raise missing_testing_extra(e, __name__) from e

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.types import Body
from pysoa.server.server import Server
from pysoa.test.assertions import (
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
)


__all__ = (
    'BaseServerTestCase',
    'PyTestServerTestCase',
    'ServerTestCase',
    'UnitTestServerTestCase',
)


@contextlib.contextmanager
def _as_assertion_error() -> Iterator[None]:
    """Report a pytest failure as an ``AssertionError``, so plain unittest runners count it as a failure."""
    try:
        yield
    except pytest.fail.Exception as e:
        raise AssertionError(str(e)) from None


class BaseServerTestCase:
    """The part shared by both test case styles: building the client and the action assertions."""

    server_class: ClassVar[Optional[Type[Server]]] = None
    server_settings: ClassVar[Optional[Dict[str, Any]]] = None

    client: Client
    service_name: str

    def setup_pysoa(self) -> None:
        """Build ``self.client`` for ``server_class``; called before each test."""
        server_class = self.server_class
        if server_class is None:
            raise TypeError('You must specify `server_class` in `ServerTestCase` subclasses')
        if not isinstance(server_class, type) or not issubclass(server_class, Server):
            raise TypeError('`server_class` must be a subclass of `Server` in `ServerTestCase` subclasses')
        if not server_class.service_name:
            raise TypeError('`server_class.service_name` must be set in `ServerTestCase` subclasses')
        self.service_name = server_class.service_name

        self.client = Client(
            {
                self.service_name: {
                    'transport': {
                        'path': 'pysoa.common.transport.local:LocalClientTransport',
                        'kwargs': {'server_class': server_class, 'server_settings': self._find_server_settings()},
                    },
                },
            }
        )
        local_server = getattr(self.client._get_handler(self.service_name).transport, 'server', None)
        if local_server is not None:
            local_server._skip_django_database_cleanup = True

    def _find_server_settings(self) -> Dict[str, Any]:
        if self.server_settings is not None:
            return self.server_settings
        assert self.server_class is not None
        if self.server_class.use_django:
            from django.conf import settings

            return settings.SOA_SERVER_SETTINGS  # type: ignore[no-any-return]
        module_name = os.environ.get('PYSOA_SETTINGS_MODULE')
        assert module_name, (
            'No `server_settings` on the test case, and the PYSOA_SETTINGS_MODULE environment variable is not set'
        )
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise AssertionError(f'Could not import PYSOA_SETTINGS_MODULE `{module_name}`: {e}') from e
        return module.SOA_SERVER_SETTINGS  # type: ignore[no-any-return]

    def call_action(
        self, action: str, body: Optional[Body] = None, service_name: Optional[str] = None, **kwargs: Any
    ) -> Any:
        """Call an action of the service under test (or of ``service_name``) through ``self.client``."""
        return self.client.call_action(service_name or self.service_name, action, body=body, **kwargs)

    def assertActionRunsWithAndReturnErrors(self, action: str, body: Optional[Body], **kwargs: Any) -> List[Error]:
        """Call the action, expect it to fail, and return its errors."""
        with _as_assertion_error():
            with raises_call_action_error() as info:
                self.call_action(action, body, **kwargs)
        return info.soa_errors  # type: ignore[attr-defined,no-any-return]

    def assertActionRunsWithFieldErrors(
        self, action: str, body: Optional[Body], field_errors: Dict[str, Any], only: bool = False, **kwargs: Any
    ) -> None:
        """Call the action and expect, among its errors, these ``{field: code(s)}`` field errors."""
        with _as_assertion_error(), raises_field_errors(field_errors, only=only):
            self.call_action(action, body, **kwargs)

    def assertActionRunsWithOnlyFieldErrors(
        self, action: str, body: Optional[Body], field_errors: Dict[str, Any], **kwargs: Any
    ) -> None:
        """Call the action and expect exactly these ``{field: code(s)}`` field errors."""
        self.assertActionRunsWithFieldErrors(action, body, field_errors, only=True, **kwargs)

    def assertActionRunsWithErrorCodes(
        self, action: str, body: Optional[Body], error_codes: Any, only: bool = False, **kwargs: Any
    ) -> None:
        """Call the action and expect, among its errors, (non-field) errors with these codes."""
        with _as_assertion_error(), raises_error_codes(error_codes, only=only):
            self.call_action(action, body, **kwargs)

    def assertActionRunsWithOnlyErrorCodes(
        self, action: str, body: Optional[Body], error_codes: Any, **kwargs: Any
    ) -> None:
        """Call the action and expect exactly (non-field) errors with these codes."""
        self.assertActionRunsWithErrorCodes(action, body, error_codes, only=True, **kwargs)


class UnitTestServerTestCase(unittest.TestCase, BaseServerTestCase):
    """A ``unittest.TestCase`` for a service: ``setUp`` builds ``self.client``."""

    def setUp(self) -> None:
        super().setUp()
        self.setup_pysoa()


# unittest's own assertion implementations, reused for pytest-style classes (their failure messages included).
_unittest_assertions = unittest.TestCase()
_unittest_assertions.maxDiff = None


class _UnittestAssertion:
    """A ``unittest.TestCase`` assertion method, offered by :class:`PyTestServerTestCase` under the same name."""

    def __set_name__(self, owner: Any, name: str) -> None:
        method = getattr(_unittest_assertions, name)

        @functools.wraps(method)  # its signature
        def assertion(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        # unittest's own docstrings are not reStructuredText
        assertion.__doc__ = f'``unittest.TestCase.{name}``, in a pytest-style test class.'
        self._assertion = assertion

    def __get__(self, instance: Any, owner: Any = None) -> Callable[..., Any]:
        return self._assertion


class _DeprecatedAssertionAlias:
    """An old name of an assertion method: calls ``replacement`` with a ``DeprecationWarning``."""

    def __init__(self, replacement: str) -> None:
        self._replacement = replacement

    def __get__(self, instance: Any, owner: Any = None) -> Callable[..., Any]:
        replacement = self._replacement
        target = getattr(owner if instance is None else instance, replacement)

        @functools.wraps(target)  # the replacement's signature and documentation
        def assertion(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(
                f'Please use {replacement} instead. This will be removed in PySOA 2.0.',
                DeprecationWarning,
                stacklevel=2,
            )
            return target(*args, **kwargs)

        return assertion


def _overrides(test_case: Any, name: str) -> bool:
    """Whether a test class (or instance) replaces the do-nothing legacy unittest hook ``name``."""
    return inspect.getattr_static(test_case, name, None) is not vars(PyTestServerTestCase)[name]


class _RaisesContext:
    """``pytest.raises`` whose ``ExceptionInfo`` also answers to unittest's ``.exception``."""

    def __init__(self, raises: Any) -> None:
        self._raises = raises

    def __enter__(self) -> Any:
        info = self._raises.__enter__()
        return _ExceptionInfoProxy(info)

    def __exit__(self, *exc_info: Any) -> Any:
        return self._raises.__exit__(*exc_info)


def _raises(exception: Any, **kwargs: Any) -> _RaisesContext:
    return _RaisesContext(pytest.raises(exception, **kwargs))


def _expect(
    make_context: Callable[..., ContextManager[Any]],
    function: Optional[Callable[..., Any]],
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
) -> Any:
    """
    The two forms of unittest's ``assertRaises`` and ``assertWarns`` families: without a callable, the context manager
    (unittest's ``msg`` keyword has no pytest equivalent and is ignored); with one, call it inside the context manager.
    """
    if function is None:
        kwargs.pop('msg', None)
        return make_context(**kwargs)
    with make_context():
        function(*args, **kwargs)
    return None


class _ExceptionInfoProxy:
    def __init__(self, info: Any) -> None:
        self._info = info

    @property
    def exception(self) -> Any:
        return self._info.value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._info, name)


class PyTestServerTestCase(BaseServerTestCase):
    """
    A pytest-style test class for a service: ``setup_method`` builds ``self.client``. It also offers the
    ``unittest.TestCase`` assertion methods (``assertEqual``, ``assertRaises``, ...) and, for suites moving from
    unittest, calls ``setUp``/``tearDown``/``setUpClass``/``tearDownClass`` and ``addCleanup`` callbacks (with a
    ``DeprecationWarning``: use pytest's ``setup_method``, fixtures and ``yield`` instead).
    """

    _cleanups: List[Tuple[Callable[..., Any], Tuple[Any, ...], Dict[str, Any]]]

    # unittest.TestCase's assertion methods, and their old names (deprecated)
    fail = _UnittestAssertion()
    assertEqual = _UnittestAssertion()
    assertNotEqual = _UnittestAssertion()
    assertMultiLineEqual = _UnittestAssertion()
    assertSequenceEqual = _UnittestAssertion()
    assertListEqual = _UnittestAssertion()
    assertTupleEqual = _UnittestAssertion()
    assertSetEqual = _UnittestAssertion()
    assertDictEqual = _UnittestAssertion()
    assertCountEqual = _UnittestAssertion()
    assertAlmostEqual = _UnittestAssertion()
    assertNotAlmostEqual = _UnittestAssertion()
    assertTrue = _UnittestAssertion()
    assertFalse = _UnittestAssertion()
    assertIs = _UnittestAssertion()
    assertIsNot = _UnittestAssertion()
    assertIsNone = _UnittestAssertion()
    assertIsNotNone = _UnittestAssertion()
    assertIn = _UnittestAssertion()
    assertNotIn = _UnittestAssertion()
    assertIsInstance = _UnittestAssertion()
    assertNotIsInstance = _UnittestAssertion()
    assertGreater = _UnittestAssertion()
    assertGreaterEqual = _UnittestAssertion()
    assertLess = _UnittestAssertion()
    assertLessEqual = _UnittestAssertion()
    assertRegex = _UnittestAssertion()
    assertNotRegex = _UnittestAssertion()
    assertLogs = _UnittestAssertion()
    assertEquals = _DeprecatedAssertionAlias('assertEqual')
    failUnlessEqual = _DeprecatedAssertionAlias('assertEqual')
    assertNotEquals = _DeprecatedAssertionAlias('assertNotEqual')
    failIfEqual = _DeprecatedAssertionAlias('assertNotEqual')
    assertAlmostEquals = _DeprecatedAssertionAlias('assertAlmostEqual')
    failUnlessAlmostEqual = _DeprecatedAssertionAlias('assertAlmostEqual')
    assertNotAlmostEquals = _DeprecatedAssertionAlias('assertNotAlmostEqual')
    failIfAlmostEqual = _DeprecatedAssertionAlias('assertNotAlmostEqual')
    failUnless = _DeprecatedAssertionAlias('assertTrue')
    assert_ = _DeprecatedAssertionAlias('assertTrue')
    failIf = _DeprecatedAssertionAlias('assertFalse')
    assertRegexpMatches = _DeprecatedAssertionAlias('assertRegex')
    assertNotRegexpMatches = _DeprecatedAssertionAlias('assertNotRegex')
    failUnlessRaises = _DeprecatedAssertionAlias('assertRaises')
    assertRaisesRegexp = _DeprecatedAssertionAlias('assertRaisesRegex')

    @classmethod
    def setup_class(cls) -> None:
        if _overrides(cls, 'setUpClass'):
            warnings.warn('setUpClass is deprecated; use setup_class', DeprecationWarning, stacklevel=2)
            cls.setUpClass()

    @classmethod
    def teardown_class(cls) -> None:
        if _overrides(cls, 'tearDownClass'):
            warnings.warn('tearDownClass is deprecated; use teardown_class', DeprecationWarning, stacklevel=2)
            cls.tearDownClass()

    def setup_method(self, _method: Any = None) -> None:
        self._cleanups = []
        self.setup_pysoa()
        if _overrides(self, 'setUp'):
            warnings.warn('setUp is deprecated; use setup_method', DeprecationWarning, stacklevel=2)
            self.setUp()

    def teardown_method(self, _method: Any = None) -> None:
        try:
            if _overrides(self, 'tearDown'):
                warnings.warn('tearDown is deprecated; use teardown_method', DeprecationWarning, stacklevel=2)
                self.tearDown()
        finally:
            self.doCleanups()

    # The legacy unittest hooks do nothing here, so that overrides can call ``super()``; ``setup_class``,
    # ``setup_method``, ``teardown_method`` and ``teardown_class`` call the overrides.

    @classmethod
    def setUpClass(cls) -> None:
        """Deprecated, to be removed in PySOA 2.0: override :meth:`setup_class` instead (calling ``super()``)."""

    @classmethod
    def tearDownClass(cls) -> None:
        """Deprecated, to be removed in PySOA 2.0: override :meth:`teardown_class` instead (calling ``super()``)."""

    def setUp(self) -> None:
        """Deprecated, to be removed in PySOA 2.0: override :meth:`setup_method` instead (calling ``super()``)."""

    def tearDown(self) -> None:
        """Deprecated, to be removed in PySOA 2.0: override :meth:`teardown_method` instead (calling ``super()``)."""

    def addCleanup(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``function`` after the test (last added, first called)."""
        warnings.warn('addCleanup is deprecated; use pytest fixtures with yield', DeprecationWarning, stacklevel=2)
        self.__dict__.setdefault('_cleanups', []).append((function, args, kwargs))

    def doCleanups(self) -> None:
        """Run the cleanups; the last failure is raised after all have run, earlier ones are printed."""
        failure: Optional[BaseException] = None
        cleanups = self.__dict__.setdefault('_cleanups', [])
        while cleanups:
            function, args, kwargs = cleanups.pop()
            try:
                function(*args, **kwargs)
            except Exception as e:
                if failure is not None:
                    traceback.print_exception(type(failure), failure, failure.__traceback__)
                failure = e
        if failure is not None:
            raise failure

    def assertRaises(
        self, exception: Any, callable: Optional[Callable[..., Any]] = None, *args: Any, **kwargs: Any
    ) -> Any:
        """
        Like unittest's: with a callable, call it with the other arguments and expect the exception; else return a
        context manager expecting it, whose ``exception`` (also ``value``) is the exception raised.
        """
        return _expect(functools.partial(_raises, exception), callable, args, kwargs)

    def assertRaisesRegex(
        self, exception: Any, regex: Any, callable: Optional[Callable[..., Any]] = None, *args: Any, **kwargs: Any
    ) -> Any:
        """Like :meth:`assertRaises`, also matching the exception's text against ``regex``."""
        return _expect(functools.partial(_raises, exception, match=regex), callable, args, kwargs)

    def assertWarns(
        self, exception: Any, callable: Optional[Callable[..., Any]] = None, *args: Any, **kwargs: Any
    ) -> Any:
        """Like unittest's, built on ``pytest.warns``: the context manager records the warnings."""
        return _expect(functools.partial(pytest.warns, exception), callable, args, kwargs)

    def assertWarnsRegex(
        self, exception: Any, regex: Any, callable: Optional[Callable[..., Any]] = None, *args: Any, **kwargs: Any
    ) -> Any:
        """Like :meth:`assertWarns`, also matching the warning's text against ``regex``."""
        return _expect(functools.partial(pytest.warns, exception, match=regex), callable, args, kwargs)


ServerTestCase = PyTestServerTestCase
