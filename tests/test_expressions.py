"""Tests for flywheel.expressions and flywheel.fields.conditions.

Pure unit tests with a tiny fake field; tests/test_expressions_server.py sends rendered
expressions to real local servers.
"""
from __future__ import annotations

from typing import Any

import pytest

from flywheel.expressions import (
    MAX_EXPRESSION_LENGTH,
    MAX_IN_VALUES,
    Constraint,
    Placeholders,
    UpdateBuilder,
    attribute_absent,
    attribute_equals,
    attribute_present,
    join_conditions,
    make_constraint,
    render_condition,
    render_filter,
    render_key_condition,
    render_projection,
)
from flywheel.fields.conditions import Condition


class FakeField:
    """Just enough of a Field: a name, dumps for its type, and Field's overloaded ==."""

    def __init__(self, name: str, data_type: str = "S", allowed_filters: set[str] | None = None):
        self.name = name
        self.data_type = data_type
        if allowed_filters is not None:
            self.allowed_filters = allowed_filters

    def ddb_dump_for_query(self, value: Any) -> dict[str, Any]:
        if self.data_type == "N":
            return {"N": str(value)}
        if self.data_type == "SS":
            return {"SS": sorted(value)}
        return {"S": str(value)}

    def ddb_dump_inner(self, value: Any) -> dict[str, Any]:
        if self.data_type == "SS":
            return {"S": str(value)}
        return self.ddb_dump_for_query(value)

    # A real Field overloads == to build a Condition; nothing may compare fields.
    def __eq__(self, other: object) -> Condition:  # type: ignore[override]
        return Condition.construct(self, "eq", other)

    __hash__ = object.__hash__


def render(op: str, other: Any = None, field: FakeField | None = None) -> tuple[str, Placeholders]:
    ph = Placeholders()
    constraint = make_constraint(field or FakeField("status"), op, other)
    return render_condition([constraint], ph), ph


# -- placeholders ---------------------------------------------------------------------------
def test_placeholders_dedupe_names_but_not_values() -> None:
    ph = Placeholders()
    assert ph.name("status") == "#n0"
    assert ph.name("count") == "#n1"
    assert ph.name("status") == "#n0"
    assert ph.value({"S": "x"}) == ":v0"
    assert ph.value({"S": "x"}) == ":v1"
    assert ph.attribute_names == {"#n0": "status", "#n1": "count"}
    assert ph.attribute_values == {":v0": {"S": "x"}, ":v1": {"S": "x"}}


@pytest.mark.parametrize(
    "attr", ["name", "status", "count", "size", "data", "key", "a.b", "my-attr", "with space", "#x", ":y"]
)
def test_every_name_goes_through_a_placeholder(attr: str) -> None:
    ph = Placeholders()
    text = render_condition([make_constraint(FakeField(attr), "eq", "v")], ph)
    assert text == "#n0 = :v0"
    assert ph.attribute_names == {"#n0": attr}


def test_apply_only_adds_non_empty_maps() -> None:
    assert Placeholders().apply({"TableName": "t"}) == {"TableName": "t"}
    ph = Placeholders()
    ph.name("a")
    assert ph.apply({}) == {"ExpressionAttributeNames": {"#n0": "a"}}
    ph.value({"N": "1"})
    request = ph.apply({"TableName": "t"})
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "1"}}


def test_placeholder_input_checks() -> None:
    with pytest.raises(ValueError):
        Placeholders().name("")
    with pytest.raises(TypeError):
        Placeholders().value("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Placeholders().value({"S": "a", "N": "1"})


def test_projection() -> None:
    ph = Placeholders()
    assert render_projection(["name", "size", "name", "a.b"], ph) == "#n0, #n1, #n2"
    assert ph.attribute_names == {"#n0": "name", "#n1": "size", "#n2": "a.b"}
    with pytest.raises(ValueError):
        render_projection([], ph)


# -- every operator -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op, other, expected",
    [
        ("eq", "a", "#n0 = :v0"),
        ("ne", "a", "#n0 <> :v0"),
        ("lt", "a", "#n0 < :v0"),
        ("lte", "a", "#n0 <= :v0"),
        ("gt", "a", "#n0 > :v0"),
        ("gte", "a", "#n0 >= :v0"),
        ("between", ("a", "b"), "#n0 BETWEEN :v0 AND :v1"),
        ("beginswith", "a", "begins_with(#n0, :v0)"),
        ("contains", "a", "contains(#n0, :v0)"),
        ("ncontains", "a", "NOT contains(#n0, :v0)"),
        ("in", ["a", "b", "c"], "#n0 IN (:v0, :v1, :v2)"),
        ("null", None, "attribute_not_exists(#n0)"),
        ("not_null", None, "attribute_exists(#n0)"),
        ("eq", None, "attribute_not_exists(#n0)"),
        ("ne", None, "attribute_exists(#n0)"),
    ],
)
def test_operator_rendering(op: str, other: Any, expected: str) -> None:
    text, ph = render(op, other)
    assert text == expected
    assert ph.attribute_names == {"#n0": "status"}


def test_values_dumped_with_field_type() -> None:
    _, ph = render("between", (1, 5), FakeField("ts", "N"))
    assert ph.attribute_values == {":v0": {"N": "1"}, ":v1": {"N": "5"}}


def test_contains_on_set_dumps_one_member() -> None:
    text, ph = render("contains", "x", FakeField("tags", "SS"))
    assert text == "contains(#n0, :v0)"
    assert ph.attribute_values == {":v0": {"S": "x"}}
    text, ph = render("ncontains", "y", FakeField("tags", "SS"))
    assert ph.attribute_values == {":v0": {"S": "y"}}


def test_in_takes_any_iterable() -> None:
    _, ph = render("in", {"only"})
    assert ph.attribute_values == {":v0": {"S": "only"}}
    _, ph = render("in", (n for n in range(2)), FakeField("n", "N"))
    assert ph.attribute_values == {":v0": {"N": "0"}, ":v1": {"N": "1"}}


def test_in_splits_beyond_100_values() -> None:
    text, ph = render("in", list(range(250)), FakeField("n", "N"))
    chunks = text.split(" OR ")
    assert len(chunks) == 3
    assert [chunk.count(":v") for chunk in chunks] == [100, 100, 50]
    assert all(chunk.startswith("#n0 IN (") for chunk in chunks)
    assert len(ph.attribute_values) == 250
    # exactly 100 stays one IN
    text, _ = render("in", list(range(MAX_IN_VALUES)), FakeField("n", "N"))
    assert " OR " not in text


def test_split_in_is_parenthesised_inside_and() -> None:
    ph = Placeholders()
    constraints = [
        make_constraint(FakeField("n", "N"), "in", list(range(101))),
        make_constraint(FakeField("status"), "eq", "ok"),
    ]
    text = render_condition(constraints, ph)
    assert text.startswith("(#n0 IN (") and text.endswith(")) AND #n1 = :v101")
    assert render_condition(constraints, Placeholders(), join="OR").count("(") == 2


def test_filter_over_4kb_is_refused_before_any_request() -> None:
    constraint = make_constraint(FakeField("n", "N"), "in", range(1000))
    assert len(render_condition([constraint], Placeholders())) > MAX_EXPRESSION_LENGTH
    with pytest.raises(ValueError, match="4096-byte limit"):
        render_filter([constraint], Placeholders())
    assert render_filter([make_constraint(FakeField("n", "N"), "in", range(400))], Placeholders())


@pytest.mark.parametrize(
    "op, other, error",
    [
        ("in", [], ValueError),
        ("in", "abc", TypeError),
        ("in", 5, TypeError),
        ("in", ["a", None], ValueError),
        ("between", "a", ValueError),
        ("between", (1, 2, 3), ValueError),
        ("between", (1, None), ValueError),
        ("lt", None, ValueError),
        ("like", "a", ValueError),
    ],
)
def test_malformed_operands(op: str, other: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="status"):
        make_constraint(FakeField("status"), op, other)


def test_allowed_filters_enforced() -> None:
    field = FakeField("text", allowed_filters={"eq", "ne", "null", "not_null"})
    make_constraint(field, "eq", "a")
    make_constraint(field, "eq", None)  # becomes 'null', which is allowed
    with pytest.raises(TypeError, match=r"'text'.*'contains'"):
        Condition.construct(field, "contains", "a")


# -- joining and conflict checks ---------------------------------------------------------------
def test_conflict_check_helpers() -> None:
    ph = Placeholders()
    parts = [
        attribute_equals("count", {"N": "3"}, ph),
        attribute_absent("size", ph),
        attribute_present("name", ph),
    ]
    assert parts == ["#n0 = :v0", "attribute_not_exists(#n1)", "attribute_exists(#n2)"]
    assert join_conditions(parts) == "#n0 = :v0 AND attribute_not_exists(#n1) AND attribute_exists(#n2)"
    either = join_conditions(parts[:2], "OR")
    assert either == "#n0 = :v0 OR attribute_not_exists(#n1)"
    assert join_conditions([either, parts[2]]) == f"({either}) AND attribute_exists(#n2)"
    # AND binds tighter than OR, and BETWEEN's AND is no conjunction: no parentheses needed
    assert join_conditions(["a AND b", "x BETWEEN y AND z"], "OR") == "a AND b OR x BETWEEN y AND z"
    assert join_conditions(["(a OR b)", "c"]) == "(a OR b) AND c"
    assert join_conditions(["", "c", ""]) == "c"
    assert join_conditions([]) == ""
    with pytest.raises(ValueError):
        join_conditions(["a"], "XOR")


def test_render_filter_or_and_empty() -> None:
    constraints = [make_constraint(FakeField("a"), "eq", 1), make_constraint(FakeField("b"), "gt", 2)]
    assert render_filter(constraints, Placeholders(), "OR") == "#n0 = :v0 OR #n1 > :v1"
    assert render_filter([], Placeholders()) == ""


# -- key conditions ------------------------------------------------------------------------
def test_key_condition_hash_only_and_range_ops() -> None:
    user, ts = FakeField("name"), FakeField("data", "N")
    ph = Placeholders()
    assert render_key_condition([make_constraint(user, "eq", "u")], ph) == "#n0 = :v0"
    for op, other, expected in [
        ("eq", 1, "#n1 = :v{0}"),
        ("lt", 1, "#n1 < :v{0}"),
        ("lte", 1, "#n1 <= :v{0}"),
        ("gt", 1, "#n1 > :v{0}"),
        ("gte", 1, "#n1 >= :v{0}"),
        ("between", (1, 2), "#n1 BETWEEN :v{0} AND :v{1}"),
        ("beginswith", "1", "begins_with(#n1, :v{0})"),
    ]:
        ph = Placeholders()
        # range constraint first: the partition key is still rendered first
        constraints = [make_constraint(ts, op, other), make_constraint(user, "eq", "u")]
        text = render_key_condition(constraints, ph, hash_key="name")
        assert text == "#n0 = :v0 AND " + expected.format(1, 2)
        assert ph.attribute_names == {"#n0": "name", "#n1": "data"}


def test_key_condition_with_explicit_keys() -> None:
    a, b = FakeField("a"), FakeField("b")
    both = [make_constraint(a, "eq", 1), make_constraint(b, "eq", 2)]
    assert render_key_condition(both, Placeholders(), hash_key="b") == "#n0 = :v0 AND #n1 = :v1"
    ph = Placeholders()
    render_key_condition(both, ph, hash_key="b")
    assert ph.attribute_names == {"#n0": "b", "#n1": "a"}
    ph = Placeholders()
    render_key_condition(both, ph, range_key="a")
    assert ph.attribute_names == {"#n0": "b", "#n1": "a"}
    with pytest.raises(ValueError, match="sort key 'c'"):
        render_key_condition(both, Placeholders(), hash_key="a", range_key="c")
    with pytest.raises(ValueError, match="partition key 'z'"):
        render_key_condition(both, Placeholders(), hash_key="z")
    with pytest.raises(ValueError, match="only equality"):
        render_key_condition([make_constraint(a, "gt", 1)], Placeholders(), hash_key="a")


@pytest.mark.parametrize("op, other", [("ne", 1), ("in", [1]), ("contains", 1), ("ncontains", 1),
                                       ("null", None), ("not_null", None)])
def test_key_condition_rejects_filter_only_ops(op: str, other: Any) -> None:
    constraints = [make_constraint(FakeField("h"), "eq", 1), make_constraint(FakeField("r"), op, other)]
    with pytest.raises(ValueError, match="not allowed in a key condition"):
        render_key_condition(constraints, Placeholders())


def test_key_condition_shape_errors() -> None:
    h, r, x = FakeField("h"), FakeField("r"), FakeField("x")
    with pytest.raises(ValueError):
        render_key_condition([], Placeholders())
    with pytest.raises(ValueError, match="at most one sort key"):
        render_key_condition([make_constraint(f, "eq", 1) for f in (h, r, x)], Placeholders())
    with pytest.raises(ValueError, match="one constraint per key"):
        render_key_condition([make_constraint(h, "eq", 1), make_constraint(h, "eq", 2)], Placeholders())
    with pytest.raises(ValueError, match="equality on the partition key"):
        render_key_condition([make_constraint(h, "gt", 1), make_constraint(r, "lt", 2)], Placeholders())


# -- update expressions ---------------------------------------------------------------------
def test_update_with_all_four_clauses() -> None:
    ph = Placeholders()
    update = UpdateBuilder(ph)
    update.set("name", {"S": "x"}).set("a.b", {"S": "y"})
    update.remove("status").add("count", {"N": "2"}).delete("tags", {"SS": ["t"]})
    assert update.render() == "SET #n0 = :v0, #n1 = :v1 REMOVE #n2 ADD #n3 :v2 DELETE #n4 :v3"
    assert update.attributes == {"name", "a.b", "status", "count", "tags"}
    assert len(update) == 5
    assert ph.attribute_names["#n1"] == "a.b"


def test_update_clauses_only_when_non_empty() -> None:
    assert UpdateBuilder(Placeholders()).render() == ""
    assert UpdateBuilder(Placeholders()).remove("a").remove("b").render() == "REMOVE #n0, #n1"
    assert UpdateBuilder(Placeholders()).add("n", {"N": "1"}).render() == "ADD #n0 :v0"


def test_update_shares_placeholders_with_condition() -> None:
    ph = Placeholders()
    update = UpdateBuilder(ph).add("count", {"N": "1"})
    condition = attribute_equals("count", {"N": "5"}, ph)
    assert (update.render(), condition) == ("ADD #n0 :v0", "#n0 = :v1")


def test_update_rejects_two_actions_on_one_attribute() -> None:
    update = UpdateBuilder(Placeholders()).set("a", {"S": "x"})
    with pytest.raises(ValueError, match="'a'.*SET.*REMOVE"):
        update.remove("a")


# -- Condition --------------------------------------------------------------------------------
def test_condition_construct_and_views() -> None:
    user = FakeField("userid")
    cond = Condition.construct(user, "eq", "abc")
    assert cond.eq_fields == {"userid": "abc"}
    assert cond.fields == {}
    assert cond.limit is None and cond.index_name is None
    [constraint] = cond.constraints
    assert isinstance(constraint, Constraint)
    assert (constraint.field is user, constraint.op, constraint.values) == (True, "eq", ("abc",))


def test_condition_and_combines_constraints_and_options() -> None:
    user, ts = FakeField("userid"), FakeField("ts", "N")
    combined = (
        (user == "abc")
        & Condition.construct(ts, "gt", 1)
        & Condition.construct(ts, "lt", 9)
        & Condition.construct_index("ts-index")
        & Condition.construct_limit(5)
    )
    assert [(c.name, c.op, c.values) for c in combined.constraints] == [
        ("userid", "eq", ("abc",)), ("ts", "gt", (1,)), ("ts", "lt", (9,))
    ]
    assert combined.eq_fields == {"userid": "abc"}
    assert combined.fields == {"ts": ("lt", 9)}  # view keeps the last; constraints keep both
    assert (combined.index_name, combined.limit) == ("ts-index", 5)
    assert (combined & Condition.construct_limit(2)).limit == 2
    ph = Placeholders()
    assert render_condition(combined, ph) == "#n0 = :v0 AND #n1 > :v1 AND #n1 < :v2"
    assert render_key_condition(combined.constraints[:2], Placeholders()) == "#n0 = :v0 AND #n1 > :v1"


def test_condition_views_for_other_ops() -> None:
    f = FakeField("f")
    cond = Condition.construct(f, "between", (1, 2)) & Condition.construct(FakeField("g"), "in", ["x"])
    cond = cond & Condition.construct(FakeField("h"), "eq", None)
    assert cond.fields == {"f": ("between", (1, 2)), "g": ("in", ("x",)), "h": ("null", None)}


def test_condition_has_no_truth_value() -> None:
    cond = FakeField("x") == 1
    with pytest.raises(TypeError, match="no truth value"):
        bool(cond)
    with pytest.raises(TypeError):
        if cond:  # the mistake this guards against
            pass


def test_condition_option_checks() -> None:
    with pytest.raises(TypeError):
        Condition.construct_limit("5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Condition.construct_limit(True)
    with pytest.raises(ValueError):
        Condition.construct_limit(-1)
    with pytest.raises(TypeError):
        Condition.construct_index("")
    assert Condition.construct_limit(0).limit == 0


def test_condition_by_name_binds_later() -> None:
    cond = Condition.construct("tags", "contains", "x") & Condition.construct("n", "eq", None)
    assert cond.constraints[0].name == "tags"
    with pytest.raises(TypeError, match="bind"):
        render_condition(cond, Placeholders())
    fields = {"tags": FakeField("tags", "SS"), "n": FakeField("n", "N")}
    bound = cond.bind(fields.__getitem__)
    ph = Placeholders()
    assert render_condition(bound, ph) == "contains(#n0, :v0) AND attribute_not_exists(#n1)"
    assert ph.attribute_values == {":v0": {"S": "x"}}
    strict = {"tags": FakeField("tags", "SS", allowed_filters={"eq"})}
    with pytest.raises(TypeError, match="'tags'.*'contains'"):
        Condition.construct("tags", "contains", "x").bind(strict.__getitem__)


def test_condition_repr() -> None:
    cond = Condition.construct(FakeField("a"), "eq", 1) & Condition.construct_limit(3)
    assert repr(cond) == "Condition(a eq (1,), limit=3)"
