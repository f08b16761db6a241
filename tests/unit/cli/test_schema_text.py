"""``pysoa introspect`` writes each Conformity schema as indented lines, one per field."""

from conformity import fields

from pysoa.cli._schema_text import schema_lines


def test_each_field_of_a_dictionary_is_a_line_with_its_type_constraints_and_description() -> None:
    schema = fields.Dictionary(
        {'name': fields.UnicodeString(min_length=1, description='Who'), 'age': fields.Integer(gte=0)},
        optional_keys=('age',),
    )

    assert schema_lines(schema.introspect()) == [
        'name: unicode (min_length 1) - Who',
        'age (optional): integer (gte 0)',
    ]


def test_nested_dictionaries_are_indented_under_their_field() -> None:
    schema = fields.Dictionary({'address': fields.Dictionary({'city': fields.UnicodeString()}, allow_extra_keys=True)})

    assert schema_lines(schema.introspect()) == [
        'address: dictionary (extra keys allowed)',
        '  city: unicode',
    ]


def test_containers_say_what_they_contain() -> None:
    schema = fields.Dictionary(
        {
            'tags': fields.List(fields.UnicodeString(), max_length=3),
            'ids': fields.Set(fields.Integer()),
            'scores': fields.SchemalessDictionary(key_type=fields.UnicodeString(), value_type=fields.Float()),
            'nickname': fields.Nullable(fields.UnicodeString(description='A nickname')),
            'people': fields.List(fields.Dictionary({'id': fields.Integer()})),
        }
    )

    assert schema_lines(schema.introspect()) == [
        'tags: list (max_length 3) of unicode',
        'ids: set of integer',
        'scores: dictionary of unicode to float',
        'nickname: unicode or null - A nickname',
        'people: list of dictionary',
        '  id: integer',
    ]


def test_choices_list_their_options() -> None:
    schema = fields.Dictionary(
        {
            'language': fields.Constant('en', 'fr'),
            'kind': fields.Constant('user'),
            'id': fields.Any(fields.Integer(), fields.UnicodeString()),
            'point': fields.Tuple(fields.Float(), fields.Float()),
        }
    )

    assert schema_lines(schema.introspect()) == [
        'language: one of "en", "fr"',
        'kind: "user"',
        'id: any of',
        '  - integer',
        '  - unicode',
        'point: tuple',
        '  [0] float',
        '  [1] float',
    ]


def test_a_polymorph_lists_each_case_of_its_switch_field() -> None:
    schema = fields.Dictionary(
        {
            'shape': fields.Polymorph(
                'kind',
                {
                    'circle': fields.Dictionary({'kind': fields.Constant('circle'), 'radius': fields.Float()}),
                    '__default__': fields.Anything(),
                },
            )
        }
    )

    assert schema_lines(schema.introspect()) == [
        'shape: depending on kind',
        '  kind = circle: dictionary',
        '    kind: "circle"',
        '    radius: float',
        '  kind = __default__: anything',
    ]


def test_an_action_without_a_schema_says_so() -> None:
    assert schema_lines(None) == ['(no schema)']


def test_a_dictionary_without_fields_says_so() -> None:
    assert schema_lines(fields.Dictionary({}).introspect()) == ['(no fields)']


def test_a_schema_that_is_not_a_dictionary_is_one_line() -> None:
    assert schema_lines(fields.SchemalessDictionary().introspect()) == ['dictionary of anything to anything']
