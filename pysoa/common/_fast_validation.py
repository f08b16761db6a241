"""
Fast validity checks compiled from Conformity fields.

Conformity walks a schema and builds lists of errors even when a value is valid. :func:`compile_check` turns a field,
once per field object, into one generated Python function that answers only "would Conformity find no error?": the
schema's structure is unrolled into straight-line statements doing the type tests, comparisons, ``len``, ``strip``,
``hash`` and membership tests Conformity does, and returning ``False`` at the first one that fails. The answer is
conservative: ``True`` means Conformity returns no errors for the value, ``False`` means "ask Conformity", which
:meth:`FastSchema.errors` does, so the errors of an invalid value are always exactly Conformity's.

A field is compiled only when the ``errors`` method it would run is one of Conformity's own that this module mirrors;
a subclass that does not override ``errors`` (``Float``, ``ByteString``, ``Latitude``, a ``Dictionary`` subclass
with class-level ``contents``, ...) is compiled from its attributes. Any other field, including one whose class or
instance overrides ``errors``, is checked by calling its ``errors``, so it is correct by construction. A container's
``additional_validator`` is honoured: the container passes only if its validator then returns no errors.

The generated source never contains a value taken from a schema: keys, bounds, types and fields are passed to it as
named constants.

Two assumptions:

- Fields are immutable once compiled: their attributes are read once, at compile time. The cache keeps every compiled
  field alive (up to a limit), so compile long-lived schemas, not ones made per request.
- The values' own methods are deterministic (``hash``, ``==``, ``len``, ``keys`` of a dict subclass): a check skips
  operations that cannot change the verdict, such as collecting the keys of a dictionary that allows extra keys.

A check never raises: where an operation raises, the check returns ``False``, so a value that makes Conformity raise
reaches Conformity and raises there.
"""

import threading
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
)

from conformity import fields
from conformity.error import Error
from conformity.fields.structures import AdditionalCollectionValidator


__all__ = (
    'Check',
    'FastSchema',
    'compile_check',
    'schema_errors',
)

Check = Callable[[Any], bool]
"""A predicate that returns ``True`` only for values its field finds no errors with."""


def compile_check(field: fields.Base) -> Check:
    """
    Return the fast check of a Conformity field, compiled on the first call for this field object and cached.

    :param field: The field; it must not change afterwards.

    :return: A function of one value that returns ``True`` only if ``field.errors(value)`` would return no errors,
             and ``False`` if it would return errors or raise, or if the value is too unusual for the check to judge.
             It never raises.
    """
    key = id(field)
    entry = _entries.get(key)  # compiled already: no lock needed to read it
    if entry is not None:
        return entry[1]
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            return entry[1]
        if key in _compiling:
            # A schema that contains itself, met again while it is being compiled.
            return _fallback_check(field)

        _compiling.add(key)
        try:
            check = _generate(field)
        finally:
            _compiling.discard(key)
        if len(_entries) >= _CACHE_LIMIT:
            _entries.clear()
        _entries[key] = (field, check)
        return check


def schema_errors(field: fields.Base, value: Any) -> List[Error]:
    """
    The errors Conformity finds with ``value`` (an empty list if it is valid), through the field's compiled check.

    :param field: The field to validate against; it must not change afterwards.
    """
    if compile_check(field)(value):
        return []
    return field.errors(value)


class FastSchema:
    """
    A Conformity field with a fast path for valid values: :meth:`errors` returns ``[]`` as soon as the compiled check
    passes, and otherwise returns what the field's own ``errors`` returns.
    """

    __slots__ = ('check', 'field')

    def __init__(self, field: fields.Base) -> None:
        """
        :param field: The field to validate against; it must not change afterwards.
        """
        self.field = field
        self.check = compile_check(field)

    def errors(self, value: Any) -> List[Error]:
        """
        :param value: The value to validate.

        :return: The errors Conformity finds with the value (an empty list if it is valid).
        """
        if self.check(value):
            return []
        return self.field.errors(value)


_CACHE_LIMIT = 4096
"""Past this many compiled fields, the cache starts over, so that schemas made on the fly cannot exhaust memory."""

_MAX_INLINED_DEPTH = 8
"""Fields nested deeper than this get a function of their own, keeping generated blocks well within Python's limits."""

_entries: Dict[int, Tuple[object, Check]] = {}
"""The compiled check of each field by id, with the field, kept alive so that no other object can get its id."""

_compiling: Set[int] = set()
_lock = threading.RLock()


def _always_valid(value: Any) -> bool:
    """The check of a field that accepts every value."""
    return True


def _fallback_check(field: fields.Base) -> Check:
    """The field's own verdict, as a check."""

    def check(value: Any) -> bool:
        try:
            return not field.errors(value)
        except Exception:
            return False

    return check


def _generate(field: fields.Base) -> Check:
    """Generate and compile the check function of a field (uncached)."""
    source = _Source()
    body = source.lines(field, 'value')
    if not body:
        return _always_valid
    text = '\n'.join(
        [
            'def check(value):',
            '    try:',
            *_indented(_indented(body)),
            '    except Exception:',
            '        return False',
            '    return True',
        ]
    )
    exec(compile(text, f'<fast check of {type(field).__qualname__}>', 'exec'), source.namespace)
    check: Check = source.namespace['check']
    return check


class _Source:
    """The statements of one generated check and the constants they refer to."""

    def __init__(self) -> None:
        self.namespace: Dict[str, Any] = {}
        self._variables = 0
        self._path: List[int] = []

    def constant(self, value: object) -> str:
        """The name under which the generated code sees ``value``."""
        name = f'c{len(self.namespace)}'
        self.namespace[name] = value
        return name

    def variable(self) -> str:
        """A new local variable name."""
        self._variables += 1
        return f'v{self._variables}'

    def lines(self, field: fields.Base, value: str) -> List[str]:
        """The statements that return ``False`` unless ``field`` finds no errors with the variable named ``value``."""
        if id(field) in self._path:
            # A schema that contains itself.
            return _fallback_lines(field, value, self)
        if len(self._path) >= _MAX_INLINED_DEPTH:
            return _call_lines(compile_check(field), value, self)
        emitter = _EMITTERS.get(_implementation(type(field), 'errors'))
        if emitter is None or 'errors' in getattr(field, '__dict__', ()):
            return _fallback_lines(field, value, self)
        self._path.append(id(field))
        try:
            return emitter(field, value, self)
        finally:
            self._path.pop()


_Emitter = Callable[[Any, str, _Source], List[str]]
"""Returns, for a field, a variable name and a source, the statements that :meth:`_Source.lines` returns."""


def _indented(lines: List[str]) -> List[str]:
    return [f'    {line}' for line in lines]


def _implementation(cls: type, name: str) -> Optional[object]:
    """The raw class attribute ``name`` that instances of ``cls`` use (the function, not a bound method)."""
    for klass in cls.__mro__:
        implementation: object = vars(klass).get(name)
        if implementation is not None:
            return implementation
    return None


def _fallback_lines(field: object, value: str, source: _Source) -> List[str]:
    """The field's own verdict, for a field this module does not mirror."""
    return [f'if {source.constant(field)}.errors({value}): return False']


def _call_lines(check: Check, value: str, source: _Source) -> List[str]:
    """A call to a check compiled on its own."""
    return [f'if not {source.constant(check)}({value}): return False']


def _instance_lines(valid_types: Any, value: str, source: _Source) -> List[str]:
    return [f'if not isinstance({value}, {source.constant(valid_types)}): return False']


def _sized_instance_lines(
    valid_types: Any,
    min_length: Optional[int],
    max_length: Optional[int],
    value: str,
    source: _Source,
) -> List[str]:
    """The type and length tests shared by strings, sequences, sets and schemaless dictionaries."""
    lines = _instance_lines(valid_types, value, source)
    if min_length is not None:
        lines.append(f'if len({value}) < {source.constant(min_length)}: return False')
    if max_length is not None:
        lines.append(f'if len({value}) > {source.constant(max_length)}: return False')
    return lines


def _additional_validation_lines(
    validator: Optional[AdditionalCollectionValidator[Any]],
    value: str,
    source: _Source,
) -> List[str]:
    """
    A collection's additional validator, which Conformity runs once everything else has passed. It may then run a
    second time: if it reports errors, the caller asks Conformity for them.
    """
    if validator is None:
        return []
    name = source.constant(validator)
    return [f'if {name} and {name}.errors({value}): return False']


def _emit_anything(field: fields.Anything, value: str, source: _Source) -> List[str]:
    return []


def _emit_boolean(field: fields.Boolean, value: str, source: _Source) -> List[str]:
    return [f'if not isinstance({value}, bool): return False']


def _emit_null(field: fields.Null, value: str, source: _Source) -> List[str]:
    return [f'if {value} is not None: return False']


def _emit_hashable(field: fields.Hashable, value: str, source: _Source) -> List[str]:
    # Only a TypeError means "not hashable" to Conformity; any exception makes the check answer False.
    return [f'hash({value})']


def _emit_object_instance(field: fields.ObjectInstance, value: str, source: _Source) -> List[str]:
    return _instance_lines(field.valid_type, value, source)


def _emit_constant(field: fields.Constant, value: str, source: _Source) -> List[str]:
    # An unhashable value raises a TypeError, which Conformity reports as an error and the check as False.
    return [f'if {value} not in {source.constant(field.values)}: return False']


def _emit_number(field: fields.Integer, value: str, source: _Source) -> List[str]:
    """``Integer``, ``Float``, ``Decimal`` and their subclasses: the type (never ``bool``) and the bounds."""
    return [
        f'if not isinstance({value}, {source.constant(field.valid_type)}) or isinstance({value}, bool): return False',
        *(
            f'if {value} {rejecting_operator} {source.constant(bound)}: return False'
            for rejecting_operator, bound in (('<=', field.gt), ('>=', field.lt), ('<', field.gte), ('>', field.lte))
            if bound is not None
        ),
    ]


def _emit_string(field: fields.UnicodeString, value: str, source: _Source) -> List[str]:
    """``UnicodeString``, ``ByteString`` and their subclasses."""
    lines = _sized_instance_lines(field.valid_type, field.min_length, field.max_length, value, source)
    if not field.allow_blank:
        # Blank means nothing left after ``strip()``: Unicode whitespace for ``str``, ASCII whitespace for ``bytes``.
        lines.append(f'if not {value}.strip(): return False')
    return lines


def _emit_dictionary(field: fields.Dictionary, value: str, source: _Source) -> List[str]:
    lines = [f'if not isinstance({value}, dict): return False']
    for key, value_field in field.contents.items():
        key_name = source.constant(key)
        item = source.variable()
        item_lines = [f'{item} = {value}[{key_name}]', *source.lines(value_field, item)]
        if key in field.optional_keys:
            lines += [f'if {key_name} in {value}:', *_indented(item_lines)]
        else:
            lines += [f'if {key_name} not in {value}: return False', *item_lines]
    if not field.allow_extra_keys:
        known_keys = source.constant(frozenset(field.contents))
        lines.append(f'if not {known_keys}.issuperset({value}.keys()): return False')
    return lines + _additional_validation_lines(field.additional_validator, value, source)


def _emit_schemaless_dictionary(field: fields.SchemalessDictionary, value: str, source: _Source) -> List[str]:
    key, item = source.variable(), source.variable()
    return [
        *_sized_instance_lines(dict, field.min_length, field.max_length, value, source),
        f'for {key}, {item} in {value}.items():',
        *_indented(source.lines(field.key_type, key) + source.lines(field.value_type, item) or ['pass']),
        *_additional_validation_lines(field.additional_validator, value, source),
    ]


_ENUMERATE = _implementation(fields.List, '_enumerate')


def _emit_collection(field: fields.List, value: str, source: _Source) -> List[str]:
    """``List``, ``Sequence``, ``Set`` and their subclasses (unless one changes which elements are validated)."""
    if _implementation(type(field), '_enumerate') is not _ENUMERATE:
        return _fallback_lines(field, value, source)
    element = source.variable()
    return [
        *_sized_instance_lines(field.valid_types, field.min_length, field.max_length, value, source),
        f'for {element} in {value}:',
        *_indented(source.lines(field.contents, element) or ['pass']),
        *_additional_validation_lines(field.additional_validator, value, source),
    ]


def _emit_tuple(field: fields.Tuple, value: str, source: _Source) -> List[str]:
    elements = [source.variable() for _ in field.contents]
    lines = [f'if not isinstance({value}, tuple) or len({value}) != {len(elements)}: return False']
    if elements:
        # Unpacking iterates the tuple, as Conformity's ``zip`` does.
        lines.append(f'{", ".join(elements)}, = {value}')
    for element_field, element in zip(field.contents, elements):
        lines += source.lines(element_field, element)
    return lines + _additional_validation_lines(field.additional_validator, value, source)


def _emit_nullable(field: fields.Nullable, value: str, source: _Source) -> List[str]:
    inner = source.lines(field.field, value)
    return [f'if {value} is not None:', *_indented(inner)] if inner else []


def _emit_all(field: fields.All, value: str, source: _Source) -> List[str]:
    return [line for requirement in field.requirements for line in source.lines(requirement, value)]


def _emit_any(field: fields.Any, value: str, source: _Source) -> List[str]:
    if not field.options:
        # Conformity finds no errors with any value when there is no option to try.
        return []
    options = tuple((compile_check(option), option) for option in field.options)

    def passes(option_value: Any) -> bool:
        for option_check, option in options:
            # Conformity runs every option in full until one passes (it may raise on the way), and a conservative
            # check can reject a value its option accepts, so a failing option is asked for its errors.
            if option_check(option_value) or not option.errors(option_value):
                return True
        return False

    return _call_lines(passes, value, source)


_EMITTERS: Dict[Optional[object], _Emitter] = {
    _implementation(field_class, 'errors'): emitter
    for field_class, emitter in (
        (fields.Anything, _emit_anything),
        (fields.Boolean, _emit_boolean),
        (fields.Null, _emit_null),
        (fields.Hashable, _emit_hashable),
        (fields.ObjectInstance, _emit_object_instance),
        (fields.Constant, _emit_constant),
        (fields.Integer, _emit_number),
        (fields.UnicodeString, _emit_string),
        (fields.Dictionary, _emit_dictionary),
        (fields.SchemalessDictionary, _emit_schemaless_dictionary),
        (fields.List, _emit_collection),
        (fields.Tuple, _emit_tuple),
        (fields.Nullable, _emit_nullable),
        (fields.All, _emit_all),
        (fields.Any, _emit_any),
    )
}
"""What to generate for each ``errors`` implementation this module mirrors."""
