"""The walking skeleton end to end: models, schema, save/get/query/scan/sync/delete."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from helpers import stored

from flywheel import CheckFailed, Engine, Field, Model
from flywheel.model_meta import ValidationError


class Tweet(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime, index="ts-index")
    text = Field()
    retweets = Field(data_type=int)

    def __init__(self, userid: str, id: str, ts: datetime, text: str = "") -> None:
        self.userid = userid
        self.id = id
        self.ts = ts
        self.text = text


class Everything(Model):
    key = Field(hash_key=True)
    s = Field()
    b = Field(data_type=bytes)
    i = Field(data_type=int)
    f = Field(data_type=float)
    d = Field(data_type=Decimal)
    flag = Field(data_type=bool)
    when = Field(data_type=datetime)
    day = Field(data_type=date)


class Item(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)


MODELS = (Tweet, Everything, Item)


def test_create_schema_creates_missing_tables_once(engine: Engine) -> None:
    engine.register(Tweet, Item)
    created = engine.create_schema()
    prefix = "-".join(engine.namespace) + "-"
    assert sorted(created) == [prefix + "Item", prefix + "Tweet"]
    assert engine.create_schema() == []
    description = engine.dynamo.describe_table(prefix + "Tweet")
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert [i["IndexName"] for i in description["LocalSecondaryIndexes"]] == ["ts-index"]


def test_every_type_round_trips_with_contract_wire_format(tables: Engine) -> None:
    when = datetime(2013, 7, 4, 10, 30, 1, 123456)
    obj = Everything(
        key="k1",
        s="",
        b=b"\x00\xffraw",
        i=12345678901234567890123456789012345678,
        f=0.1,
        d=Decimal("3.14159265358979323846"),
        flag=True,
        when=when,
        day=date(2013, 7, 4),
    )
    tables.save(obj)
    raw = stored(tables, Everything, key="k1")
    assert raw["s"] == {"S": ""}
    assert raw["b"] == {"B": b"\x00\xffraw"}
    assert raw["i"] == {"N": "12345678901234567890123456789012345678"}
    assert raw["f"] == {"N": "0.1"}
    assert raw["d"] == {"N": "3.14159265358979323846"}
    assert raw["flag"] == {"N": "1"}
    epoch = datetime(2013, 7, 4, 10, 30, 1, tzinfo=timezone.utc).timestamp()
    assert raw["when"] == {"N": f"{int(epoch)}.123456"}
    assert raw["day"] == {"N": str(int(datetime(2013, 7, 4, tzinfo=timezone.utc).timestamp()))}

    loaded = tables.get(Everything, key="k1")
    assert loaded is not None
    for name in ("s", "b", "i", "f", "d", "flag", "when", "day"):
        assert getattr(loaded, name) == getattr(obj, name), name
        assert type(getattr(loaded, name)) is type(getattr(obj, name)), name


def test_wrong_type_names_model_and_field() -> None:
    with pytest.raises(TypeError, match=r"Everything\.i"):
        Everything(key="x", i="not a number")


def test_save_overwrite_false_raises_check_failed(tables: Engine) -> None:
    tables.save(Item("a", n=1))
    with pytest.raises(CheckFailed):
        tables.save(Item("a", n=2), overwrite=False)
    item = tables.get(Item, id="a")
    assert item is not None and item.n == 1
    tables.save(Item("a", n=3))  # default_conflict 'update': overwrite
    assert tables.get(Item, id="a").n == 3


def test_get_many_in_key_order_skipping_missing_and_duplicates(tables: Engine) -> None:
    tables.save([Item(str(i), n=i) for i in range(150)])
    keys = ["7", "missing", "3", "149", "7", "0"]
    found = tables.get(Item, keys)
    assert [item.id for item in found] == ["7", "3", "149", "0"]
    assert [item.n for item in found] == [7, 3, 149, 0]


def test_query_range_conditions_and_terminators(tables: Engine) -> None:
    base = datetime(2013, 1, 1)
    tweets = [Tweet("u1", f"{i:03d}", base.replace(day=1 + i), f"t{i}") for i in range(20)]
    tweets.append(Tweet("u2", "000", base, "other user"))
    tables.save(tweets)
    q = tables.query(Tweet)
    assert len(q.filter(Tweet.userid == "u1").all()) == 20
    assert tables(Tweet).filter(userid="u1").count() == 20
    assert [t.id for t in tables(Tweet).filter(Tweet.userid == "u1", Tweet.id < "003").all()] == [
        "000",
        "001",
        "002",
    ]
    assert tables(Tweet).filter(Tweet.userid == "u1", Tweet.id <= "003").count() == 4
    assert tables(Tweet).filter(Tweet.userid == "u1", Tweet.id > "017").count() == 2
    assert tables(Tweet).filter(Tweet.userid == "u1", Tweet.id >= "017").count() == 3
    assert tables(Tweet).filter(Tweet.userid == "u1", Tweet.id.between_("005", "007")).count() == 3
    assert tables(Tweet).filter(Tweet.userid == "u1", Tweet.id.beginswith_("01")).count() == 10
    one = tables(Tweet).filter(userid="u1", id="005").one()
    assert one.text == "t5"
    with pytest.raises(ValueError):
        tables(Tweet).filter(userid="u1").one()
    with pytest.raises(ValueError):
        tables(Tweet).filter(userid="nobody").one()
    assert tables(Tweet).filter(userid="nobody").first() is None
    last = tables(Tweet).filter(userid="u1").first(desc=True)
    assert last.id == "019"
    gen = tables(Tweet).filter(userid="u1").gen()
    assert next(gen).id == "000"
    # local index chosen from the range condition on ts
    early = tables(Tweet).filter(Tweet.userid == "u1", Tweet.ts <= base.replace(day=3)).all()
    assert sorted(t.id for t in early) == ["000", "001", "002"]
    assert len(tables(Tweet).filter(userid="u1").limit(5).all()) == 5


def test_query_without_hash_key_is_a_clear_error(tables: Engine) -> None:
    with pytest.raises(ValueError, match="hash key"):
        tables(Tweet).filter(Tweet.id == "1").all()


def test_scan_with_filters(tables: Engine) -> None:
    tables.save([Item(str(i), n=i) for i in range(30)])
    assert len(tables.scan(Item).all()) == 30
    assert tables.scan(Item).filter(Item.n >= 25).count() == 5
    assert sorted(i.n for i in tables.scan(Item).filter(Item.n.in_([1, 2, 99])).all()) == [1, 2]


def test_undeclared_fields_and_sync(tables: Engine) -> None:
    tweet = Tweet("u1", "1", datetime(2013, 1, 1), text="super rad")
    tweet.link = "http://drmcninja.com"
    tweet.retweets = 0
    tweet._local = "never saved"
    tables.save(tweet)
    raw = stored(tables, Tweet, userid="u1", id="1")
    assert raw["link"] == {"S": "http://drmcninja.com"}
    assert "_local" not in raw
    tweet.link = "http://www.smbc-comics.com"
    tweet.sync()
    again = tables.get(Tweet, userid="u1", id="1")
    assert again.link == "http://www.smbc-comics.com"


def test_concurrent_sync_of_different_fields_merges(tables: Engine) -> None:
    tables.save(Tweet("u1", "1234", datetime(2013, 1, 1), text="hi"))
    tweet = tables(Tweet).filter(userid="u1", id="1234").first()
    tweet2 = tables(Tweet).filter(userid="u1", id="1234").first()
    tweet.author = "The Pope"
    tweet.sync()
    tweet2.text = "Mo' money mo' problems"
    tweet2.sync()
    assert tweet2.author == "The Pope"
    tweet.text = "conflicting"
    with pytest.raises(CheckFailed):
        tweet.sync()


def test_incr_and_delete(tables: Engine) -> None:
    item = Item("counter", n=1)
    tables.save(item)
    other = tables.get(Item, id="counter")
    item.incr_(n=2)
    assert item.n == 3
    other.incr_(n=5)
    item.sync()
    other.sync()
    assert other.n == 8
    item.refresh()
    assert item.n == 8
    item.delete()
    assert tables.get(Item, id="counter") is None
    assert tables.delete_key(Item, ["a", "b", "a"]) == 2


def test_model_declaration_errors() -> None:
    with pytest.raises(ValidationError, match="hash_key"):

        class NoKey(Model):
            a = Field()

    with pytest.raises(ValueError):
        Field(hash_key=True, range_key=True)
    with pytest.raises(TypeError):
        Field(data_type=object())
    with pytest.raises(TypeError):
        Item("a", "b")


def test_server_down_is_a_connection_error_after_bounded_retries() -> None:
    import socket

    from flywheel import ConnectionFailure

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = Engine()
    engine.connect_to_host("127.0.0.1", port)  # default retry settings
    with pytest.raises(ConnectionFailure):
        engine.get(Item, id="a")
