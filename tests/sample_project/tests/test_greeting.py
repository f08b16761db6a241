from pysoa.common.errors import Error
from pysoa.server.errors import ActionError
from pysoa.test.assertions import (
    raises_call_action_error,
    raises_error_codes,
    raises_only_field_errors,
)
from pysoa.test.server import (
    ServerTestCase,
    UnitTestServerTestCase,
)
from pysoa.test.stub_service import stub_action

from greeting_service.server import GreetingServer
from greeting_service.settings import SOA_SERVER_SETTINGS


ANN = {'id': 5, 'name': 'Ann', 'active': True}


class TestGreetingService(ServerTestCase):
    server_class = GreetingServer
    server_settings = SOA_SERVER_SETTINGS

    def test_hello(self):
        response = self.call_action('hello', {'name': 'Ann'})

        assert response.body == {'greeting': 'Hello, Ann!'}

    def test_hello_in_french(self):
        response = self.call_action('hello', {'name': 'Ann', 'language': 'fr'})

        assert response.body == {'greeting': 'Bonjour, Ann !'}

    def test_hello_needs_a_name(self):
        self.assertActionRunsWithOnlyFieldErrors('hello', {}, {'name': 'MISSING'})

    def test_hello_rejects_an_empty_name_and_an_unknown_language(self):
        self.assertActionRunsWithFieldErrors(
            'hello',
            {'name': '', 'language': 'de'},
            {'name': 'INVALID', 'language': 'UNKNOWN'},
        )

    def test_hello_rejects_unknown_fields(self):
        self.assertActionRunsWithOnlyErrorCodes('hello', {'name': 'Ann', 'age': 30}, 'UNKNOWN')

    @stub_action('user', 'get_user', body=ANN)
    def test_greet_user(self, get_user):
        response = self.call_action('greet_user', {'user_id': 5})

        assert response.body == {'greeting': 'Hello, Ann!'}
        assert get_user.call_body == {'id': 5}

    def test_greet_unknown_user(self):
        not_found = Error(code='NOT_FOUND', message='No such user', field='id')

        with stub_action('user', 'get_user', errors=[not_found]) as get_user:
            with raises_only_field_errors({'user_id': 'USER_NOT_FOUND'}):
                self.call_action('greet_user', {'user_id': 404})

        assert get_user.call_count == 1

    def test_greet_inactive_user(self):
        with stub_action('user', 'get_user', body=dict(ANN, active=False)):
            with raises_error_codes('USER_INACTIVE') as error_info:
                self.call_action('greet_user', {'user_id': 5})

        assert error_info.soa_errors[0].message == 'Only active users are greeted'


@stub_action('user', 'get_user', body=ANN)
class GreetUserTests(UnitTestServerTestCase):
    server_class = GreetingServer
    server_settings = SOA_SERVER_SETTINGS

    def test_greet_user(self, get_user):
        response = self.call_action('greet_user', {'user_id': 5})

        self.assertEqual(response.body, {'greeting': 'Hello, Ann!'})
        get_user.assert_called_once_with({'id': 5})

    def test_user_id_must_be_positive(self, get_user):
        self.assertActionRunsWithOnlyFieldErrors('greet_user', {'user_id': 0}, {'user_id': 'INVALID'})

        get_user.assert_not_called()

    def test_greet_unknown_user(self, get_user):
        get_user.side_effect = ActionError([Error(code='NOT_FOUND', message='No such user', field='id')])

        errors = self.assertActionRunsWithAndReturnErrors('greet_user', {'user_id': 404})

        self.assertEqual([(e.code, e.field) for e in errors], [('USER_NOT_FOUND', 'user_id')])

    def test_user_service_errors_are_server_errors(self, get_user):
        get_user.side_effect = ActionError([Error(code='DATABASE_DOWN', message='Try again later')])

        self.assertActionRunsWithErrorCodes('greet_user', {'user_id': 5}, 'SERVER_ERROR')


class GreetInactiveUserTests(UnitTestServerTestCase):
    server_class = GreetingServer
    server_settings = SOA_SERVER_SETTINGS

    def test_greet_inactive_user(self):
        with stub_action('user', 'get_user', body=dict(ANN, active=False)) as get_user:
            with raises_call_action_error() as error_info:
                self.call_action('greet_user', {'user_id': 5})

        self.assertEqual(error_info.soa_errors[0].code, 'USER_INACTIVE')
        self.assertEqual(get_user.call_bodies, ({'id': 5},))
