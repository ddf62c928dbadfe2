"""Spec 1.1 (Getting Started), 1.2.1 (Model Basics), 1.2.2 (Data Types) reproduced against the
local server, plus the CONTRACT rules on declaring models and object identity.

The spec's examples are Python 2; here they are adapted to Python 3 (``str`` for ``unicode``,
``pickle`` for ``cPickle``), and ``connect_to_region`` becomes a connection to the test server.
"""
from __future__ import annotations

import pickle
import warnings
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from helpers import stored

from flywheel import (
    NUMBER,
    STRING,
    DynamoDBConnection,
    Engine,
    Field,
    Model,
    set_,
)
from flywheel.fields import types
from flywheel.fields.types import BINARY, Binary, TypeDefinition, register_type


def utcnow() -> datetime:
    """datetime.utcnow() as the spec writes it, without 3.12's deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return datetime.utcnow().replace(microsecond=0)


# -- 1.1 Getting Started -------------------------------------------------------------------
class Tweet(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime, index="ts-index")
    text = Field()

    def __init__(self, userid: str, id: str, ts: datetime, text: str) -> None:
        self.userid = userid
        self.id = id
        self.ts = ts
        self.text = text


def test_getting_started(local_server: Any, namespace: str) -> None:
    # Create an engine and connect (the spec connects to a region; we use the test server)
    engine = Engine(namespace=[namespace])
    engine.connect_to_host(host=local_server.host, port=local_server.port)
    try:
        # Register our model with the engine so it can create the Dynamo table
        engine.register(Tweet)
        # Create the dynamo table for our registered model
        assert engine.create_schema() == [f"{namespace}-Tweet"]

        # Since DynamoDB has no schema, you can set arbitrary fields on the tweets:
        tweet = Tweet("myuser", "1234", utcnow(), text="super rad")
        tweet.link = "http://drmcninja.com"
        tweet.retweets = 0
        engine.save(tweet)

        # To get data back out, query it using the engine:
        found = engine.query(Tweet).filter(Tweet.userid == "myuser").all()
        assert found == [tweet]
        assert found[0].text == "super rad"
        assert found[0].link == "http://drmcninja.com"
        assert found[0].retweets == 0
        assert found[0].ts == tweet.ts

        # If you want to change a field, just make the change and sync it:
        tweet.link = "http://www.smbc-comics.com"
        tweet.sync()
        raw = stored(engine, Tweet, userid="myuser", id="1234")
        assert raw is not None and raw["link"] == {"S": "http://www.smbc-comics.com"}
    finally:
        engine.delete_schema()


# -- 1.2.1 Model Basics ----------------------------------------------------------------------
def test_undeclared_fields_are_saved_unless_underscored(engine: Engine) -> None:
    engine.register(Tweet)
    engine.create_schema()
    tweet = Tweet("u", "1", utcnow(), "hi")
    engine.save(tweet)
    tweet.retweets = 7
    tweet.sync()
    tweet.retweets = 7  # this is saved to Dynamo
    tweet._last_updated = utcnow()  # this is NOT saved to Dynamo
    tweet.sync()
    raw = stored(engine, Tweet, userid="u", id="1")
    assert raw is not None
    assert raw["retweets"] == {"N": "7"}
    assert "_last_updated" not in raw
    tweet.trailing_ = "local"
    engine.save(tweet)
    raw = stored(engine, Tweet, userid="u", id="1")
    assert raw is not None and "trailing_" not in raw and "_last_updated" not in raw
    # the local-only attribute survives a refresh: it never was the database's
    tweet.refresh()
    assert tweet.trailing_ == "local"


def test_meta_creates_and_deletes_the_table(local_server: Any, namespace: str) -> None:
    connection = DynamoDBConnection.connect_to_host(host=local_server.host, port=local_server.port)
    name = Tweet.meta_.ddb_tablename([namespace])
    try:
        assert Tweet.meta_.create_dynamo_schema(connection, wait=True, namespace=[namespace]) == name
        assert name in connection.list_tables()
        assert Tweet.meta_.create_dynamo_schema(connection, namespace=[namespace]) is None
        assert Tweet.meta_.delete_dynamo_schema(connection, wait=True, namespace=[namespace]) == name
        assert name not in connection.list_tables()
    finally:
        connection.delete_table(name)


class User(Model):
    id = Field(hash_key=True)


class Message(Model):
    thread = Field(hash_key=True)
    ts = Field(data_type=datetime, range_key=True)


def test_register_many_and_create_all_at_once(engine: Engine) -> None:
    engine.register(User, Tweet, Message)
    created = engine.create_schema()
    prefix = f"{engine.namespace[0]}-"
    assert sorted(created) == [prefix + "Message", prefix + "Tweet", prefix + "User"]
    assert sorted(engine.delete_schema()) == sorted(created)


# -- 1.2.2 Data Types --------------------------------------------------------------------------
class TypedTweet(Model):
    userid = Field(data_type=STRING, hash_key=True)
    id = Field(data_type=STRING, range_key=True)
    ts = Field(data_type=NUMBER, index="ts-index")
    text = Field(data_type=STRING)


def test_ddb_type_constants_as_data_types(engine: Engine) -> None:
    engine.register(TypedTweet)
    engine.create_schema()
    engine.save([TypedTweet(userid="u", id=str(i), ts=100 - i, text=f"t{i}") for i in range(5)])
    early = engine(TypedTweet).filter(TypedTweet.ts <= 97, userid="u").all()
    assert [t.id for t in early] == ["4", "3"]  # ordered by the ts index
    assert early[0].ts == 96 and type(early[0].ts) is int
    raw = stored(engine, TypedTweet, userid="u", id="0")
    assert raw is not None and raw["ts"] == {"N": "100"} and raw["text"] == {"S": "t0"}


class Game(Model):
    title = Field(hash_key=True)
    points = Field(data_type=int, coerce=True)


def test_int_field_with_coerce_refuses_data_loss() -> None:
    mygame = Game()
    with pytest.raises(ValueError, match="points"):
        mygame.points = 1.8
    mygame.points = "123"
    assert mygame.points == 123


def test_wrong_type_raises_type_error() -> None:
    tweet = Tweet("u", "1", utcnow(), "x")
    with pytest.raises(TypeError, match=r"Tweet\.ts"):
        tweet.ts = "yesterday"


class Location(Model):
    name = Field(hash_key=True)
    events = Field(data_type=set_(date))
    also = Field(data_type=frozenset([date]))


def test_typed_sets_round_trip(engine: Engine) -> None:
    engine.register(Location)
    engine.create_schema()
    days = {date(2014, 1, 1), date(2014, 2, 3)}
    engine.save(Location(name="here", events=days, also={date(2015, 5, 5)}))
    loaded = engine.get(Location, name="here")
    assert loaded is not None
    assert loaded.events == days and loaded.also == {date(2015, 5, 5)}
    with pytest.raises(TypeError):
        Location(name="x", events={"not a date"})
    empty = engine.get(Location, name="here")
    assert empty is not None
    empty.events = set()
    empty.sync()
    assert engine.get(Location, name="here").events == set()  # type: ignore[union-attr]


class PickleType(TypeDefinition):
    data_type = pickle  # name you use to reference this type
    aliases = ["pickle"]  # alternate names that reference this type
    ddb_data_type = BINARY  # data type of the field in dynamo

    def coerce(self, value: Any, force: bool) -> Any:
        # Perform no type checking because we can pickle ANYTHING
        return value

    def ddb_dump(self, value: Any) -> Any:
        # Pickle and convert to a Binary object
        return Binary(pickle.dumps(value))

    def ddb_load(self, value: Any) -> Any:
        # Convert from a Binary object and unpickle
        return pickle.loads(value.value)


class DirectPickle(Model):
    id = Field(hash_key=True)
    myobj = Field(data_type=PickleType())


@pytest.fixture
def registered_pickle() -> Iterator[type[Model]]:
    """A model declared with the registered name of PickleType; unregistered afterwards so
    that other tests see the registry as it was."""
    register_type(PickleType)
    try:

        class RegisteredPickle(Model):
            id = Field(hash_key=True)
            myobj = Field(data_type="pickle")

        yield RegisteredPickle
    finally:
        del types._REGISTRY["pickle"], types._REGISTRY[pickle]


@pytest.mark.parametrize("registered", [False, True])
def test_custom_pickle_type(engine: Engine, registered: bool, request: Any) -> None:
    model = request.getfixturevalue("registered_pickle") if registered else DirectPickle
    engine.register(model)
    engine.create_schema()
    value = {"nested": [1, 2.5, ("tuple", None)], "when": date(2014, 1, 1)}
    engine.save(model(id="p", myobj=value))
    loaded = engine.get(model, id="p")
    assert loaded is not None and loaded.myobj == value
    raw = stored(engine, model, id="p")
    assert raw is not None and pickle.loads(raw["myobj"]["B"]) == value


# -- CONTRACT: declaring models ----------------------------------------------------------------
class Post(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    text = Field()
    tags = Field(data_type=set)
    prefs = Field(data_type=dict, default={"colors": ["red"]})
    history = Field(data_type=list, default=[])
    score = Field(data_type=int, check=lambda value: value >= 0)


class Item(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)


def test_default_init_takes_keys_positionally_and_fields_by_keyword() -> None:
    post = Post("u1", "42", text="hi", mood="happy")
    assert (post.userid, post.id, post.text, post.mood) == ("u1", "42", "hi", "happy")
    assert Post(userid="u1", id="42").id == "42"
    assert Item("a").id == "a"
    with pytest.raises(TypeError, match="positional"):
        Post("u1", "42", "too many")
    with pytest.raises(TypeError):
        Item("a", "b")


def test_objects_equal_by_model_and_key() -> None:
    a = Post("u1", "1", text="one")
    b = Post("u1", "1", text="another")
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b, Post("u1", "2")}) == 2
    assert a != Post("u1", "2")
    assert a != None  # the comparison itself is the subject
    assert not (a == None)
    assert a is not None and a != "u1"
    assert Item("x") != Location(name="x")


def test_mutable_defaults_are_copied_per_instance() -> None:
    first, second = Post("u", "1"), Post("u", "2")
    first.prefs["colors"].append("blue")
    first.history.append(1)
    first.tags.add("t")
    assert second.prefs == {"colors": ["red"]}
    assert second.history == [] and second.tags == set()
    assert Post.meta_.fields["prefs"].default == {"colors": ["red"]}


def test_key_of_persisted_item_cannot_change(engine: Engine) -> None:
    engine.register(Post)
    engine.create_schema()
    post = Post("u", "1", text="x")
    post.id = "2"  # fine before it is stored
    engine.save(post)
    with pytest.raises(AttributeError, match=r"Post\.id"):
        post.id = "3"
    with pytest.raises(AttributeError, match=r"Post\.userid"):
        del post.userid
    assert (post.userid, post.id) == ("u", "2")
    post.id = "2"  # the same value is not a change
    post.sync()
    assert stored(engine, Post, userid="u", id="3") is None
    assert engine.scan(Post).count() == 1


def test_del_field_is_setting_none(engine: Engine) -> None:
    engine.register(Post)
    engine.create_schema()
    post = Post("u", "1", text="x", tags={"a"}, extra="e")
    engine.save(post)
    del post.text
    del post.tags
    del post.extra
    assert post.text is None and post.tags == set()
    post.sync()
    raw = stored(engine, Post, userid="u", id="1")
    assert raw is not None
    assert "text" not in raw and "tags" not in raw and "extra" not in raw


def test_check_runs_on_write_and_nothing_is_written(engine: Engine) -> None:
    engine.register(Post)
    engine.create_schema()
    bad = Post("u", "1", score=-1)  # not checked on assignment
    with pytest.raises(ValueError, match=r"Post\.score"):
        engine.save(bad)
    with pytest.raises(ValueError, match="score"):
        engine.save([Post("u", "0", score=1), bad])
    with pytest.raises(ValueError, match="score"):
        engine.sync(bad)
    assert engine.scan(Post).count() == 0
    good = Post("u", "1", score=1)
    engine.save(good)
    good.score = -5
    with pytest.raises(ValueError, match="score"):
        good.sync()
    raw = stored(engine, Post, userid="u", id="1")
    assert raw is not None and raw["score"] == {"N": "1"}


@pytest.mark.parametrize("action", ["save", "sync", "refresh", "delete"])
def test_object_methods_need_an_engine(action: str) -> None:
    post = Post("u", "1")
    with pytest.raises(ValueError, match=rf"engine\.{action}\(obj\)"):
        getattr(post, action)()


# -- the API reference: Field ----------------------------------------------------------------
def test_field_overflow_classmethods_use_the_natural_mapping() -> None:
    values: list[tuple[Any, Any]] = [
        ("a", {"S": "a"}), (7, {"N": "7"}), (1.5, {"N": "1.5"}), (b"x", {"B": b"x"}),
        (True, {"BOOL": True}), ({"a"}, {"SS": ["a"]}), ({"k": [1]}, {"M": {"k": {"L": [{"N": "1"}]}}}),
    ]
    for value, av in values:
        assert Field.ddb_dump_overflow(value) == av
        assert Field.ddb_load_overflow(av) == value
        assert type(Field.ddb_load_overflow(av)) is type(value)
        assert Field.is_overflow_mutable(value) == isinstance(value, (set, dict))
    assert Field.ddb_dump_overflow(None) is None and Field.is_overflow_mutable([1])
    assert Field.ddb_dump_overflow(set()) is None  # an empty set: no attribute
    with pytest.raises(TypeError, match="DynamoDB type"):
        Field.ddb_dump_overflow(object())


def test_field_get_ddb_index_and_ddb_load_as_the_spec_names_them() -> None:
    assert Tweet.ts.get_ddb_index() == {
        "IndexName": "ts-index",
        "KeySchema": [
            {"AttributeName": "userid", "KeyType": "HASH"},
            {"AttributeName": "ts", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    assert Tweet.ts.get_ddb_index("other")["KeySchema"][0]["AttributeName"] == "other"
    assert Tweet.meta_.create_request("tweets")["LocalSecondaryIndexes"] == [Tweet.ts.get_ddb_index()]
    with pytest.raises(ValueError, match="Tweet.text has no local index"):
        Tweet.text.get_ddb_index()
    assert Tweet.ts.ddb_load(val={"N": "0"}) == datetime(1970, 1, 1)
