"""The Conformity schemas every job request is validated against before any action runs."""

from conformity import fields


__all__ = (
    'ActionRequestSchema',
    'ContextHeaderSchema',
    'ControlHeaderSchema',
    'JobRequestSchema',
)

ActionRequestSchema = fields.Dictionary(
    {
        'action': fields.UnicodeString(description='The name of the action to run'),
        'body': fields.SchemalessDictionary(key_type=fields.UnicodeString(), description="The action's input"),
    },
    optional_keys=('body',),
    description='A request to run one action',
)

ControlHeaderSchema = fields.Dictionary(
    {
        'continue_on_error': fields.Boolean(description='Whether to run the next actions after one fails'),
        'suppress_response': fields.Boolean(description='Whether the server should run the job without replying'),
    },
    optional_keys=('suppress_response',),
    allow_extra_keys=True,
    description='The control header of a job request',
)

ContextHeaderSchema = fields.Dictionary(
    {
        'switches': fields.List(fields.Integer(), description='The feature switches active for this request'),
        'correlation_id': fields.UnicodeString(description='The id shared by all requests of one originating call'),
        'caller': fields.UnicodeString(description='A free-form description of the caller'),
        'calling_service': fields.UnicodeString(description='The service that made this request, if any'),
    },
    optional_keys=('caller', 'calling_service'),
    allow_extra_keys=True,
    description='The context header of a job request',
)

JobRequestSchema = fields.Dictionary(
    {
        'control': ControlHeaderSchema,
        'context': ContextHeaderSchema,
        'actions': fields.List(ActionRequestSchema, min_length=1, description='The actions to run, in order'),
    },
    description='A job request',
)
