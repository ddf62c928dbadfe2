"""Field declarations for models: :class:`Field` and :class:`Composite`.

A Field is a data descriptor: the value of ``tweet.text`` lives in ``tweet.__dict__['text']``,
so hydrating an item is a plain dict fill, and the descriptor only intervenes on assignment
(type coercion, key protection).

For type checkers both are generic in the type of their value: ``Field()`` is a
``Field[str]``, ``Field(data_type=datetime)`` a ``Field[datetime]``, so ``tweet.ts`` is a
``datetime`` to an editor and ``Tweet.ts`` (on the class) the field itself. A data type given
by name (``NUMBER``, ``set_(int)``, a TypeDefinition) gives ``Field[Any]``: annotate such a
field, ``score: Field[int] = Field(data_type=NUMBER)``. This is typing only; at run time
nothing changes.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, overload

from ..exceptions import restate
from ..values.codec import canonical_number, describe
from .conditions import Condition
from .declaration import declaration_site
from .indexes import ALL, INCLUDE, KEYS_ONLY, Projection, key_schema
from .types import TypeDefinition, dump_natural, load_natural, load_type, natural_type_of

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self, TypeVar

    from ..models import Model

    # A default, so a bare ``Field`` in an annotation means ``Field[Any]``.
    T = TypeVar("T", default=Any)
else:  # typing.TypeVar takes no default before Python 3.13; only type checkers need it
    from typing import TypeVar

    T = TypeVar("T")

__all__ = ["NO_DEFAULT", "Composite", "Field", "default_merge"]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class Field(Generic[T]):
    """Declarative way to specify a model field.

    ``Field(index='my-index')`` is shorthand for ``Field().all_index('my-index')``.
    """

    composite = False

    # For type checkers: the value type follows data_type (see the module docstring).
    @overload
    def __init__(
        self: Field[str], hash_key: bool = ..., range_key: bool = ..., index: str | None = ...,
        data_type: type[str] = ..., coerce: bool = ..., check: Callable[[Any], bool] | None = ...,
        default: Any = ...,
    ) -> None: ...
    @overload
    def __init__(  # a TypeDefinition class, like set_(int): the type of its values is unknown
        self: Field[Any], hash_key: bool = ..., range_key: bool = ..., index: str | None = ...,
        *, data_type: type[TypeDefinition], coerce: bool = ...,
        check: Callable[[Any], bool] | None = ..., default: Any = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: Field[T], hash_key: bool = ..., range_key: bool = ..., index: str | None = ...,
        *, data_type: type[T], coerce: bool = ..., check: Callable[[Any], bool] | None = ...,
        default: Any = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: Field[Any], hash_key: bool = ..., range_key: bool = ..., index: str | None = ...,
        data_type: Any = ..., coerce: bool = ..., check: Callable[[Any], bool] | None = ...,
        default: Any = ...,
    ) -> None: ...
    def __init__(
        self,
        hash_key: bool = False,
        range_key: bool = False,
        index: str | None = None,
        data_type: Any = str,
        coerce: bool = False,
        check: Callable[[Any], bool] | None = None,
        default: Any = NO_DEFAULT,
    ) -> None:
        if hash_key and range_key:
            raise ValueError("A field cannot be both a hash_key and a range_key")
        self.hash_key = bool(hash_key)
        self.range_key = bool(range_key)
        self.data_type = data_type
        try:
            self.type: TypeDefinition = load_type(data_type)
        except TypeError as exc:
            site = declaration_site()
            raise TypeError(f"{site}: {exc}" if site else str(exc)) from None
        self.coerce_values = bool(coerce)
        self.check = check
        self._default = default
        self.name: str = ""
        self.model: type[Model] | None = None
        self.index: str | None = None
        self.projection: Projection | None = None
        if index is not None:
            self.all_index(index)

    # -- declaration ----------------------------------------------------------------------
    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _set_index(self, name: str, projection: Projection) -> "Field":
        if not name or not isinstance(name, str):
            raise ValueError(f"Index name for field {self.name or '?'} must be a string, got {name!r}")
        self.index = name
        self.projection = projection
        return self

    def all_index(self, name: str) -> "Field":
        """Index this field (a local secondary index) and project all attributes."""
        return self._set_index(name, Projection(ALL))

    def keys_index(self, name: str) -> "Field":
        """Index this field and project only the key attributes."""
        return self._set_index(name, Projection(KEYS_ONLY))

    def include_index(self, name: str, includes: Iterable[str] | None = None) -> "Field":
        """Index this field and project the key attributes plus ``includes``."""
        return self._set_index(name, Projection(INCLUDE, includes))

    def get_ddb_index(self, hash_key: str | None = None) -> dict[str, Any]:
        """Construct the dynamo local index of this field: its ``LocalSecondaryIndexes`` entry
        in a CreateTable request. The index's hash key is the table's, ``hash_key`` names it
        for a field not bound to a model yet; this field is the range key."""
        if self.index is None or self.projection is None:
            raise ValueError(f"{self.qualname} has no local index")
        if hash_key is None:
            if self.model is None:
                raise ValueError(f"{self.qualname} is not bound to a model: pass the hash key name")
            hash_key = self.model.meta_.hash_key.name
        return {
            "IndexName": self.index,
            "KeySchema": key_schema(hash_key, self.name),
            "Projection": self.projection.ddb(),
        }

    @property
    def qualname(self) -> str:
        """'Model.field', for messages."""
        model = self.model.__name__ if self.model is not None else "?"
        return f"{model}.{self.name}"

    @property
    def ddb_data_type(self) -> str:
        """The native DynamoDB data type ('S', 'N', 'B', 'SS'...)."""
        return str(self.type.ddb_data_type)

    @property
    def is_mutable(self) -> bool:
        return bool(self.type.mutable)

    @property
    def is_set(self) -> bool:
        return str(self.type.ddb_data_type) in ("SS", "NS", "BS")

    @property
    def default(self) -> Any:
        """A fresh default value (mutable defaults are copied per instance)."""
        if self._default is NO_DEFAULT:
            return set() if self.is_set else None
        if self.is_mutable or isinstance(self._default, (dict, list, set)):
            return copy.deepcopy(self._default)
        return self._default

    # -- values ---------------------------------------------------------------------------
    def coerce(self, value: Any, force_coerce: bool | None = None) -> Any:
        """Coerce a value to the field's data type; TypeError/ValueError name the field."""
        if value is None:
            return set() if self.is_set else None
        force = self.coerce_values if force_coerce is None else force_coerce
        try:
            return self.type.coerce(value, force)
        except (TypeError, ValueError) as exc:
            raise self._value_error(exc, value) from exc

    def _value_error(self, exc: Exception, value: Any) -> Exception:
        """``exc`` (a TypeError or ValueError about ``value``) restated with the field's name,
        and with the value unless the message already shows it (most do)."""
        message, shown = str(exc), describe(value)
        if shown not in message:
            message = f"{message} (value {shown})"
        return restate(exc, f"{self.qualname}: {message}")

    def validate(self, value: Any) -> None:
        """Run ``check=`` before a write; a false result raises ValueError naming the field."""
        if self.check is not None and not self.check(value):
            raise ValueError(f"{self.qualname}: value {value!r} failed its check {self.check!r}")

    def ddb_dump(self, value: Any) -> dict[str, Any] | None:
        """The AttributeValue for a value, or None when the attribute should be absent."""
        if value is None:
            return None
        try:
            return self.type.dump_attribute(value)
        except (TypeError, ValueError) as exc:
            raise self._value_error(exc, value) from exc

    def ddb_dump_for_query(self, value: Any) -> dict[str, Any]:
        """The AttributeValue for a value used in a condition."""
        dumped = self.ddb_dump(self.coerce(value))
        if dumped is None:
            raise ValueError(f"{self.qualname}: cannot compare with {value!r}")
        return dumped

    def ddb_dump_inner(self, value: Any) -> dict[str, Any]:
        """The AttributeValue of one member, for contains_/ncontains_ on a set or native
        list (the type dumps it); for other types, the value itself."""
        if not (self.is_set or self.ddb_data_type == "L"):
            return self.ddb_dump_for_query(value)
        item_type = getattr(self.type, "item_type", None)
        if item_type is not None:  # a typed set: the member is checked like any value
            try:
                value = item_type.coerce(value, self.coerce_values)
            except (TypeError, ValueError) as exc:
                raise self._value_error(exc, value) from exc
        member = self.type.dump_inner_attribute(value)
        if member is None:
            kind = "set" if self.is_set else "list"
            raise ValueError(f"{self.qualname}: cannot look for {value!r} in a {kind}")
        return member

    def ddb_load(self, val: dict[str, Any]) -> Any:
        """Decode a value retrieved from Dynamo (an AttributeValue, ``{'N': '12'}``)."""
        return self.type.load_attribute(val)

    # Undeclared ("overflow") attributes are stored with their natural DynamoDB type.
    @classmethod
    def ddb_dump_overflow(cls, val: Any) -> dict[str, Any] | None:
        """Dump an overflow value to its Dynamo format (None: no attribute)."""
        return dump_natural(val)

    @classmethod
    def ddb_load_overflow(cls, val: dict[str, Any]) -> Any:
        """Decode a value of an overflow field."""
        return load_natural(val)

    @classmethod
    def is_overflow_mutable(cls, val: Any) -> bool:
        """Check if an overflow value is mutable (a dict, list or set), so that sync() must
        compare it to find changes made in place."""
        return bool(natural_type_of(val).mutable)

    @property
    def allowed_filters(self) -> frozenset[str]:
        return frozenset(self.type.allowed_filters)

    def resolve(self, obj: Any = None, scope: dict[str, Any] | None = None) -> Any:
        """The field's value from an object or from a dict of field values (coerced to the
        field's type, so a key built from values given by the user matches a stored one)."""
        if scope is not None:
            value = scope.get(self.name)
            return None if value is None else self.coerce(value)
        return getattr(obj, self.name)

    def can_resolve(self, fields: Iterable[str]) -> set[str]:
        """The fields needed to compute this one (empty if ``fields`` lacks them)."""
        return {self.name} if self.name in set(fields) else set()

    # -- descriptor -----------------------------------------------------------------------
    @overload
    def __get__(self, obj: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: Any = None) -> T: ...
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        value = self.coerce(value)
        name = self.name
        state = obj.__dict__
        if obj.meta_.is_key_part(name) and state.get("__cache__"):
            if state.get(name) != value:
                raise AttributeError(
                    f"{self.qualname} is part of the primary key of a stored item and cannot be "
                    f"changed (from {state.get(name)!r} to {value!r}); delete the item and save a "
                    "new one instead"
                )
        incrs = state.get("__incrs__")
        if incrs and name in incrs and state.get(name) != value:
            # The sync would send the atomic update and drop the assignment, or the reverse.
            raise ValueError(
                f"{self.qualname} has a pending incr_/add_/remove_; it cannot also be assigned "
                f"({value!r}) in the same sync: sync first, or refresh() to drop the pending change"
            )
        state[name] = value

    def __delete__(self, obj: Any) -> None:
        self.__set__(obj, None)

    # -- conditions -----------------------------------------------------------------------
    def __eq__(self, other: Any) -> Condition:  # type: ignore[override]
        if other is None:
            return Condition.construct(self, "null", None)
        return Condition.construct(self, "eq", other)

    def __ne__(self, other: Any) -> Condition:  # type: ignore[override]
        if other is None:
            return Condition.construct(self, "not_null", None)
        return Condition.construct(self, "ne", other)

    def __lt__(self, other: Any) -> Condition:
        return Condition.construct(self, "lt", other)

    def __le__(self, other: Any) -> Condition:
        return Condition.construct(self, "lte", other)

    def __gt__(self, other: Any) -> Condition:
        return Condition.construct(self, "gt", other)

    def __ge__(self, other: Any) -> Condition:
        return Condition.construct(self, "gte", other)

    __hash__ = object.__hash__

    def between_(self, low: Any, high: Any) -> Condition:
        """Condition: low <= field <= high."""
        return Condition.construct(self, "between", (low, high))

    betwixt_ = between_

    def beginswith_(self, other: Any) -> Condition:
        """Condition: the field begins with a prefix."""
        return Condition.construct(self, "beginswith", other)

    def contains_(self, other: Any) -> Condition:
        """Condition: the field (a set or string) contains a value."""
        return Condition.construct(self, "contains", other)

    def ncontains_(self, other: Any) -> Condition:
        """Condition: the field does not contain a value."""
        return Condition.construct(self, "ncontains", other)

    def in_(self, other: Iterable[Any]) -> Condition:
        """Condition: the field equals one of the values."""
        return Condition.construct(self, "in", other)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.qualname}>"


def _as_loaded(field: Field[Any], value: Any) -> Any:
    """``value`` of ``field`` as it will load back: a number comes back in DynamoDB's normal
    form (1.0 of a NUMBER field loads as 1, Decimal('1.50') as Decimal('1.5')), and a
    composite merged from the value as given would change after a round trip, so that an
    object's key would no longer be its stored item's."""
    if value is None or field.composite:
        return value
    av = field.ddb_dump(value)
    if av is None or "N" not in av:
        return value
    return field.ddb_load({"N": canonical_number(av["N"])})


def default_merge(*values: Any) -> Any:
    """The merge of a Composite by default: the values joined with ':', or None when any
    is None (the attribute is then removed)."""
    if any(value is None for value in values):
        return None
    return ":".join(str(value) for value in values)


class Composite(Field[T]):
    """A field computed from other fields; stored as a real attribute.

    ``merge(*values)`` gets the subfield values in the order declared; the default joins them
    with ':' and gives None (attribute removed) when any subfield is None.
    """

    composite = True

    @overload
    def __init__(
        self: Composite[str], *fields: str, hash_key: bool = ..., range_key: bool = ...,
        index: str | None = ..., data_type: type[str] = ..., coerce: bool = ...,
        check: Callable[[Any], bool] | None = ..., merge: Callable[..., Any] | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: Composite[Any], *fields: str, hash_key: bool = ..., range_key: bool = ...,
        index: str | None = ..., data_type: type[TypeDefinition], coerce: bool = ...,
        check: Callable[[Any], bool] | None = ..., merge: Callable[..., Any] | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: Composite[T], *fields: str, hash_key: bool = ..., range_key: bool = ...,
        index: str | None = ..., data_type: type[T], coerce: bool = ...,
        check: Callable[[Any], bool] | None = ..., merge: Callable[..., Any] | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: Composite[Any], *fields: str, hash_key: bool = ..., range_key: bool = ...,
        index: str | None = ..., data_type: Any = ..., coerce: bool = ...,
        check: Callable[[Any], bool] | None = ..., merge: Callable[..., Any] | None = ...,
    ) -> None: ...
    def __init__(
        self,
        *fields: str,
        hash_key: bool = False,
        range_key: bool = False,
        index: str | None = None,
        data_type: Any = str,
        coerce: bool = False,
        check: Callable[[Any], bool] | None = None,
        merge: Callable[..., Any] | None = None,
    ) -> None:
        if not fields:
            site = declaration_site()
            raise ValueError(f"{site + ': ' if site else ''}Composite needs at least one field name")
        for name in fields:
            if not isinstance(name, str):
                site = declaration_site()
                raise TypeError(
                    f"{site + ': ' if site else ''}Composite takes the names of its subfields "
                    f"as strings, got {name!r}"
                )
        super().__init__(
            hash_key=hash_key,
            range_key=range_key,
            index=index,
            data_type=data_type,
            coerce=coerce,
            check=check,
        )
        self.subfields: tuple[str, ...] = tuple(fields)
        self.merge = merge or default_merge

    @property
    def default(self) -> Any:
        return None

    def resolve(self, obj: Any = None, scope: dict[str, Any] | None = None) -> Any:
        """Compute the value from an object or from a dict of field values.

        The subfield values go to ``merge`` positionally, in the order declared; its result is
        coerced to the composite's data type. A dict that holds the composite itself (or a
        nested composite) by name gives that value as it is, and so does an object loaded
        without any of the parts (see ``_parts_unseen``): its stored value, merge not called.
        """
        if scope is not None and self.name in scope:
            given = scope[self.name]
            return None if given is None else self.coerce(given)
        if scope is None and self._parts_unseen(obj):
            stored = obj.__dict__["__cache__"].get(self.name)
            return None if stored is None else self.ddb_load(stored)
        fields = self._meta_fields()
        values = [_as_loaded(fields[name], fields[name].resolve(obj, scope)) for name in self.subfields]
        value = self.merge(*values)
        return None if value is None else self.coerce(value)

    def _meta_fields(self) -> dict[str, Field]:
        if self.model is None:
            raise ValueError(
                f"Composite({', '.join(map(repr, self.subfields))}) is not bound to a model: "
                "declare it in a Model class body"
            )
        return self.model.meta_.fields

    def _parts_unseen(self, obj: Any) -> bool:
        """True for an object loaded from an index that projected none of this composite's
        parts (a KEYS_ONLY or INCLUDE index), none given since: the parts are unknown, not
        None, so ``merge`` cannot compute the value and the stored one stands.

        Such results (say, from a KEYS_ONLY index, with a composite table key) must still know
        their key, or they could not be refreshed or synced. An object loaded whole, or one
        that saw or was given any part, gets what ``merge`` says.
        """
        state = getattr(obj, "__dict__", None)
        if not state or state.get("__seen__") is None or not state.get("__cache__"):
            return False
        seen = state["__seen__"]
        assert self.model is not None
        return not any(
            name in seen or state.get(name) is not None for name in self.model.meta_.leaves(self)
        )

    def can_resolve(self, fields: Iterable[str]) -> set[str]:
        """The leaf fields needed to compute this one from ``fields``, or an empty set."""
        given = set(fields)
        if self.name in given:
            return {self.name}
        needed: set[str] = set()
        meta_fields = self._meta_fields()
        for name in self.subfields:
            sub = meta_fields[name].can_resolve(given)
            if not sub:
                return set()
            needed |= sub
        return needed

    def missing_parts(self, fields: Iterable[str]) -> list[str]:
        """The subfields (leaves, or nested composites) that ``fields`` lacks to compute this
        one; empty when it can be computed. For error messages."""
        given = set(fields)
        if self.name in given:
            return []
        missing: list[str] = []
        meta_fields = self._meta_fields()
        for name in self.subfields:
            sub = meta_fields[name]
            if isinstance(sub, Composite):
                missing.extend(sub.missing_parts(given))
            elif name not in given:
                missing.append(name)
        return missing

    @overload
    def __get__(self, obj: None, owner: Any = None) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: Any = None) -> T: ...
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return self.resolve(obj)

    def __set__(self, obj: Any, value: Any) -> None:
        # Spec: assigning to a composite has no effect; its value comes from its subfields.
        pass
