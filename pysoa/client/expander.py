"""
The data structures behind client-side expansions.

An expansion lets a caller ask the client to follow references in a response and fill them in with the results of
further service calls. For example, with this expansion configuration::

    {
        'type_routes': {
            'venue_route': {
                'service': 'venue',
                'action': 'get_venues',
                'request_field': 'ids',
                'response_field': 'venues',
            },
        },
        'type_expansions': {
            'event': {
                'venue': {
                    'type': 'venue',
                    'route': 'venue_route',
                    'source_field': 'venue_id',
                    'destination_field': 'venue',
                },
            },
        },
    }

a call made with ``expansions={'event': ['venue']}`` finds every object with ``'_type': 'event'`` in the response,
collects their ``venue_id`` values, calls ``venue.get_venues`` once with ``{'ids': [...]}``, and stores each venue from
the ``venues`` dict of that response in the ``venue`` key of the matching event.

This module holds the settings schema and the trees an expansion request is converted into; the client performs the
calls.
"""

from typing import Any, Dict, List, Optional

from conformity import fields
from conformity.settings import Settings


__all__ = (
    'ExpansionConverter',
    'ExpansionNode',
    'ExpansionSettings',
    'Expansions',
    'TypeExpansions',
    'TypeNode',
    'TypeRoutes',
)


Expansions = Dict[str, List[str]]
"""The expansions requested in one call: ``{type_name: ['expansion_name', 'expansion_name.sub_expansion', ...]}``."""

TypeRoutes = Dict[str, Dict[str, str]]
"""The ``type_routes`` setting: ``{route_name: {'service': ..., 'action': ..., 'request_field': ...,
'response_field': ...}}``."""

TypeExpansions = Dict[str, Dict[str, Dict[str, Any]]]
"""The ``type_expansions`` setting: ``{type_name: {expansion_name: {'type': ..., 'route': ..., 'source_field': ...,
'destination_field': ..., 'raise_action_errors': ...}}}``."""


class ExpansionSettings(Settings):
    """
    The expansion configuration a :class:`pysoa.client.client.Client` accepts as ``expansion_config``.

    Both keys are required and there are no defaults:

    * ``type_routes`` maps a route name to the service action that expands objects and the request and response
      fields it uses.
    * ``type_expansions`` maps a type name (the ``_type`` value of objects in responses) to the expansions available
      for objects of that type.

    Invalid settings raise :class:`conformity.settings.Settings.ImproperlyConfigured`.
    """

    schema = {
        'type_routes': fields.SchemalessDictionary(
            key_type=fields.UnicodeString(description='The name of the route, referenced by expansions'),
            value_type=fields.Dictionary(
                {
                    'service': fields.UnicodeString(
                        description='The name of the service to call to resolve this route',
                    ),
                    'action': fields.UnicodeString(description='The name of the action to call to resolve this route'),
                    'request_field': fields.UnicodeString(
                        description='The name of the field in the action request body that receives the list of '
                        'source field values (for example, a list of IDs)',
                    ),
                    'response_field': fields.UnicodeString(
                        description='The name of the field in the action response body that holds a dict mapping '
                        'each source field value to the object that expands it',
                    ),
                },
                description='The service action that resolves expansions using this route',
            ),
            description='The routes that expansions use, keyed by route name',
        ),
        'type_expansions': fields.SchemalessDictionary(
            key_type=fields.UnicodeString(
                description='The name of the type that can be expanded (the `_type` value of objects in responses)',
            ),
            value_type=fields.SchemalessDictionary(
                key_type=fields.UnicodeString(
                    description='The name of the expansion, used in the `expansions` argument of client calls',
                ),
                value_type=fields.Dictionary(
                    {
                        'type': fields.Nullable(
                            fields.UnicodeString(
                                description='The type of the objects this expansion produces, which determines which '
                                'further expansions can be applied to them (null if they have no type)',
                            ),
                        ),
                        'route': fields.UnicodeString(
                            description='The name of the route (a key in `type_routes`) that resolves this expansion',
                        ),
                        'source_field': fields.UnicodeString(
                            description='The name of the field in the object being expanded whose value is sent to '
                            'the route (for example, an ID)',
                        ),
                        'destination_field': fields.UnicodeString(
                            description='The name of the field in the object being expanded that receives the '
                            'expanded object; it must differ from `source_field`',
                        ),
                        'raise_action_errors': fields.Boolean(
                            description='Whether errors returned by the route action raise an exception from the '
                            'client call (defaults to false, in which case the object is left unexpanded)',
                        ),
                    },
                    optional_keys=('raise_action_errors',),
                    description='The configuration of one expansion',
                ),
                description='The expansions available for objects of this type, keyed by expansion name',
            ),
            description='The expansions available for each type, keyed by type name',
        ),
    }


class TypeNode:
    """
    The root of an expansion tree: the expansions requested for objects of one type. Nodes compare by identity, so
    they can be kept in sets and used as dict keys.

    :param node_type: The type name, matched against the ``_type`` key of objects in response bodies. Only an
                      :class:`ExpansionNode` configured with ``'type': None`` has no type.
    """

    def __init__(self, node_type: Optional[str]) -> None:
        self.type = node_type
        self._expansions: Dict[str, ExpansionNode] = {}

    def add_expansion(self, expansion_node: 'ExpansionNode') -> None:
        """
        Add a child expansion to this node.

        If a child with the same name already exists, the new node's children are merged (recursively) into the
        existing child instead of the new node being added; the existing child's attributes are kept.

        :param expansion_node: The child to add.
        """
        existing = self._expansions.get(expansion_node.name)
        if existing is None:
            self._expansions[expansion_node.name] = expansion_node
        else:
            for child in expansion_node.expansions:
                existing.add_expansion(child)

    def get_expansion(self, expansion_name: str) -> Optional['ExpansionNode']:
        """
        Get a child expansion by name.

        :param expansion_name: The name of the expansion.

        :return: The child node, or ``None`` if this node has no child with that name.
        """
        return self._expansions.get(expansion_name)

    @property
    def expansions(self) -> List['ExpansionNode']:
        """The child expansions of this node, in the order they were added."""
        return list(self._expansions.values())

    def find_objects(self, obj: Any) -> List[Dict[str, Any]]:
        """
        Find the objects of this node's type in a value, such as an action response body.

        Searches depth-first through dicts, lists and tuples for dicts whose ``'_type'`` equals this node's type. A
        matching dict is not searched further, so objects of the same type nested inside it are not returned. A node
        whose type is ``None`` matches nothing.

        :param obj: The value to search.

        :return: The matching dicts, in the order they appear.
        """
        found: List[Dict[str, Any]] = []
        if self.type is not None:
            self._find_objects(obj, found)
        return found

    def _find_objects(self, obj: Any, found: List[Dict[str, Any]]) -> None:
        if isinstance(obj, dict):
            if obj.get('_type') == self.type:
                found.append(obj)
            else:
                for value in obj.values():
                    self._find_objects(value, found)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                self._find_objects(value, found)

    def to_dict(self) -> Expansions:
        """
        Convert this tree back to the form of the ``expansions`` argument of client calls.

        :return: ``{type: [dotted expansion strings]}``, with one string per leaf of the tree (for example,
                 ``{'event': ['venue.address', 'performer']}``).

        :raises: ValueError if this node's type is ``None``.
        """
        if self.type is None:
            raise ValueError(f'Cannot convert untyped expansion node {self!r} to an expansions dict')
        return {self.type: [string for expansion in self.expansions for string in expansion.to_strings()]}

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(type={self.type!r}, expansions={self.expansions!r})'


class ExpansionNode(TypeNode):
    """
    One requested expansion in an expansion tree, with everything needed to perform it.

    :param node_type: The type of the objects this expansion produces (``None`` if they have no type); its children
                      expand those objects.
    :param name: The name of the expansion.
    :param source_field: The field of the expanded object whose value is sent to the route.
    :param destination_field: The field of the expanded object that receives the result.
    :param service: The service to call.
    :param action: The action to call.
    :param request_field: The request body field that receives the list of source values.
    :param response_field: The response body field holding a dict mapping source values to results.
    :param raise_action_errors: Whether errors returned by the action should raise from the client call.
    """

    def __init__(
        self,
        node_type: Optional[str],
        name: str,
        source_field: str,
        destination_field: str,
        service: str,
        action: str,
        request_field: str,
        response_field: str,
        raise_action_errors: bool = True,
    ) -> None:
        super().__init__(node_type)
        self.name = name
        self.source_field = source_field
        self.destination_field = destination_field
        self.service = service
        self.action = action
        self.request_field = request_field
        self.response_field = response_field
        self.raise_action_errors = raise_action_errors

    def to_strings(self) -> List[str]:
        """
        Convert this node and its descendants to dotted expansion strings.

        :return: One string per leaf: ``[name]`` for a node without children, otherwise ``name.<child string>`` for
                 every string of every child (for example, ``['venue.address']``).
        """
        if not self._expansions:
            return [self.name]
        return [f'{self.name}.{string}' for expansion in self.expansions for string in expansion.to_strings()]

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(type={self.type!r}, name={self.name!r}, source_field={self.source_field!r}, '
            f'destination_field={self.destination_field!r}, service={self.service!r}, action={self.action!r}, '
            f'request_field={self.request_field!r}, response_field={self.response_field!r}, '
            f'raise_action_errors={self.raise_action_errors!r}, expansions={self.expansions!r})'
        )


class ExpansionConverter:
    """
    Converts between the ``expansions`` argument of client calls and expansion trees.

    :param type_routes: The ``type_routes`` expansion setting.
    :param type_expansions: The ``type_expansions`` expansion setting.
    """

    def __init__(self, type_routes: TypeRoutes, type_expansions: TypeExpansions) -> None:
        self.type_routes = type_routes
        self.type_expansions = type_expansions

    def dict_to_trees(self, expansions: Expansions) -> List[TypeNode]:
        """
        Convert requested expansions to expansion trees.

        Each dotted string is followed from the type's root node, reusing existing nodes and creating missing ones,
        so ``'venue'`` and ``'venue.address'`` give one ``venue`` node with one ``address`` child. The configuration of
        an expansion is looked up under the type of the node it extends, and its route under the configured route name.

        :param expansions: ``{type_name: ['expansion_name', 'expansion_name.sub_expansion', ...]}``.

        :return: One tree per type, in the order of ``expansions``.

        :raises: KeyError, with the missing key, if a type, an expansion name or a route is not configured;
                 ValueError if an expansion's ``destination_field`` is the same as its ``source_field``.
        """
        trees = []
        for type_name, expansion_strings in expansions.items():
            tree = TypeNode(type_name)
            for expansion_string in expansion_strings:
                node = tree
                for name in expansion_string.split('.'):
                    child = node.get_expansion(name)
                    if child is None:
                        child = self._make_node(node, name)
                        node.add_expansion(child)
                    node = child
            trees.append(tree)
        return trees

    def _make_node(self, parent: TypeNode, name: str) -> ExpansionNode:
        if parent.type is None:
            # An expansion configured with 'type': None produces objects that cannot be expanded further
            raise KeyError(name)
        config = self.type_expansions[parent.type][name]
        route = self.type_routes[config['route']]
        if config['source_field'] == config['destination_field']:
            raise ValueError(
                'Expansion configuration destination_field error: destination_field can not have the same name as the '
                f'source_field: {config["source_field"]}'
            )
        return ExpansionNode(
            node_type=config['type'],
            name=name,
            source_field=config['source_field'],
            destination_field=config['destination_field'],
            service=route['service'],
            action=route['action'],
            request_field=route['request_field'],
            response_field=route['response_field'],
            raise_action_errors=config.get('raise_action_errors', False),
        )

    @staticmethod
    def trees_to_dict(trees: List[TypeNode]) -> Expansions:
        """
        Convert expansion trees back to the form of the ``expansions`` argument of client calls.

        :param trees: The trees, as returned by :meth:`dict_to_trees`.

        :return: ``{type_name: [dotted expansion strings]}`` with one string per leaf; trees of the same type are
                 combined.
        """
        expansions: Expansions = {}
        for tree in trees:
            for type_name, strings in tree.to_dict().items():
                expansions.setdefault(type_name, []).extend(strings)
        return expansions
