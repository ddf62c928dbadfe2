"""Sync planning: the UpdateItem an object's changes call for, and the condition of a delete.

Everything here is derived from the object's state (see :mod:`flywheel.models`): an
attribute is written when its current AttributeValue differs from the cached one (or it was
marked dirty), pending increments become ADD and pending set deltas ADD / DELETE. Nothing
here talks to DynamoDB; the Engine sends what these functions build.
"""
from __future__ import annotations

from collections.abc import Iterable
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
from .fields.types import dump_natural

if TYPE_CHECKING:  # pragma: no cover
    from .fields.conditions import Condition
    from .models import Model

__all__ = ["NO_OP_ATTRIBUTE", "SetDelta", "delete_condition", "plan_update", "values_equal"]

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


def _number_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def plan_update(
    obj: Model,
    raise_on_conflict: bool,
    constraints: Iterable[Condition] | None = None,
) -> dict[str, Any] | None:
    """The UpdateItem request (without TableName) that writes what changed on ``obj``, or
    None when nothing changed on a persisted object and there is nothing to check (sync is
    then a refresh).

    Changed attributes are SET (or REMOVEd when now absent); pending increments and set
    deltas become ADD / DELETE. With ``raise_on_conflict`` each written attribute must still
    hold the value the object last saw (or be absent if it saw none) and every constraint
    must hold. Writing or incrementing a part of a composite forces that check, and then an
    incremented part must also be unchanged, so the composite stays consistent with it.
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
    current = obj.ddb_dump_()
    ph = Placeholders()
    update = UpdateBuilder(ph)
    written: list[str] = []
    key_names = meta.key_names
    names = list(current) + [name for name in cache if name not in current]
    for name in names:
        if name in key_names or name in incrs:
            continue
        new = current.get(name)
        if name in dirty or not values_equal(new, cache.get(name)):
            if new is None:
                update.remove(name)
            else:
                update.set(name, new)
            written.append(name)
    incremented: list[str] = []
    for name, delta in incrs.items():
        if isinstance(delta, SetDelta):
            _plan_set_delta(obj, name, delta, update)
        elif delta != 0:
            update.add(name, {"N": _number_text(delta)})
            incremented.append(name)
    touched = set(written) | set(incrs)
    composite_parts = [name for name in touched if len(meta.related_fields.get(name, ())) > 1]
    if composite_parts:
        raise_on_conflict = True
    if not len(update):
        if cache and not constraints:
            return None
        update.remove(NO_OP_ATTRIBUTE)
    checks: list[str] = []
    if raise_on_conflict:
        guarded = written + [name for name in incremented if name in composite_parts]
        for name in guarded:
            old = cache.get(name)
            checks.append(
                attribute_absent(name, ph) if old is None else attribute_equals(name, old, ph)
            )
        for condition in constraints:
            rendered = render_filter(condition.bind(model.field), ph)
            if rendered:
                checks.append(f"({rendered})")
    request: dict[str, Any] = {
        "Key": meta.pk_dict(obj, ddb_dump=True),
        "UpdateExpression": update.render(),
        "ReturnValues": "ALL_NEW",
    }
    if checks:
        request["ConditionExpression"] = join_conditions(checks, "AND")
    return ph.apply(request)


def _plan_set_delta(obj: Model, name: str, delta: SetDelta, update: UpdateBuilder) -> None:
    label = f"{type(obj).__name__}.{name}"
    if delta.additions and delta.removals:
        raise ValueError(
            f"{label}: add_ and remove_ on the same set need separate syncs (DynamoDB takes "
            "one action per attribute in an update)"
        )
    field = obj.meta_.fields.get(name)
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


def delete_condition(obj: Model, ph: Placeholders) -> str:
    """ConditionExpression for a delete that must find the item as last seen ('' if the
    object never saw a stored item)."""
    cache: Item = obj.__dict__.get("__cache__") or {}
    return join_conditions((attribute_equals(name, av, ph) for name, av in cache.items()), "AND")
