"""Field types: what ``Field(data_type=...)`` accepts, and how values are stored.

The public face of the values layer (the spec's ``flywheel.fields.types``): the DynamoDB type
constants, :class:`Binary`, :class:`TypeDefinition` and every built-in type, the registry
(:func:`register_type`, :func:`set_`, :func:`load_type`), and the natural mapping of
undeclared attributes (:func:`dump_natural`, :func:`load_natural`). The scalar types and the
codecs underneath live in :mod:`flywheel.values`; the container, document and natural types
are defined here. Pure functions, no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..exceptions import restate
from ..values.base import (
    ALL_FILTERS,
    CONTAINER_FILTERS,
    EQUALITY_FILTERS,
    TypeDefinition,
    wrong_type,
)
from ..values.codec import (
    BINARY,
    BINARY_SET,
    BOOL,
    LIST,
    MAP,
    NULL,
    NUMBER,
    NUMBER_SET,
    STRING,
    STRING_SET,
    AttributeValue,
    Binary,
    describe,
    dump_json,
    dump_natural,
    dump_natural_nonnull,
    dump_untyped_set,
    format_number,
    load_json,
    load_natural,
    load_number,
    load_untyped_set,
    to_bytes,
    unique_numbers,
)
from ..values.scalars import (
    BinaryType,
    BoolType,
    coerce_bool,
    DateTimeType,
    DateType,
    DecimalType,
    FloatType,
    IntType,
    NumberType,
    StringType,
)

__all__ = [
    'ALL_FILTERS',
    'BINARY',
    'BINARY_SET',
    'BOOL',
    'LIST',
    'MAP',
    'NULL',
    'NUMBER',
    'NUMBER_SET',
    'STRING',
    'STRING_SET',
    'AttributeValue',
    'Binary',
    'BinaryType',
    'BoolNativeType',
    'BoolType',
    'DateTimeType',
    'DateType',
    'DecimalType',
    'DictType',
    'FloatType',
    'IntType',
    'ListNativeType',
    'ListType',
    'MapType',
    'NaturalType',
    'NullType',
    'NumberType',
    'SetType',
    'StringType',
    'TypeDefinition',
    'dump_natural',
    'format_number',
    'load_natural',
    'load_number',
    'load_type',
    'natural_type',
    'natural_type_of',
    'register_type',
    'set_',
]


class _JsonDocumentType(TypeDefinition):
    """Shared code of dict and list fields stored as JSON text in an S attribute."""

    ddb_data_type = STRING
    mutable = True
    allowed_filters = EQUALITY_FILTERS
    _python_type: type = object

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, self._python_type):
            return value
        if force:
            return self._python_type(value)
        raise wrong_type(value, self._python_type.__name__)

    def ddb_dump(self, value: Any) -> Any:
        return dump_json(value)

    def ddb_load(self, value: Any) -> Any:
        return load_json(value) if isinstance(value, str) else value

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'S': dump_json(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            text = av['S']
        except KeyError:
            return self._load_foreign(av)  # a native M / L loads as the dict / list it is
        return load_json(text)


class DictType(_JsonDocumentType):
    """Dicts, stored as JSON text (S); a native M attribute also loads."""

    data_type = dict
    _python_type = dict


class ListType(_JsonDocumentType):
    """Lists, stored as JSON text (S); a native L attribute also loads."""

    data_type = list
    _python_type = list


_INT_ONLY = frozenset({int})

# Types that cannot be members of a set (register_type(..., allow_in_set=False)).
_NOT_IN_SET: set[type] = set()


class SetType(TypeDefinition):
    """Sets, stored as SS, NS or BS. Untyped (``Field(data_type=set)``): the DynamoDB type is
    chosen by the members and they are not checked; typed (``set_(T)``): every member is
    coerced by T's type, and the DynamoDB type follows it. An absent attribute loads as
    ``set()``.

    ``item_type`` is the TypeDefinition of the members (None when untyped). An untyped set
    reports ``ddb_data_type`` STRING_SET, nominally: its real type depends on its members.
    """

    data_type = set
    aliases = [frozenset]
    ddb_data_type: str | None = STRING_SET
    mutable = True
    allowed_filters = CONTAINER_FILTERS
    _bound_item: Any = None  # the member type of the subclasses made by bind()

    def __init__(self, item_type: Any = None, type_class: Any = None) -> None:
        spec = type_class if type_class is not None else item_type
        if spec is None:
            spec = type(self)._bound_item
        self.item_type: TypeDefinition | None = None if spec is None else load_type(spec)
        if self.item_type is not None:
            kind = self.item_type.ddb_data_type
            if kind not in (STRING, NUMBER, BINARY) or type(self.item_type) in _NOT_IN_SET:
                raise TypeError(f'{self.item_type!r} cannot be the member type of a set')
            self.ddb_data_type = kind + 'S'

    @classmethod
    def bind(cls, item_type: Any) -> type[SetType]:
        """Create a set factory: a SetType subclass whose instances hold ``item_type``."""
        cls(item_type)  # fail now on a type that cannot be in a set, not at Field creation
        name = f'SetType_{getattr(item_type, "__name__", None) or item_type}'
        return type(name, (cls,), {'_bound_item': item_type})

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, set):
            pass
        elif isinstance(value, frozenset) or (force and isinstance(value, Iterable)
                                              and not isinstance(value, (str, bytes, dict))):
            value = set(value)
        else:
            raise wrong_type(value, 'set')
        item_type = self.item_type
        if item_type is None:
            return value
        coerce_member = item_type.coerce
        converted = set()
        changed = False
        for member in value:
            try:
                new = coerce_member(member, force)
            except (TypeError, ValueError) as exc:
                raise restate(exc, f'set member: {exc}') from exc
            changed = changed or new is not member
            converted.add(new)
        # The same set object when nothing changed, so the caller keeps its reference.
        return converted if changed else value

    def ddb_dump(self, value: Any) -> Any:
        if self.item_type is None:
            return set(value)
        dump = self.item_type.ddb_dump
        return {dump(member) for member in value}

    def ddb_load(self, value: Any) -> Any:
        if self.item_type is None:
            return {to_bytes(m) if isinstance(m, Binary) else
                    load_number(str(m)) if isinstance(m, Decimal) else m for m in value}
        load = self.item_type.ddb_load
        return {load(member) for member in value}

    def ddb_dump_inner(self, value: Any) -> Any:
        return value if self.item_type is None else self.item_type.ddb_dump(value)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        if not value:
            return None  # DynamoDB rejects empty sets: an empty set is "no attribute"
        item_type = self.item_type
        if item_type is None:
            return dump_untyped_set(value)
        dump = item_type.dump_scalar
        members = {dump(member) for member in value}
        if self.ddb_data_type == NUMBER_SET and not (
            # distinct ints have distinct texts: the common int set needs no Decimal pass
            item_type.distinct_number_texts and set(map(type, value)) <= _INT_ONLY
        ):
            # 0.1 and Decimal('0.1') differ in Python but are one DynamoDB number, and a
            # set holding a number twice makes the request fail.
            return {NUMBER_SET: unique_numbers(members)}
        return {self.ddb_data_type: list(members)}  # type: ignore[dict-item]

    def load_attribute(self, av: AttributeValue) -> Any:
        item_type = self.item_type
        if item_type is None:
            loaded = load_untyped_set(av)
            return self._load_foreign(av) if loaded is None else loaded
        try:
            raw = av[self.ddb_data_type]  # type: ignore[index]
        except KeyError:
            return self._load_foreign(av)
        return item_type.load_scalar_set(raw)

    def load_missing(self) -> Any:
        return set()

    def dump_inner_attribute(self, value: Any) -> AttributeValue | None:
        if self.item_type is None:
            return dump_natural(value)
        return self.item_type.dump_attribute(self.item_type.coerce(value, True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SetType) and self.item_type == other.item_type

    def __hash__(self) -> int:
        return hash((SetType, self.item_type))

    def __repr__(self) -> str:
        return f'SetType({self.item_type!r})' if self.item_type is not None else 'SetType()'


class MapType(TypeDefinition):
    """Native DynamoDB maps (M): dicts with str keys whose values are any scalar, set or
    nested document (None inside is stored as NULL)."""

    data_type = MAP
    ddb_data_type = MAP
    mutable = True
    _python_type: type = dict
    _tag = MAP

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, self._python_type):
            return value
        if force:
            return self._python_type(value)
        raise wrong_type(value, self._python_type.__name__)

    def ddb_dump(self, value: Any) -> Any:
        return value

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else dump_natural_nonnull(value)

    def load_attribute(self, av: AttributeValue) -> Any:
        if self._tag in av:
            return load_natural(av)
        if STRING in av:  # JSON text written by a dict / list field
            return self.coerce(load_json(av[STRING]), True)
        return self._load_foreign(av)


class ListNativeType(MapType):
    """Native DynamoDB lists (L) of any scalars, sets or nested documents."""

    data_type = LIST
    ddb_data_type = LIST
    allowed_filters = CONTAINER_FILTERS
    _python_type = list
    _tag = LIST

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, tuple):
            return list(value)
        return super().coerce(value, force)

    def dump_inner_attribute(self, value: Any) -> AttributeValue | None:
        return dump_natural(value)


class BoolNativeType(TypeDefinition):
    """Native DynamoDB booleans (BOOL); N 1 / 0 also loads."""

    data_type = BOOL
    ddb_data_type = BOOL

    def coerce(self, value: Any, force: bool) -> Any:
        return coerce_bool(value, force)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'BOOL': bool(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return av['BOOL']
        except KeyError:
            return self._load_foreign(av)


class NullType(TypeDefinition):
    """Native DynamoDB NULL. Its only value is None, which a field stores as "no
    attribute"; a NULL attribute written by another client loads as None."""

    data_type = NULL
    ddb_data_type = NULL

    def coerce(self, value: Any, force: bool) -> Any:
        if value is None or force:
            return None
        raise wrong_type(value, 'None')

    def load_attribute(self, av: AttributeValue) -> Any:
        return None


class NaturalType(TypeDefinition):
    """Undeclared attributes: every value is stored with its natural DynamoDB type
    (see ``dump_natural``) and read back with ``load_natural``."""

    mutable = True
    allowed_filters = ALL_FILTERS

    def coerce(self, value: Any, force: bool) -> Any:
        return value

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return dump_natural(value)

    def load_attribute(self, av: AttributeValue) -> Any:
        return load_natural(av)

    def dump_inner_attribute(self, value: Any) -> AttributeValue | None:
        return dump_natural(value)


# -- registry -------------------------------------------------------------------------------

_REGISTRY: dict[Any, type[TypeDefinition]] = {}


def register_type(type_class: type[TypeDefinition], allow_in_set: bool = True
                  ) -> type[TypeDefinition]:
    """Register a type class so that its ``data_type`` and ``aliases`` can be given to
    ``Field(data_type=...)``. Returns the class, so it also works as a decorator."""
    if not (isinstance(type_class, type) and issubclass(type_class, TypeDefinition)):
        raise TypeError(f'register_type needs a TypeDefinition subclass, not {type_class!r}')
    for key in (type_class.data_type, *type_class.aliases):
        if key is None:
            continue
        try:
            _REGISTRY[key] = type_class
        except TypeError:
            raise TypeError(f'{type_class.__name__}: data_type / alias {key!r} is not '
                            f'hashable') from None
    if allow_in_set:
        _NOT_IN_SET.discard(type_class)
    else:
        _NOT_IN_SET.add(type_class)
    return type_class


_SET_FACTORIES: dict[Any, type[SetType]] = {}


def set_(data_type: Any) -> type[SetType]:
    """Create an alias for a SetType that contains ``data_type``: ``Field(data_type=set_(date))``
    (the same as ``frozenset([date])``)."""
    try:
        return _SET_FACTORIES[data_type]
    except KeyError:
        factory = _SET_FACTORIES[data_type] = SetType.bind(data_type)
    except TypeError:  # unhashable: build one without caching
        factory = SetType.bind(data_type)
    return factory


def load_type(data_type: Any) -> TypeDefinition:
    """The TypeDefinition instance that ``Field(data_type=data_type)`` means."""
    if isinstance(data_type, TypeDefinition):
        return data_type
    if isinstance(data_type, type) and issubclass(data_type, TypeDefinition):
        return data_type()
    if isinstance(data_type, frozenset):
        if len(data_type) != 1:
            raise TypeError(f'a frozenset data_type names one member type, not {data_type!r}')
        return SetType(next(iter(data_type)))
    try:
        type_class = _REGISTRY[data_type]
    except (KeyError, TypeError):
        origin = getattr(data_type, '__origin__', None)  # set[int], frozenset[date]
        args: tuple[Any, ...] = getattr(data_type, '__args__', ())
        if origin in (set, frozenset) and len(args) == 1:
            return SetType(args[0])
        raise TypeError(f'unknown data_type {data_type!r}') from None
    return type_class()


_NATURAL = NaturalType()


def natural_type() -> NaturalType:
    """The type of undeclared attributes (values stored with their natural DynamoDB type)."""
    return _NATURAL


def natural_type_of(value: Any) -> TypeDefinition:
    """The built-in type whose attribute form is the natural form of ``value``."""
    type_class = _NATURAL_TYPES.get(type(value))
    if type_class is None:
        for base, candidate in _NATURAL_TYPES.items():
            if isinstance(value, base):
                type_class = candidate
                break
        else:
            raise TypeError(f'{describe(value)} ({type(value).__name__}) has no DynamoDB type')
    return type_class()


_NATURAL_TYPES: dict[type, type[TypeDefinition]] = {
    bool: BoolNativeType, str: StringType, bytes: BinaryType, bytearray: BinaryType,
    memoryview: BinaryType, Binary: BinaryType, int: NumberType, float: NumberType,
    Decimal: NumberType, dict: MapType, list: ListNativeType, tuple: ListNativeType,
    set: SetType, frozenset: SetType, type(None): NullType,
}

_SETTABLE_BUILTINS: tuple[type[TypeDefinition], ...] = (
    StringType, BinaryType, IntType, FloatType, DecimalType, NumberType, BoolType, DateTimeType,
    DateType)
_UNSETTABLE_BUILTINS: tuple[type[TypeDefinition], ...] = (
    DictType, ListType, SetType, MapType, ListNativeType, BoolNativeType, NullType)
for _builtin in _SETTABLE_BUILTINS:
    register_type(_builtin)
for _builtin in _UNSETTABLE_BUILTINS:
    register_type(_builtin, allow_in_set=False)
_REGISTRY[STRING_SET] = SetType.bind(str)
_REGISTRY[NUMBER_SET] = SetType.bind(NUMBER)
_REGISTRY[BINARY_SET] = SetType.bind(bytes)
