"""Query constraints: :class:`Condition`, what ``Model.field == value`` and friends build.

A Condition is a flat list of constraints joined with AND, plus the two query options that
travel with them (``limit``, ``index_name``). ``c1 & c2`` combines two conditions, which is
what ``Query.filter(a, b)`` does. Values stay as Python values here — the query layer needs
them to build composite keys and choose an index — and are dumped to AttributeValues only
when :mod:`flywheel.expressions` renders them.

``query_kwargs(model)`` / ``scan_kwargs()`` give the request a condition makes: the query
layer (:mod:`flywheel.query`) builds it, choosing the index and splitting ``constraints``
into the key condition and the filter.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..expressions import Constraint, ConstraintField, make_constraint

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Model

__all__ = ["Condition", "Constraint"]


class Condition:
    """A constraint that will be applied to a query or scan.

    Attributes
    ----------
    constraints : list of Constraint
        Every constraint, in the order given; all of them must hold.
    limit : int or None
        Maximum number of results.
    index_name : str or None
        Name of the index to use for a query.
    eq_fields : dict
        (read-only view) field name -> value of each equality constraint.
    fields : dict
        (read-only view) field name -> (op, value) of each other constraint; when a field has
        several, the last one given — ``constraints`` holds them all.
    """

    __slots__ = ("constraints", "index_name", "limit")

    def __init__(
        self,
        constraints: Iterable[Constraint] = (),
        limit: int | None = None,
        index_name: str | None = None,
    ) -> None:
        self.constraints: list[Constraint] = list(constraints)
        self.limit = limit
        self.index_name = index_name

    # -- builders (the spec's classmethods) ------------------------------------------------
    @classmethod
    def construct(cls, field: ConstraintField | str, op: str, other: Any = None) -> Condition:
        """Create a Condition on a field.

        ``field`` is a Field (or, for a filter on an attribute the model does not declare
        yet, its name — see :meth:`bind`); ``op`` one of 'eq', 'ne', 'lt', 'lte', 'gt',
        'gte', 'between' (``other`` is ``(low, high)``), 'beginswith', 'contains',
        'ncontains', 'in' (``other`` is any non-empty iterable), 'null', 'not_null'.
        ``eq None`` means 'null' (attribute_not_exists), ``ne None`` 'not_null'.

        Raises TypeError if the field does not allow ``op`` (its ``allowed_filters``),
        ValueError for an unknown op or a malformed operand.
        """
        return cls([make_constraint(field, op, other)])

    @classmethod
    def construct_index(cls, name: str) -> Condition:
        """Force the query to use the index ``name``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"index name must be a non-empty string, not {name!r}")
        return cls(index_name=name)

    @classmethod
    def construct_limit(cls, count: int) -> Condition:
        """Limit the results to ``count`` items."""
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"limit must be an int, not {count!r}")
        if count < 0:
            raise ValueError(f"limit cannot be negative: {count!r}")
        return cls(limit=count)

    # -- combining -------------------------------------------------------------------------
    def __and__(self, other: Condition) -> Condition:
        """Both conditions' constraints; ``limit`` and ``index_name`` from ``other`` where it
        sets them (the later call wins, as with repeated ``.limit()``/``.index()``)."""
        if not isinstance(other, Condition):
            return NotImplemented
        return Condition(
            [*self.constraints, *other.constraints],
            limit=other.limit if other.limit is not None else self.limit,
            index_name=other.index_name if other.index_name is not None else self.index_name,
        )

    def bind(self, lookup: Callable[[str], ConstraintField]) -> Condition:
        """A copy whose constraints given by attribute name refer to fields from ``lookup``
        (name -> field); the field's ``allowed_filters`` are checked then."""
        bound = [
            make_constraint(lookup(c.field), c.op, _operand(c)) if isinstance(c.field, str) else c
            for c in self.constraints
        ]
        return Condition(bound, self.limit, self.index_name)

    # -- requests --------------------------------------------------------------------------
    def query_kwargs(self, model: type[Model]) -> dict[str, Any]:
        """Get the kwargs for doing a table query: the keyword arguments of the DynamoDB
        Query request for ``engine.query(model)`` with this condition — IndexName,
        KeyConditionExpression, FilterExpression and their ExpressionAttributeNames /
        Values — all but TableName, which depends on the engine's namespace.

        Raises ValueError as the query would (no usable index, a key condition missing).
        """
        from ..query import Query

        return Query.request_kwargs(model, self)

    def scan_kwargs(self, model: type[Model] | None = None) -> dict[str, Any]:
        """Get the kwargs for doing a table scan: the keyword arguments of the DynamoDB Scan
        request with this condition — IndexName, FilterExpression and their
        ExpressionAttributeNames / Values — all but TableName.

        The model is the one whose fields the constraints are on, unless given.
        """
        from ..query import Scan

        if model is None:
            owners = {getattr(c.field, "model", None) for c in self.constraints} - {None}
            if len(owners) != 1:
                raise ValueError(
                    f"scan_kwargs() cannot tell the model from {self!r}: pass it, "
                    "scan_kwargs(Model)"
                )
            (model,) = owners
        return Scan.request_kwargs(model, self)  # type: ignore[arg-type]

    # -- views -----------------------------------------------------------------------------
    @property
    def eq_fields(self) -> dict[str, Any]:
        """Field name -> value of each equality constraint."""
        return {c.name: c.values[0] for c in self.constraints if c.op == "eq"}

    @property
    def fields(self) -> dict[str, tuple[str, Any]]:
        """Field name -> (op, value) of each non-equality constraint (the last per field)."""
        return {c.name: (c.op, c.value) for c in self.constraints if c.op != "eq"}

    def __bool__(self) -> bool:
        raise TypeError(
            "a Condition has no truth value: 'Model.field == value' builds a query condition "
            "rather than comparing; pass it to filter(), and test for a missing condition "
            "with 'is None'"
        )

    def __repr__(self) -> str:
        parts = [" AND ".join(f"{c.name} {c.op} {c.values!r}" for c in self.constraints)]
        if self.index_name is not None:
            parts.append(f"index={self.index_name!r}")
        if self.limit is not None:
            parts.append(f"limit={self.limit!r}")
        return f"Condition({', '.join(p for p in parts if p)})"


def _operand(constraint: Constraint) -> Any:
    """The ``other`` that make_constraint would need to rebuild ``constraint``."""
    if constraint.op in ("between", "in"):
        return constraint.values
    return constraint.value
