"""Query and Scan builders: turn filters into Query/Scan requests and hydrate the results.

Builders are generative, as in SQLAlchemy: ``filter()``, ``index()`` and ``limit()`` return a
new query and leave the one they were called on unchanged, so a base query can be shared and
refined safely::

    mine = engine(Tweet).filter(userid='abc123')
    recent = mine.filter(Tweet.ts > yesterday)   # `mine` still reads every tweet

Terminators (``all``, ``gen``, ``first``, ``one``, ``count``, ``delete``, ``page``) page
through DynamoDB's 1 MB result pages; ``gen`` holds one page in memory at a time. A scan's
terminators take ``segments=N`` to read N segments in threads (see :mod:`.parallel_scan`).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .cursors import (
    CursorScope,
    InvalidCursorError,
    Page,
    decode_cursor,
    encode_cursor,
    key_of,
)
from .expressions import (
    KEY_OPS,
    Constraint,
    Placeholders,
    make_constraint,
    render_filter,
    render_key_condition,
    render_projection,
)
from .fields import Composite, default_merge
from .fields.conditions import Condition
from .fields.types import load_natural
from .values.codec import EMPTY_KEY_VALUES
from .parallel_scan import check_segments, parallel_scan_pages

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

    from .engine import Engine
    from .model_meta import Ordering
    from .models import Model

__all__ = ["InvalidCursorError", "Page", "Query", "Scan"]

M = TypeVar("M", bound="Model")
Q = TypeVar("Q", bound="Query[Any]")


@dataclass
class ReadPlan:
    """One Query or Scan, ready to send: the request and what reading its results needs."""

    operation: str  # 'Query' or 'Scan'
    request: dict[str, Any]  # without Limit / ExclusiveStartKey / Segment
    has_filter: bool  # a FilterExpression drops items after DynamoDB's Limit applies
    scope: CursorScope  # what a cursor of this read continues
    attributes: tuple[str, ...] | None  # attributes=... asked for (results are dicts)
    hidden: frozenset[str]  # key attributes projected only to build cursors


class Query(Generic[M]):
    """A query on one model's table or one of its indexes; build it with ``filter()``."""

    _operation = "Query"
    #: the ordering to read, overriding the choice by the condition (Ordering.query_kwargs)
    _ordering: Ordering | None = None

    def __init__(self, engine: Engine, model: type[M]) -> None:
        self.engine = engine
        self.model = model
        self.condition = Condition()

    @classmethod
    def request_kwargs(
        cls, model: type[Model], condition: Condition, ordering: Ordering | None = None
    ) -> dict[str, Any]:
        """The keyword arguments of the request reading ``condition``'s matches of ``model``
        (on ``ordering``, else the one the condition chooses): every one but ``TableName``,
        which depends on the engine's namespace. Condition.query_kwargs / scan_kwargs and
        Ordering.query_kwargs give them."""
        read = cls.__new__(cls)  # the request needs no engine: only the model and condition
        read.model = model  # type: ignore[assignment]
        read.condition = condition
        read._ordering = ordering
        return read._read(False, False, None, False).request

    # -- building (generative: each returns a new query) ----------------------------------
    def _derive(self, condition: Condition) -> Self:
        derived = copy.copy(self)
        derived.condition = condition
        return derived

    def filter(self, *conditions: Condition, **kwargs: Any) -> Self:
        """A new query with more constraints: ``filter(Tweet.ts > t, userid='abc')``.

        Keywords mean ``==`` and may name undeclared attributes. The query it is called on is
        not changed."""
        combined = self.condition
        for condition in conditions:
            if not isinstance(condition, Condition):
                raise TypeError(
                    f"filter() takes conditions like {self.model.__name__}.field == value, "
                    f"got {condition!r}"
                )
            self._check_model(condition)
            combined = combined & condition
        for name, value in kwargs.items():
            combined = combined & Condition.construct(self.model.field(name), "eq", value)
        return self._derive(combined)

    def _check_model(self, condition: Condition) -> None:
        for constraint in condition.constraints:
            owner = getattr(constraint.field, "model", None)
            if isinstance(owner, type) and not issubclass(self.model, owner):
                raise TypeError(
                    f"a query on {self.model.__name__} got a condition on "
                    f"{owner.__name__}.{constraint.name}; use {self.model.__name__}'s fields"
                )

    def index(self, name: str) -> Self:
        """A new query that uses the local or global index ``name``."""
        self.model.meta_.get_ordering_from_index(name)
        return self._derive(self.condition & Condition.construct_index(name))

    def limit(self, count: int) -> Self:
        """A new query returning at most ``count`` results (matches, after any filter)."""
        return self._derive(self.condition & Condition.construct_limit(count))

    @property
    def tablename(self) -> str:
        """The DynamoDB table name."""
        return self.model.meta_.ddb_tablename(self.engine.namespace)

    @property
    def dynamo(self) -> Any:
        """The engine's DynamoDBConnection."""
        return self.engine.dynamo

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.__name__} {self.condition!r}>"

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

    def _choose_ordering(self, constraints: list[Constraint]) -> Ordering:
        meta = self.model.meta_
        if self._ordering is not None:
            return self._ordering
        if self.condition.index_name is not None:
            return meta.get_ordering_from_index(self.condition.index_name)
        eq = [c.name for c in constraints if c.op == "eq"]
        ranged = [c.name for c in constraints if c.op in KEY_OPS and c.op != "eq"]
        if not any(o.hash_key.name in eq for o in meta.orderings):
            keys = {o.hash_key.name for o in meta.orderings}
            for c in constraints:
                if c.op == "null" and c.name in keys:
                    raise ValueError(
                        f"{self.model.__name__}.{c.name}: a query needs a key value, got None "
                        "(== None means the attribute is absent, and key attributes never are)"
                    )
        return meta.get_ordering_from_fields(eq, ranged)

    def _check_consistent(self, ordering: Ordering, consistent: bool) -> None:
        if consistent and ordering.is_global:
            raise ValueError(
                f"{self.model.__name__}: consistent=True on global index "
                f"{ordering.index_name!r}: DynamoDB serves global indexes with eventually "
                "consistent reads only; read the table or a local index for consistent reads"
            )

    def _plan(
        self, desc: bool, consistent: bool, attributes: Sequence[str] | None, filter_or: bool
    ) -> ReadPlan:
        """The request to send: the read (``_read``) on this engine's table."""
        plan = self._read(desc, consistent, attributes, filter_or)
        plan.request = {"TableName": self.tablename, **plan.request}
        return plan

    def _read(
        self, desc: bool, consistent: bool, attributes: Sequence[str] | None, filter_or: bool
    ) -> ReadPlan:
        """The Query (without its table): key condition on the chosen ordering, the rest as
        a filter."""
        constraints = self._constraints()
        ordering = self._choose_ordering(constraints)
        hash_name = ordering.hash_key.name
        range_name = ordering.range_key.name if ordering.range_key is not None else None
        hash_c = next((c for c in constraints if c.name == hash_name and c.op == "eq"), None)
        if hash_c is None:
            given = [c.name for c in constraints if c.op == "eq"]
            need = self.model.meta_.describe_key_need(ordering.hash_key, given)
            raise ValueError(
                f"{self.model.__name__}: a query on {ordering.describe()} needs an equality "
                f"condition on {need}"
            )
        range_c = None
        if range_name is not None:
            range_c = next(
                (c for c in constraints if c.name == range_name and c.op in KEY_OPS), None
            )
        key_constraints = [hash_c] + ([range_c] if range_c is not None else [])
        for constraint in key_constraints:
            field = constraint.field
            for value in constraint.values:
                if not isinstance(field, str) and field.ddb_dump_for_query(value) in EMPTY_KEY_VALUES:
                    raise ValueError(
                        f"{self.model.__name__}.{constraint.name}: a key condition of "
                        f"{ordering.describe()} needs a non-empty value, got {value!r} "
                        "(DynamoDB keys are never empty: nothing can match)"
                    )
        rest = [c for c in constraints if c is not hash_c and c is not range_c]
        # Parts of a composite key that was built from them are already in the key.
        rest = _drop_consumed_parts(self.model, rest, key_constraints, ordering)
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
        self._check_consistent(ordering, consistent)
        ph = Placeholders()
        request: dict[str, Any] = {
            "KeyConditionExpression": render_key_condition(
                key_constraints, ph, hash_name, range_name
            ),
        }
        if ordering.index_name is not None:
            request["IndexName"] = ordering.index_name
        if desc:
            request["ScanIndexForward"] = False
        if consistent:
            request["ConsistentRead"] = True
        return self._finish_plan(request, ph, ordering, rest, desc, attributes, filter_or)

    def _finish_plan(
        self,
        request: dict[str, Any],
        ph: Placeholders,
        ordering: Ordering,
        filters: list[Constraint],
        desc: bool,
        attributes: Sequence[str] | None,
        filter_or: bool,
    ) -> ReadPlan:
        """Add the filter and the projection shared by queries and scans."""
        filter_expression = render_filter(filters, ph, "OR" if filter_or else "AND")
        if filter_expression:
            request["FilterExpression"] = filter_expression
        key_names = _cursor_key_names(self.model, ordering)
        names: tuple[str, ...] | None = None
        hidden: frozenset[str] = frozenset()
        if attributes is not None:
            names = tuple(_attribute_names(attributes))
            # Cursors are built from the last item's key, so the key is always projected.
            hidden = frozenset(key_names) - set(names)
            projected = list(names) + [name for name in key_names if name in hidden]
            request["ProjectionExpression"] = render_projection(projected, ph)
        ph.apply(request)
        scope = CursorScope(
            self._operation, self.model.meta_.name, ordering.index_name, desc, key_names
        )
        return ReadPlan(self._operation, request, bool(filter_expression), scope, names, hidden)

    # -- reading --------------------------------------------------------------------------
    def _hydrator(self, plan: ReadPlan) -> Callable[[dict[str, Any]], Any]:
        """Item -> result: a model, or a dict of the attributes asked for."""
        engine = self.engine
        model = self.model
        if plan.attributes is None:
            # Items from a KEYS_ONLY / INCLUDE index hold only its projection: the objects
            # must know what they saw, so a safe sync does not take the rest as absent.
            index_name = plan.request.get("IndexName")
            projected = (
                None
                if index_name is None
                else model.meta_.get_ordering_from_index(index_name).projected()
            )
            return lambda item: model.ddb_load_(engine, item, projected, copy=False)
        fields = model.meta_.fields
        hidden = plan.hidden

        def as_dict(item: dict[str, Any]) -> dict[str, Any]:
            return {
                name: fields[name].ddb_load(av) if name in fields else load_natural(av)
                for name, av in item.items()
                if name not in hidden
            }

        return as_dict

    def _sequential_pages(self, plan: ReadPlan, limit: int | None) -> Iterator[dict[str, Any]]:
        request = plan.request
        if limit is not None and not plan.has_filter:
            # Without a filter every item read is a match: read no more than needed.
            request = dict(request, Limit=max(limit, 1))
        return iter(self.engine.dynamo.paginate(plan.operation, request))

    def _results(
        self, plan: ReadPlan, pages: Iterator[dict[str, Any]], limit: int | None
    ) -> Iterator[Any]:
        if limit == 0:
            return
        hydrate = self._hydrator(plan)
        count = 0
        try:
            for page in pages:
                for item in page.get("Items", ()):
                    yield hydrate(item)
                    count += 1
                    if limit is not None and count >= limit:
                        return
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # stops the page requests (and a parallel scan's threads) at once

    def gen(
        self,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Iterator[Any]:
        """Iterate over the results, one page in memory at a time."""
        plan = self._plan(desc, consistent, attributes, filter_or)
        limit = self.condition.limit
        return self._results(plan, self._sequential_pages(plan, limit), limit)

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
        """The first result, or None (reads on past pages that the filter leaves empty)."""
        plan = self._plan(desc, consistent, attributes, filter_or)
        for result in self._results(plan, self._sequential_pages(plan, 1), 1):
            return result
        return None

    def one(
        self,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Any:
        """The only result; ValueError if there are none or several."""
        plan = self._plan(False, consistent, attributes, filter_or)
        results = list(self._results(plan, self._sequential_pages(plan, 2), 2))
        if len(results) != 1:
            found = "no results" if not results else "more than one result"
            raise ValueError(
                f"{self.model.__name__}: expected exactly one result of {self!r}, found {found}"
            )
        return results[0]

    def _count_pages(self, filter_or: bool, consistent: bool) -> tuple[ReadPlan, dict[str, Any]]:
        plan = self._plan(False, consistent, None, filter_or)
        return plan, dict(plan.request, Select="COUNT")

    @staticmethod
    def _sum_counts(pages: Iterator[dict[str, Any]], limit: int | None) -> int:
        total = 0
        try:
            for page in pages:
                total += int(page.get("Count", 0))
                if limit is not None and total >= limit:
                    return limit
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        return total if limit is None else min(total, limit)

    def count(self, filter_or: bool = False, consistent: bool = False) -> int:
        """The exact number of matches, summed over every page (at most ``limit``)."""
        plan, request = self._count_pages(filter_or, consistent)
        pages = iter(self.engine.dynamo.paginate(plan.operation, request))
        return self._sum_counts(pages, self.condition.limit)

    def _delete_from(self, plan: ReadPlan, pages: Iterator[dict[str, Any]]) -> int:
        """Delete the items of ``pages`` page by page (memory stays at one page of keys)."""
        meta = self.model.meta_
        limit = self.condition.limit
        deleted = 0
        try:
            for page in pages:
                keys = [key_of(item, meta.key_names) for item in page.get("Items", ())]
                if limit is not None:
                    keys = keys[: limit - deleted]
                if keys:
                    self.engine.dynamo.batch_write(
                        self.tablename,
                        [{"DeleteRequest": {"Key": key}} for key in keys],
                        meta.key_names,
                    )
                    deleted += len(keys)
                if limit is not None and deleted >= limit:
                    break
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        return deleted

    def delete(self, filter_or: bool = False) -> int:
        """Delete every item that matches; returns how many were deleted."""
        if self.condition.limit == 0:
            return 0
        plan = self._plan(False, False, list(self.model.meta_.key_names), filter_or)
        return self._delete_from(plan, self._sequential_pages(plan, self.condition.limit))

    def page(
        self,
        size: int,
        cursor: str | None = None,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
    ) -> Page[Any]:
        """One page of exactly ``size`` matches (fewer only at the end) and a cursor.

        Pass ``page.cursor`` back (with the same query, here or in another process) for the
        next page; it is None when there is nothing more. The cursor is an opaque URL-safe
        string; one made by another read raises :class:`InvalidCursorError` (a ValueError).
        """
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"page size must be an int, not {size!r}")
        if size < 1:
            raise ValueError(f"page size must be at least 1, got {size}")
        if self.condition.limit is not None:
            raise ValueError(
                f"{self!r}: page(size) pages through every match; drop .limit() (the page "
                "size is the limit of each page)"
            )
        plan = self._plan(desc, consistent, attributes, filter_or)
        request = dict(plan.request)
        if cursor is not None:
            request["ExclusiveStartKey"] = decode_cursor(cursor, plan.scope)
        items: list[dict[str, Any]] = []
        next_key: dict[str, Any] | None = None
        while True:
            room = size - len(items)
            if not plan.has_filter:
                # One item more than needed tells whether another page exists, so the last
                # page of an unfiltered read never comes back with a cursor to an empty one.
                request["Limit"] = room + 1
            response = self.engine.dynamo.call(plan.operation, request)
            found = response.get("Items", [])
            last_key = response.get("LastEvaluatedKey") or None
            if len(found) > room:
                # Stop inside DynamoDB's page: continue right after the last item returned.
                items.extend(found[:room])
                next_key = key_of(items[-1], plan.scope.key_names)
                break
            items.extend(found)
            if len(items) == size or last_key is None:
                next_key = last_key
                break
            request["ExclusiveStartKey"] = last_key
        hydrate = self._hydrator(plan)
        next_cursor = encode_cursor(plan.scope, next_key) if next_key is not None else None
        return Page([hydrate(item) for item in items], next_cursor)


class Scan(Query[M]):
    """A scan reads every item of a table (or index); filters apply to every attribute.

    ``gen``, ``all``, ``count`` and ``delete`` take ``segments=N`` to read the table's N
    segments in parallel threads; results then come in no particular order."""

    _operation = "Scan"

    def _read(
        self, desc: bool, consistent: bool, attributes: Sequence[str] | None, filter_or: bool
    ) -> ReadPlan:
        """The Scan (without its table): the table or index named, every condition a filter."""
        if desc:
            raise ValueError(f"{self.model.__name__}: a scan has no order; desc=True is only for queries")
        meta = self.model.meta_
        ordering = meta.get_ordering_from_index(self.condition.index_name)
        self._check_consistent(ordering, consistent)
        request: dict[str, Any] = {}
        if ordering.index_name is not None:
            request["IndexName"] = ordering.index_name
        if consistent:
            request["ConsistentRead"] = True
        constraints = self.condition.bind(self.model.field).constraints
        return self._finish_plan(
            request, Placeholders(), ordering, constraints, False, attributes, filter_or
        )

    def _pages(
        self, plan: ReadPlan, limit: int | None, segments: int | None
    ) -> Iterator[dict[str, Any]]:
        if segments is None:
            return self._sequential_pages(plan, limit)
        check_segments(segments)
        return parallel_scan_pages(self.engine.dynamo, plan.request, segments)

    def gen(  # type: ignore[override]  # the spec's argument order for scans
        self,
        attributes: Sequence[str] | None = None,
        desc: bool = False,
        consistent: bool = False,
        filter_or: bool = False,
        segments: int | None = None,
    ) -> Iterator[Any]:
        """Iterate over every matching item (``attributes`` given: over dicts).

        ``segments=N`` reads N segments in threads; stopping early stops them."""
        plan = self._plan(desc, consistent, attributes, filter_or)
        limit = self.condition.limit
        return self._results(plan, self._pages(plan, limit, segments), limit)

    def all(
        self,
        desc: bool = False,
        consistent: bool = False,
        attributes: Sequence[str] | None = None,
        filter_or: bool = False,
        segments: int | None = None,
    ) -> list[Any]:
        """Every matching item as a list (``segments=N``: read in N parallel segments)."""
        return list(
            self.gen(attributes=attributes, desc=desc, consistent=consistent,
                     filter_or=filter_or, segments=segments)
        )

    def count(
        self, filter_or: bool = False, consistent: bool = False, segments: int | None = None
    ) -> int:
        """The exact number of matching items (``segments=N``: counted in N threads)."""
        plan, request = self._count_pages(filter_or, consistent)
        if segments is None:
            pages = iter(self.engine.dynamo.paginate(plan.operation, request))
        else:
            check_segments(segments)
            pages = parallel_scan_pages(self.engine.dynamo, request, segments)
        return self._sum_counts(pages, self.condition.limit)

    def delete(
        self, filter_or: bool = False, segments: int | None = None
    ) -> int:
        """Delete every matching item; returns how many were deleted."""
        if self.condition.limit == 0:
            return 0
        plan = self._plan(False, False, list(self.model.meta_.key_names), filter_or)
        return self._delete_from(plan, self._pages(plan, self.condition.limit, segments))


def _cursor_key_names(model: Any, ordering: Ordering) -> tuple[str, ...]:
    """The attributes of LastEvaluatedKey for a read of ``ordering``: the table's key, then
    the index's key attributes."""
    names = list(model.meta_.key_names)
    for field in (ordering.hash_key, ordering.range_key):
        if field is not None and field.name not in names:
            names.append(field.name)
    return tuple(names)


def _attribute_names(attributes: Sequence[str]) -> list[str]:
    if isinstance(attributes, str):
        raise TypeError(f"attributes must be a list of names, not the string {attributes!r}")
    names = list(attributes)
    if not names:
        raise ValueError("attributes=[] selects nothing; pass None for whole items")
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"attributes must be non-empty strings, got {name!r}")
    return names


def _is_index_key(meta: Any, field: Composite) -> bool:
    return any(
        field is ordering.hash_key or field is ordering.range_key for ordering in meta.orderings
    )


def _drop_consumed_parts(
    model: Any, rest: list[Constraint], key_constraints: list[Constraint], ordering: Ordering
) -> list[Constraint]:
    """Drop the equality filters on the parts of a composite key built from them, when the
    key says the same (the default merge); a custom merge may map different parts to one
    value (a sum), so its parts stay as filters, and the ordering must project them."""
    consumed: set[str] = set()
    projected = ordering.projected()
    for key in key_constraints:
        field = key.field
        if isinstance(field, Composite) and key.op == "eq":
            parts = model.meta_.all_subfields(field)
            if field.merge is default_merge:
                consumed |= parts
                continue
            filtered = {c.name for c in rest if c.op == "eq" and c.name in parts}
            unavailable = [] if projected is None else sorted(filtered - projected)
            if unavailable:
                raise ValueError(
                    f"{field.qualname} has a custom merge, so a query by its parts must also "
                    f"filter on them, but {ordering.describe()} does not project {unavailable};"
                    f" query by {field.name!r} itself, or use an index that projects the parts"
                )
    return [c for c in rest if not (c.op == "eq" and c.name in consumed)]
