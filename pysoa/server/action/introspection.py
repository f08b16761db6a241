"""The built-in ``introspect`` action: describes a service's actions and their request and response schemas."""

import inspect
import re
from typing import (
    Any,
    Dict,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    runtime_checkable,
)

from conformity import fields

from pysoa.common.constants import ERROR_CODE_INVALID
from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.action.switched import SwitchedAction
from pysoa.server.errors import ActionError
from pysoa.server.internal.types import get_switch
from pysoa.server.settings import ServerSettings
from pysoa.server.types import (
    ActionType,
    EnrichedActionRequest,
)


__all__ = (
    'IntrospectedServer',
    'IntrospectionAction',
)


@runtime_checkable
class IntrospectedServer(Protocol):
    """
    What introspection needs of the server it describes: every :class:`pysoa.server.server.Server` has it. (A
    protocol, so that this module does not import the server module, which imports it.)
    """

    @property
    def settings(self) -> ServerSettings:
        """The server's settings."""

    @property
    def action_class_map(self) -> Mapping[str, ActionType]:
        """The server's actions."""

    def get_action_factory(self, action_name: str) -> Optional[ActionType]:
        """The factory of the named action, built-in actions included."""


_SWITCHED_NAME = re.compile(r'^(?P<name>.+)\[(?:switch:(?P<switch>-?\d+)|(?P<default>DEFAULT))\]$')


def _documentation(thing: Any) -> Optional[str]:
    description = getattr(thing, 'description', None)
    if description:
        return str(description)
    doc = thing.__doc__ if isinstance(thing, type) else getattr(thing, '__doc__', None)
    return inspect.cleandoc(doc) if doc else None


def _schema(action: Any, attribute: str) -> Optional[Dict[str, Any]]:
    schema = getattr(action, attribute, None)
    return schema.introspect() if schema is not None else None


def _action_info(action: Any) -> Dict[str, Any]:
    return {
        'documentation': _documentation(action),
        'request_schema': _schema(action, 'request_schema'),
        'response_schema': _schema(action, 'response_schema'),
    }


def _is_switched(action: Any) -> bool:
    return isinstance(action, type) and issubclass(action, SwitchedAction)


def _switched_entries(name: str, action: Any) -> List[Tuple[str, Any]]:
    pairs = list(action.switch_to_action_map)
    has_default = any(switch == SwitchedAction.DEFAULT_ACTION for switch, _ in pairs)
    entries = []
    for index, (switch, sub_action) in enumerate(pairs):
        is_default = switch == SwitchedAction.DEFAULT_ACTION or (not has_default and index == len(pairs) - 1)
        entry_name = f'{name}[DEFAULT]' if is_default else f'{name}[switch:{get_switch(switch)}]'
        entries.append((entry_name, sub_action))
    return entries


class IntrospectionAction(Action):
    """
    Describes the service: its documentation, the names of its actions, and for each action its documentation and
    request and response schemas. A switched action is listed once per switch, as ``name[switch:N]``, with
    ``name[DEFAULT]`` for the one used when no switch matches. Ask for one action with ``action_name``: the name of a
    switched action gives all its variants, and ``name[switch:N]`` gives the variant listed under that name, else the
    default one (so a switch not in the switch map gets the default); for an action that is not switched,
    ``name[DEFAULT]`` and ``name[switch:N]`` give the action itself.

    :param server: The server to describe.
    """

    description = (
        'Returns a description of the service and its actions, including their request and response schemas. Pass '
        '`action_name` to describe a single action.'
    )
    request_schema = fields.Dictionary(
        {'action_name': fields.UnicodeString(min_length=1, allow_blank=False, description='The action to describe')},
        optional_keys=('action_name',),
    )
    response_schema = fields.Dictionary(
        {
            'documentation': fields.Nullable(fields.UnicodeString(description="The service's documentation")),
            'action_names': fields.List(fields.UnicodeString(), description='The names of the described actions'),
            'actions': fields.SchemalessDictionary(
                key_type=fields.UnicodeString(),
                value_type=fields.Dictionary(
                    {
                        'documentation': fields.Nullable(fields.UnicodeString()),
                        'request_schema': fields.Nullable(fields.SchemalessDictionary(key_type=fields.UnicodeString())),
                        'response_schema': fields.Nullable(
                            fields.SchemalessDictionary(key_type=fields.UnicodeString())
                        ),
                    }
                ),
                description='Each described action, by name',
            ),
        },
        optional_keys=('documentation',),
    )

    def __init__(self, server: IntrospectedServer) -> None:
        if not isinstance(server, IntrospectedServer):
            raise TypeError('First argument (server) must be a Server instance')
        super().__init__(server.settings)
        self.server = server

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        entries = self._entries()
        action_name = request.body.get('action_name')
        if action_name:
            selected = self._select(entries, action_name)
            return {'action_names': sorted(selected), 'actions': selected}
        return {
            'documentation': _documentation(self.server),
            'action_names': sorted(entries),
            'actions': entries,
        }

    def _entries(self) -> Dict[str, Dict[str, Any]]:
        actions: Dict[str, Any] = dict(self.server.action_class_map)
        for built_in in ('introspect', 'status'):
            if built_in not in actions:
                actions[built_in] = type(self) if built_in == 'introspect' else self.server.get_action_factory(built_in)
        entries: Dict[str, Dict[str, Any]] = {}
        for name, action in actions.items():
            if _is_switched(action):
                for entry_name, sub_action in _switched_entries(name, action):
                    entries[entry_name] = _action_info(sub_action)
            else:
                entries[name] = _action_info(action)
        return entries

    def _select(self, entries: Dict[str, Dict[str, Any]], action_name: str) -> Dict[str, Dict[str, Any]]:
        if action_name in entries:
            return {action_name: entries[action_name]}
        match = _SWITCHED_NAME.match(action_name)
        if match:
            # The default variant of a switched action, or the only one of an action that is not switched.
            base_name = match.group('name')
            variant = entries.get(f'{base_name}[DEFAULT]') or entries.get(base_name)
            if variant is not None:
                return {action_name: variant}
        prefix = f'{action_name}['
        selected = {
            name: info for name, info in entries.items() if name.startswith(prefix) and _SWITCHED_NAME.match(name)
        }
        if selected:
            return selected
        raise ActionError(
            [
                Error(
                    code=ERROR_CODE_INVALID,
                    message='Action not defined in service',
                    field='action_name',
                    is_caller_error=True,
                )
            ]
        )
