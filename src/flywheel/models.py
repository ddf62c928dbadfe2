"""Model objects and their state.

Each instance keeps all of its state in its ``__dict__``:

- declared field values under their own names (Field is a data descriptor reading them);
- undeclared attributes under their names (saved unless they begin or end with '_');
- ``__cache__``: the stored item as last seen (AttributeValues), None if never persisted;
- ``__incrs__``: pending atomic changes, name -> number delta or :class:`SetDelta`;
- ``__dirty__``: names marked dirty by hand (``mark_dirty_``), written even if unchanged;
- ``__engine__``: the engine that last saved or loaded the object;
- ``__seen__``: None when ``__cache__`` is the whole stored item (or the object was never
  stored), else the names of the attributes it was loaded with (an index's projection):
  only those are known to be absent when the cache lacks them.

What ``sync`` sends is derived from this (:mod:`flywheel.sync_plan` builds it): every
attribute whose current AttributeValue differs from the cached one is written, which also
catches in-place changes to dicts, lists and sets.

An object is not safe to share between threads; an Engine is (it keeps no per-call state).
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator, Mapping, cast

from .exceptions import restate
from .fields import Field
from .fields.types import dump_natural, load_natural, natural_type
from .item_limits import check_key
from .values.codec import EMPTY_KEY_VALUES
from .model_meta import ModelMetaclass, ModelMetadata
from .sync_plan import (
    SetDelta,
    SyncPlan,
    delete_condition,
    plan_sync,
    plan_update,
    values_equal,
)
from .write_marks import strip_marks

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .expressions import Placeholders
    from .fields.conditions import Condition

__all__ = ["Model", "SetDelta", "values_equal"]

Item = dict[str, dict[str, Any]]


class Model(metaclass=ModelMetaclass):
    """Base class for all flywheel models.

    The default ``__init__`` takes the hash key and then the range key positionally, and any
    field (declared or not) by keyword.
    """

    __metadata__: ClassVar[dict[str, Any]] = {}
    meta_: ClassVar[ModelMetadata]

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        if cls is Model:
            raise TypeError("Model itself cannot be instantiated; subclass it")
        meta = cls.meta_
        obj = object.__new__(cls)
        state = obj.__dict__
        for name, field in meta.fields.items():
            if not field.composite:
                state[name] = field.default
        state["__cache__"] = None
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        state["__engine__"] = None
        state["__seen__"] = None
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
        """The primary key, as AttributeValues ready for a request (ValueError, naming the
        field and value, for a key part over DynamoDB's key size limits)."""
        meta = self.meta_
        key = meta.pk_dict(self, ddb_dump=True)
        check_key(type(self).__name__, key, meta.key_names, self.get_)
        return key

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
        placeholder = Field(data_type=natural_type())
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
        return default if av is None else load_value(self, name, av)

    def construct_ddb_expects_(self, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """What a conflict check expects of each field: its AttributeValue as last seen, or
        None where it was absent (all cached attributes when ``fields`` is None)."""
        cache = self.__dict__.get("__cache__") or {}
        names = list(cache) if fields is None else list(fields)
        return {name: cache.get(name) for name in names}

    def mark_dirty_(self, name: str) -> None:
        """Write ``name`` at the next sync even if it looks unchanged."""
        if name in self.__dict__["__incrs__"]:
            raise ValueError(
                f"{type(self).__name__}.{name} has a pending incr_/add_/remove_; it cannot also "
                "be written whole in the same sync"
            )
        self.__dict__["__dirty__"].add(name)

    def _check_pending_increments(self) -> None:
        """Refuse a sync where an attribute with a pending incr_ was assigned since (declared
        fields refuse that at once; undeclared attributes have no descriptor to ask)."""
        state = self.__dict__
        for name, delta in state["__incrs__"].items():
            if isinstance(delta, SetDelta):
                continue
            base = self.cached_(name)
            expected = _add_numbers(0 if base is None else base, delta)
            current = state.get(name)
            if (
                isinstance(current, bool)
                or not isinstance(current, _NUMBERS)
                or not values_equal(dump_natural(current), dump_natural(expected))
            ):
                raise ValueError(
                    f"{type(self).__name__}.{name} has a pending incr_ (to {expected!r}) but was "
                    f"assigned {current!r}; an assignment and an atomic update cannot share one "
                    "sync: sync between them, or refresh() to drop the pending change"
                )

    def _refuse_pending_assignment(self, name: str, method: str) -> None:
        """An atomic update cannot share a sync with an assignment to the same field (the
        update would send one and silently drop the other): ValueError, object unchanged."""
        state = self.__dict__
        if name in state["__incrs__"]:
            return
        field = self.meta_.fields.get(name)
        current = self.ddb_dump_field_(name)
        cache = state.get("__cache__")
        if cache is not None:
            baseline = cache.get(name)
        elif field is not None and not field.composite:
            baseline = field.ddb_dump(field.default)
        else:
            baseline = None
        if name in state["__dirty__"] or not values_equal(current, baseline):
            raise ValueError(
                f"{type(self).__name__}.{name} was assigned ({state.get(name)!r}) since it was "
                f"last synced; {method} cannot be mixed with an assignment in one sync: sync "
                "the assignment first, or refresh() to drop it"
            )

    # -- atomic changes -------------------------------------------------------------------
    def incr_(self, **kwargs: Any) -> None:
        """Atomically add to numbers at the next sync: ``tweet.incr_(retweets=1)``.

        The local value changes at once: the stored value as last seen (or 0) plus every
        pending delta, which is exactly what the item will hold if nobody else writes it.
        """
        meta = self.meta_
        state = self.__dict__
        incrs = state["__incrs__"]
        for name, delta in kwargs.items():
            field = meta.fields.get(name)
            label = f"{type(self).__name__}.{name}"
            if meta.is_key_part(name):
                raise AttributeError(f"{label} is part of the primary key; it cannot be incremented")
            if isinstance(delta, bool) or not isinstance(delta, _NUMBERS):
                raise TypeError(f"{label}: incr_ takes a number, got {delta!r}")
            if field is not None:
                if field.composite:
                    raise TypeError(f"{label} is a composite field; increment its parts instead")
                if not _holds_numbers(field):
                    raise TypeError(f"{label} is not a number field and cannot be incremented")
                if isinstance(delta, float):
                    delta = field.coerce(delta, True)
            pending = incrs.get(name, 0)
            if isinstance(pending, SetDelta):
                raise TypeError(f"{label} has a pending set change; sync it first")
            self._refuse_pending_assignment(name, "incr_")
            base = self.cached_(name)
            if base is None:
                base = 0
            elif isinstance(base, bool) or not isinstance(base, _NUMBERS):
                raise TypeError(f"{label} is stored as {base!r}, which cannot be incremented")
            total = _add_numbers(pending, delta)
            new_value = _add_numbers(base, total)
            if field is not None:
                new_value = field.coerce(new_value, True)
            state[name] = new_value
            incrs[name] = total

    def add_(self, **kwargs: Any) -> None:
        """Atomically add values to sets at the next sync: ``tweet.add_(tags={'a', 'b'})``.

        The local set changes at once: the stored set as last seen plus (or, for
        ``remove_``, minus) every pending change. A set given both ``add_`` and ``remove_``
        before one sync is written by two updates (additions, then removals).
        """
        self.mutate_("ADD", **kwargs)

    def remove_(self, **kwargs: Any) -> None:
        """Atomically remove values from sets at the next sync: ``tweet.remove_(tags='a')``."""
        self.mutate_("DELETE", **kwargs)

    def mutate_(self, action: str, **kwargs: Any) -> None:
        """Record an atomic set change ('ADD' or 'DELETE') and apply it locally."""
        if action not in ("ADD", "DELETE"):
            raise ValueError(f"Unknown set action {action!r}; use 'ADD' or 'DELETE'")
        meta = self.meta_
        state = self.__dict__
        incrs = state["__incrs__"]
        for name, value in kwargs.items():
            field = meta.fields.get(name)
            label = f"{type(self).__name__}.{name}"
            values = set(value) if isinstance(value, (set, frozenset, list, tuple)) else {value}
            current = state.get(name)
            if field is not None:
                if not field.is_set:
                    raise TypeError(f"{label} is not a set field; add_/remove_ need a set")
                values = field.coerce(values)
            elif current is not None and not isinstance(current, (set, frozenset)):
                raise TypeError(f"{label} holds {current!r}, not a set")
            if not values:
                continue
            # one kind of member (str, number or bytes) in a set: refuse here, not at sync
            # (where DynamoDB would refuse a removal without naming anything)
            members = set(current) | values if isinstance(current, (set, frozenset)) else values
            try:
                field.ddb_dump(members) if field is not None else dump_natural(members)
            except (TypeError, ValueError) as exc:
                verb = "add_" if action == "ADD" else "remove_"
                reason = str(exc).removeprefix(f"{label}: ")
                raise restate(exc, f"{label}: {verb}({values!r}) on {current!r}: {reason}") from exc
            pending = incrs.get(name)
            if pending is not None and not isinstance(pending, SetDelta):
                raise TypeError(f"{label} has a pending increment; sync it first")
            self._refuse_pending_assignment(name, "add_" if action == "ADD" else "remove_")
            delta = SetDelta()
            if pending is not None:
                delta.additions, delta.removals = set(pending.additions), set(pending.removals)
            delta.add(action, values)
            incrs[name] = delta
            # Like incr_: the stored set as last seen, changed by every pending delta.
            base = self.cached_(name)
            state[name] = delta.merge(base if isinstance(base, (set, frozenset)) else None)

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
        fields = self.meta_.fields
        for name, field in fields.items():
            value = field.resolve(self) if field.composite else state.get(name)
            if value is not None:
                av = field.ddb_dump(value)
                if av is not None:
                    item[name] = av
        for name, value in state.items():
            # the cheap dict test first: most of the state is declared fields (hot path)
            if value is not None and name not in fields and _is_undeclared(self, name):
                av = _dump_undeclared(self, name, value)
                if av is not None:
                    item[name] = av
        return item

    def validate_(self) -> None:
        """Run every field's ``check=``; ValueError names the field that fails. Also refuses
        an empty string or binary value on an index key, which DynamoDB rejects."""
        for field in self.meta_.fields.values():
            if field.check is not None:
                value = field.__get__(self)
                if value is not None:
                    field.validate(value)
        for ordering in self.meta_.orderings[1:]:
            for key in (ordering.hash_key, ordering.range_key):
                if key is not None and key.ddb_dump(key.__get__(self)) in EMPTY_KEY_VALUES:
                    raise ValueError(
                        f"{key.qualname}: a key of {ordering.describe()} needs a non-empty "
                        f"value, got {key.__get__(self)!r}"
                    )

    # -- loading --------------------------------------------------------------------------
    @classmethod
    def ddb_load_(
        cls,
        engine: "Engine | None",
        data: Mapping[str, Any],
        attributes: Iterable[str] | None = None,
        *,
        copy: bool = True,
    ) -> "Model":
        """Build an object from an item in DynamoDB's JSON form (``{'id': {'S': 'a'}}``).

        ``attributes`` names what the item was read with when that is not the whole item
        (the projection of a KEYS_ONLY or INCLUDE index): the attributes outside it are
        unknown, not absent, so a safe sync writing one does not expect it absent.
        ``copy=False`` hands ``data`` (a dict) over to the object as its cache, as the engine
        does with items it has just read (saves a copy per item; nobody else holds them).
        """
        obj = object.__new__(cls)
        state = obj.__dict__
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        # a new object has no attributes to clear first: straight to the loaders
        _load_item(obj, state, data if not copy and type(data) is dict else dict(data))
        state["__seen__"] = None if attributes is None else frozenset(attributes) | set(data)
        state["__engine__"] = engine
        obj.post_load_(engine)
        return obj

    def set_item_(self, item: Item) -> None:
        """Make the object match a stored item exactly (declared fields it lacks -> None)."""
        state = self.__dict__
        fields = self.meta_.fields
        # undeclared attributes the item no longer has (cheap dict tests first: hot path)
        for name in [n for n in state if n not in fields and n not in item and _is_undeclared(self, n)]:
            del state[name]
        _load_item(self, state, item)

    def set_ddb_val_(self, key: str, val: dict[str, Any]) -> None:
        """Decode and set one value retrieved from DynamoDB."""
        self.__dict__[key] = load_value(self, key, val)

    @contextmanager
    def loading_(self, engine: "Engine | None" = None) -> Iterator[None]:
        """Context manager for filling an object with stored values by hand::

            with obj.loading_(engine):
                obj.set_ddb_val_('text', {'S': 'hi'})

        On exit the object counts as loaded: what it holds is taken as the stored item (the
        cache sync compares against), nothing is pending, and ``post_load_`` runs.
        """
        yield
        state = self.__dict__
        state["__cache__"] = self.ddb_dump_()
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        state["__seen__"] = None
        state["__engine__"] = engine
        self.post_load_(engine)

    # -- hooks ----------------------------------------------------------------------------
    def pre_save_(self, engine: "Engine") -> None:
        """Called before the object is written (then every ``check=`` runs)."""

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
        """The UpdateItem request (without TableName) that writes what changed, or None when
        a sync has nothing to write or check (see :func:`flywheel.sync_plan.plan_update`)."""
        return plan_update(self, raise_on_conflict, constraints)

    def sync_plan_(
        self,
        raise_on_conflict: bool,
        constraints: "Iterable[Condition] | None" = None,
        mark: str | None = None,
    ) -> SyncPlan:
        """Every request a sync sends (see :func:`flywheel.sync_plan.plan_sync`)."""
        return plan_sync(self, raise_on_conflict, constraints, mark)

    def delete_condition_(self, ph: "Placeholders") -> str:
        """ConditionExpression for a delete that must find the item as last seen."""
        return delete_condition(self, ph)

    # -- actions through the engine -------------------------------------------------------
    def _engine(self, action: str) -> "Engine":
        engine = self.__dict__.get("__engine__")
        if engine is None:
            raise ValueError(
                f"{self!r} has not been saved or loaded through an engine; use "
                f"engine.{action}(obj) instead of obj.{action}()"
            )
        return cast("Engine", engine)

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


# What set_item_ leaves for a declared field the item lacks: None, an empty set (set
# fields), or nothing at all (composites, computed from their parts).
_COMPOSITE = object()
#: (name, load, absent, key, convert): see _field_loaders
FieldLoader = tuple[str, Callable[[dict[str, Any]], Any], Any, "str | None", "Callable[[Any], Any] | None"]


def _field_loaders(meta: ModelMetadata) -> tuple[FieldLoader, ...]:
    """(name, load, absent, key, convert) of every declared field, built once per model:
    ``load`` is the type's ``load_attribute`` itself unless a Field subclass overrides
    ``ddb_load``; ``key`` and ``convert`` are the type's ``direct_load`` (None if it has
    none, or if ``load`` is not the type's own)."""
    loaders: tuple[FieldLoader, ...] | None = meta.__dict__.get("_field_loaders")
    if loaders is None or len(loaders) != len(meta.fields):
        built = []
        for name, field in meta.fields.items():
            kind = type(field.type)
            own = type(field).ddb_load is Field.ddb_load
            key, convert = (own and kind.__dict__.get("direct_load")) or (None, None)
            built.append((
                name,
                field.type.load_attribute if own else field.ddb_load,
                _COMPOSITE if field.composite else set if field.is_set else None,
                key,
                convert,
            ))
        loaders = meta.__dict__["_field_loaders"] = tuple(built)
    return loaders


def _load_item(obj: Model, state: dict[str, Any], item: Item) -> None:
    """Set every attribute of ``item`` on the object (declared fields it lacks -> None, an
    empty set, or nothing for a composite), and make ``item`` its cache."""
    meta = obj.meta_
    fields = meta.fields
    get = item.get
    # hot path (every item loaded): a flat loop over prepared loaders, no Field frames, and
    # no call at all for the plain strings and numbers (~5% of a typical item's load)
    for name, load, absent, key, convert in _field_loaders(meta):
        av = get(name)
        if av is not None:
            if key is not None:
                try:
                    raw = av[key]
                    state[name] = raw if convert is None else convert(raw)
                    continue
                except (KeyError, ValueError):
                    pass  # another type, or '1E+2' for an int: the loader handles it
            state[name] = load(av)
        elif absent is _COMPOSITE:
            state.pop(name, None)
        else:
            state[name] = set() if absent is set else None
    if not item.keys() <= fields.keys():
        item = strip_marks(item)  # flywheel's own bookkeeping, never part of the object
        for name, av in item.items():
            # a stored name the object cannot hold ('_etag', 'sync') stays in the cache
            # only: sync neither writes nor removes it
            if name not in fields and _is_undeclared(obj, name):
                state[name] = load_natural(av)
    state["__cache__"] = item


def load_value(obj: Model, name: str, av: dict[str, Any]) -> Any:
    """The value of attribute ``name`` of ``obj`` stored as ``av``: by its field's type, or
    by the natural mapping for an undeclared attribute."""
    field = obj.meta_.fields.get(name)
    return field.ddb_load(av) if field is not None else load_natural(av)


def _is_undeclared(obj: Model, name: str) -> bool:
    """Whether ``name`` is an undeclared attribute the object saves and loads: not a field,
    not beginning or ending with '_' (those stay local), and not the name of anything of
    the class (``sync``, ``meta_``, a method or property of the model), which an attribute
    of that name would hide."""
    return (
        not name.startswith("_")
        and not name.endswith("_")
        and name not in obj.meta_.fields
        and name not in _class_names(type(obj))
    )


def _class_names(cls: type) -> frozenset[str]:
    """Every name defined on ``cls`` or a base (methods, properties, class attributes),
    found without ``getattr``: a model class answers any name, as a field to filter on."""
    names: frozenset[str] | None = cls.__dict__.get("_class_names_")
    if names is None:
        names = frozenset(name for klass in cls.__mro__ for name in vars(klass))
        type.__setattr__(cls, "_class_names_", names)
    return names


def _dump_undeclared(obj: Model, name: str, value: Any) -> dict[str, Any] | None:
    try:
        return dump_natural(value)
    except (TypeError, ValueError) as exc:
        raise restate(exc, f"{type(obj).__name__}.{name}: {exc} (value {value!r})") from exc


_NUMBERS = (int, float, Decimal)


def _holds_numbers(field: Field) -> bool:
    """True when the field's values are plain numbers (not datetimes or bools stored as N)."""
    if field.ddb_data_type != "N":
        return False
    try:
        zero = field.ddb_load({"N": "0"})
    except (TypeError, ValueError):
        return False
    return isinstance(zero, _NUMBERS) and not isinstance(zero, bool)


def _add_numbers(a: Any, b: Any) -> Any:
    """a + b, where a Decimal meeting a float takes the float's shortest repr exactly."""
    if isinstance(a, Decimal) and isinstance(b, float):
        b = Decimal(repr(b))
    elif isinstance(b, Decimal) and isinstance(a, float):
        a = Decimal(repr(a))
    return a + b
