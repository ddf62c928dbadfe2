"""Schema: declarations checked at class creation, tables created as declared, migrations.

Tables are checked with plain DescribeTable / DescribeTimeToLive calls on the connection, not
through flywheel's own reading of them.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from flywheel import Engine, Field, GlobalIndex, Model
from flywheel.fields.indexes import GlobalIndex as GlobalIndexFromModule
from flywheel.model_meta import ValidationError, merge_metadata
from flywheel.schema_update import (
    CREATE_INDEX,
    CREATE_TABLE,
    ENABLE_TTL,
    GLOBAL_INDEX,
    KEY_SCHEMA,
    LOCAL_INDEX,
    UNDECLARED_INDEX,
    UPDATE_BILLING_MODE,
    UPDATE_INDEX_THROUGHPUT,
    UPDATE_THROUGHPUT,
)


def build(name: str, body: dict[str, Any], base: type = Model) -> type:
    """Create a model class from a dict (so each case is one expression)."""
    return type(Model)(name, (base,), body)


def new_engine(engine: Engine) -> Engine:
    """A second engine on the same connection and namespace (to register another version)."""
    other = Engine(namespace=engine.namespace)
    other.connect(engine.dynamo)
    return other


# -- validation at class creation ---------------------------------------------------------
def hk() -> Field:
    return Field(hash_key=True)


def rk() -> Field:
    return Field(range_key=True)


def _both_keys() -> dict[str, Any]:
    field = Field(hash_key=True)
    field.range_key = True  # Field() itself refuses both; a later change is caught at class creation
    return {"id": field}


INVALID: list[tuple[str, Callable[[], dict[str, Any]], list[str]]] = [
    ("no hash key", lambda: {"text": Field()}, ["hash_key"]),
    ("two hash keys", lambda: {"a": hk(), "b": hk()}, ["hash_key", "'a'", "'b'"]),
    ("two range keys", lambda: {"a": hk(), "b": rk(), "c": rk()}, ["range_key", "'b'", "'c'"]),
    ("hash and range", _both_keys, ["'id'", "both"]),
    (
        "local index without range key",
        lambda: {"id": hk(), "ts": Field(index="ts-index")},
        ["'ts-index'", "'ts'", "range_key"],
    ),
    (
        "local index on the range key",
        lambda: {"id": hk(), "ts": Field(range_key=True, index="ts-index")},
        ["'ts'", "'ts-index'", "table key"],
    ),
    (
        "six local indexes",
        lambda: {"id": hk(), "r": rk(), **{f"f{i}": Field(index=f"idx-{i}") for i in range(6)}},
        ["at most 5 local indexes", "'idx-5' on field 'f5'"],
    ),
    (
        "index name used twice",
        lambda: {"id": hk(), "r": rk(), "a": Field(index="same"), "b": Field(index="same")},
        ["'same'", "'b'"],
    ),
    (
        "21 global indexes",
        lambda: {
            "__metadata__": {"global_indexes": [GlobalIndex(f"g-{i}", "x") for i in range(21)]},
            "id": hk(),
            "x": Field(),
        },
        ["at most 20 global indexes", "'g-20'"],
    ),
    (
        "global index hash key not a field",
        lambda: {"__metadata__": {"global_indexes": [GlobalIndex("by-city", "city")]}, "id": hk()},
        ["'by-city'", "'city'", "not a declared field"],
    ),
    (
        "global index range key not a field",
        lambda: {
            "__metadata__": {"global_indexes": [GlobalIndex("by-city", "city", "when")]},
            "id": hk(),
            "city": Field(),
        },
        ["'by-city'", "range key", "'when'"],
    ),
    (
        "global index includes an unknown field",
        lambda: {
            "__metadata__": {
                "global_indexes": [GlobalIndex.include("by-city", "city", includes=["txet"])]
            },
            "id": hk(),
            "city": Field(),
        },
        ["'by-city'", "'txet'"],
    ),
    (
        "local index includes an unknown field",
        lambda: {"id": hk(), "r": rk(), "n": Field(data_type=int).include_index("n-index", ["nope"])},
        ["'n-index'", "'nope'"],
    ),
    (
        "set as range key",
        lambda: {"id": hk(), "tags": Field(data_type=set, range_key=True)},
        ["'tags'", "SS", "range key of the table"],
    ),
    (
        "dict as global index key",
        lambda: {
            "__metadata__": {"global_indexes": [GlobalIndex("by-doc", "doc")]},
            "id": hk(),
            "doc": Field(data_type="M"),
        },
        ["'doc'", "'by-doc'", "hash key"],
    ),
    (
        "global index with one field as both keys",
        lambda: {
            "__metadata__": {"global_indexes": [GlobalIndex("self-ref", "x", "x")]},
            "id": hk(),
            "x": Field(),
        },
        ["'self-ref'", "'x'", "both"],
    ),
    (
        "index name too short",
        lambda: {"id": hk(), "r": rk(), "ts": Field(index="ts")},
        ["local index name 'ts'", "3 to 255"],
    ),
    (
        "index name with a space",
        lambda: {"__metadata__": {"global_indexes": [GlobalIndex("by city", "x")]}, "id": hk(), "x": Field()},
        ["'by city'", "letters, digits"],
    ),
    ("table name with a slash", lambda: {"__metadata__": {"_name": "a/b"}, "id": hk()}, ["'a/b'", "_name"]),
    (
        "throughput not a dict",
        lambda: {"__metadata__": {"throughput": 5}, "id": hk()},
        ["throughput", "5"],
    ),
    (
        "throughput below 1",
        lambda: {"__metadata__": {"throughput": {"read": 0, "write": 1}}, "id": hk()},
        ["throughput 'read'", "0"],
    ),
    (
        "billing mode unknown",
        lambda: {"__metadata__": {"billing_mode": "ON_DEMAND"}, "id": hk()},
        ["billing_mode", "'ON_DEMAND'"],
    ),
    (
        "stream view type unknown",
        lambda: {"__metadata__": {"stream": "NEW"}, "id": hk()},
        ["stream", "'NEW'"],
    ),
    ("ttl field unknown", lambda: {"__metadata__": {"ttl": "expires"}, "id": hk()}, ["ttl", "'expires'"]),
    (
        "ttl field not a number",
        lambda: {"__metadata__": {"ttl": "expires"}, "id": hk(), "expires": Field()},
        ["ttl field 'expires'", "stored as S"],
    ),
    (
        "unknown metadata key",
        lambda: {"__metadata__": {"global_index": []}, "id": hk()},
        ["'global_index'", "unknown __metadata__"],
    ),
    (
        "global_indexes holding something else",
        lambda: {"__metadata__": {"global_indexes": [("by-x", "x")]}, "id": hk(), "x": Field()},
        ["GlobalIndex", "('by-x', 'x')"],
    ),
    (
        "over 100 projected attributes",
        lambda: {
            "__metadata__": {
                "global_indexes": [
                    GlobalIndex.include(f"g-{i}", "x", includes=[f"f{j}" for j in range(30)])
                    for i in range(4)
                ]
            },
            "id": hk(),
            "x": Field(),
            **{f"f{j}": Field() for j in range(30)},
        },
        ["120 non-key attributes", "100"],
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_declarations_name_the_model_and_field(
    case: str, body: Callable[[], dict[str, Any]], expected: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        build("Broken", body())
    message = str(caught.value)
    assert message.startswith("Broken: "), message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_unknown_data_type_is_a_type_error_naming_model_and_field() -> None:
    with pytest.raises(TypeError, match=r"Game\.points: unknown data_type"):

        class Game(Model):
            title = Field(hash_key=True)
            points = Field(data_type=complex)


def test_abstract_model_may_lack_keys_and_its_children_need_them() -> None:
    class Base(Model):
        __metadata__ = {"_abstract": True, "throughput": {"read": 2, "write": 3}}
        created = Field(data_type=datetime)

    assert Base.meta_.abstract
    with pytest.raises(ValidationError, match="NoKey: .*hash_key"):
        build("NoKey", {}, base=Base)


# -- metadata and inheritance -------------------------------------------------------------
class Timestamped(Model):
    __metadata__ = {
        "_abstract": True,
        "_name": "never-used",
        "throughput": {"read": 2, "write": 3},
        "billing_mode": "PROVISIONED",
        "global_indexes": [GlobalIndex.keys("by-owner", "owner", "created")],
    }
    owner = Field()
    created = Field(data_type=datetime)


class Note(Timestamped):
    __metadata__ = {"_name": "notes", "throughput": {"read": 4}}
    id = Field(hash_key=True)


class Memo(Note):
    id = Field(hash_key=True)
    text = Field()


def test_metadata_merges_through_inheritance_without_private_keys() -> None:
    merged = merge_metadata(Note)
    assert merged["_name"] == "notes"
    assert "_abstract" not in merged
    assert merged["global_indexes"][0].name == "by-owner"
    assert Note.meta_.throughput == {"read": 4, "write": 5}  # a child's dict replaces the parent's
    assert not Note.meta_.abstract and Note.meta_.name == "notes"
    # Memo declares nothing: it inherits throughput and indexes but not _name
    assert Memo.meta_.name == "Memo" and Memo.meta_.throughput == {"read": 4, "write": 5}
    assert [o.index_name for o in Memo.meta_.orderings] == [None, "by-owner"]
    assert set(Memo.meta_.fields) == {"owner", "created", "id", "text"}
    assert Memo.meta_.billing_mode == "PROVISIONED"


def test_table_names_follow_the_namespace() -> None:
    assert Note.meta_.ddb_tablename() == "notes"
    assert Note.meta_.ddb_tablename("prod") == "prod-notes"
    assert Note.meta_.ddb_tablename(["a", "b"]) == "a-b-notes"
    assert Engine(namespace=["test"]).tablename(Memo) == "test-Memo"


def test_global_index_builders() -> None:
    assert GlobalIndex is GlobalIndexFromModule
    index = GlobalIndex("by-x", "x", "y")
    assert index.throughput(3, 4) is index
    assert index.get_ddb_index() == {
        "IndexName": "by-x",
        "KeySchema": [
            {"AttributeName": "x", "KeyType": "HASH"},
            {"AttributeName": "y", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    }
    assert "ProvisionedThroughput" not in index.get_ddb_index(billing_mode="PAY_PER_REQUEST")
    with pytest.raises(ValueError, match="'by-x'.*read"):
        index.throughput(0, 1)
    with pytest.raises(TypeError, match="string"):
        GlobalIndex.include("by-x", "x", includes="text")


def test_global_index_takes_its_throughput_as_a_dict() -> None:
    index = GlobalIndex("by-x", "x", "y", {"read": 3, "write": 4})
    assert index.get_ddb_index()["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 3, "WriteCapacityUnits": 4
    }
    assert GlobalIndex("by-x", "x", throughput={"write": 2}).throughput_for() == (5, 2)
    assert GlobalIndex("by-x", "x").throughput_for() == (5, 5)
    assert GlobalIndex("by-x", "x", throughput={"read": 2}).throughput(7, 8).throughput_for() == (7, 8)
    for bad in ({"read": 0}, {"reads": 1}, (1, 2)):
        with pytest.raises(ValueError, match="'by-x'.*(read|throughput)"):
            GlobalIndex("by-x", "x", throughput=bad)  # type: ignore[arg-type]


# -- tables as created --------------------------------------------------------------------
class Tweet(Model):
    __metadata__ = {
        "throughput": {"read": 6, "write": 2},
        "global_indexes": [
            GlobalIndex.all("ts-gindex", "city", "ts").throughput(read=10, write=2),
            GlobalIndex.keys("rt-gindex", "city", "retweets"),
            GlobalIndex.include("like-gindex", "city", "likes", includes=["text"]),
            GlobalIndex("author-index", "author"),
        ],
    }
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    city = Field()
    author = Field()
    ts = Field(data_type=datetime).all_index("ts-index")
    retweets = Field(data_type=int).keys_index("rt-index")
    likes = Field(data_type=int).include_index("like-index", ["text", "city"])
    text = Field()


def by_name(indexes: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {index["IndexName"]: index for index in indexes or ()}


def keys_of(index: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]


def units(described: dict[str, Any]) -> tuple[int, int]:
    p = described["ProvisionedThroughput"]
    return p["ReadCapacityUnits"], p["WriteCapacityUnits"]


def test_tables_are_created_as_declared(engine: Engine) -> None:
    engine.register(Tweet)
    assert engine.create_schema() == [f"{engine.namespace[0]}-Tweet"]
    table = engine.dynamo.describe_table(engine.tablename(Tweet))
    assert table["TableStatus"] == "ACTIVE"
    assert keys_of(table) == [("userid", "HASH"), ("id", "RANGE")]
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert types == {
        "userid": "S", "id": "S", "city": "S", "author": "S",
        "ts": "N", "retweets": "N", "likes": "N",
    }
    assert units(table) == (6, 2)
    assert (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"

    local = by_name(table["LocalSecondaryIndexes"])
    assert keys_of(local["ts-index"]) == [("userid", "HASH"), ("ts", "RANGE")]
    assert local["ts-index"]["Projection"] == {"ProjectionType": "ALL"}
    assert local["rt-index"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert local["like-index"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(local["like-index"]["Projection"]["NonKeyAttributes"]) == ["city", "text"]

    glob = by_name(table["GlobalSecondaryIndexes"])
    assert keys_of(glob["ts-gindex"]) == [("city", "HASH"), ("ts", "RANGE")]
    assert glob["ts-gindex"]["Projection"] == {"ProjectionType": "ALL"}
    assert units(glob["ts-gindex"]) == (10, 2)
    assert glob["rt-gindex"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert units(glob["rt-gindex"]) == (5, 5)  # the default
    assert glob["like-gindex"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["text"],
    }
    assert keys_of(glob["author-index"]) == [("author", "HASH")]
    assert glob["author-index"]["Projection"] == {"ProjectionType": "ALL"}

    # the indexes answer queries
    engine.save(Tweet("u1", "1", city="Oslo", author="ann", ts=datetime(2020, 1, 1), likes=3, text="a"))
    assert engine.query(Tweet).filter(city="Oslo").index("like-gindex").one().text == "a"
    assert engine.query(Tweet).filter(author="ann").one().id == "1"


def test_create_schema_creates_only_missing_tables(engine: Engine) -> None:
    engine.register(Tweet, Memo)
    names = sorted([engine.tablename(Tweet), engine.tablename(Memo)])
    assert sorted(engine.create_schema(test=True)) == names
    assert not set(names) & set(engine.dynamo.list_tables())
    assert engine.create_schema(throughput={"Memo": {"read": 9}}) == [engine.tablename(Tweet), engine.tablename(Memo)]
    assert units(engine.dynamo.describe_table(engine.tablename(Memo))) == (9, 5)
    assert engine.create_schema() == []
    with pytest.raises(ValueError, match="Tweet.*'no-such-index'"):
        engine.create_schema(throughput={"Tweet": {"no-such-index": {"read": 1}}})
    with pytest.raises(ValueError, match="Nope"):
        engine.create_schema(throughput={"Nope": {"read": 1}})
    assert sorted(engine.delete_schema(test=True)) == names
    assert set(names) <= set(engine.dynamo.list_tables())
    assert sorted(engine.delete_schema()) == names
    assert not set(names) & set(engine.dynamo.list_tables())


def test_meta_creates_and_drops_its_table(engine: Engine) -> None:
    meta = Memo.meta_
    namespace = engine.namespace
    name = meta.ddb_tablename(namespace)
    assert meta.create_dynamo_schema(engine.dynamo, test=True, namespace=namespace) == name
    assert engine.dynamo.describe_table(name) is None
    assert meta.create_dynamo_schema(
        engine.dynamo, wait=True, namespace=namespace, throughput={"read": 3, "by-owner": {"write": 2}}
    ) == name
    table = engine.dynamo.describe_table(name)
    assert units(table) == (3, 5)
    assert units(by_name(table["GlobalSecondaryIndexes"])["by-owner"]) == (5, 2)
    assert meta.create_dynamo_schema(engine.dynamo, namespace=namespace) is None  # exists
    assert meta.create_dynamo_schema(engine.dynamo, tablenames=[name], namespace=namespace) is None
    assert meta.delete_dynamo_schema(engine.dynamo, tablenames=[], namespace=namespace) is None
    assert meta.delete_dynamo_schema(engine.dynamo, wait=True, namespace=namespace) == name
    assert engine.dynamo.describe_table(name) is None
    assert meta.delete_dynamo_schema(engine.dynamo, namespace=namespace) is None


class OnDemand(Model):
    __metadata__ = {
        "billing_mode": "PAY_PER_REQUEST",
        "global_indexes": [GlobalIndex.keys("by-kind", "kind").throughput(7, 7)],
    }
    id = Field(hash_key=True)
    kind = Field()


def test_pay_per_request_tables_have_no_provisioned_throughput(engine: Engine) -> None:
    engine.register(OnDemand)
    (request,) = engine.get_schema()
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in request
    assert "ProvisionedThroughput" not in request["GlobalSecondaryIndexes"][0]
    engine.create_schema(throughput={"OnDemand": {"read": 3}})  # ignored: nothing to provision
    table = engine.dynamo.describe_table(engine.tablename(OnDemand))
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert units(table) == (0, 0)
    engine.save(OnDemand(id="a", kind="k"))
    assert engine.query(OnDemand).filter(kind="k").one().id == "a"


class Session(Model):
    __metadata__ = {"ttl": "expires", "stream": "NEW_AND_OLD_IMAGES"}
    id = Field(hash_key=True)
    expires = Field(data_type=datetime)


def describe_ttl(engine: Engine, model: type[Model]) -> dict[str, Any]:
    response = engine.dynamo.call("DescribeTimeToLive", {"TableName": engine.tablename(model)})
    ttl: dict[str, Any] = response["TimeToLiveDescription"]
    return ttl


def test_create_request_carries_stream_and_ttl() -> None:
    engine = Engine(namespace="x")
    engine.register(Session)
    (request,) = engine.get_schema()
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert Session.meta_.ttl_attribute == "expires"


@pytest.mark.requires("ttl", "streams")
def test_ttl_and_stream_are_switched_on_at_creation(engine: Engine) -> None:
    engine.register(Session)
    engine.create_schema()
    assert describe_ttl(engine, Session) in (
        {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"},
        {"TimeToLiveStatus": "ENABLING", "AttributeName": "expires"},
    )
    table = engine.dynamo.describe_table(engine.tablename(Session))
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    session = Session(id="s", expires=datetime.now(timezone.utc) + timedelta(hours=1))
    engine.save(session)
    stored = engine.dynamo.call("GetItem", {"TableName": engine.tablename(Session), "Key": {"id": {"S": "s"}}})
    assert "N" in stored["Item"]["expires"]  # epoch seconds, as TTL needs


# -- update_schema ------------------------------------------------------------------------
class ItemV1(Model):
    __metadata__ = {"_name": "Item"}
    id = Field(hash_key=True)
    color = Field()
    size = Field(data_type=int)


class ItemV2(Model):
    """Version 2 adds a global index and changes the throughput."""

    __metadata__ = {
        "_name": "Item",
        "throughput": {"read": 8, "write": 3},
        "global_indexes": [GlobalIndex.include("by-color", "color", "size", includes=["id"]).throughput(2, 1)],
    }
    id = Field(hash_key=True)
    color = Field()
    size = Field(data_type=int)


def test_update_schema_in_sync_and_missing_table(engine: Engine) -> None:
    engine.register(ItemV1)
    plan = engine.update_schema(test=True)
    assert [c.action for c in plan.changes] == [CREATE_TABLE]
    assert engine.dynamo.describe_table(engine.tablename(ItemV1)) is None
    assert "Would apply" in plan.report() and "create the table" in str(plan)
    applied = engine.update_schema()
    assert applied.applied and engine.dynamo.describe_table(engine.tablename(ItemV1)) is not None
    again = engine.update_schema()
    assert again.in_sync and again.report() == "The tables match their models."


def test_update_schema_changes_throughput(engine: Engine) -> None:
    engine.register(ItemV1)
    engine.create_schema()
    engine.save([ItemV1(id=str(i), color="red" if i % 2 else "blue", size=i) for i in range(10)])
    later = new_engine(engine)
    later.register(ItemV2)
    plan = later.update_schema(test=True)
    actions = [c.action for c in plan.changes]
    assert actions == [UPDATE_THROUGHPUT, CREATE_INDEX]
    assert plan.changes[1].index == "by-color" and not plan.mismatches
    assert "read 5, write 5 to read 8, write 3" in plan.report()
    assert units(engine.dynamo.describe_table(later.tablename(ItemV2))) == (5, 5)  # a dry run

    # Apply just the throughput part on every server (dynalite cannot add an index).
    plan = later.update_schema(test=True)
    from flywheel.schema_update import apply_change

    apply_change(later.dynamo, plan.changes[0])
    assert units(engine.dynamo.describe_table(later.tablename(ItemV2))) == (8, 3)


@pytest.mark.requires("add_global_index")
def test_update_schema_adds_a_global_index_to_a_table_with_data(engine: Engine) -> None:
    engine.register(ItemV1)
    engine.create_schema()
    engine.save([ItemV1(id=str(i), color="red" if i % 2 else "blue", size=i) for i in range(10)])
    later = new_engine(engine)
    later.register(ItemV2)
    plan = later.update_schema()
    assert plan.applied and [c.action for c in plan.changes] == [UPDATE_THROUGHPUT, CREATE_INDEX]
    table = engine.dynamo.describe_table(later.tablename(ItemV2))
    index = by_name(table["GlobalSecondaryIndexes"])["by-color"]
    assert index["IndexStatus"] == "ACTIVE" and units(index) == (2, 1)
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["id"]}
    red = later.query(ItemV2).filter(ItemV2.color == "red", ItemV2.size > 4).all()
    assert sorted(item.size for item in red) == [5, 7, 9]
    assert later.update_schema(test=True).in_sync


class ItemOnDemand(Model):
    __metadata__ = {"_name": "Item", "billing_mode": "PAY_PER_REQUEST"}
    id = Field(hash_key=True)
    color = Field()
    size = Field(data_type=int)


def test_update_schema_switches_billing_mode(engine: Engine) -> None:
    engine.register(ItemV1)
    engine.create_schema()
    on_demand = new_engine(engine)
    on_demand.register(ItemOnDemand)
    plan = on_demand.update_schema()
    assert [c.action for c in plan.changes] == [UPDATE_BILLING_MODE]
    table = engine.dynamo.describe_table(engine.tablename(ItemV1))
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    back = engine.update_schema()
    assert [c.action for c in back.changes] == [UPDATE_BILLING_MODE]
    table = engine.dynamo.describe_table(engine.tablename(ItemV1))
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert units(table) == (5, 5)


class Ranked(Model):
    __metadata__ = {
        "_name": "Ranked",
        "global_indexes": [GlobalIndex.all("by-team", "team"), GlobalIndex.all("by-name", "name")],
    }
    team = Field(hash_key=True)
    name = Field(range_key=True)
    score = Field(data_type=int, index="score-index")


class RankedChanged(Model):
    """Every change here is one DynamoDB cannot make to a live table."""

    __metadata__ = {
        "_name": "Ranked",
        "global_indexes": [GlobalIndex.keys("by-team", "team")],  # projection changed
    }
    team = Field(hash_key=True)
    rank = Field(data_type=int, range_key=True)  # key changed
    name = Field()
    score = Field(data_type=int).keys_index("score-index")  # projection changed
    level = Field(data_type=int, index="level-index")  # a new local index


def test_update_schema_reports_what_it_cannot_do(engine: Engine) -> None:
    engine.register(Ranked)
    engine.create_schema()
    before = engine.dynamo.describe_table(engine.tablename(Ranked))
    changed = new_engine(engine)
    changed.register(RankedChanged)
    plan = changed.update_schema()
    assert plan.applied and plan.changes == []
    kinds = sorted((m.kind, m.index or "") for m in plan.mismatches)
    assert kinds == [
        (GLOBAL_INDEX, "by-team"),
        (KEY_SCHEMA, ""),
        (LOCAL_INDEX, "level-index"),
        (LOCAL_INDEX, "score-index"),
        (UNDECLARED_INDEX, "by-name"),
    ]
    report = plan.report()
    assert "Cannot apply" in report
    assert "(team HASH, name RANGE)" in report and "(team HASH, rank RANGE)" in report
    assert "'score-index' differs" in report and "projection ALL" in report and "KEYS_ONLY" in report
    assert "'by-name' is not declared" in report
    after = engine.dynamo.describe_table(engine.tablename(Ranked))
    assert after["KeySchema"] == before["KeySchema"]
    assert by_name(after["GlobalSecondaryIndexes"]).keys() == {"by-team", "by-name"}
    assert engine.update_schema(test=True).in_sync  # the original model still matches


class Expiring(Model):
    __metadata__ = {"_name": "Item", "ttl": "expires"}
    id = Field(hash_key=True)
    expires = Field(data_type=int)


@pytest.mark.requires("ttl")
def test_update_schema_enables_ttl(engine: Engine) -> None:
    engine.register(ItemV1)
    engine.create_schema()
    expiring = new_engine(engine)
    expiring.register(Expiring)
    plan = expiring.update_schema()
    assert [c.action for c in plan.changes] == [ENABLE_TTL]
    assert describe_ttl(engine, ItemV1)["AttributeName"] == "expires"
    assert expiring.update_schema(test=True).in_sync
    # the older model, without TTL, is told the table has one it does not declare
    (mismatch,) = engine.update_schema(test=True).mismatches
    assert mismatch.kind == "ttl" and "'expires'" in str(mismatch)


def test_update_schema_checks_throughput_overrides(engine: Engine) -> None:
    engine.register(ItemV2)
    with pytest.raises(ValueError, match="Nope"):
        engine.update_schema(throughput={"Nope": {"read": 1}})
    with pytest.raises(ValueError, match="ItemV2.*'by-size'"):
        engine.update_schema(throughput={"Item": {"by-size": {"read": 1}}})
    plan = engine.update_schema(test=True, throughput={"Item": {"read": 2, "by-color": {"read": 4}}})
    (create,) = plan.changes
    assert create.request["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    index = create.request["GlobalSecondaryIndexes"][0]
    assert index["ProvisionedThroughput"] == {"ReadCapacityUnits": 4, "WriteCapacityUnits": 1}


def test_update_schema_updates_index_throughput(engine: Engine) -> None:
    engine.register(ItemV2)
    engine.create_schema()
    plan = engine.update_schema(throughput={"Item": {"by-color": {"read": 6, "write": 6}}})
    assert [c.action for c in plan.changes] == [UPDATE_INDEX_THROUGHPUT]
    table = engine.dynamo.describe_table(engine.tablename(ItemV2))
    assert units(by_name(table["GlobalSecondaryIndexes"])["by-color"]) == (6, 6)
