"""Expressions: turn constraints, updates, key conditions and projections into DynamoDB
expression strings.

Every attribute name and every value goes behind a placeholder (``#n0``, ``:v0``) tracked by
one :class:`Placeholders` per request, so reserved words (``name``, ``status``, ``size``) and
names containing dots, dashes or spaces are always plain top-level attributes — never
document paths — and no user text is ever spliced into an expression.

DynamoDB rejects a request whose ExpressionAttributeNames/Values hold an entry that no
expression uses, so placeholders are allocated only while rendering text that will be sent:
render each expression once, put it in the request, then call :meth:`Placeholders.apply`.

This module knows nothing about models. Constraints refer to their attribute through a
field-like object (:class:`ConstraintField`) that can dump Python values to AttributeValues.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Union

AttributeValue = dict[str, Any]

# DynamoDB caps the operand list of one IN at 100 values; longer lists become ORs of INs.
MAX_IN_VALUES = 100
# DynamoDB rejects any expression string longer than 4 KB.
MAX_EXPRESSION_LENGTH = 4096

# op -> DynamoDB comparator, for the ops written ``name <comparator> value``.
_COMPARATORS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

#: Every operator a constraint may carry.
FILTER_OPS = frozenset(
    [*_COMPARATORS, "between", "beginswith", "contains", "ncontains", "in", "null", "not_null"]
)
#: Operators DynamoDB accepts on a sort key in a KeyConditionExpression (the partition key
#: takes only 'eq').
KEY_OPS = frozenset(["eq", "lt", "lte", "gt", "gte", "between", "beginswith"])
# Operators that take no value / exactly two values; every other op but 'in' takes one.
_NO_VALUE_OPS = frozenset(["null", "not_null"])


# -- placeholders ---------------------------------------------------------------------------
class Placeholders:
    """The ``#name`` and ``:value`` placeholders of one request.

    The same attribute name always maps to the same placeholder; each value gets a new one
    (values are cheap and deduplicating dicts would cost more than it saves).
    """

    __slots__ = ("_names", "_values")

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # attribute name -> placeholder
        self._values: dict[str, AttributeValue] = {}  # placeholder -> AttributeValue

    def name(self, attr: str) -> str:
        """The placeholder for attribute ``attr`` (a top-level attribute, taken literally)."""
        placeholder = self._names.get(attr)
        if placeholder is None:
            if not isinstance(attr, str) or not attr:
                raise ValueError(f"attribute name must be a non-empty string, not {attr!r}")
            placeholder = f"#n{len(self._names)}"
            self._names[attr] = placeholder
        return placeholder

    def value(self, av: AttributeValue) -> str:
        """A new placeholder for the AttributeValue ``av`` (e.g. ``{'S': 'x'}``)."""
        if not isinstance(av, dict) or len(av) != 1:
            raise TypeError(f"expected an AttributeValue such as {{'S': 'x'}}, not {av!r}")
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = av
        return placeholder

    @property
    def attribute_names(self) -> dict[str, str]:
        """ExpressionAttributeNames: placeholder -> attribute name."""
        return {placeholder: attr for attr, placeholder in self._names.items()}

    @property
    def attribute_values(self) -> dict[str, AttributeValue]:
        """ExpressionAttributeValues: placeholder -> AttributeValue."""
        return dict(self._values)

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        """Add ExpressionAttributeNames/Values to ``request`` (only when non-empty); return it."""
        if self._names:
            request.setdefault("ExpressionAttributeNames", {}).update(self.attribute_names)
        if self._values:
            request.setdefault("ExpressionAttributeValues", {}).update(self._values)
        return request

    def __repr__(self) -> str:
        return f"Placeholders(names={self.attribute_names!r}, values={self._values!r})"


def render_projection(names: Iterable[str], ph: Placeholders) -> str:
    """ProjectionExpression for the attributes ``names`` ("#n0, #n1"); duplicates dropped
    because DynamoDB rejects overlapping paths."""
    unique = list(dict.fromkeys(names))
    if not unique:
        raise ValueError("a projection needs at least one attribute name")
    return ", ".join(ph.name(attr) for attr in unique)


# -- joining conditions -----------------------------------------------------------------------
def _has_top_level(text: str, keyword: str) -> bool:
    """True if ``keyword`` (' OR ', ' AND ') occurs in ``text`` outside parentheses.

    Safe as a textual test because every name and value is a placeholder: the only words in
    a rendered expression are the renderer's own keywords."""
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(keyword, index):
            return True
    return False


def join_conditions(parts: Iterable[str], join: str = "AND") -> str:
    """Join rendered conditions with AND or OR, parenthesising only where precedence needs it.

    DynamoDB binds NOT tighter than AND, and AND tighter than OR, so an OR inside an AND must
    be wrapped; nothing inside an OR needs it. BETWEEN's own AND is not a conjunction."""
    if join not in ("AND", "OR"):
        raise ValueError(f"join must be 'AND' or 'OR', not {join!r}")
    texts = [part for part in parts if part]
    if len(texts) == 1:
        return texts[0]
    if join == "AND":
        texts = [f"({text})" if _has_top_level(text, " OR ") else text for text in texts]
    return f" {join} ".join(texts)


def attribute_equals(name: str, av: AttributeValue, ph: Placeholders) -> str:
    """``#n = :v`` — the stored attribute still holds ``av`` (sync's conflict check)."""
    return f"{ph.name(name)} = {ph.value(av)}"


def attribute_absent(name: str, ph: Placeholders) -> str:
    """``attribute_not_exists(#n)``."""
    return f"attribute_not_exists({ph.name(name)})"


def attribute_present(name: str, ph: Placeholders) -> str:
    """``attribute_exists(#n)``."""
    return f"attribute_exists({ph.name(name)})"


# -- constraints ------------------------------------------------------------------------------
class ConstraintField(Protocol):
    """What a constraint needs from a field.

    ``ddb_dump_for_query(value)`` dumps a value of the field's own type;
    ``ddb_dump_inner(value)`` dumps the operand of contains/ncontains — one member for a set
    field, otherwise the value itself (as ``ddb_dump_for_query`` would).
    """

    name: str

    def ddb_dump_for_query(self, value: Any) -> AttributeValue: ...

    def ddb_dump_inner(self, value: Any) -> AttributeValue: ...


# identity equality on purpose: a Field overloads ==, so comparing fields must never happen.
@dataclass(frozen=True, eq=False)
class Constraint:
    """One constraint on one attribute: ``field op values``.

    ``values`` holds Python values (dumped only when rendered): ``()`` for 'null' and
    'not_null', ``(low, high)`` for 'between', every member for 'in', ``(value,)`` otherwise.
    ``field`` may still be a bare attribute name until a query binds it to a model's field.
    """

    field: ConstraintField | str
    op: str
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        """The attribute name."""
        return self.field if isinstance(self.field, str) else self.field.name

    @property
    def value(self) -> Any:
        """The operand in the spec's ``(op, value)`` form: the value for one-value ops, the
        ``(low, high)`` pair for 'between', the tuple of members for 'in', None for
        'null'/'not_null'."""
        if self.op in _NO_VALUE_OPS:
            return None
        if self.op in ("between", "in"):
            return self.values
        return self.values[0]

    def dump_values(self) -> list[AttributeValue]:
        """The values as AttributeValues, through the field's dump methods."""
        field = self.field
        if isinstance(field, str):
            raise TypeError(
                f"constraint {self.op!r} on {field!r} names no field: bind it to the model's "
                "fields before rendering (Condition.bind)"
            )
        if self.op in ("contains", "ncontains"):
            return [field.ddb_dump_inner(value) for value in self.values]
        return [field.ddb_dump_for_query(value) for value in self.values]

    def __repr__(self) -> str:
        return f"Constraint({self.name!r}, {self.op!r}, {self.values!r})"


def make_constraint(field: ConstraintField | str, op: str, other: Any) -> Constraint:
    """Build a constraint from the user's operand, checking its shape before any request.

    ``eq None`` becomes 'null' (attribute_not_exists) and ``ne None`` becomes 'not_null'.
    """
    name = field if isinstance(field, str) else field.name
    # 'Tweet.text' for a model's field, "field 'text'" for a bare name
    label = getattr(field, "qualname", None) or f"field {name!r}"
    if op not in FILTER_OPS:
        raise ValueError(f"unknown operator {op!r} for {label}; use one of {sorted(FILTER_OPS)}")
    if other is None and op in ("eq", "ne"):
        op = "null" if op == "eq" else "not_null"
    allowed = getattr(field, "allowed_filters", None)
    if allowed is not None and op not in allowed:
        raise TypeError(
            f"{label} does not support the {op!r} filter (value {other!r}); it allows "
            f"{sorted(allowed)}"
        )
    if op in _NO_VALUE_OPS:
        return Constraint(field, op, ())
    if op == "between":
        try:
            low, high = other
        except (TypeError, ValueError):
            raise ValueError(f"between on {label} needs (low, high), got {other!r}") from None
        if low is None or high is None:
            raise ValueError(f"between on {label} cannot use None: {other!r}")
        return Constraint(field, op, (low, high))
    if op == "in":
        if isinstance(other, (str, bytes)) or not isinstance(other, Iterable):
            raise TypeError(f"in_ on {label} takes a set or list of values, not {other!r}")
        members = tuple(other)
        if not members:
            raise ValueError(f"in_ on {label} needs at least one value, got {other!r}")
        if any(member is None for member in members):
            raise ValueError(f"in_ on {label} cannot match None: {other!r}")
        return Constraint(field, op, members)
    if other is None:
        raise ValueError(f"cannot use {op!r} on {label} with None")
    return Constraint(field, op, (other,))


def render_constraint(constraint: Constraint, ph: Placeholders) -> str:
    """Render one constraint as a condition/filter expression."""
    op = constraint.op
    name = ph.name(constraint.name)
    if op in _NO_VALUE_OPS:
        return f"attribute_not_exists({name})" if op == "null" else f"attribute_exists({name})"
    values = [ph.value(av) for av in constraint.dump_values()]
    comparator = _COMPARATORS.get(op)
    if comparator is not None:
        return f"{name} {comparator} {values[0]}"
    if op == "between":
        return f"{name} BETWEEN {values[0]} AND {values[1]}"
    if op == "beginswith":
        return f"begins_with({name}, {values[0]})"
    if op == "contains":
        return f"contains({name}, {values[0]})"
    if op == "ncontains":
        return f"NOT contains({name}, {values[0]})"
    if op == "in":
        chunks = [values[i : i + MAX_IN_VALUES] for i in range(0, len(values), MAX_IN_VALUES)]
        return " OR ".join(f"{name} IN ({', '.join(chunk)})" for chunk in chunks)
    raise ValueError(f"unknown operator {op!r} on field {constraint.name!r}")


class HasConstraints(Protocol):
    """Anything holding a list of constraints (a flywheel Condition)."""

    @property
    def constraints(self) -> Sequence[Constraint]: ...


ConstraintsLike = Union[HasConstraints, Iterable[Constraint]]  # noqa: UP007 (runtime alias on 3.10)


def _as_constraints(source: ConstraintsLike) -> list[Constraint]:
    if isinstance(source, Iterable):
        return list(source)
    return list(source.constraints)


def render_condition(source: ConstraintsLike, ph: Placeholders, join: str = "AND") -> str:
    """Render constraints (or a Condition) joined with AND or OR; '' when there are none."""
    return join_conditions((render_constraint(c, ph) for c in _as_constraints(source)), join)


def check_expression_length(text: str, kind: str) -> str:
    """Return ``text``, or raise ValueError if DynamoDB would reject it as longer than 4 KB."""
    size = len(text.encode())
    if size > MAX_EXPRESSION_LENGTH:
        raise ValueError(
            f"the {kind} would be {size} bytes, over DynamoDB's {MAX_EXPRESSION_LENGTH}-byte "
            "limit; use fewer or shorter conditions (a long in_() is the usual cause)"
        )
    return text


def render_filter(source: ConstraintsLike, ph: Placeholders, join: str = "AND") -> str:
    """FilterExpression (or ConditionExpression) for constraints; '' when there are none.

    Raises ValueError when the result is over DynamoDB's 4 KB limit."""
    return check_expression_length(render_condition(source, ph, join), "filter expression")


def render_key_condition(
    source: ConstraintsLike,
    ph: Placeholders,
    hash_key: str | None = None,
    range_key: str | None = None,
) -> str:
    """KeyConditionExpression: 'eq' on the partition key, then optionally one of
    eq/lt/lte/gt/gte/between/beginswith on the sort key.

    Given ``hash_key`` / ``range_key`` (attribute names), the constraints must be on exactly
    those; without them, the partition key is the one 'eq' constraint (the first when both
    are 'eq'). Anything DynamoDB would reject raises ValueError before a request is made.
    """
    constraints = _as_constraints(source)
    described = ", ".join(f"{c.name} {c.op}" for c in constraints) or "nothing"
    if not 1 <= len(constraints) <= 2:
        raise ValueError(
            f"a key condition needs the partition key and at most one sort key condition, got {described}"
        )
    if len({c.name for c in constraints}) != len(constraints):
        raise ValueError(f"a key condition allows one constraint per key attribute, got {described}")
    for constraint in constraints:
        if constraint.op not in KEY_OPS:
            raise ValueError(
                f"{constraint.op!r} on {constraint.name!r} is not allowed in a key condition "
                f"(only {sorted(KEY_OPS)}); use a filter"
            )
    if hash_key is not None:
        hash_constraints = [c for c in constraints if c.name == hash_key]
        if not hash_constraints:
            raise ValueError(f"a key condition needs the partition key {hash_key!r}, got {described}")
    else:
        hash_constraints = [c for c in constraints if c.op == "eq" and c.name != range_key][:1]
        if not hash_constraints:
            raise ValueError(f"a key condition needs an equality on the partition key, got {described}")
    hash_constraint = hash_constraints[0]
    if hash_constraint.op != "eq":
        raise ValueError(
            f"the partition key {hash_constraint.name!r} takes only equality, not {hash_constraint.op!r}"
        )
    rest = [c for c in constraints if c is not hash_constraint]
    if rest and range_key is not None and rest[0].name != range_key:
        raise ValueError(
            f"{rest[0].name!r} is not the sort key {range_key!r}; constrain it with a filter"
        )
    text = " AND ".join(render_constraint(c, ph) for c in [hash_constraint, *rest])
    return check_expression_length(text, "key condition expression")


# -- update expressions -----------------------------------------------------------------------
class UpdateBuilder:
    """Collects SET / REMOVE / ADD / DELETE actions and renders one UpdateExpression.

    Placeholders are allocated as actions are added, so only add actions you will send.
    An attribute may take part in one action only: DynamoDB rejects overlapping paths, so
    that is checked here, before any request.
    """

    __slots__ = ("_attributes", "_clauses", "_ph")

    def __init__(self, ph: Placeholders) -> None:
        self._ph = ph
        self._clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        self._attributes: dict[str, str] = {}  # attribute -> clause using it

    def _claim(self, name: str, clause: str) -> str:
        previous = self._attributes.get(name)
        if previous is not None:
            raise ValueError(
                f"attribute {name!r} already has a {previous} action in this update; "
                f"it cannot also take a {clause} action"
            )
        self._attributes[name] = clause
        return self._ph.name(name)

    def set(self, name: str, av: AttributeValue) -> UpdateBuilder:
        """``SET #n = :v``."""
        placeholder = self._claim(name, "SET")
        self._clauses["SET"].append(f"{placeholder} = {self._ph.value(av)}")
        return self

    def set_if_absent(self, name: str, av: AttributeValue) -> UpdateBuilder:
        """``SET #n = if_not_exists(#n, :v)`` — writes only where the attribute is absent."""
        placeholder = self._claim(name, "SET")
        self._clauses["SET"].append(
            f"{placeholder} = if_not_exists({placeholder}, {self._ph.value(av)})"
        )
        return self

    def remove(self, name: str) -> UpdateBuilder:
        """``REMOVE #n``."""
        self._clauses["REMOVE"].append(self._claim(name, "REMOVE"))
        return self

    def add(self, name: str, av: AttributeValue) -> UpdateBuilder:
        """``ADD #n :v`` — adds a number (absent counts as 0) or set members."""
        placeholder = self._claim(name, "ADD")
        self._clauses["ADD"].append(f"{placeholder} {self._ph.value(av)}")
        return self

    def delete(self, name: str, av: AttributeValue) -> UpdateBuilder:
        """``DELETE #n :v`` — removes members from a set."""
        placeholder = self._claim(name, "DELETE")
        self._clauses["DELETE"].append(f"{placeholder} {self._ph.value(av)}")
        return self

    @property
    def attributes(self) -> frozenset[str]:
        """The attribute names this update touches."""
        return frozenset(self._attributes)

    def __len__(self) -> int:
        return len(self._attributes)

    def render(self) -> str:
        """The UpdateExpression, clauses only where non-empty ('' when there is nothing).

        Not checked against the 4 KB limit: a caller with a fallback (a full PutItem) can use
        ``check_expression_length`` itself."""
        return " ".join(
            f"{clause} {', '.join(actions)}" for clause, actions in self._clauses.items() if actions
        )

    def __repr__(self) -> str:
        return f"UpdateBuilder({self.render()!r})"
