"""Sync planning: the UpdateItem an object's changes call for, and the condition of a delete.

Everything here is derived from the object's state (see :mod:`flywheel.models`): an
attribute is written when its current AttributeValue differs from the cached one (or it was
marked dirty), pending increments become ADD and pending set deltas ADD / DELETE. Nothing
here talks to DynamoDB; the Engine sends what these functions build.

Conflict checks compare against what the object *saw*: the cached item, and — for objects
loaded whole, or never loaded — the absence of every attribute the cache lacks. An object
loaded from a KEYS_ONLY or INCLUDE index saw only the projected attributes (``__seen__``);
an attribute it never saw is written without a check, since there is nothing to compare.

DynamoDB takes one action per attribute in an update, so a set given both ``add_`` and
``remove_`` before one sync cannot be changed by one UpdateItem. The plan then ADDs in its
request and leaves the removals to a second, unconditional UpdateItem (``deferred_removals``)
that the Engine sends once the first succeeded: each step is atomic, the pair is not.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .expressions import (
    Placeholders,
    UpdateBuilder,
    attribute_absent,
    attribute_equals,
    join_conditions,
    render_filter,
)
from .fields.types import dump_natural, format_number
from .write_marks import WriterMark

if TYPE_CHECKING:  # pragma: no cover
    from .fields.conditions import Condition
    from .models import Model

__all__ = [
    "NO_OP_ATTRIBUTE",
    "SetDelta",
    "SyncPlan",
    "delete_condition",
    "plan_sync",
    "plan_update",
    "values_equal",
]

Item = dict[str, dict[str, Any]]

#: Removed by an update that has nothing else to do. DynamoDB accepts an UpdateItem without
#: an UpdateExpression (it creates the item from its key, or checks a condition), but moto
#: fails on one after writing; ``REMOVE`` of an absent attribute means the same everywhere.
#: flywheel never writes this name: undeclared names beginning with '_' are not saved and
#: declared ones beginning with '__' are refused.
NO_OP_ATTRIBUTE = "__flywheel_no_op__"


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
    ((kind_a, va),) = a.items()
    ((kind_b, vb),) = b.items()
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


@dataclass
class SyncPlan:
    """What a sync of one object sends.

    ``request`` is the UpdateItem (without TableName), or None when nothing changed on a
    persisted object and there is nothing to check (the sync is then a refresh).
    ``deferred_removals`` maps set attributes to the members to DELETE in a second update,
    sent after ``request`` succeeded (the sets that were given both add_ and remove_).
    """

    request: dict[str, Any] | None
    deferred_removals: dict[str, set[Any]] = dataclass_field(default_factory=dict)
    #: the token ``request`` sets the writer mark to, when it is guarded (see
    #: :mod:`flywheel.write_marks`): it increments, or changes something under a condition
    token: str | None = None


def plan_update(
    obj: Model,
    raise_on_conflict: bool,
    constraints: Iterable[Condition] | None = None,
) -> dict[str, Any] | None:
    """The first (usually the only) UpdateItem of :func:`plan_sync`."""
    return plan_sync(obj, raise_on_conflict, constraints).request


def plan_sync(
    obj: Model,
    raise_on_conflict: bool,
    constraints: Iterable[Condition] | None = None,
    mark: str | None = None,
) -> SyncPlan:
    """The UpdateItem request (without TableName) that writes what changed on ``obj``, or
    None when nothing changed on a persisted object and there is nothing to check (sync is
    then a refresh); and the set removals left to a second request.

    Changed attributes are SET (or REMOVEd when now absent); pending increments and set
    deltas become ADD / DELETE. With ``raise_on_conflict`` each written attribute must still
    hold the value the object last saw (or be absent if it saw none) and every constraint
    must hold. On an object never stored, a field still holding its (non-None) default is
    written with ``if_not_exists``: it fills in a missing attribute of an existing item,
    never overwrites one, and so needs no check. Writing or incrementing a part of a
    composite forces that check, and then an incremented part must also be unchanged, so the
    composite stays consistent with it.

    With ``mark`` (a writer mark's attribute name), a request that a retry could not safely
    repeat (one that increments, or changes something under a condition) sets the mark to a
    fresh token on condition that it does not hold it yet (:mod:`flywheel.write_marks`).
    """
    model = type(obj)
    meta = model.meta_
    state = obj.__dict__
    cache: Item = state.get("__cache__") or {}
    incrs: dict[str, Any] = state["__incrs__"]
    dirty: set[str] = state["__dirty__"]
    constraints = list(constraints or ())
    if constraints and not raise_on_conflict:
        raise ValueError(
            f"{model.__name__}: sync(constraints=...) needs raise_on_conflict=True"
        )
    obj._check_pending_increments()
    current = obj.ddb_dump_()
    ph = Placeholders()
    update = UpdateBuilder(ph)
    written: list[str] = []
    key_names = meta.key_names
    from .models import _is_undeclared  # models imports this module

    fields = meta.fields
    # what the item holds and the object no longer does is removed, unless the object could
    # never hold it (a stored '_etag' or 'sync', kept in the cache only)
    names = list(current) + [
        name for name in cache
        if name not in current and (name in fields or _is_undeclared(obj, name))
    ]
    defaults = _untouched_defaults(obj, current) if state.get("__cache__") is None else {}
    unknowable = _unknowable_composites(obj, current, cache)
    for name in names:
        if name in key_names or name in incrs or name in unknowable:
            continue
        new = current.get(name)
        if name in dirty or not values_equal(new, cache.get(name)):
            if new is None:
                update.remove(name)
            elif name in defaults:
                update.set_if_absent(name, new)
                continue  # never overwrites: nothing to check
            else:
                update.set(name, new)
            written.append(name)
    incremented: list[str] = []
    deferred: dict[str, set[Any]] = {}
    for name, delta in incrs.items():
        if isinstance(delta, SetDelta):
            _check_set_unchanged_since_delta(obj, name, delta)
            if delta.additions and delta.removals:
                deferred[name] = set(delta.removals)
                _plan_set_delta(obj, name, delta.additions, set(), update)
            else:
                _plan_set_delta(obj, name, delta.additions, delta.removals, update)
        elif delta != 0:
            update.add(name, {"N": format_number(delta)})
            incremented.append(name)
    touched = set(written) | set(incrs)
    composite_parts = [name for name in touched if len(meta.related_fields.get(name, ())) > 1]
    if composite_parts:
        raise_on_conflict = True
    changes = len(update) > 0
    if not changes:
        if cache and not constraints:
            return SyncPlan(None)
        update.remove(NO_OP_ATTRIBUTE)
    checks: list[str] = []
    if raise_on_conflict:
        seen = state.get("__seen__")
        guarded = written + [name for name in incremented if name in composite_parts]
        for name in guarded:
            old = cache.get(name)
            if old is None and seen is not None and name not in seen:
                continue  # never loaded (not in the index's projection): nothing to compare
            # Strictly what it saw: accepting "already holds the value written" too would let
            # two read-modify-writes from one stale read both pass (a lost update).
            checks.append(
                attribute_absent(name, ph) if old is None else attribute_equals(name, old, ph)
            )
        for condition in constraints:
            rendered = render_filter(condition.bind(model.field), ph)
            if rendered:
                checks.append(f"({rendered})")
    token = None
    if mark is not None and (incremented or (checks and changes)):
        token = WriterMark.new_token()
        update.set(mark, {"S": token})
        checks.append(WriterMark.condition(mark, token, ph))
    request: dict[str, Any] = {
        "Key": meta.pk_dict(obj, ddb_dump=True),
        "UpdateExpression": update.render(),
        "ReturnValues": "ALL_NEW",
    }
    if checks:
        request["ConditionExpression"] = join_conditions(checks, "AND")
    return SyncPlan(ph.apply(request), deferred, token)


def _unknowable_composites(obj: Model, current: Item, cache: Item) -> set[str]:
    """The composites that an object loaded from a partial projection (a KEYS_ONLY or
    INCLUDE index) must not write: those none of whose parts changed (merged from parts it
    never saw, their value means nothing).

    When a part did change, every part must be known, or merging the unseen ones as None
    would store a wrong value or remove the attribute: ValueError, nothing sent.
    """
    state = obj.__dict__
    seen = state.get("__seen__")
    if seen is None:
        return set()
    meta = obj.meta_
    dirty, incrs = state["__dirty__"], state["__incrs__"]
    skipped: set[str] = set()
    for field in meta.composites:
        leaves = meta.leaves(field)
        changed = {
            leaf
            for leaf in leaves
            if leaf in dirty
            or leaf in incrs
            or not values_equal(current.get(leaf), cache.get(leaf))
        }
        if not changed:
            skipped.add(field.name)
            continue
        unknown = sorted(leaf for leaf in leaves if leaf not in seen and leaf not in changed)
        if unknown:
            raise ValueError(
                f"{field.qualname} depends on {unknown}, which {obj!r} was not loaded with "
                "(it came from an index that does not project them); refresh() it before "
                f"changing {sorted(changed)}"
            )
    return skipped


def _untouched_defaults(obj: Model, current: Item) -> set[str]:
    """Declared fields of a never-stored object that hold their non-None default.

    Parts of a composite are left out: filling one in only where absent could keep a stored
    value that the composite, written from the default, would then contradict. They are
    written like any change, and so force the conflict check.
    """
    found = set()
    related = obj.meta_.related_fields
    for name, field in obj.meta_.fields.items():
        av = current.get(name)
        untouched = (
            av is not None
            and not field.composite
            and len(related.get(name, ())) == 1
            and name not in obj.__dict__["__dirty__"]
        )
        if untouched and values_equal(av, field.ddb_dump(field.default)):
            found.add(name)
    return found


def _check_set_unchanged_since_delta(obj: Model, name: str, delta: SetDelta) -> None:
    """A set changed in place after add_/remove_ would lose that change (the sync sends the
    delta, not the set): refuse it, as mixing an assignment with an atomic update."""
    current = obj.__dict__.get(name)
    if current is None:
        current = set()
    if not isinstance(current, (set, frozenset)):
        raise ValueError(  # noqa: TRY004 - an assignment mixed in, not a wrong argument
            f"{type(obj).__name__}.{name} has a pending add_/remove_ but now holds "
            f"{current!r}; an assignment and an atomic update cannot share one sync"
        )
    base = obj.cached_(name)
    expected = delta.merge(base if isinstance(base, (set, frozenset)) else None)
    if set(current) != expected:
        raise ValueError(
            f"{type(obj).__name__}.{name} was changed in place after add_/remove_ (holds "
            f"{set(current)!r}, the pending change makes {expected!r}); an assignment and an "
            "atomic update cannot share one sync: sync between them, or refresh() to drop "
            "the pending change"
        )


def _plan_set_delta(
    obj: Model, name: str, additions: set[Any], removals: set[Any], update: UpdateBuilder
) -> None:
    field = obj.meta_.fields.get(name)
    for action, values in (("ADD", additions), ("DELETE", removals)):
        if not values:
            continue
        av = field.ddb_dump(values) if field is not None else dump_natural(set(values))
        if av is None:
            continue
        if action == "ADD":
            update.add(name, av)
        else:
            update.delete(name, av)


def delete_condition(obj: Model, ph: Placeholders) -> str:
    """ConditionExpression for a delete that must find the item as last seen: every cached
    attribute equal, every declared field the object saw absent still absent ('' if the
    object never saw a stored item: it has nothing to compare)."""
    state = obj.__dict__
    cache: Item = state.get("__cache__") or {}
    if not cache:
        return ""
    checks = [attribute_equals(name, av, ph) for name, av in cache.items()]
    seen = state.get("__seen__")
    for name in obj.meta_.fields:
        if name not in cache and (seen is None or name in seen):
            checks.append(attribute_absent(name, ph))
    return join_conditions(checks, "AND")
