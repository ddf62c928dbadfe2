"""CONTRACT.md rules on declaring models, connecting, reading and writing that no spec example
shows directly, checked against the local server."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from helpers import stored

from flywheel import (
    NUMBER,
    CheckFailed,
    Composite,
    DynamoDBConnection,
    Engine,
    Field,
    GlobalIndex,
    Model,
)
from flywheel.model_meta import ModelMetadata, ValidationError


# -- declaring models ----------------------------------------------------------------------
class Base(Model):
    __metadata__ = {"_abstract": True, "throughput": {"read": 2, "write": 3}}
    id = Field(hash_key=True)


class Secretive(Base):
    _secret = Field()
    amount = Field(data_type=NUMBER)


class KeyIndexed(Model):
    __metadata__ = {"global_indexes": [GlobalIndex("by-id", "id", "owner").throughput(1, 1)]}
    owner = Field(hash_key=True)
    id = Field(range_key=True)


def test_abstract_models_register_without_a_table(engine: Engine) -> None:
    engine.register(Base, Secretive)
    created = engine.create_schema()
    assert created == [Secretive.meta_.ddb_tablename(engine.namespace)]
    description = engine.dynamo.describe_table(created[0])
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 2  # inherited
    assert Base.meta_.abstract and not Secretive.meta_.abstract
    # the base class too (the API reference shows Model.meta_): abstract, no fields, no table
    assert isinstance(Model.meta_, ModelMetadata) and Model.meta_.abstract
    assert Model.meta_.fields == {} and not Model.meta_.orderings
    engine.register(Model)
    assert engine.create_schema() == []
    with pytest.raises(TypeError, match="subclass"):
        Model()
    with pytest.raises(AttributeError):
        Model.link  # noqa: B018 - no placeholder fields on the base class


def test_declared_underscore_field_is_saved_and_loaded(engine: Engine) -> None:
    engine.register(Secretive)
    engine.create_schema()
    engine.save(Secretive(id="a", _secret="s3cret", _local="never saved"))
    raw = stored(engine, Secretive, id="a")
    assert raw is not None and raw["_secret"] == {"S": "s3cret"} and "_local" not in raw
    loaded = engine.get(Secretive, id="a")
    assert loaded is not None and loaded._secret == "s3cret"


def test_reserved_field_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="sync_"):

        class EndsWithUnderscore(Model):
            id = Field(hash_key=True)
            sync_ = Field()

    # (a class body would mangle '__private', so build the class directly)
    with pytest.raises(ValidationError, match="__private"):
        type(Model)("DoubleUnderscore", (Model,), {"id": Field(hash_key=True), "__private": Field()})


def test_index_placement_rules(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="local index"):

        class LocalOnKey(Model):
            owner = Field(hash_key=True)
            id = Field(range_key=True, index="id-index")

    engine.register(KeyIndexed)
    engine.create_schema()
    engine.save([KeyIndexed(owner=f"o{i}", id="shared") for i in range(3)])
    found = engine(KeyIndexed).filter(id="shared").all()
    assert sorted(k.owner for k in found) == ["o0", "o1", "o2"]
    (index,) = engine.get_schema()[0]["GlobalSecondaryIndexes"]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert index["ProvisionedThroughput"] == {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}


def test_number_fields_keep_every_kind_of_number(engine: Engine) -> None:
    engine.register(Secretive)
    engine.create_schema()
    values = {"i": 10**30, "f": 0.5, "d": Decimal("0.1000000000000000000001")}
    for key, value in values.items():
        engine.save(Secretive(id=key, amount=value))
    for key, value in values.items():
        loaded = engine.get(Secretive, id=key)
        assert loaded is not None and loaded.amount == value and type(loaded.amount) is type(value)
    with pytest.raises(TypeError):
        Secretive(id="b", amount=True)


def test_ddb_load_builds_a_model_from_dynamodb_json(engine: Engine) -> None:
    data = {"id": {"S": "a"}, "_secret": {"S": "x"}, "amount": {"N": "2"}, "extra": {"SS": ["q"]}}
    obj = Secretive.ddb_load_(engine, data)
    assert (obj.id, obj._secret, obj.amount, obj.extra) == ("a", "x", 2, {"q"})
    assert obj.persisted_


# -- connecting ------------------------------------------------------------------------------
class Plain(Model):
    id = Field(hash_key=True)
    text = Field()


def test_table_names_from_the_namespace() -> None:
    assert Engine(namespace=["test"]).namespace == ["test"]
    assert Plain.meta_.ddb_tablename(Engine(namespace=["test"]).namespace) == "test-Plain"
    assert Plain.meta_.ddb_tablename(Engine(namespace=["a", "b"]).namespace) == "a-b-Plain"
    assert Plain.meta_.ddb_tablename(Engine(namespace="prod").namespace) == "prod-Plain"
    assert Plain.meta_.ddb_tablename(Engine().namespace) == "Plain"


def test_ways_to_connect(local_server: Any, dynamo: DynamoDBConnection, namespace: str) -> None:
    by_constructor = Engine(dynamo=dynamo, namespace=[namespace])
    assert by_constructor.dynamo is dynamo
    by_connect = Engine(namespace=[namespace])
    by_connect.connect(dynamo)
    assert by_connect.dynamo is dynamo
    by_region = Engine(namespace=[namespace])
    by_region.connect_to_region(
        "us-east-1", access_key="key", secret_key="secret", endpoint_url=local_server.endpoint
    )
    by_host = Engine(namespace=[namespace])
    by_host.connect_to_host(host=local_server.host, port=local_server.port)
    by_constructor.register(Plain)
    try:
        by_constructor.create_schema()
        for engine in (by_connect, by_region, by_host):
            engine.save(Plain(id=f"via-{id(engine)}"))
        assert by_constructor.scan(Plain).count() == 3
    finally:
        by_constructor.delete_schema()


def test_objects_act_through_the_engine_that_last_touched_them(
    dynamo: DynamoDBConnection, namespace: str
) -> None:
    first = Engine(dynamo=dynamo, namespace=[namespace, "one"])
    second = Engine(dynamo=dynamo, namespace=[namespace, "two"])
    for engine in (first, second):
        engine.register(Plain)
        engine.create_schema()
    try:
        obj = Plain(id="a", text="v1")
        first.save(obj)
        obj.text = "v2"
        obj.sync()
        assert first.get(Plain, id="a").text == "v2"  # type: ignore[union-attr]
        second.save(obj)
        obj.text = "v3"
        obj.sync()
        assert second.get(Plain, id="a").text == "v3"  # type: ignore[union-attr]
        assert first.get(Plain, id="a").text == "v2"  # type: ignore[union-attr]
        loaded = first.get(Plain, id="a")
        loaded.delete()  # type: ignore[union-attr]
        assert first.get(Plain, id="a") is None and second.get(Plain, id="a") is not None
    finally:
        first.delete_schema()
        second.delete_schema()


def test_create_schema_throughput_overrides(engine: Engine) -> None:
    engine.register(Plain, KeyIndexed)
    names = sorted(m.meta_.ddb_tablename(engine.namespace) for m in (Plain, KeyIndexed))
    assert sorted(engine.create_schema(test=True)) == names  # a dry run
    assert not set(names) & set(engine.dynamo.list_tables())
    assert [r["TableName"] for r in engine.get_schema()] == [
        m.meta_.ddb_tablename(engine.namespace) for m in (Plain, KeyIndexed)
    ]
    with pytest.raises(ValueError, match="Nope"):
        engine.create_schema(throughput={"Nope": {"read": 1, "write": 1}})
    engine.create_schema(
        throughput={"KeyIndexed": {"read": 7, "write": 2, "by-id": {"read": 3, "write": 4}}}
    )
    description = engine.dynamo.describe_table(KeyIndexed.meta_.ddb_tablename(engine.namespace))
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert description["ProvisionedThroughput"]["WriteCapacityUnits"] == 2
    (index,) = description["GlobalSecondaryIndexes"]
    assert index["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    plain = engine.dynamo.describe_table(Plain.meta_.ddb_tablename(engine.namespace))
    assert plain["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert sorted(engine.delete_schema(test=True)) == names
    assert set(names) <= set(engine.dynamo.list_tables())


# -- writing ---------------------------------------------------------------------------------
class Awkward(Model):
    """Reserved words and odd characters as attribute names."""

    name = Field(hash_key=True)
    size = Field(data_type=int, range_key=True)
    status = Field()
    comment = Field(data_type=int, index="comment-index")


def test_reserved_and_odd_attribute_names(engine: Engine) -> None:
    engine.register(Awkward)
    engine.create_schema()
    obj = Awkward(name="n", size=1, status="new", comment=3)
    setattr(obj, "a.b", "dotted")
    setattr(obj, "with-dash", 1)
    setattr(obj, "with space", {"x"})
    engine.save(obj)
    raw = stored(engine, Awkward, name="n", size=1)
    assert raw is not None and raw["a.b"] == {"S": "dotted"} and raw["with space"] == {"SS": ["x"]}
    obj.status = "old"
    obj.incr_(**{"with-dash": 2})
    setattr(obj, "a.b", "changed")
    obj.sync()
    assert getattr(obj, "with-dash") == 3 and getattr(obj, "a.b") == "changed"
    found = engine(Awkward).filter(
        Awkward.name == "n", Awkward.size >= 1, Awkward.field("a.b") == "changed"
    ).all(attributes=["status", "with-dash"])
    assert found == [{"status": "old", "with-dash": 3}]
    assert engine(Awkward).filter(name="n", comment=3).one().status == "old"
    assert engine.scan(Awkward).filter(Awkward.field("with space").contains_("x")).count() == 1
    obj.delete(raise_on_conflict=True)
    assert engine.scan(Awkward).count() == 0


class Post(Model):
    userid = Field(hash_key=True)
    type = Field()
    id = Field()
    uid = Composite("type", "id", range_key=True)
    likes = Field(data_type=int)
    replies = Field(data_type=int)
    score = Composite("likes", "replies", data_type=int, merge=lambda a, b: (a or 0) + (b or 0))


def test_composite_key_parts(engine: Engine) -> None:
    engine.register(Post)
    engine.create_schema()
    post = Post(userid="u", type="fb", id="1")
    engine.save(post)
    assert stored(engine, Post, userid="u", uid="fb:1") is not None
    with pytest.raises(AttributeError, match=r"Post\.type"):
        post.type = "tw"
    with pytest.raises(AttributeError):
        post.incr_(id=1)
    assert engine.get(Post, userid="u", type="fb", id="1") == post
    assert engine.delete_key(Post, userid="u", type="fb", id="1") == 1
    assert engine.scan(Post).count() == 0


def test_changing_a_composite_part_forces_a_safe_sync(engine: Engine) -> None:
    engine.register(Post)
    engine.create_schema()
    engine.default_conflict = "overwrite"  # sync would not check, but composites force it
    engine.save(Post(userid="u", type="fb", id="1", likes=1, replies=1))
    mine = engine.get(Post, userid="u", type="fb", id="1")
    theirs = engine.get(Post, userid="u", type="fb", id="1")
    theirs.incr_(likes=5)  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    assert theirs.score == 7  # type: ignore[union-attr]
    mine.incr_(replies=1)  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync()  # type: ignore[union-attr]
    mine.refresh()  # type: ignore[union-attr]
    mine.likes = 0  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]
    raw = stored(engine, Post, userid="u", uid="fb:1")
    assert raw is not None and raw["score"] == {"N": "1"} and raw["likes"] == {"N": "0"}
    # a plain field is not forced: the last writer wins under 'overwrite'
    theirs.text = "theirs"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.text = "mine"  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]
    assert stored(engine, Post, userid="u", uid="fb:1")["text"] == {"S": "mine"}  # type: ignore[index]


class Social(Model):
    __metadata__ = {"global_indexes": [GlobalIndex.keys("kind-index", "kind")]}
    userid = Field(hash_key=True)
    type = Field()
    id = Field()
    uid = Composite("type", "id", range_key=True)
    kind = Field()
    likes = Field(data_type=int).keys_index("likes-index")
    text = Field()


def test_partial_results_with_a_composite_key(engine: Engine) -> None:
    engine.register(Social)
    engine.create_schema()
    engine.save(Social(userid="u", type="fb", id="1", kind="post", likes=5, text="hi"))
    for query in (
        engine(Social).filter(Social.userid == "u", Social.likes > 1),  # KEYS_ONLY local index
        engine(Social).filter(kind="post"),  # KEYS_ONLY global index
    ):
        (partial,) = query.all()
        assert partial.uid == "fb:1" and partial.text is None and partial.type is None
        assert partial == Social(userid="u", type="fb", id="1")
        partial.text = "changed"
        partial.sync(raise_on_conflict=False)  # writes text, keeps the key; loads the rest
        assert (partial.type, partial.id, partial.uid, partial.likes) == ("fb", "1", "fb:1", 5)
        (partial,) = query.all()
        partial.refresh()
        assert (partial.text, partial.type) == ("changed", "fb")
    raw = stored(engine, Social, userid="u", uid="fb:1")
    assert raw is not None and raw["type"] == {"S": "fb"} and raw["text"] == {"S": "changed"}
    assert engine.scan(Social).count() == 1


# -- found by a new user's testing ---------------------------------------------------------
def test_field_hiding_a_model_method_is_a_validation_error() -> None:
    from flywheel.model_meta import ValidationError

    for name in ("save", "sync", "refresh", "delete", "field"):
        with pytest.raises(ValidationError, match=f"'{name}' would hide Model.{name}"):
            type("Shadow", (Model,), {"id": Field(hash_key=True), name: Field()})


def test_undeclared_attribute_on_the_class_builds_conditions(engine: Engine) -> None:
    class Linked(Model):
        id = Field(hash_key=True)

    engine.register(Linked)
    engine.create_schema()
    with_link = Linked("a")
    with_link.link = "http://drmcninja.com"
    engine.save([with_link, Linked("b")])
    # the spec's literal 1.3.2 example: Tweet.link is not declared
    assert [obj.id for obj in engine.scan(Linked).filter(Linked.link != None).all()] == ["a"]  # noqa: E711
    assert not hasattr(Linked, "_private") and not hasattr(Linked, "trailing_")


def test_conversion_errors_keep_their_cause_and_name_the_field() -> None:
    class Text(Model):
        id = Field(hash_key=True)
        s = Field()

    with pytest.raises(ValueError, match=r"Text\.s: .*codec can't decode") as caught:
        Text("a", s=b"\xff")
    assert isinstance(caught.value.__cause__, UnicodeDecodeError)


def test_keys_are_type_checked_like_saved_values(engine: Engine) -> None:
    class Keyed(Model):
        id = Field(hash_key=True)

    engine.register(Keyed)
    engine.create_schema()
    engine.save(Keyed("5"))
    with pytest.raises(TypeError, match=r"Keyed\.id"):
        engine.get(Keyed, id=5)
    with pytest.raises(TypeError, match=r"Keyed\.id"):
        engine.delete_key(Keyed, id=5)
    assert engine.get(Keyed, id="5") is not None
