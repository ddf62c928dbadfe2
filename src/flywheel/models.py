"""Model objects and their state.

Each instance keeps all of its state in its ``__dict__``:

- declared field values under their own names (Field is a data descriptor reading them);
- undeclared attributes under their names (saved unless they begin or end with '_');
- ``__cache__``: the stored item as last seen (AttributeValues), None if never persisted;
- ``__incrs__``: pending atomic changes, name -> number delta or :class:`SetDelta`;
- ``__dirty__``: names marked dirty by hand (``mark_dirty_``), written even if unchanged;
- ``__engine__``: the engine that last saved or loaded the object.

What ``sync`` sends is derived from this: every attribute whose current AttributeValue differs
from the cached one is written, which also catches in-place changes to dicts, lists and sets.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping

from .expressions import (
    Placeholders,
    UpdateBuilder,
    attribute_absent,
    attribute_equals,
    join_conditions,
    render_filter,
)
from .fields import Field
from .fields.types import dump_natural, load_natural
from .model_meta import ModelMetadata, ModelMetaclass

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .fields.conditions import Condition

__all__ = ["Model", "SetDelta"]

Item = dict[str, dict[str, Any]]
_STATE = ("__cache__", "__incrs__", "__dirty__", "__engine__")


class SetDelta:
    """A pending atomic change to a set: values to ADD and values to DELETE."""

    __slots__ = ("additions", "removals")

    def __init__(self) -> None:
        self.additions: set[Any] = set()
        self.removals: set[Any] = set()

    def add(self, action: str, value: Any) -> None:
        """Record ``action`` ('ADD' or 'DELETE') of one value or a set of values."""
        values = set(value) if isinstance(value, (set, frozenset, list, tuple)) else {value}
        if action == "ADD":
            self.additions |= values
            self.removals -= values
        elif action == "DELETE":
            self.removals |= values
            self.additions -= values
        else:
            raise ValueError(f"Unknown set action {action!r}; use 'ADD' or 'DELETE'")

    def merge(self, other: Iterable[Any] | None) -> set[Any]:
        """Apply the delta to a set, returning the new set."""
        result = set(other or ())
        result |= self.additions
        result -= self.removals
        return result

    def __repr__(self) -> str:
        return f"SetDelta(add={self.additions!r}, delete={self.removals!r})"


def values_equal(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Compare two AttributeValues by meaning: sets ignore order, numbers ignore notation."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    if a == b:
        return True
    (kind_a, va), = a.items()
    (kind_b, vb), = b.items()
    if kind_a != kind_b:
        return False
    if kind_a == "N":
        return Decimal(va) == Decimal(vb)
    if kind_a == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if kind_a in ("SS", "BS"):
        return set(va) == set(vb)
    if kind_a == "M":
        return va.keys() == vb.keys() and all(values_equal(va[k], vb[k]) for k in va)
    if kind_a == "L":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb))
    return False


class Model(metaclass=ModelMetaclass):
    """Base class for all flywheel models.

    The default ``__init__`` takes the hash key and then the range key positionally, and any
    field (declared or not) by keyword.
    """

    __metadata__: ClassVar[dict[str, Any]] = {}
    meta_: ClassVar[ModelMetadata]

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        meta = getattr(cls, "meta_", None)
        if meta is None:
            raise TypeError("Model itself cannot be instantiated; subclass it")
        obj = object.__new__(cls)
        state = obj.__dict__
        for name, field in meta.fields.items():
            if not field.composite:
                state[name] = field.default
        state["__cache__"] = None
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        state["__engine__"] = None
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        meta = self.meta_
        keys = [f for f in (meta.hash_key, meta.range_key) if f is not None]
        if len(args) > len(keys):
            raise TypeError(
                f"{type(self).__name__}() takes at most {len(keys)} positional arguments (the "
                f"primary key {[f.name for f in keys]}), got {len(args)}: {args!r}"
            )
        for field, value in zip(keys, args):
            if field.composite:
                raise TypeError(
                    f"{field.qualname} is a composite key: pass its parts by keyword instead"
                )
            setattr(self, field.name, value)
        for name, value in kwargs.items():
            setattr(self, name, value)

    # -- identity -------------------------------------------------------------------------
    def _key_tuple(self) -> tuple[Any, ...]:
        meta = self.meta_
        return tuple(
            f.resolve(self) for f in (meta.hash_key, meta.range_key) if f is not None
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other).meta_ is not type(self).meta_:
            return False
        return self._key_tuple() == other._key_tuple()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self).meta_.name, self._key_tuple()))

    def __repr__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in zip(self.meta_.key_names, self._key_tuple()))
        return f"{type(self).__name__}({key})"

    # -- attribute access -----------------------------------------------------------------
    @property
    def hk_(self) -> Any:
        """The value of the hash key."""
        return self.meta_.hk(self)

    @property
    def rk_(self) -> Any:
        """The value of the range key."""
        return self.meta_.rk(self)

    @property
    def pk_dict_(self) -> Item:
        """The primary key, as AttributeValues ready for a request."""
        return self.meta_.pk_dict(self, ddb_dump=True)

    @property
    def persisted_(self) -> bool:
        """True if the object was saved to or loaded from DynamoDB."""
        return self.__dict__.get("__cache__") is not None

    @classmethod
    def field(cls, name: str) -> Field:
        """The declared field ``name``, or a placeholder Field for an undeclared attribute.

        Use it to build conditions on attributes the model does not declare:
        ``engine.scan(Tweet).filter(Tweet.field('link') != None)``.
        """
        declared = cls.meta_.fields.get(name)
        if declared is not None:
            return declared
        placeholder = Field(data_type=_natural_data_type())
        placeholder.name = name
        placeholder.model = cls
        return placeholder

    def get_(self, name: str, default: Any = None) -> Any:
        """Dict-style getter for declared and undeclared attributes."""
        if name in self.meta_.fields:
            return getattr(self, name)
        return self.__dict__.get(name, default)

    def keys_(self) -> list[str]:
        """All declared fields and every undeclared attribute that would be saved."""
        names = list(self.meta_.fields)
        names.extend(n for n in self.__dict__ if _is_undeclared(self, n))
        return names

    def cached_(self, name: str, default: Any = None) -> Any:
        """The value of a field as last seen in DynamoDB."""
        cache = self.__dict__.get("__cache__") or {}
        av = cache.get(name)
        if av is None:
            return default
        field = self.meta_.fields.get(name)
        return field.ddb_load(av) if field is not None else load_natural(av)

    def mark_dirty_(self, name: str) -> None:
        """Write ``name`` at the next sync even if it looks unchanged."""
        self.__dict__["__dirty__"].add(name)

    # -- atomic changes -------------------------------------------------------------------
    def incr_(self, **kwargs: Any) -> None:
        """Atomically add to numbers at the next sync: ``tweet.incr_(retweets=1)``.

        The local value changes at once (current value, or 0, plus the delta).
        """
        meta = self.meta_
        state = self.__dict__
        for name, delta in kwargs.items():
            field = meta.fields.get(name)
            label = f"{type(self).__name__}.{name}"
            if isinstance(delta, bool) or not isinstance(delta, (int, float, Decimal)):
                raise TypeError(f"{label}: incr_ takes a number, got {delta!r}")
            if field is not None:
                if field.composite:
                    raise TypeError(f"{label} is a composite field; increment its parts instead")
                if field.ddb_data_type != "N":
                    raise TypeError(f"{label} is not a number field and cannot be incremented")
                if meta.is_key_part(name):
                    raise AttributeError(f"{label} is part of the primary key; it cannot be incremented")
                delta = field.coerce(delta, True) if isinstance(delta, float) else delta
            current = state.get(name)
            if current is None:
                current = 0
            elif isinstance(current, bool) or not isinstance(current, (int, float, Decimal)):
                raise TypeError(f"{label} holds {current!r}, which cannot be incremented")
            new_value = current + delta
            if field is not None:
                new_value = field.coerce(new_value, True)
            state[name] = new_value
            incrs = state["__incrs__"]
            previous = incrs.get(name, 0)
            if isinstance(previous, SetDelta):
                raise TypeError(f"{label} has a pending set change; sync it first")
            incrs[name] = previous + delta

    def add_(self, **kwargs: Any) -> None:
        """Atomically add values to sets at the next sync: ``tweet.add_(tags={'a', 'b'})``."""
        self.mutate_("ADD", **kwargs)

    def remove_(self, **kwargs: Any) -> None:
        """Atomically remove values from sets at the next sync: ``tweet.remove_(tags='a')``."""
        self.mutate_("DELETE", **kwargs)

    def mutate_(self, action: str, **kwargs: Any) -> None:
        """Record an atomic set change ('ADD' or 'DELETE') and apply it locally."""
        meta = self.meta_
        state = self.__dict__
        for name, value in kwargs.items():
            field = meta.fields.get(name)
            label = f"{type(self).__name__}.{name}"
            values = set(value) if isinstance(value, (set, frozenset, list, tuple)) else {value}
            if field is not None:
                if not field.is_set:
                    raise TypeError(f"{label} is not a set field; add_/remove_ need a set")
                values = field.coerce(values)
            elif not isinstance(state.get(name, set()), (set, frozenset)):
                raise TypeError(f"{label} holds {state.get(name)!r}, not a set")
            incrs = state["__incrs__"]
            delta = incrs.get(name)
            if delta is None:
                delta = incrs[name] = SetDelta()
            elif not isinstance(delta, SetDelta):
                raise TypeError(f"{label} has a pending increment; sync it first")
            delta.add(action, values)
            current = set(state.get(name) or ())
            state[name] = (current | values) if action == "ADD" else (current - values)

    # -- dumping --------------------------------------------------------------------------
    def ddb_dump_field_(self, name: str) -> dict[str, Any] | None:
        """The AttributeValue of one attribute, or None when it is absent."""
        field = self.meta_.fields.get(name)
        if field is not None:
            return field.ddb_dump(field.__get__(self))
        return _dump_undeclared(self, name, self.__dict__.get(name))

    def ddb_dump_cached_(self, name: str) -> dict[str, Any] | None:
        """The AttributeValue of a field as last seen in DynamoDB."""
        return (self.__dict__.get("__cache__") or {}).get(name)

    def ddb_dump_(self) -> Item:
        """The whole item as AttributeValues (absent attributes left out)."""
        item: Item = {}
        state = self.__dict__
        for name, field in self.meta_.fields.items():
            value = field.resolve(self) if field.composite else state.get(name)
            if value is not None:
                av = field.ddb_dump(value)
                if av is not None:
                    item[name] = av
        for name, value in state.items():
            if value is not None and _is_undeclared(self, name):
                av = _dump_undeclared(self, name, value)
                if av is not None:
                    item[name] = av
        return item

    def validate_(self) -> None:
        """Run every field's ``check=``; ValueError names the field that fails."""
        for field in self.meta_.fields.values():
            if field.check is not None:
                value = field.__get__(self)
                if value is not None:
                    field.validate(value)

    # -- loading --------------------------------------------------------------------------
    @classmethod
    def ddb_load_(cls, engine: "Engine | None", data: Mapping[str, Any]) -> "Model":
        """Build an object from an item in DynamoDB's JSON form (``{'id': {'S': 'a'}}``)."""
        obj = object.__new__(cls)
        state = obj.__dict__
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        obj.set_item_(dict(data))
        state["__engine__"] = engine
        obj.post_load_(engine)
        return obj

    def set_item_(self, item: Item) -> None:
        """Make the object match a stored item exactly (declared fields it lacks -> None)."""
        state = self.__dict__
        fields = self.meta_.fields
        for name, field in fields.items():
            av = item.get(name)
            if av is not None:
                state[name] = field.ddb_load(av)
            elif field.composite:
                state.pop(name, None)
            else:
                state[name] = set() if field.is_set else None
        for name in [n for n in state if _is_undeclared(self, n) and n not in item]:
            del state[name]
        for name, av in item.items():
            if name not in fields:
                state[name] = load_natural(av)
        state["__cache__"] = item

    def set_ddb_val_(self, key: str, val: dict[str, Any]) -> None:
        """Decode and set one value retrieved from DynamoDB."""
        field = self.meta_.fields.get(key)
        self.__dict__[key] = field.ddb_load(val) if field is not None else load_natural(val)

    # -- hooks ----------------------------------------------------------------------------
    def pre_save_(self, engine: "Engine") -> None:
        """Called before the object is written."""
        self.validate_()

    def post_save_(self) -> None:
        """Called after the object is written."""

    def post_load_(self, engine: "Engine | None") -> None:
        """Called after the object is loaded from DynamoDB."""

    # -- write plans (executed by the Engine) ---------------------------------------------
    def sync_request_(
        self,
        raise_on_conflict: bool,
        constraints: "Iterable[Condition] | None" = None,
    ) -> dict[str, Any] | None:
        """The UpdateItem request that writes what changed, or None if nothing did.

        Changed attributes are SET (or REMOVEd when now absent); pending increments and set
        deltas become ADD / DELETE. With ``raise_on_conflict`` each written attribute must
        still hold the value this object last saw (or be absent if it saw none); changing or
        incrementing a part of a composite forces that check.
        """
        meta = self.meta_
        state = self.__dict__
        cache: Item = state.get("__cache__") or {}
        incrs: dict[str, Any] = state["__incrs__"]
        dirty: set[str] = state["__dirty__"]
        current = self.ddb_dump_()
        ph = Placeholders()
        update = UpdateBuilder(ph)
        written: list[str] = []
        key_names = meta.key_names
        for name in current.keys() | cache.keys():
            if name in key_names or name in incrs:
                continue
            new = current.get(name)
            if name in dirty or not values_equal(new, cache.get(name)):
                if new is None:
                    update.remove(name)
                else:
                    update.set(name, new)
                written.append(name)
        for name, delta in incrs.items():
            if isinstance(delta, SetDelta):
                if delta.additions and delta.removals:
                    raise ValueError(
                        f"{type(self).__name__}.{name}: add_ and remove_ on the same set need "
                        "separate syncs (DynamoDB takes one action per attribute per update)"
                    )
                field = meta.fields.get(name)
                for action, values in (("ADD", delta.additions), ("DELETE", delta.removals)):
                    if not values:
                        continue
                    av = field.ddb_dump(values) if field is not None else dump_natural(set(values))
                    if av is None:
                        continue
                    if action == "ADD":
                        update.add(name, av)
                    else:
                        update.delete(name, av)
            elif delta != 0:
                update.add(name, {"N": _number_text(delta)})
        if constraints and not raise_on_conflict:
            raise ValueError("sync(constraints=...) needs raise_on_conflict=True")
        touched = set(written) | set(incrs)
        if any(len(meta.related_fields.get(name, ())) > 1 for name in touched):
            raise_on_conflict = True
        if not update.render() and not constraints:
            if cache:
                return None
        checks: list[str] = []
        if raise_on_conflict:
            for name in written:
                old = cache.get(name)
                checks.append(
                    attribute_absent(name, ph) if old is None else attribute_equals(name, old, ph)
                )
            for condition in constraints or ():
                rendered = render_filter(condition.bind(type(self).field), ph)
                if rendered:
                    checks.append(f"({rendered})")
        request: dict[str, Any] = {
            "Key": meta.pk_dict(self, ddb_dump=True),
            "ReturnValues": "ALL_NEW",
        }
        expression = update.render()
        if expression:
            request["UpdateExpression"] = expression
        if checks:
            request["ConditionExpression"] = join_conditions(checks, "AND")
        return ph.apply(request)

    def delete_condition_(self, ph: Placeholders) -> str:
        """ConditionExpression for a delete that must find the item as last seen."""
        cache: Item = self.__dict__.get("__cache__") or {}
        return join_conditions(
            (attribute_equals(name, av, ph) for name, av in cache.items()), "AND"
        )

    # -- actions through the engine -------------------------------------------------------
    def _engine(self, action: str) -> "Engine":
        engine = self.__dict__.get("__engine__")
        if engine is None:
            raise ValueError(
                f"{self!r} has not been saved or loaded through an engine; use "
                f"engine.{action}(obj) instead of obj.{action}()"
            )
        return engine

    def save(self, overwrite: bool | None = None) -> None:
        """Save the object through the engine that last saved or loaded it."""
        self._engine("save").save(self, overwrite=overwrite)

    def sync(
        self,
        raise_on_conflict: bool | None = None,
        constraints: "Iterable[Condition] | None" = None,
    ) -> None:
        """Write what changed and load the stored item (see Engine.sync)."""
        self._engine("sync").sync(self, raise_on_conflict=raise_on_conflict, constraints=constraints)

    def refresh(self, consistent: bool = False) -> None:
        """Overwrite local state with the stored item."""
        self._engine("refresh").refresh(self, consistent=consistent)

    def delete(self, raise_on_conflict: bool | None = None) -> None:
        """Delete the object from the database."""
        self._engine("delete").delete(self, raise_on_conflict=raise_on_conflict)


def _is_undeclared(obj: Model, name: str) -> bool:
    return (
        not name.startswith("_")
        and not name.endswith("_")
        and name not in obj.meta_.fields
    )


def _dump_undeclared(obj: Model, name: str, value: Any) -> dict[str, Any] | None:
    try:
        return dump_natural(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{type(obj).__name__}.{name}: {exc} (value {value!r})") from None


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


_NATURAL: Any = None


def _natural_data_type() -> Any:
    global _NATURAL
    if _NATURAL is None:
        from .fields.types import natural_type

        _NATURAL = natural_type()
    return _NATURAL

