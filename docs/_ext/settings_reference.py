"""
A Sphinx extension that writes the settings reference from the Conformity schemas themselves, so that it lists every
setting, with its type, default and description, and cannot drift from the code.

Usage::

    .. settings-reference:: pysoa.server.settings:ServerSettings
       :no-expand: logging

    .. settings-reference:: pysoa.common.transport.redis_gateway.settings:RedisClientTransportSchema
       :transport: pysoa.common.transport.redis_gateway.client:RedisClientTransport
       :transport-kwargs: backend_type=redis.standard
       :no-expand: backend_layer_kwargs

       backend_layer_kwargs: ``{}`` (see the backend layer table)

The argument is the import path of a Conformity ``Settings`` class (its merged ``schema`` and ``defaults`` are used)
or of a ``fields.Dictionary`` schema. For the schema of a transport's settings, ``:transport:`` names the transport
class: the extension checks that the class registers that schema and reads the defaults an instance of it actually
applies (so a transport's per-side defaults are documented as the code sets them). Nested dictionaries are expanded
into ``parent.child`` rows unless listed in ``:no-expand:``; dictionaries whose values are dictionaries are expanded
as ``parent.*.child``.

Each line of the directive's content, ``key.path: text`` (continued on further, more indented lines), documents the
default of a key whose default is behaviour rather than a value (reStructuredText allowed); it takes precedence over a
computed default.

The build warns (and so fails with ``-W``) if a content line names a key the schema does not have, if an optional key
has no default from the code or the content, or if a transport does not register the documented schema.
"""

import enum
import importlib
import pprint
import re
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
)

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective


_logger = logging.getLogger(__name__)

_MISSING = object()
_INLINE_DEFAULT_LIMIT = 60
_SINGLE_BACKTICKS = re.compile(r'(?<![`:\w])`([^`]+)`(?![`_\w])')
_CLASS_REPR = re.compile(r"<(?:class|enum) '(?:[\w.]*\.)?(\w+)'>")


def _import(path: str) -> Any:
    module_name, _, attribute = path.partition(':')
    value: Any = importlib.import_module(module_name)
    for name in attribute.split('.') if attribute else ():
        value = getattr(value, name)
    return value


def _describe(text: Optional[str]) -> str:
    """A schema description as reStructuredText: Conformity's single-backtick literals become double-backtick ones."""
    if not text:
        return ''
    return _SINGLE_BACKTICKS.sub(r'``\1``', ' '.join(text.split()))


def _literal(value: Any) -> str:
    text = repr(int(value)) if isinstance(value, enum.IntEnum) else repr(value)
    return f'``{text}``'


def _class_name(text: Any) -> str:
    """``"<class 'a.b.Name'>"`` (or a bare class name) as ``Name``."""
    return _CLASS_REPR.sub(r'\1', str(text))


def _bound(info: Dict[str, Any]) -> str:
    parts = []
    for key, symbol in (('gt', '>'), ('gte', '>='), ('lt', '<'), ('lte', '<=')):
        if key in info:
            parts.append(f'{symbol} {info[key]}')
    for key, label in (('min_length', 'at least'), ('max_length', 'at most')):
        if key in info:
            parts.append(f'{label} {info[key]} long')
    return f' ({", ".join(parts)})' if parts else ''


def _type_text(info: Dict[str, Any], nested: bool = False) -> str:
    """A short, readable rendering of a Conformity field's introspection (``nested`` inside another type)."""
    kind = info.get('type')
    if kind == 'nullable':
        return f'{_type_text(info["nullable"], nested)} or ``None``'
    if kind == 'any':
        options = list(info['options'])
        # ``Any(PythonPath(value_schema=X), X)``: a value, or the import path of one.
        for option in options:
            if option.get('type') == 'python_path' and option.get('value_schema') in options:
                value = _type_text(option['value_schema'], nested=True)
                return f'{value}, or the import path (``module.name:NAME``) of one'
        text = ' or '.join(_type_text(option, nested=True) for option in options)
        return f'({text})' if nested else text
    if kind in ('integer', 'float', 'boolean', 'bytes'):
        return f'{kind}{_bound(info)}'
    if kind == 'unicode':
        return f'string{_bound(info)}'
    if kind == 'constant':
        return 'one of ' + ', '.join(_literal(value) for value in info['values'])
    if kind in ('list', 'set'):
        size = info.get('min_length')
        if size is not None and size == info.get('max_length'):
            return f'{kind} of {size} {_type_text(info["contents"], nested=True)}'
        return f'{kind} of {_type_text(info["contents"], nested=True)}{_bound(info)}'
    if kind == 'tuple':
        return 'tuple (' + ', '.join(_type_text(item, nested=True) for item in info['contents']) + ')'
    if kind == 'dictionary':
        return 'dict'
    if kind == 'schemaless_dictionary':
        key_type = info.get('key_type')
        value_type = info.get('value_type')
        if not value_type:
            return f'dict with {_type_text(key_type, nested=True)} keys' if key_type else 'dict'
        key_text = _type_text(key_type, nested=True) if key_type else 'anything'
        return f'dict of {key_text} to {_type_text(value_type, nested=True)}'
    if kind == 'class_config_dictionary':
        return f'class configuration (``{_class_name(info["base_class"])}`` subclass)'
    if kind == 'python_path':
        return f'import path (``module.name:NAME``) of {_type_text(info["value_schema"], nested=True)}'
    if kind == 'type_reference':
        bases = [_class_name(base) for base in info.get('base_classes') or ()]
        bases = [base for base in bases if base != 'object']
        return f'class (``{"``, ``".join(bases)}`` subclass)' if bases else 'class'
    if kind == 'object_instance':
        return f'``{_class_name(info["valid_type"])}``'
    return str(kind or 'anything')


def _description(info: Dict[str, Any]) -> str:
    """The field's description, else that of the field it wraps, else one implied by its type."""
    description = info.get('description') or (info.get('nullable') or {}).get('description')
    if not description and info.get('type') == 'class_config_dictionary':
        description = 'The class to use (``path``) and its settings (``kwargs``)'
    return _describe(description)


class _Row:
    def __init__(self, path: str, type_text: str, default: str, description: str) -> None:
        self.path = path
        self.type_text = type_text
        self.default = default
        self.description = description


class SettingsReference(SphinxDirective):
    """The ``settings-reference`` directive; see the module documentation."""

    required_arguments = 1
    has_content = True
    option_spec = {
        'transport': directives.unchanged_required,
        'transport-kwargs': directives.unchanged,
        'no-expand': directives.unchanged,
    }

    def run(self) -> List[nodes.Node]:
        from conformity import fields
        from conformity.settings import Settings

        target_path = self.arguments[0]
        target = _import(target_path)
        if isinstance(target, type) and issubclass(target, fields.Dictionary):
            target = target()  # a schema class (1.4.9 defines some this way): an instance holds the schema
        if isinstance(target, type) and issubclass(target, Settings):
            contents = dict(target.schema)
            optional_keys = set(target.defaults)
            defaults: Dict[str, Any] = dict(target.defaults)
        elif isinstance(target, fields.Dictionary):
            contents = dict(target.contents)
            optional_keys = set(target.optional_keys)
            defaults = {}
        else:
            raise self.error(f'{target_path} is neither a Conformity Settings class nor a fields.Dictionary')

        if 'transport' in self.options:
            defaults.update(self._transport_defaults(self.options['transport'], target))

        self.no_expand = {key.strip() for key in self.options.get('no-expand', '').split(',') if key.strip()}
        self.notes = self._parse_notes()
        self.target_path = target_path

        rows: List[_Row] = []
        long_defaults: List[Tuple[str, Any]] = []
        self._add_rows(rows, long_defaults, '', contents, optional_keys, defaults, parent_required=True)

        unknown_notes = sorted(set(self.notes) - {row.path for row in rows})
        for path in unknown_notes:
            _logger.warning(
                'settings-reference %s: the content documents the default of %r, which is not a setting',
                target_path,
                path,
                location=self.get_location(),
            )

        lines = [
            '.. list-table::',
            '   :header-rows: 1',
            '   :widths: 26 22 18 34',
            '',
            '   * - Setting',
            '     - Type',
            '     - Default',
            '     - Description',
        ]
        for row in rows:
            lines.append(f'   * - ``{row.path}``')
            for cell in (row.type_text, row.default, row.description):
                lines.append(f'     - {cell}' if cell else '     -')
        for path, value in long_defaults:
            lines.extend(['', f'Default of ``{path}``:', '', '.. code-block:: python', ''])
            lines.extend('   ' + line for line in pprint.pformat(value, width=100).splitlines())

        # An id per table (``settings-clientsettings``, ...), so that the tables can be found in the built pages.
        container = nodes.container(
            classes=['settings-reference'],
            ids=[
                nodes.make_id(
                    'settings-' + target_path.rpartition(':')[2],
                )
            ],
        )
        self.state.nested_parse(
            StringList(lines, source=f'<settings-reference {target_path}>'), self.content_offset, container
        )
        return [container]

    def _parse_notes(self) -> Dict[str, str]:
        notes: Dict[str, str] = {}
        path = ''
        for line in self.content:
            if not line.strip():
                continue
            if line[:1].isspace() and path:  # an indented line continues the previous note
                notes[path] += ' ' + line.strip()
                continue
            path, separator, text = line.partition(':')
            path = path.strip()
            if not separator or not text.strip():
                raise self.error(f'settings-reference content lines must be "key.path: default text", not {line!r}')
            notes[path] = text.strip()
        return notes

    def _transport_defaults(self, transport_path: str, schema: Any) -> Dict[str, Any]:
        """The defaults an instance of the transport applies, for each optional key of its schema."""
        from conformity import fields
        from pymetrics.recorders.noop import noop_metrics

        transport_class = _import(transport_path)
        registered = getattr(transport_class, '_conformity_initialization_schema', None)
        # A schema class (not a plain Dictionary) is registered as an instance of its own.
        same_schema_class = type(schema) is not fields.Dictionary and isinstance(registered, type(schema))
        if registered is not schema and not same_schema_class:
            _logger.warning(
                'settings-reference: %s does not register %s as its settings schema',
                transport_path,
                self.arguments[0],
                location=self.get_location(),
            )
        if not schema.optional_keys:
            return {}
        required = {}
        for pair in self.options.get('transport-kwargs', '').split(','):
            if pair.strip():
                key, _, value = pair.partition('=')
                required[key.strip()] = value.strip()
        transport = transport_class('settings-reference', noop_metrics, **required)
        holders = [holder for holder in (getattr(transport, 'core', None), transport) if holder is not None]

        found: Dict[str, Any] = {}
        for key in schema.optional_keys:
            for holder in holders:
                if hasattr(holder, key):
                    found[key] = getattr(holder, key)
                    break
                if key.endswith('_config') and hasattr(holder, key[: -len('_config')]):
                    used = type(getattr(holder, key[: -len('_config')]))
                    found[key] = {'path': f'{used.__module__}:{used.__qualname__}'}
                    break
        return found

    def _add_rows(
        self,
        rows: List[_Row],
        long_defaults: List[Tuple[str, Any]],
        prefix: str,
        contents: Dict[str, Any],
        optional_keys: Set[str],
        defaults: Any,
        parent_required: bool,
    ) -> None:
        from conformity import fields

        for key in sorted(contents):
            field = contents[key]
            path = prefix + key
            info = field.introspect()
            default = defaults.get(key, _MISSING) if isinstance(defaults, dict) else _MISSING
            required = parent_required and key not in optional_keys
            expand_dict = isinstance(field, fields.Dictionary) and path not in self.no_expand
            # A dict of dicts (of dicts ...) of a fixed schema: its rows are ``path.*.key`` (``path.*.*.key`` ...).
            value_schema, wildcards = field, ''
            while isinstance(value_schema, fields.SchemalessDictionary) and value_schema.value_type is not None:
                value_schema, wildcards = value_schema.value_type, wildcards + '*.'
            expand_values = (
                bool(wildcards) and isinstance(value_schema, fields.Dictionary) and path not in self.no_expand
            )

            if path in self.notes:
                default_text = self.notes[path]
            elif expand_dict or expand_values:
                default_text = 'required' if required and default is _MISSING else 'see the keys below'
            elif default is not _MISSING:
                literal = _literal(default)
                if len(literal) <= _INLINE_DEFAULT_LIMIT:
                    default_text = literal
                else:
                    default_text = 'shown below the table'
                    long_defaults.append((path, default))
            elif required:
                default_text = 'required'
            else:
                default_text = ''
                _logger.warning(
                    'settings-reference %s: the optional setting %r has no default in the code; document it in the '
                    'directive content',
                    self.target_path,
                    path,
                    location=self.get_location(),
                )

            type_text = _type_text(info)
            if expand_values:
                type_text = 'dict of ' * wildcards.count('*') + 'dicts'
            rows.append(_Row(path, type_text, default_text, _description(info)))

            if expand_dict:
                self._add_rows(
                    rows,
                    long_defaults,
                    path + '.',
                    dict(field.contents),
                    set(field.optional_keys),
                    default if default is not _MISSING else {},
                    required,
                )
            elif expand_values:
                self._add_rows(
                    rows,
                    long_defaults,
                    f'{path}.{wildcards}',
                    dict(value_schema.contents),
                    set(value_schema.optional_keys),
                    {},
                    True,
                )


def setup(app: Sphinx) -> Dict[str, Any]:
    app.add_directive('settings-reference', SettingsReference)
    return {'version': '1.0', 'parallel_read_safe': True, 'parallel_write_safe': True}
