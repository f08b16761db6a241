"""Expansion settings, expansion trees and the conversions between trees and the ``expansions`` argument."""

import copy
from typing import Any, Dict, List, Tuple

import pytest

from pysoa.client.expander import (
    ExpansionConverter,
    ExpansionNode,
    Expansions,
    ExpansionSettings,
    TypeExpansions,
    TypeNode,
    TypeRoutes,
)


TYPE_ROUTES: TypeRoutes = {
    'venue_route': {
        'service': 'venue',
        'action': 'get_venues',
        'request_field': 'venue_ids',
        'response_field': 'venues',
    },
    'address_route': {
        'service': 'geo',
        'action': 'get_addresses',
        'request_field': 'address_ids',
        'response_field': 'addresses',
    },
    'performer_route': {
        'service': 'performer',
        'action': 'get_performers',
        'request_field': 'performer_ids',
        'response_field': 'performers',
    },
}

TYPE_EXPANSIONS: TypeExpansions = {
    'event': {
        'venue': {
            'type': 'venue',
            'route': 'venue_route',
            'source_field': 'venue_id',
            'destination_field': 'venue',
            'raise_action_errors': True,
        },
        'performer': {
            'type': 'performer',
            'route': 'performer_route',
            'source_field': 'performer_id',
            'destination_field': 'performer',
        },
    },
    'venue': {
        'address': {
            'type': None,
            'route': 'address_route',
            'source_field': 'address_id',
            'destination_field': 'address',
            'raise_action_errors': False,
        },
    },
    'performer': {
        'home_venue': {
            'type': 'venue',
            'route': 'venue_route',
            'source_field': 'home_venue_id',
            'destination_field': 'home_venue',
        },
    },
}


def make_config() -> Dict[str, Any]:
    return {'type_routes': copy.deepcopy(TYPE_ROUTES), 'type_expansions': copy.deepcopy(TYPE_EXPANSIONS)}


@pytest.fixture
def converter() -> ExpansionConverter:
    return ExpansionConverter(type_routes=TYPE_ROUTES, type_expansions=TYPE_EXPANSIONS)


def venue_node(**overrides: Any) -> ExpansionNode:
    kwargs: Dict[str, Any] = {
        'node_type': 'venue',
        'name': 'venue',
        'source_field': 'venue_id',
        'destination_field': 'venue',
        'service': 'venue',
        'action': 'get_venues',
        'request_field': 'venue_ids',
        'response_field': 'venues',
    }
    kwargs.update(overrides)
    return ExpansionNode(**kwargs)


def address_node() -> ExpansionNode:
    return ExpansionNode(
        node_type=None,
        name='address',
        source_field='address_id',
        destination_field='address',
        service='geo',
        action='get_addresses',
        request_field='address_ids',
        response_field='addresses',
    )


def sorted_expansions(expansions: Expansions) -> Dict[str, List[str]]:
    return {type_name: sorted(strings) for type_name, strings in expansions.items()}


# ExpansionSettings


def test_settings_accept_a_valid_config() -> None:
    settings = ExpansionSettings(make_config())
    assert settings['type_routes'] == TYPE_ROUTES
    assert settings['type_expansions'] == TYPE_EXPANSIONS


def test_settings_accept_empty_routes_and_expansions() -> None:
    settings = ExpansionSettings({'type_routes': {}, 'type_expansions': {}})
    assert dict(settings) == {'type_routes': {}, 'type_expansions': {}}


@pytest.mark.parametrize('key', ['type_routes', 'type_expansions'])
def test_settings_require_both_keys(key: str) -> None:
    config = make_config()
    del config[key]
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match=key):
        ExpansionSettings(config)


def test_settings_reject_unknown_keys() -> None:
    config = make_config()
    config['type_aliases'] = {}
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match='Unknown setting'):
        ExpansionSettings(config)


@pytest.mark.parametrize('key', ['service', 'action', 'request_field', 'response_field'])
def test_settings_require_every_route_key(key: str) -> None:
    config = make_config()
    del config['type_routes']['venue_route'][key]
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match=key):
        ExpansionSettings(config)


def test_settings_reject_unknown_route_keys() -> None:
    config = make_config()
    config['type_routes']['venue_route']['timeout'] = '5'
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match='timeout'):
        ExpansionSettings(config)


@pytest.mark.parametrize('key', ['type', 'route', 'source_field', 'destination_field'])
def test_settings_require_every_expansion_key_except_raise_action_errors(key: str) -> None:
    config = make_config()
    del config['type_expansions']['event']['performer'][key]
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match=key):
        ExpansionSettings(config)


def test_settings_make_raise_action_errors_optional() -> None:
    config = make_config()
    assert 'raise_action_errors' not in config['type_expansions']['event']['performer']
    settings = ExpansionSettings(config)
    assert 'raise_action_errors' not in settings['type_expansions']['event']['performer']


def test_settings_allow_a_null_expansion_type() -> None:
    settings = ExpansionSettings(make_config())
    assert settings['type_expansions']['venue']['address']['type'] is None


@pytest.mark.parametrize(
    ('path', 'value'),
    [
        (('type_routes', 'venue_route', 'service'), 42),
        (('type_routes', 'venue_route', 'action'), b'get_venues'),
        (('type_expansions', 'event', 'venue', 'type'), 7),
        (('type_expansions', 'event', 'venue', 'route'), None),
        (('type_expansions', 'event', 'venue', 'source_field'), ['venue_id']),
        (('type_expansions', 'event', 'venue', 'destination_field'), 1.5),
        (('type_expansions', 'event', 'venue', 'raise_action_errors'), 'yes'),
    ],
)
def test_settings_reject_values_of_the_wrong_type(path: Tuple[str, ...], value: Any) -> None:
    config = make_config()
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match=path[-1]):
        ExpansionSettings(config)


@pytest.mark.parametrize('setting', ['type_routes', 'type_expansions'])
def test_settings_reject_a_setting_that_is_not_a_dict(setting: str) -> None:
    config = make_config()
    config[setting] = ['venue_route']
    with pytest.raises(ExpansionSettings.ImproperlyConfigured, match=setting):
        ExpansionSettings(config)


def test_settings_reject_an_expansion_map_that_is_not_a_dict() -> None:
    config = make_config()
    config['type_expansions']['event'] = ['venue', 'performer']
    with pytest.raises(ExpansionSettings.ImproperlyConfigured):
        ExpansionSettings(config)


def test_settings_reject_non_string_type_names() -> None:
    config = make_config()
    config['type_expansions'][1] = config['type_expansions'].pop('event')
    with pytest.raises(ExpansionSettings.ImproperlyConfigured):
        ExpansionSettings(config)


def test_settings_fields_all_have_descriptions() -> None:
    routes: Any = ExpansionSettings.schema['type_routes'].introspect()
    expansions: Any = ExpansionSettings.schema['type_expansions'].introspect()
    assert routes['description']
    assert all(field['description'] for field in routes['value_type']['contents'].values())
    assert expansions['description']
    expansion_fields = expansions['value_type']['value_type']['contents']
    assert expansion_fields['type']['nullable']['description']
    assert all(field['description'] for name, field in expansion_fields.items() if name != 'type')


# ExpansionConverter.dict_to_trees


def test_dict_to_trees_gives_one_type_node_per_type(converter: ExpansionConverter) -> None:
    trees = converter.dict_to_trees({'event': ['venue'], 'venue': ['address']})
    assert [tree.type for tree in trees] == ['event', 'venue']
    assert all(type(tree) is TypeNode for tree in trees)


def test_dict_to_trees_builds_a_single_expansion(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue']})
    assert [node.name for node in tree.expansions] == ['venue']
    assert tree.expansions[0].expansions == []


def test_dict_to_trees_builds_a_nested_expansion(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue.address']})
    venue = tree.get_expansion('venue')
    assert venue is not None
    assert [node.name for node in venue.expansions] == ['address']
    assert venue.expansions[0].expansions == []


def test_dict_to_trees_builds_multiple_expansions_in_order(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue', 'performer']})
    assert [node.name for node in tree.expansions] == ['venue', 'performer']


def test_dict_to_trees_merges_shared_prefixes(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue', 'venue.address']})
    assert len(tree.expansions) == 1
    venue = tree.expansions[0]
    assert [node.name for node in venue.expansions] == ['address']


def test_dict_to_trees_merges_shared_prefixes_given_in_any_order(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue.address', 'venue', 'venue.address']})
    assert len(tree.expansions) == 1
    assert [node.name for node in tree.expansions[0].expansions] == ['address']


def test_dict_to_trees_looks_up_config_under_the_type_of_the_extended_node(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['performer.home_venue.address']})
    performer = tree.get_expansion('performer')
    assert performer is not None and performer.type == 'performer'
    home_venue = performer.get_expansion('home_venue')
    assert home_venue is not None and home_venue.type == 'venue'
    address = home_venue.get_expansion('address')
    assert address is not None and address.type is None


def test_dict_to_trees_takes_node_attributes_from_config_and_route(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['venue']})
    venue = tree.get_expansion('venue')
    assert venue is not None
    assert venue.type == 'venue'
    assert venue.name == 'venue'
    assert venue.source_field == 'venue_id'
    assert venue.destination_field == 'venue'
    assert venue.service == 'venue'
    assert venue.action == 'get_venues'
    assert venue.request_field == 'venue_ids'
    assert venue.response_field == 'venues'
    assert venue.raise_action_errors is True


def test_dict_to_trees_defaults_raise_action_errors_to_false(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': ['performer']})
    performer = tree.get_expansion('performer')
    assert performer is not None
    assert performer.raise_action_errors is False


def test_dict_to_trees_accepts_validated_settings() -> None:
    settings = ExpansionSettings(make_config())
    converter = ExpansionConverter(settings['type_routes'], settings['type_expansions'])
    (tree,) = converter.dict_to_trees({'event': ['venue.address']})
    assert tree.to_dict() == {'event': ['venue.address']}


def test_dict_to_trees_gives_an_empty_tree_for_an_empty_list(converter: ExpansionConverter) -> None:
    (tree,) = converter.dict_to_trees({'event': []})
    assert type(tree) is TypeNode
    assert tree.type == 'event'
    assert tree.expansions == []


def test_dict_to_trees_raises_key_error_for_an_unknown_type(converter: ExpansionConverter) -> None:
    with pytest.raises(KeyError) as error_info:
        converter.dict_to_trees({'concert': ['venue']})
    assert error_info.value.args == ('concert',)


def test_dict_to_trees_raises_key_error_for_an_unknown_expansion_name(converter: ExpansionConverter) -> None:
    with pytest.raises(KeyError) as error_info:
        converter.dict_to_trees({'event': ['venue.parking']})
    assert error_info.value.args == ('parking',)


def test_dict_to_trees_raises_key_error_for_an_expansion_of_an_untyped_node(converter: ExpansionConverter) -> None:
    with pytest.raises(KeyError) as error_info:
        converter.dict_to_trees({'venue': ['address.city']})
    assert error_info.value.args == ('city',)


def test_dict_to_trees_raises_key_error_for_an_unknown_route() -> None:
    type_expansions = copy.deepcopy(TYPE_EXPANSIONS)
    type_expansions['event']['venue']['route'] = 'stadium_route'
    converter = ExpansionConverter(TYPE_ROUTES, type_expansions)
    with pytest.raises(KeyError) as error_info:
        converter.dict_to_trees({'event': ['venue']})
    assert error_info.value.args == ('stadium_route',)


def test_dict_to_trees_rejects_a_destination_field_equal_to_the_source_field() -> None:
    type_expansions = copy.deepcopy(TYPE_EXPANSIONS)
    type_expansions['event']['venue']['destination_field'] = 'venue_id'
    converter = ExpansionConverter(TYPE_ROUTES, type_expansions)
    with pytest.raises(ValueError) as error_info:
        converter.dict_to_trees({'event': ['venue']})
    assert str(error_info.value) == (
        'Expansion configuration destination_field error: destination_field can not have the same name as the '
        'source_field: venue_id'
    )


# ExpansionConverter.trees_to_dict


def test_trees_to_dict_gives_dotted_strings_for_leaves(converter: ExpansionConverter) -> None:
    trees = converter.dict_to_trees({'event': ['venue.address', 'performer']})
    assert ExpansionConverter.trees_to_dict(trees) == {'event': ['venue.address', 'performer']}


@pytest.mark.parametrize(
    'expansions',
    [
        {},
        {'event': []},
        {'event': ['venue']},
        {'event': ['performer.home_venue.address', 'venue.address'], 'venue': ['address']},
        {'performer': ['home_venue'], 'event': ['venue', 'performer.home_venue']},
    ],
)
def test_trees_to_dict_inverts_dict_to_trees(converter: ExpansionConverter, expansions: Expansions) -> None:
    trees = converter.dict_to_trees(expansions)
    assert sorted_expansions(ExpansionConverter.trees_to_dict(trees)) == sorted_expansions(expansions)


def test_trees_to_dict_drops_prefixes_covered_by_longer_strings(converter: ExpansionConverter) -> None:
    trees = converter.dict_to_trees({'event': ['venue', 'venue.address']})
    assert ExpansionConverter.trees_to_dict(trees) == {'event': ['venue.address']}


def test_trees_to_dict_combines_trees_of_the_same_type() -> None:
    first = TypeNode('event')
    first.add_expansion(venue_node())
    second = TypeNode('event')
    second.add_expansion(venue_node(name='home_venue'))
    assert ExpansionConverter.trees_to_dict([first, second]) == {'event': ['venue', 'home_venue']}


# TypeNode and ExpansionNode


def test_type_node_has_its_type_and_no_expansions() -> None:
    node = TypeNode('event')
    assert node.type == 'event'
    assert node.expansions == []
    assert node.get_expansion('venue') is None


def test_add_expansion_keeps_insertion_order() -> None:
    node = TypeNode('event')
    node.add_expansion(venue_node(name='venue'))
    node.add_expansion(venue_node(name='home_venue'))
    assert [child.name for child in node.expansions] == ['venue', 'home_venue']


def test_get_expansion_returns_the_child_with_that_name() -> None:
    node = TypeNode('event')
    venue = venue_node()
    node.add_expansion(venue)
    assert node.get_expansion('venue') is venue


def test_add_expansion_merges_children_of_a_node_with_an_existing_name() -> None:
    node = TypeNode('event')
    existing = venue_node()
    node.add_expansion(existing)
    duplicate = venue_node()
    duplicate.add_expansion(address_node())
    node.add_expansion(duplicate)
    assert node.expansions == [existing]
    assert [child.name for child in existing.expansions] == ['address']


def test_add_expansion_merges_recursively() -> None:
    node = TypeNode('performer')
    first = venue_node(name='home_venue')
    first.add_expansion(venue_node(name='nested'))
    node.add_expansion(first)
    second = venue_node(name='home_venue')
    nested = venue_node(name='nested')
    nested.add_expansion(address_node())
    second.add_expansion(nested)
    second.add_expansion(address_node())
    node.add_expansion(second)
    assert node.to_dict() == {'performer': ['home_venue.nested.address', 'home_venue.address']}


def test_expansions_property_returns_a_copy() -> None:
    node = TypeNode('event')
    node.expansions.append(venue_node())
    assert node.expansions == []


def test_expansion_node_defaults_raise_action_errors_to_true() -> None:
    assert venue_node().raise_action_errors is True


def test_expansion_node_is_a_type_node() -> None:
    assert isinstance(venue_node(), TypeNode)


def test_to_strings_of_a_leaf_is_its_name() -> None:
    assert venue_node().to_strings() == ['venue']


def test_to_strings_prefixes_every_descendant_leaf_with_the_name() -> None:
    home_venue = venue_node(name='home_venue')
    home_venue.add_expansion(address_node())
    performer = venue_node(node_type='performer', name='performer')
    performer.add_expansion(home_venue)
    performer.add_expansion(venue_node(name='favourite_venue'))
    assert performer.to_strings() == ['performer.home_venue.address', 'performer.favourite_venue']


def test_to_dict_of_a_type_node_without_expansions_has_an_empty_list() -> None:
    assert TypeNode('event').to_dict() == {'event': []}


def test_to_dict_gives_the_type_and_dotted_strings() -> None:
    node = TypeNode('event')
    venue = venue_node()
    venue.add_expansion(address_node())
    node.add_expansion(venue)
    node.add_expansion(venue_node(node_type='performer', name='performer'))
    assert node.to_dict() == {'event': ['venue.address', 'performer']}


def test_to_dict_of_an_untyped_node_raises_value_error() -> None:
    with pytest.raises(ValueError):
        address_node().to_dict()


def test_dict_to_trees_builds_the_nodes_the_settings_describe(converter: ExpansionConverter) -> None:
    expected = TypeNode('event')
    venue = venue_node(raise_action_errors=True)
    # Positional arguments, in the documented order
    venue.add_expansion(
        ExpansionNode(
            None,
            'address',
            'address_id',
            'address',
            'geo',
            'get_addresses',
            'address_ids',
            'addresses',
            False,
        ),
    )
    expected.add_expansion(venue)
    assert repr(converter.dict_to_trees({'event': ['venue.address']})) == repr([expected])


def test_nodes_compare_by_identity() -> None:
    event = TypeNode('event')
    venue = venue_node()
    assert event == event
    assert venue == venue
    assert TypeNode('event') != TypeNode('event')
    assert venue_node() != venue_node()


def test_type_node_is_not_equal_to_an_expansion_node_or_other_objects() -> None:
    assert TypeNode('venue') != venue_node()
    assert TypeNode('venue') != 'venue'  # type: ignore[comparison-overlap]


def test_nodes_are_hashable() -> None:
    event = TypeNode('event')
    venue = venue_node()
    names = {event: 'event', venue: 'venue'}
    assert (names[event], names[venue]) == ('event', 'venue')
    assert len({event, TypeNode('event'), venue, venue_node()}) == 4


def test_reprs_show_type_name_and_children() -> None:
    node = TypeNode('event')
    node.add_expansion(venue_node())
    assert repr(node).startswith("TypeNode(type='event', expansions=[ExpansionNode(type='venue', name='venue', ")
    assert repr(venue_node()) == (
        "ExpansionNode(type='venue', name='venue', source_field='venue_id', destination_field='venue', "
        "service='venue', action='get_venues', request_field='venue_ids', response_field='venues', "
        'raise_action_errors=True, expansions=[])'
    )


# TypeNode.find_objects


def test_find_objects_returns_a_matching_top_level_dict() -> None:
    event = {'_type': 'event', 'id': 1}
    assert TypeNode('event').find_objects(event) == [event]


def test_find_objects_searches_nested_dicts_lists_and_tuples_in_document_order() -> None:
    first = {'_type': 'event', 'id': 1}
    second = {'_type': 'event', 'id': 2}
    third = {'_type': 'event', 'id': 3}
    fourth = {'_type': 'event', 'id': 4}
    body = {
        'listing': {'featured': first, 'pages': [[second], {'items': (third,)}]},
        'archive': [fourth],
    }
    found = TypeNode('event').find_objects(body)
    assert [event['id'] for event in found] == [1, 2, 3, 4]
    assert found[0] is first


def test_find_objects_does_not_search_inside_a_matching_dict() -> None:
    inner = {'_type': 'event', 'id': 2}
    outer = {'_type': 'event', 'id': 1, 'related': [inner]}
    assert TypeNode('event').find_objects({'events': [outer]}) == [outer]


def test_find_objects_searches_inside_dicts_of_other_types() -> None:
    event = {'_type': 'event', 'id': 1}
    body = {'_type': 'performer', 'id': 9, 'events': [event]}
    assert TypeNode('event').find_objects(body) == [event]


def test_find_objects_ignores_other_types_and_untyped_values() -> None:
    body = {
        'venue': {'_type': 'venue', 'id': 5},
        'count': 3,
        'name': 'event',
        'tags': ['event', {'type': 'event'}],
        'nothing': None,
    }
    assert TypeNode('event').find_objects(body) == []


def test_find_objects_ignores_type_as_a_dict_key() -> None:
    assert TypeNode('event').find_objects({'event': {'id': 1}}) == []


def test_find_objects_of_an_untyped_node_finds_nothing() -> None:
    assert address_node().find_objects({'address': {'_type': None}, 'other': {'id': 1}}) == []
