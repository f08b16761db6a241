"""
Conformity schemas, as the ``introspect`` action describes them, written for a terminal: one line per field, nested
fields indented under theirs::

    name: unicode (min_length 1) - The user's name
    tags (optional): list of unicode
    address: dictionary
      city: unicode
"""

import json
from typing import (
    Any,
    List,
    Mapping,
    Optional,
    Tuple,
)


__all__ = ('schema_lines',)

_INDENT = '  '
_NOT_CONSTRAINTS = frozenset(
    (
        'type',
        'description',
        'contents',
        'optional_keys',
        'allow_extra_keys',
        'options',
        'nullable',
        'key_type',
        'value_type',
        'switch_field',
        'contents_map',
        'values',
    )
)


def schema_lines(schema: Optional[Mapping[str, Any]]) -> List[str]:
    """
    The lines describing a request or response schema: the fields of a dictionary schema, or one line for any other
    (``None``: the action declares no schema).
    """
    if schema is None:
        return ['(no schema)']
    if schema.get('type') == 'dictionary':
        lines = _dictionary_lines(schema, '')
        return lines or ['(no fields)']
    summary, description, children = _describe(schema, _INDENT)
    return [_line(summary, description), *children]


def _describe(field: Mapping[str, Any], indent: str) -> Tuple[str, Optional[str], List[str]]:
    """
    What ``field`` is, in a few words; its description, if it has one; and the lines of what it contains, indented by
    ``indent``.
    """
    field_type = str(field.get('type', 'unknown'))
    description = field.get('description')
    if field_type == 'dictionary':
        extra = ' (extra keys allowed)' if field.get('allow_extra_keys') else ''
        return f'dictionary{extra}', description, _dictionary_lines(field, indent)
    if field_type in ('list', 'set') and isinstance(field.get('contents'), Mapping):
        inner, inner_description, children = _describe(field['contents'], indent)
        return f'{field_type}{_constraints(field)} of {inner}', description or inner_description, children
    if field_type == 'nullable' and isinstance(field.get('nullable'), Mapping):
        inner, inner_description, children = _describe(field['nullable'], indent)
        return f'{inner} or null', description or inner_description, children
    if field_type == 'schemaless_dictionary':
        key, _, _ = _describe(field.get('key_type') or {'type': 'anything'}, indent)
        value, _, children = _describe(field.get('value_type') or {'type': 'anything'}, indent)
        return f'dictionary of {key} to {value}', description, children
    if field_type == 'constant':
        values = [json.dumps(value, default=str) for value in field.get('values') or []]
        return (f'one of {", ".join(values)}' if len(values) > 1 else ''.join(values)), description, []
    if field_type == 'any':
        return 'any of', description, _option_lines(field.get('options') or [], indent)
    if field_type == 'tuple' and isinstance(field.get('contents'), list):
        return 'tuple', description, _option_lines(field['contents'], indent, numbered=True)
    if field_type == 'polymorph':
        switch_field = field.get('switch_field')
        lines = []
        for case, case_field in (field.get('contents_map') or {}).items():
            summary, case_description, children = _describe(case_field, indent + _INDENT)
            lines += [f'{indent}{switch_field} = {case}: {_line(summary, case_description)}', *children]
        return f'depending on {switch_field}', description, lines
    return f'{field_type}{_constraints(field)}', description, []


def _dictionary_lines(field: Mapping[str, Any], indent: str) -> List[str]:
    optional = set(field.get('optional_keys') or [])
    lines = []
    for key, value in (field.get('contents') or {}).items():
        summary, description, children = _describe(value, indent + _INDENT)
        label = f'{key} (optional)' if key in optional else str(key)
        lines += [f'{indent}{label}: {_line(summary, description)}', *children]
    return lines


def _option_lines(options: List[Any], indent: str, numbered: bool = False) -> List[str]:
    lines = []
    for position, option in enumerate(options):
        summary, description, children = _describe(option, indent + _INDENT)
        lines += [f'{indent}{f"[{position}]" if numbered else "-"} {_line(summary, description)}', *children]
    return lines


def _constraints(field: Mapping[str, Any]) -> str:
    constraints = [f'{name} {value}' for name, value in field.items() if name not in _NOT_CONSTRAINTS]
    return f' ({", ".join(constraints)})' if constraints else ''


def _line(summary: str, description: Optional[str]) -> str:
    return f'{summary} - {" ".join(str(description).split())}' if description else summary
