from conformity import fields
from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server


GREETINGS = {
    'en': 'Hello, {name}!',
    'fr': 'Bonjour, {name} !',
}


class HelloAction(Action):
    """Greets someone by name."""

    request_schema = fields.Dictionary(
        {
            'name': fields.UnicodeString(min_length=1, max_length=50, description='Who to greet'),
            'language': fields.Constant(*sorted(GREETINGS), description='The language of the greeting'),
        },
        optional_keys=('language',),
    )
    response_schema = fields.Dictionary({'greeting': fields.UnicodeString()})

    def run(self, request):
        language = request.body.get('language', 'en')
        return {'greeting': GREETINGS[language].format(name=request.body['name'])}


class GreetUserAction(Action):
    """Greets a user of the ``user`` service."""

    request_schema = fields.Dictionary({'user_id': fields.Integer(gt=0)})
    response_schema = fields.Dictionary({'greeting': fields.UnicodeString()})

    def run(self, request):
        try:
            user = request.client.call_action('user', 'get_user', {'id': request.body['user_id']}).body
        except CallActionError as e:
            if any(error.code == 'NOT_FOUND' for error in e.actions[0].errors):
                raise ActionError([Error('USER_NOT_FOUND', 'There is no user with this ID', field='user_id')]) from e
            raise
        if not user['active']:
            raise ActionError([Error('USER_INACTIVE', 'Only active users are greeted')])
        return {'greeting': GREETINGS['en'].format(name=user['name'])}


class GreetingServer(Server):
    service_name = 'greeting'
    action_class_map = {
        'hello': HelloAction,
        'greet_user': GreetUserAction,
    }
