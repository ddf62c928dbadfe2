"""Queries and scans (issue 5): every operator on every type, in scans and in query filters,
with the TypeError where a type cannot take one; reserved words and odd attribute names in
every kind of condition; index choice; generative builders; error messages.

Paging, cursors, parallel scans and deletes are in test_query_paging.py.
"""
from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from flywheel import (
    BOOL,
    LIST,
    MAP,
    NULL,
    CheckFailed,
    Engine,
    Field,
    GlobalIndex,
    Model,
    set_,
)
from flywheel.expressions import FILTER_OPS, Placeholders, render_filter
from flywheel.fields.conditions import Condition
from flywheel.model_meta import AmbiguousIndexError

BASE = datetime(2020, 5, 17, 12, 30)

# op -> how a user writes it on a field
BUILDERS: dict[str, Callable[[Any, Any], Condition]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "between": lambda field, bounds: field.between_(*bounds),
    "beginswith": lambda field, prefix: field.beginswith_(prefix),
    "contains": lambda field, member: field.contains_(member),
    "ncontains": lambda field, member: field.ncontains_(member),
    "in": lambda field, members: field.in_(members),
    "null": lambda field, _: field == None,
    "not_null": lambda field, _: field != None,
}


class Typed(Model):
    """One field of every kind; items 0..3 hold values, item 4 holds none of them."""

    pk = Field(hash_key=True)
    rk = Field(data_type=int, range_key=True)
    s = Field()
    i = Field(data_type=int)
    f = Field(data_type=float)
    d = Field(data_type=Decimal)
    flag = Field(data_type=bool)
    when = Field(data_type=datetime)
    day = Field(data_type=date)
    blob = Field(data_type=bytes)
    tags = Field(data_type=set)
    nums = Field(data_type=set_(int))
    blobs = Field(data_type=set_(bytes))
    doc = Field(data_type=dict)
    seq = Field(data_type=list)
    m = Field(data_type=MAP)
    lst = Field(data_type=LIST)
    b = Field(data_type=BOOL)
    nul = Field(data_type=NULL)


# field -> the values of items 0..3 (None / empty set: the attribute is absent)
VALUES: dict[str, list[Any]] = {
    "s": ["apple", "banana", "cherry", "apricot"],
    "i": [1, 5, 10, -3],
    "f": [0.1, 2.5, -1.25, 3.0],
    "d": [Decimal("1.10"), Decimal(2), Decimal("-0.5"), Decimal("12345678901234567890.123")],
    "flag": [True, False, True, False],
    "when": [BASE, BASE + timedelta(hours=1), BASE - timedelta(days=1), BASE + timedelta(microseconds=1)],
    "day": [date(2020, 1, 1), date(2021, 6, 1), date(2019, 12, 31), date(2020, 1, 2)],
    "blob": [b"\x00\x01", b"\x01abc", b"\xff", b"\x01\x02"],
    "tags": [{"a", "b"}, {"b"}, {"c"}, {"a", "c"}],
    "nums": [{1, 2}, {2}, {3}, set()],
    "blobs": [{b"a"}, {b"b", b"c"}, {b"\x00"}, set()],
    "doc": [{"a": 1}, {"a": 2}, {"b": [1, 2]}, {"c": "x"}],
    "seq": [[1, 2], [3], ["x"], [1]],
    "m": [{"a": 1}, {"a": 2}, {"b": "x"}, None],
    "lst": [[1, "a"], [2], ["b"], [1]],
    "b": [True, False, True, None],
    "nul": [None, None, None, None],
    # undeclared attributes: natural types, every operator
    "extra": ["x-1", "y-2", "x-3", None],
    "extra_n": [3, 1, 2, None],
    "extra_b": [b"ab", b"b", None, b"\x00a"],
}

ORDERED = ["eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "null", "not_null"]
# field -> [(op, operand)], together covering every operator the field's type allows
CASES: dict[str, list[tuple[str, Any]]] = {
    "s": [
        ("eq", "banana"), ("ne", "banana"), ("lt", "b"), ("lte", "banana"), ("gt", "banana"),
        ("gte", "banana"), ("between", ("apple", "b")), ("beginswith", "ap"),
        ("contains", "an"), ("ncontains", "an"), ("in", {"apple", "cherry", "zzz"}),
        ("null", None), ("not_null", None),
    ],
    "i": [
        ("eq", 5), ("ne", 5), ("lt", 5), ("lte", 5), ("gt", 5), ("gte", 5),
        ("between", (0, 5)), ("in", [1, 10, 99]), ("null", None), ("not_null", None),
    ],
    "f": [
        ("eq", 0.1), ("ne", 0.1), ("lt", 2.5), ("lte", 2.5), ("gt", 0.1), ("gte", 3.0),
        ("between", (-2, 1)), ("in", [3.0, -1.25]), ("null", None), ("not_null", None),
    ],
    "d": [
        ("eq", Decimal("1.1")), ("ne", Decimal(2)), ("lt", Decimal("1.1")),
        ("lte", Decimal("1.1")), ("gt", 2), ("gte", 2), ("between", (Decimal(-1), 2)),
        ("in", [Decimal("12345678901234567890.123")]), ("null", None), ("not_null", None),
    ],
    "flag": [("eq", True), ("ne", True), ("in", [False]), ("null", None), ("not_null", None)],
    "when": [
        ("eq", BASE), ("ne", BASE), ("lt", BASE), ("lte", BASE), ("gt", BASE), ("gte", BASE),
        ("between", (BASE, BASE + timedelta(seconds=1))), ("in", [BASE, BASE - timedelta(days=1)]),
        ("null", None), ("not_null", None),
    ],
    "day": [
        ("eq", date(2020, 1, 1)), ("ne", date(2020, 1, 1)), ("lt", date(2020, 1, 2)),
        ("lte", date(2020, 1, 2)), ("gt", date(2020, 1, 1)), ("gte", date(2020, 1, 1)),
        ("between", (date(2020, 1, 1), date(2020, 12, 31))), ("in", [date(2021, 6, 1)]),
        ("null", None), ("not_null", None),
    ],
    "blob": [
        ("eq", b"\xff"), ("ne", b"\xff"), ("lt", b"\x01"), ("lte", b"\x01\x02"),
        ("gt", b"\x01\x02"), ("gte", b"\x01\x02"), ("between", (b"\x01", b"\x01b")),
        ("beginswith", b"\x01"), ("contains", b"ab"), ("ncontains", b"ab"),
        ("in", [b"\xff", b"\x00\x01"]), ("null", None), ("not_null", None),
    ],
    "tags": [
        ("eq", {"b"}), ("ne", {"b"}), ("contains", "a"), ("ncontains", "a"),
        ("in", [{"c"}, {"b"}]), ("null", None), ("not_null", None),
    ],
    "nums": [
        ("eq", {2, 1}), ("ne", {2}), ("contains", 2), ("ncontains", 2), ("in", [{3}]),
        ("null", None), ("not_null", None),
    ],
    "blobs": [
        ("eq", {b"a"}), ("ne", {b"a"}), ("contains", b"c"), ("ncontains", b"c"),
        ("in", [{b"\x00"}]), ("null", None), ("not_null", None),
    ],
    "doc": [
        ("eq", {"a": 2}), ("ne", {"a": 2}), ("in", [{"a": 1}, {"c": "x"}]), ("null", None),
        ("not_null", None),
    ],
    "seq": [
        ("eq", [3]), ("ne", [3]), ("in", [["x"], [1]]), ("null", None), ("not_null", None),
    ],
    "m": [
        ("eq", {"a": 2}), ("ne", {"a": 2}), ("in", [{"b": "x"}]), ("null", None),
        ("not_null", None),
    ],
    "lst": [
        ("eq", [2]), ("ne", [2]), ("contains", 1), ("ncontains", 1), ("in", [["b"]]),
        ("null", None), ("not_null", None),
    ],
    # IN (false) on a BOOL: dynalite 4.0.0 never matches a false value (`if (!attrVal)`)
    "b": [("eq", False), ("ne", True), ("in", [True]), ("null", None), ("not_null", None)],
    "nul": [("null", None), ("not_null", None)],
    "extra": [
        ("eq", "y-2"), ("ne", "y-2"), ("lt", "y"), ("lte", "x-3"), ("gt", "x-1"),
        ("gte", "x-3"), ("between", ("x-2", "z")), ("beginswith", "x"), ("contains", "-3"),
        ("ncontains", "-3"), ("in", ["x-1", "y-2"]), ("null", None), ("not_null", None),
    ],
    "extra_n": [("lt", 3), ("gte", 2), ("between", (1, 2)), ("in", [3]), ("ne", 1)],
    "extra_b": [("beginswith", b"a"), ("contains", b"a"), ("lt", b"b"), ("eq", b"b")],
}
# '=' on M / L documents: DynamoDB compares them, dynalite never finds them equal.
DOCUMENT_EQUALITY = {("m", "eq"), ("m", "ne"), ("m", "in"), ("lst", "eq"), ("lst", "ne"), ("lst", "in")}
# begins_with / contains on binary values: moto never finds them.
BINARY_FUNCTIONS = {
    ("blob", "beginswith"), ("blob", "contains"), ("blob", "ncontains"),
    ("extra_b", "beginswith"), ("extra_b", "contains"),
}
# A NULL field only ever holds None (stored as no attribute): only presence can be tested.
UNTESTABLE = {"nul": {"eq", "ne", "in"}}


def _field(name: str) -> Any:
    return Typed.field(name)


def expected_matches(name: str, op: str, operand: Any) -> list[int]:
    """What DynamoDB should return, worked out in Python (item 4 has no attributes)."""
    matches = []
    for rk, stored in enumerate([*VALUES[name], None]):
        value = None if stored in (None, set()) else stored
        if op == "null":
            hit = value is None
        elif op == "not_null":
            hit = value is not None
        elif op == "ne":  # a missing attribute is "not equal"
            hit = value is None or value != operand
        elif op == "ncontains":  # ... and does not contain anything
            hit = value is None or operand not in value
        elif value is None:
            hit = False
        elif op == "between":
            hit = operand[0] <= value <= operand[1]
        elif op == "beginswith":
            hit = value.startswith(operand)
        elif op == "contains":
            hit = operand in value
        elif op == "in":
            hit = value in list(operand)
        else:
            hit = BUILDERS[op](value, operand)
        if hit:
            matches.append(rk)
    return matches


@pytest.fixture(scope="module")
def typed_engine(dynamo: Any) -> Iterator[Engine]:
    """One table of Typed items shared by the operator matrix (read-only)."""
    engine = Engine(namespace=[f"test-{uuid.uuid4().hex[:8]}"])
    engine.connect(dynamo)
    engine.register(Typed)
    engine.create_schema()
    try:
        items = []
        for rk in range(5):
            item = Typed("p", rk)
            for name, values in VALUES.items():
                if rk < 4 and values[rk] is not None:
                    setattr(item, name, values[rk])
            items.append(item)
        engine.save(items)
        yield engine
    finally:
        engine.delete_schema()


MATRIX = [
    pytest.param(
        name,
        op,
        operand,
        id=f"{name}-{op}",
        marks=[
            *([pytest.mark.requires("document_equality")] if (name, op) in DOCUMENT_EQUALITY else []),
            *([pytest.mark.requires("binary_functions")] if (name, op) in BINARY_FUNCTIONS else []),
        ],
    )
    for name, cases in CASES.items()
    for op, operand in cases
]


@pytest.mark.parametrize(("name", "op", "operand"), MATRIX)
def test_every_operator_in_scans_and_query_filters(
    typed_engine: Engine, name: str, op: str, operand: Any
) -> None:
    condition = BUILDERS[op](_field(name), operand)
    want = expected_matches(name, op, operand)
    scanned = sorted(item.rk for item in typed_engine.scan(Typed).filter(condition).all())
    assert scanned == want
    queried = [item.rk for item in typed_engine(Typed).filter(condition, pk="p").all()]
    assert queried == want
    assert typed_engine.scan(Typed).filter(condition).count() == len(want)


def test_the_matrix_covers_every_allowed_operator() -> None:
    for name, cases in CASES.items():
        if name.startswith("extra"):
            continue  # undeclared: natural type, covered by 'extra'
        allowed = set(_field(name).allowed_filters) - UNTESTABLE.get(name, set())
        assert {op for op, _ in cases} >= allowed, name
    assert {op for op, _ in CASES["extra"]} == set(FILTER_OPS)


@pytest.mark.parametrize("name", [n for n in CASES if not n.startswith("extra")])
def test_operators_a_type_cannot_take_raise_type_error(name: str) -> None:
    field = _field(name)
    refused = set(FILTER_OPS) - set(field.allowed_filters)
    operands = {"between": (1, 2), "in": [1]}
    for op in refused:
        with pytest.raises(TypeError, match=name):
            BUILDERS[op](field, operands.get(op, 1))
    # and the types that take everything refuse nothing
    if name in ("s", "blob"):
        assert not refused


def test_key_conditions_on_number_and_binary_keys(typed_engine: Engine) -> None:
    def rks(*conditions: Condition) -> list[int]:
        return [t.rk for t in typed_engine(Typed).filter(Typed.pk == "p", *conditions).all()]

    assert rks(Typed.rk == 2) == [2]
    assert rks(Typed.rk < 2) == [0, 1]
    assert rks(Typed.rk <= 2) == [0, 1, 2]
    assert rks(Typed.rk > 2) == [3, 4]
    assert rks(Typed.rk >= 2) == [2, 3, 4]
    assert rks(Typed.rk.between_(1, 3)) == [1, 2, 3]
    with pytest.raises(TypeError, match="rk"):
        Typed.rk.beginswith_(1)


class Bin(Model):
    owner = Field(data_type=bytes, hash_key=True)
    path = Field(data_type=bytes, range_key=True)


@pytest.mark.requires("binary_functions")
def test_begins_with_on_a_binary_range_key(engine: Engine) -> None:
    engine.register(Bin)
    engine.create_schema()
    engine.save([Bin(b"\x00me", p) for p in (b"\x01a", b"\x01b", b"\x02")])
    found = engine(Bin).filter(Bin.owner == b"\x00me", Bin.path.beginswith_(b"\x01")).all()
    assert [b.path for b in found] == [b"\x01a", b"\x01b"]


def test_binary_key_conditions(engine: Engine) -> None:
    engine.register(Bin)
    engine.create_schema()
    engine.save([Bin(b"\x00me", p) for p in (b"\x01a", b"\x01b", b"\x02", b"\xff")])

    def paths(*conditions: Condition) -> list[bytes]:
        return [b.path for b in engine(Bin).filter(Bin.owner == b"\x00me", *conditions).all()]

    assert paths(Bin.path > b"\x02") == [b"\xff"]
    assert paths(Bin.path.between_(b"\x01b", b"\x02")) == [b"\x01b", b"\x02"]


def test_a_condition_is_not_a_boolean() -> None:
    with pytest.raises(TypeError, match="truth value"):
        if Typed.i == 1:
            pass
    with pytest.raises(TypeError):
        bool(Typed.field("anything") != None)


# -- reserved words and odd names ----------------------------------------------------------
class Odd(Model):
    """Reserved words and names with dots, dashes and spaces, as keys, index keys and fields."""

    __metadata__ = {  # noqa: RUF012 - the spec declares indexes this way
        "global_indexes": [
            GlobalIndex.all("data-index", "data", "key"),
            GlobalIndex.all("dash-index", "with-dash", "a.b"),
        ]
    }
    name = Field(hash_key=True)
    size = Field(data_type=int, range_key=True)
    status = Field().all_index("status-index")
    count = Field(data_type=int)
    data = Field()
    key = Field()
    locals()["a.b"] = Field(data_type=int)
    locals()["with-dash"] = Field()
    locals()["with space"] = Field(data_type=set)


ODD = Odd.meta_.fields


@pytest.fixture
def odd(engine: Engine) -> Engine:
    engine.register(Odd)
    engine.create_schema()
    engine.save(
        [
            Odd(
                name="n",
                size=i,
                status=f"s{i % 3}",
                count=i * 10,
                data="d" if i < 4 else "e",
                key=f"k{i}",
                **{
                    "a.b": i,
                    "with-dash": "dash" if i % 2 else "other",
                    "with space": {f"t{i}", "all"},
                    "x.y z-w": f"undeclared {i}",
                },
            )
            for i in range(6)
        ]
    )
    return engine


def sizes(results: list[Any]) -> list[int]:
    return [r.size for r in results]


def test_reserved_and_odd_names_in_key_conditions(odd: Engine) -> None:
    q = odd(Odd).filter(name="n")
    assert sizes(q.filter(Odd.size >= 4).all()) == [4, 5]
    assert sizes(q.filter(Odd.size.between_(1, 2)).all()) == [1, 2]
    # a local index on 'status', a global index on 'data' / 'key' and one on 'with-dash' / 'a.b'
    assert sizes(q.filter(Odd.status == "s1").all()) == [1, 4]
    assert sizes(odd(Odd).filter(Odd.data == "d", Odd.key >= "k2").all()) == [2, 3]
    dash = ODD["with-dash"]
    dotted = ODD["a.b"]
    assert sizes(odd(Odd).filter(dash == "dash", dotted > 1).all()) == [3, 5]
    assert sizes(odd(Odd).filter(**{"with-dash": "other", "a.b": 2}).all()) == [2]
    assert odd(Odd).filter(dash == "dash").index("dash-index").count() == 3


def test_reserved_and_odd_names_in_filters(odd: Engine) -> None:
    spaced = ODD["with space"]
    undeclared = Odd.field("x.y z-w")
    q = odd(Odd).filter(name="n")
    for query in (q, odd.scan(Odd)):
        assert sizes(query.filter(Odd.count > 30).all()) == [4, 5]
        assert sizes(query.filter(Odd.key.in_(["k0", "k5"])).all()) == [0, 5]
        assert sizes(query.filter(Odd.data.beginswith_("e")).all()) == [4, 5]
        assert sizes(query.filter(spaced.contains_("t3")).all()) == [3]
        assert len(query.filter(spaced.ncontains_("all")).all()) == 0
        assert sizes(query.filter(undeclared == "undeclared 2").all()) == [2]
        assert sizes(query.filter(undeclared.contains_(" 4")).all()) == [4]
        assert len(query.filter(Odd.field("not there") != None).all()) == 0
        assert sizes(
            query.filter(Odd.count == 10, undeclared == "undeclared 5").all(filter_or=True)
        ) == [1, 5]
        assert query.filter(ODD["a.b"].between_(2, 3)).count() == 2
    assert sorted(sizes(odd.scan(Odd).filter(Odd.status == "s0", Odd.size > 0).all())) == [3]


def test_reserved_and_odd_names_in_projections_and_writes(odd: Engine) -> None:
    row = odd(Odd).filter(name="n", size=3).one(
        attributes=["count", "a.b", "with space", "x.y z-w", "status"]
    )
    assert row == {
        "count": 30,
        "a.b": 3,
        "with space": {"t3", "all"},
        "x.y z-w": "undeclared 3",
        "status": "s0",
    }
    item = odd(Odd).filter(name="n", size=3).one()
    item.count = 31
    setattr(item, "a.b", 33)
    item.sync(constraints=[Odd.count == 30, ODD["with-dash"] == "dash", Odd.status != None])
    assert odd.get(Odd, name="n", size=3).count == 31
    stale = odd(Odd).filter(name="n", size=4).one()
    stale.key = "changed"
    with pytest.raises(CheckFailed):
        stale.sync(constraints=[Odd.field("x.y z-w") == "wrong"])
    with pytest.raises(CheckFailed):
        odd.save(Odd(name="n", size=4), overwrite=False)
    assert odd(Odd).filter(name="n").filter(ODD["with space"].contains_("t1")).delete() == 1
    assert odd(Odd).filter(name="n").count() == 5


# -- index choice ------------------------------------------------------------------------
class Post(Model):
    __metadata__ = {  # noqa: RUF012 - the spec declares indexes this way
        "global_indexes": [
            GlobalIndex.all("topic-index", "topic", "score"),
            GlobalIndex.keys("topic-time-index", "topic", "ts"),
        ]
    }
    author = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime).all_index("ts-index")
    score = Field(data_type=int).all_index("score-index")
    topic = Field()
    body = Field()


@pytest.fixture
def posts(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, list[dict[str, Any]]]:
    engine.register(Post)
    engine.create_schema()
    engine.save(
        [
            Post("ann", f"{i:02d}", ts=BASE + timedelta(minutes=i), score=i % 4,
                 topic="dynamo" if i % 2 else "python", body=f"post {i}")
            for i in range(12)
        ]
    )
    sent: list[dict[str, Any]] = []
    real_call = engine.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent.append(dict(request))
        return real_call(operation, request)

    monkeypatch.setattr(engine.dynamo, "call", recording_call)
    return engine, sent


def test_index_choice(posts: tuple[Engine, list[dict[str, Any]]]) -> None:
    engine, sent = posts
    # the table: hash key alone, or with its range key
    assert len(engine(Post).filter(author="ann").all()) == 12
    assert "IndexName" not in sent[-1]
    assert engine(Post).filter(Post.author == "ann", Post.id > "09").count() == 2
    assert "IndexName" not in sent[-1]
    # a local index: a range condition on its field
    found = engine(Post).filter(Post.author == "ann", Post.score == 3).all()
    assert sorted(p.id for p in found) == ["03", "07", "11"]  # equal index keys: any order
    assert sent[-1]["IndexName"] == "score-index"
    # a global index: an equality on its hash key (and a condition on its range key)
    assert len(engine(Post).filter(Post.topic == "dynamo", Post.score >= 2).all()) == 3
    assert sent[-1]["IndexName"] == "topic-index"
    # the table's range key wins over an index when both are constrained
    engine(Post).filter(Post.author == "ann", Post.id == "01", Post.score == 1).all()
    assert "IndexName" not in sent[-1]
    # two indexes fit: the error names them and suggests .index()
    with pytest.raises(AmbiguousIndexError) as caught:
        engine(Post).filter(Post.author == "ann", Post.ts > BASE, Post.score > 1).all()
    message = str(caught.value)
    assert "ts-index" in message and "score-index" in message and ".index(" in message
    with pytest.raises(ValueError, match="topic-index.*topic-time-index|topic-time-index.*topic-index"):
        engine(Post).filter(topic="dynamo").all()
    found = engine(Post).filter(topic="dynamo").index("topic-time-index").all()
    assert len(found) == 6 and found[0].body is None  # KEYS_ONLY
    # nothing can serve: the message says what is needed and offers a scan
    with pytest.raises(ValueError, match="hash key") as caught:
        engine(Post).filter(Post.body == "post 1").all()
    assert "scan" in str(caught.value)


def test_consistent_reads(posts: tuple[Engine, list[dict[str, Any]]]) -> None:
    engine, sent = posts
    assert engine(Post).filter(Post.author == "ann", Post.score == 1).count(consistent=True) == 3
    assert sent[-1]["ConsistentRead"] is True and sent[-1]["IndexName"] == "score-index"
    with pytest.raises(ValueError, match="topic-index.*eventually consistent"):
        engine(Post).filter(topic="python", score=0).all(consistent=True)
    with pytest.raises(ValueError, match="global index"):
        engine.scan(Post).index("topic-index").count(consistent=True)
    assert len(engine.scan(Post).index("ts-index").all(consistent=True)) == 12


# -- builders ------------------------------------------------------------------------------
def test_builders_are_generative(posts: tuple[Engine, list[dict[str, Any]]]) -> None:
    engine, _ = posts
    base = engine(Post).filter(author="ann")
    dynamo_posts = base.filter(Post.topic == "dynamo")
    first_three = base.limit(3)
    by_time = base.index("ts-index")
    assert dynamo_posts is not base and first_three is not base
    assert base.count() == 12
    assert dynamo_posts.count() == 6
    assert len(first_three.all()) == 3 and len(base.all()) == 12
    assert [p.id for p in by_time.limit(2).all(desc=True)] == ["11", "10"]
    scan = engine.scan(Post)
    assert type(scan.filter(Post.score == 0)) is type(scan) and scan.count() == 12


def test_filter_checks_its_arguments(posts: tuple[Engine, list[dict[str, Any]]]) -> None:
    engine, _ = posts
    with pytest.raises(TypeError, match="Typed.i"):
        engine(Post).filter(Typed.i == 1)
    with pytest.raises(TypeError, match="filter"):
        engine(Post).filter("author = 'ann'")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="attributes"):
        engine(Post).filter(author="ann").all(attributes="body")
    with pytest.raises(ValueError, match="no results"):
        engine(Post).filter(author="bob").one()
    with pytest.raises(ValueError, match="more than one"):
        engine(Post).filter(author="ann").one()


def test_a_wrong_member_type_in_contains_names_the_field() -> None:
    class Tagged(Model):
        id = Field(hash_key=True)
        nums = Field(data_type=set_(int))

    with pytest.raises(TypeError, match=r"Tagged\.nums: .*'a'"):
        render_filter(Tagged.nums.contains_("a"), Placeholders())
