"""Query and Scan builders: turn filters into Query/Scan requests and hydrate the results."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Iterator, Sequence, TypeVar

from .expressions import (
    KEY_OPS,
    Constraint,
    Placeholders,
    make_constraint,
    render_filter,
    render_key_condition,
    render_projection,
)
from .fields import Composite
from .fields.conditions import Condition
from .fields.types import load_natural

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .model_meta import Ordering
    from .models import Model

__all__ = ["Query", "Scan"]

M = TypeVar("M", bound="Model")


class Query(Generic[M]):
    """A query on one model's table or one of its indexes; build it with ``filter()``."""

    def __init__(self, engine: "Engine", model: type[M]) -> None:
        self.engine = engine
        self.model = model
        self.condition = Condition()

    # -- building -------------------------------------------------------------------------
    def filter(self, *conditions: Condition, **kwargs: Any) -> "Query[M]":
        """Add constraints: ``filter(Tweet.ts > t, userid='abc')`` (keywords mean ==)."""
        combined = self.condition
        for condition in conditions:
            if not isinstance(condition, Condition):
                raise TypeError(
                    f"filter() takes conditions like {self.model.__name__}.field == value, "
                    f"got {condition!r}"
                )
            combined = combined & condition
        for name, value in kwargs.items():
            combined = combined & Condition.construct(self.model.field(name), "eq", value)
        self.condition = combined
        return self

    def index(self, name: str) -> "Query[M]":
        """Use a specific local or global index."""
        self.model.meta_.get_ordering_from_index(name)
        self.condition = self.condition & Condition.construct_index(name)
        return self

    def limit(self, count: int) -> "Query[M]":
        """Return at most ``count`` results (matches, after any filter)."""
        self.condition = self.condition & Condition.construct_limit(count)
        return self

    @property
    def tablename(self) -> str:
        return self.model.meta_.ddb_tablename(self.engine.namespace)

    @property
    def dynamo(self) -> Any:
        return self.engine.dynamo

    # -- request building -----------------------------------------------------------------
    def _constraints(self) -> list[Constraint]:
        """The constraints bound to fields, with composite keys built from their parts."""
        condition = self.condition.bind(self.model.field)
        constraints = list(condition.constraints)
        meta = self.model.meta_
        eq_values = {c.name: c.values[0] for c in constraints if c.op == "eq"}
        for composite in meta.composites:
            if composite.name in eq_values or not _is_index_key(meta, composite):
                continue
            needed = composite.can_resolve(eq_values)
            if not needed or needed == {composite.name}:
                continue
            value = composite.resolve(scope=eq_values)
            if value is None:
                continue
            constraints.append(make_constraint(composite, "eq", value))
            eq_values[composite.name] = value
        return constraints

    def _choose_ordering(self, constraints: list[Constraint]) -> "Ordering":
        meta = self.model.meta_
        if self.condition.index_name is not None:
            return meta.get_ordering_from_index(self.condition.index_name)
        eq = [c.name for c in constraints if c.op == "eq"]
        ranged = [c.name for c in constraints if c.op in KEY_OPS and c.op != "eq"]
        return meta.get_ordering_from_fields(eq, ranged)

    def _request(
        self,
        desc: bool,
        consistent: bool,
        attributes: Sequence[str] | None,
        filter_or: bool,
    ) -> tuple[dict[str, Any], bool]:
        """The Query request, and whether it has a filter."""
        constraints = self._constraints()
        ordering = self._choose_ordering(constraints)
        hash_name = ordering.hash_key.name
        range_name = ordering.range_key.name if ordering.range_key is not None else None
        hash_c = next((c for c in constraints if c.name == hash_name and c.op == "eq"), None)
        if hash_c is None:
            raise ValueError(
                f"{self.model.__name__}: a query on {ordering.describe()} needs an equality "
                f"condition on {hash_name!r}"
            )
        range_c = None
        if range_name is not None:
            range_c = next(
                (c for c in constraints if c.name == range_name and c.op in KEY_OPS), None
            )
        key_constraints = [hash_c] + ([range_c] if range_c is not None else [])
        rest = [c for c in constraints if c is not hash_c and c is not range_c]
        # Parts of a composite key that was built from them are already in the key.
        rest = _drop_consumed_parts(self.model, rest, key_constraints)
        # DynamoDB rejects a FilterExpression naming the queried keys: say so before sending.
        for extra in rest:
            if extra.name in (hash_name, range_name):
                role = "hash" if extra.name == hash_name else "range"
                ops = [c.op for c in constraints if c.name == extra.name]
                raise ValueError(
                    f"{self.model.__name__}.{extra.name}: a query on {ordering.describe()} "
                    f"takes one condition on its {role} key, as the key condition (DynamoDB "
                    f"filters cannot use key attributes); got {ops}. Combine range "
                    "conditions with between_(low, high), or use a scan"
                )
        ph = Placeholders()
        request: dict[str, Any] = {
            "TableName": self.tablename,
            "KeyConditionExpression": render_key_condition(
                key_constraints, ph, hash_name, range_name
            ),
        }
        if ordering.index_name is not None:
            request["IndexName"] = ordering.index_name
        if desc:
            request["ScanIndexForward"] = False
        if consistent:
            if ordering.is_global:
                raise ValueError(
                    f"{self.model.__name__}: global index {ordering.index_name!r} does not "
                    "support consistent reads"
                )
            request["ConsistentRead"] = True
        filter_expression = render_filter(rest, ph, "OR" if filter_or else "AND")
        if filter_expression:
            request["FilterExpression"] = filter_expression
        if attributes is not None:
            request["ProjectionExpression"] = render_projection(_attribute_names(attributes), ph)
        ph.apply(request)
        return request, bool(filter_expression)

    # -- terminators ----------------------------------------------------------------------
    def _pages(self, request: dict[str, Any], has_filter: bool, limit: int | None) -> Iterator[Any]:
        if limit is not None and not has_filter:
            request["Limit"] = max(limit, 1)
        return iter(self.engine.dynamo.paginate(self._operation, request))

    _operation = "Query"

    def gen(
        self,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Iterator[Any]:
        """Iterate over the results, one page in memory at a time."""
        request, has_filter = self._request(desc, consistent, attributes, filter_or)
        return self._results(request, has_filter, attributes, self.condition.limit)

    def _results(
        self,
        request: dict[str, Any],
        has_filter: bool,
        attributes: Sequence[str] | None,
        limit: int | None,
    ) -> Iterator[Any]:
        if limit == 0:
            return
        engine = self.engine
        model = self.model
        fields = model.meta_.fields
        count = 0
        for page in self._pages(request, has_filter, limit):
            for item in page.get("Items", ()):
                if attributes is None:
                    yield model.ddb_load_(engine, item)
                else:
                    yield {
                        name: (fields[name].ddb_load(av) if name in fields else load_natural(av))
                        for name, av in item.items()
                    }
                count += 1
                if limit is not None and count >= limit:
                    return

    def all(
        self,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> list[Any]:
        """The results as a list."""
        # by keyword: Scan.gen takes its arguments in another order (as the spec shows)
        return list(
            self.gen(desc=desc, consistent=consistent, attributes=attributes, filter_or=filter_or)
        )

    def first(
        self,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Any:
        """The first result, or None."""
        request, has_filter = self._request(desc, consistent, attributes, filter_or)
        for result in self._results(request, has_filter, attributes, 1):
            return result
        return None

    def one(
        self,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Any:
        """The only result; ValueError if there are none or several."""
        request, has_filter = self._request(False, consistent, attributes, filter_or)
        results = list(self._results(request, has_filter, attributes, 2))
        if len(results) != 1:
            found = "no results" if not results else "more than one result"
            raise ValueError(f"{self.model.__name__}: expected exactly one result, found {found}")
        return results[0]

    def count(self, filter_or: bool = False) -> int:
        """The exact number of matches, over every page."""
        request, _ = self._request(False, False, None, filter_or)
        request["Select"] = "COUNT"
        total = 0
        for page in self.engine.dynamo.paginate(self._operation, request):
            total += int(page.get("Count", 0))
        limit = self.condition.limit
        return total if limit is None else min(total, limit)

    def delete(self, filter_or: bool = False) -> int:
        """Delete every item that matches; returns how many were deleted."""
        meta = self.model.meta_
        request, has_filter = self._request(False, False, list(meta.key_names), filter_or)
        keys = []
        for page in self._pages(request, has_filter, self.condition.limit):
            for item in page.get("Items", ()):
                keys.append({name: item[name] for name in meta.key_names})
                if self.condition.limit is not None and len(keys) >= self.condition.limit:
                    break
        if keys:
            self.engine.dynamo.batch_write(
                self.tablename, [{"DeleteRequest": {"Key": key}} for key in keys], meta.key_names
            )
        return len(keys)


class Scan(Query[M]):
    """A scan reads every item of a table (or index); filters apply to every attribute."""

    _operation = "Scan"

    def gen(  # type: ignore[override]  # the spec's argument order for scans
        self,
        attributes: Sequence[str] | None = None,
        desc: bool = False,
        consistent: bool = False,
        filter_or: bool = False,
    ) -> Iterator[Any]:
        """Iterate over every matching item (``attributes`` given: over dicts)."""
        return super().gen(
            desc=desc, consistent=consistent, attributes=attributes, filter_or=filter_or
        )

    def _request(
        self,
        desc: bool,
        consistent: bool,
        attributes: Sequence[str] | None,
        filter_or: bool,
    ) -> tuple[dict[str, Any], bool]:
        if desc:
            raise ValueError("a scan has no order; desc=True is only for queries")
        ph = Placeholders()
        request: dict[str, Any] = {"TableName": self.tablename}
        index_name = self.condition.index_name
        if index_name is not None:
            ordering = self.model.meta_.get_ordering_from_index(index_name)
            request["IndexName"] = index_name
            if consistent and ordering.is_global:
                raise ValueError(
                    f"{self.model.__name__}: global index {index_name!r} does not support "
                    "consistent reads"
                )
        if consistent:
            request["ConsistentRead"] = True
        constraints = self.condition.bind(self.model.field).constraints
        filter_expression = render_filter(constraints, ph, "OR" if filter_or else "AND")
        if filter_expression:
            request["FilterExpression"] = filter_expression
        if attributes is not None:
            request["ProjectionExpression"] = render_projection(_attribute_names(attributes), ph)
        ph.apply(request)
        return request, bool(filter_expression)


def _attribute_names(attributes: Sequence[str]) -> list[str]:
    if isinstance(attributes, str):
        raise TypeError(f"attributes must be a list of names, not the string {attributes!r}")
    names = list(attributes)
    if not names:
        raise ValueError("attributes=[] selects nothing; pass None for whole items")
    return names


def _is_index_key(meta: Any, field: Composite) -> bool:
    return any(
        field is ordering.hash_key or field is ordering.range_key for ordering in meta.orderings
    )


def _drop_consumed_parts(
    model: Any, rest: list[Constraint], key_constraints: list[Constraint]
) -> list[Constraint]:
    consumed: set[str] = set()
    for constraint in key_constraints:
        if isinstance(constraint.field, Composite) and constraint.op == "eq":
            consumed |= model.meta_.all_subfields(constraint.field)
    return [c for c in rest if not (c.op == "eq" and c.name in consumed)]
