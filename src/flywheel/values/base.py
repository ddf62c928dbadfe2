"""TypeDefinition: the base class of every field type.

A type checks a value (``coerce``) and converts it both ways, at two levels side by side:

* the spec's level, ``ddb_dump`` / ``ddb_load``, which works with "dynamo python values" (str
  for S, a number for N, :class:`Binary` or bytes for B, a set of those for sets); custom types
  written as the spec shows override these;
* flywheel's own level, ``dump_attribute`` / ``load_attribute``, which works with botocore's
  AttributeValue dicts (``{'N': '12'}``). The default goes through ``ddb_dump`` / ``ddb_load``
  so custom types work unchanged; the built-in types override it with direct code because
  this is the hottest path of the library (every attribute of every item goes through it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from ..exceptions import restate
from .codec import (
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
    describe,
    load_natural,
    wire_decoders,
    wire_encoders,
)

# Condition operators, by what DynamoDB can evaluate on the stored type.
EQUALITY_FILTERS = frozenset({'eq', 'ne', 'in', 'null', 'not_null'})
ORDERED_FILTERS = EQUALITY_FILTERS | {'lt', 'lte', 'gt', 'gte', 'between'}
STRING_FILTERS = ORDERED_FILTERS | {'beginswith', 'contains', 'ncontains'}
CONTAINER_FILTERS = EQUALITY_FILTERS | {'contains', 'ncontains'}
ALL_FILTERS = STRING_FILTERS
_FILTERS_BY_DDB_TYPE: dict[Any, frozenset[str]] = {
    STRING: STRING_FILTERS, BINARY: STRING_FILTERS, NUMBER: ORDERED_FILTERS,
    STRING_SET: CONTAINER_FILTERS, NUMBER_SET: CONTAINER_FILTERS,
    BINARY_SET: CONTAINER_FILTERS, LIST: CONTAINER_FILTERS,
    MAP: EQUALITY_FILTERS, BOOL: EQUALITY_FILTERS, NULL: EQUALITY_FILTERS,
}


def wrong_type(value: Any, expected: str) -> TypeError:
    return TypeError(f'expected {expected}, got {type(value).__name__}: {describe(value)}')


def data_loss(value: Any, target: str) -> ValueError:
    return ValueError(f'refusing to convert {describe(value)} to {target}: results in data loss')


class TypeDefinition:
    """Base class for all field types.

    Attributes (class attributes, overridden by subclasses):
        data_type: the value you pass to ``Field(data_type=...)`` to get this type.
        aliases: other values that mean this type.
        ddb_data_type: the DynamoDB type that stores it (STRING, NUMBER, BINARY, a set type,
            MAP, LIST, BOOL or NULL).
        mutable: True when values can change in place, so ``sync()`` must compare them.
        allowed_filters: the condition operators usable on fields of this type (derived from
            ``ddb_data_type`` unless a subclass sets it).
    """

    data_type: Any = None
    aliases: list[Any] = []
    ddb_data_type: str | None = None
    mutable: bool = False
    allowed_filters: AbstractSet[str] = ALL_FILTERS
    #: True when distinct values always dump to distinct N texts (ints), so a number set of
    #: them needs no de-duplication by numeric value
    distinct_number_texts: bool = False
    #: (key, convert) when ``load_attribute`` is exactly ``convert(av[key])`` (``convert``
    #: None: the value as it is) for the values this type stores, so loading can skip the
    #: method call; any other AttributeValue still goes to ``load_attribute``. Only used
    #: from the class that declares it: a subclass changing the loading inherits nothing.
    direct_load: tuple[str, Callable[[Any], Any] | None] | None = None

    _filters_derived = True  # allowed_filters was derived from ddb_data_type, not declared

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if 'allowed_filters' in cls.__dict__:
            cls._filters_derived = False
        elif cls._filters_derived:
            cls.allowed_filters = _FILTERS_BY_DDB_TYPE.get(cls.ddb_data_type, ALL_FILTERS)

    # -- the spec's level ---------------------------------------------------------------------
    def coerce(self, value: Any, force: bool) -> Any:
        """Check the type of ``value`` and return it, converted if ``force`` (or if the type
        converts it automatically). Raises TypeError for a wrong type, ValueError when the
        conversion would lose data."""
        expected = self.data_type
        if not isinstance(expected, type) or isinstance(value, expected):
            return value
        if force:
            try:
                return expected(value)
            except (TypeError, ValueError) as exc:
                raise restate(exc, f'cannot convert {describe(value)} to '
                                      f'{expected.__name__}: {exc}') from exc
        raise wrong_type(value, expected.__name__)

    def ddb_dump(self, value: Any) -> Any:
        """Dump a value to the form DynamoDB stores (str, number, Binary/bytes, set...)."""
        return value

    def ddb_load(self, value: Any) -> Any:
        """Turn a value read from DynamoDB (str, Decimal, Binary, set...) into this type."""
        return value

    def ddb_dump_inner(self, value: Any) -> Any:
        """For set types, dump one member; for the others, the same as ``ddb_dump``."""
        return self.ddb_dump(value)

    # -- flywheel's AttributeValue level ------------------------------------------------------
    def dump_attribute(self, value: Any) -> AttributeValue | None:
        """The AttributeValue storing ``value``, or None for "no attribute"."""
        if value is None:
            return None
        encode = wire_encoders.get(self.ddb_data_type)
        if encode is None:
            raise TypeError(f'{type(self).__name__} has an unknown ddb_data_type '
                            f'{self.ddb_data_type!r}')
        return encode(self.ddb_dump(value))

    def load_attribute(self, av: AttributeValue) -> Any:
        """The value an AttributeValue stores."""
        tag, raw = next(iter(av.items()))
        decoded = wire_decoders[tag](raw)
        if decoded is None:
            return self.load_missing()
        return self.ddb_load(decoded)

    def load_missing(self) -> Any:
        """The value of a field whose attribute is absent."""
        return None

    def dump_inner_attribute(self, value: Any) -> AttributeValue | None:
        """The AttributeValue of one member (for 'contains'); for scalars, the value itself."""
        return self.dump_attribute(value)

    def dump_scalar(self, value: Any) -> Any:
        """The wire text (S, N) or bytes (B) of a value: what a set of this type holds."""
        av = self.dump_attribute(value)
        if av is None:
            raise ValueError(f'{describe(value)} cannot be a set member')
        return av[self.ddb_data_type]  # type: ignore[index]

    def load_scalar(self, raw: Any) -> Any:
        """The inverse of ``dump_scalar``."""
        return self.ddb_load(wire_decoders[self.ddb_data_type](raw))  # type: ignore[index]

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        """``{load_scalar(m) for m in raw}``: the members of a stored set of this type
        (built-in types override it with a loop in C)."""
        load = self.load_scalar
        return {load(member) for member in raw}

    def _load_foreign(self, av: AttributeValue) -> Any:
        # An attribute of another DynamoDB type than ours (written by another client): read
        # it naturally and convert it as coerce=True would, so such tables still load.
        value = load_natural(av)
        if value is None:
            return self.load_missing()
        return self.coerce(value, True)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'

