"""Every data type through a real server: what lands on the wire, what comes back, and what
is refused before any request.

The stored items are read back with a plain botocore client (no flywheel in between), so
these tests check CONTRACT's storage table against what the server really holds.
"""
from __future__ import annotations

import os
import pickle
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from flywheel import (
    BINARY,
    BINARY_SET,
    BOOL,
    LIST,
    MAP,
    NULL,
    NUMBER,
    NUMBER_SET,
    STRING,
    STRING_SET,
    Field,
    GlobalIndex,
    Model,
    set_,
)
from flywheel.fields.types import Binary, TypeDefinition, register_type
from flywheel.write_marks import strip_marks

# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw(local_server: Any) -> Any:
    """A plain botocore DynamoDB client on the test server: reads what is really stored."""
    session = botocore.session.get_session()
    credentials: dict[str, str] = {}
    if local_server.kind != "endpoint":
        credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return session.create_client(
        "dynamodb", endpoint_url=local_server.endpoint, region_name="us-east-1", **credentials
    )


def stored(raw: Any, engine: Any, model: type[Model], **key: Any) -> dict[str, Any] | None:
    """The item as the server holds it (AttributeValues), or None; without flywheel's writer
    marks (tests/test_write_marks.py checks those)."""
    request_key = {name: model.meta_.fields[name].ddb_dump(value) for name, value in key.items()}
    response = raw.get_item(
        TableName=engine.tablename(model), Key=request_key, ConsistentRead=True
    )
    item = response.get("Item")
    return None if item is None else strip_marks(item)


def all_stored(raw: Any, engine: Any, model: type[Model]) -> list[dict[str, Any]]:
    return raw.scan(TableName=engine.tablename(model), ConsistentRead=True)["Items"]


def same_av(actual: Any, expected: Any) -> bool:
    """AttributeValues equal as DynamoDB sees them: numbers by value (servers may rewrite
    '1.50' as '1.5'), set members in any order."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if actual.keys() != expected.keys():
            return False
        for tag, value in expected.items():
            got = actual[tag]
            if tag == "N":
                if Decimal(got) != Decimal(value):
                    return False
            elif tag == "NS":
                if sorted(map(Decimal, got)) != sorted(map(Decimal, value)):
                    return False
            elif tag in ("SS", "BS"):
                if sorted(got) != sorted(value):
                    return False
            elif tag in ("M", "L"):
                if not same_av(got, value):
                    return False
            elif got != value:
                return False
        return True
    if isinstance(expected, dict):
        return False
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(map(same_av, actual, expected))
    return bool(actual == expected)


# -- the storage table ------------------------------------------------------------------------


class PickleType(TypeDefinition):
    """The spec's custom type, for Python 3 (only for trusted data: see docs/types.md)."""

    data_type = pickle
    aliases = ["pickle"]
    ddb_data_type = BINARY
    mutable = True

    def coerce(self, value: Any, force: bool) -> Any:
        return value

    def ddb_dump(self, value: Any) -> Any:
        return Binary(pickle.dumps(value))

    def ddb_load(self, value: Any) -> Any:
        return pickle.loads(value.value)


@pytest.fixture(autouse=True)
def pickle_type_registered() -> Iterator[None]:
    """PickleType registered for each test, and the registry left as it was (other tests
    register their own 'pickle' type)."""
    from flywheel.fields import types

    saved = {key: types._REGISTRY.get(key) for key in ("pickle", pickle)}
    register_type(PickleType)
    try:
        yield
    finally:
        for key, previous in saved.items():
            if previous is None:
                types._REGISTRY.pop(key, None)
            else:
                types._REGISTRY[key] = previous

UTC_PLUS_2 = timezone(timedelta(hours=2))

# (data_type, value given, AttributeValue stored, value loaded back)
STORAGE_ROWS: list[tuple[Any, Any, Any, Any]] = [
    (str, "héllo", {"S": "héllo"}, "héllo"),
    (str, "", {"S": ""}, ""),
    (STRING, "x", {"S": "x"}, "x"),
    (bytes, b"\x00\xff", {"B": b"\x00\xff"}, b"\x00\xff"),
    (BINARY, b"\x01", {"B": b"\x01"}, b"\x01"),
    (int, 12, {"N": "12"}, 12),
    (int, -(10**38 - 1), {"N": "-" + "9" * 38}, -(10**38 - 1)),
    (int, 10**125, {"N": "1" + "0" * 125}, 10**125),
    (float, 0.1, {"N": "0.1"}, 0.1),
    (float, -2.5e-100, {"N": "-2.5e-100"}, -2.5e-100),
    (Decimal, Decimal("3.1415926535897932384626433832795028841"),
     {"N": "3.1415926535897932384626433832795028841"},
     Decimal("3.1415926535897932384626433832795028841")),
    (NUMBER, 7, {"N": "7"}, 7),
    (NUMBER, 0.25, {"N": "0.25"}, 0.25),
    (NUMBER, Decimal("0.1000000000000000000001"), {"N": "0.1000000000000000000001"},
     Decimal("0.1000000000000000000001")),
    (bool, True, {"N": "1"}, True),
    (bool, False, {"N": "0"}, False),
    (datetime, datetime(2015, 6, 1, 12, 30, 45, 123456), {"N": "1433161845.123456"},
     datetime(2015, 6, 1, 12, 30, 45, 123456)),
    (datetime, datetime(2015, 6, 1, 14, 30, tzinfo=UTC_PLUS_2), {"N": "1433161800"},
     datetime(2015, 6, 1, 12, 30)),
    (datetime, datetime(1900, 1, 1, 0, 0, 0, 1), {"N": "-2208988799.999999"},
     datetime(1900, 1, 1, 0, 0, 0, 1)),
    (date, date(2015, 6, 1), {"N": "1433116800"}, date(2015, 6, 1)),
    (date, date(1066, 10, 14), {"N": "-28502755200"}, date(1066, 10, 14)),
    (dict, {"a": [1, Decimal("2.5"), None, True]}, {"S": '{"a":[1,2.5,null,true]}'},
     {"a": [1, 2.5, None, True]}),
    (list, [1, "x", {"k": 0.5}], {"S": '[1,"x",{"k":0.5}]'}, [1, "x", {"k": 0.5}]),
    (set, {"a", "b"}, {"SS": ["a", "b"]}, {"a", "b"}),
    (set, {1, 2.5}, {"NS": ["1", "2.5"]}, {1, 2.5}),
    (set, {b"a", b""}, {"BS": [b"a", b""]}, {b"a", b""}),
    (set_(int), {1, 2}, {"NS": ["1", "2"]}, {1, 2}),
    (frozenset([str]), {"x", ""}, {"SS": ["x", ""]}, {"x", ""}),
    (set_(date), {date(2020, 1, 1)}, {"NS": ["1577836800"]}, {date(2020, 1, 1)}),
    (set_(datetime), {datetime(1970, 1, 1, 0, 0, 1, 500000)}, {"NS": ["1.5"]},
     {datetime(1970, 1, 1, 0, 0, 1, 500000)}),
    (set_(bool), {True, False}, {"NS": ["1", "0"]}, {True, False}),
    (set_(bytes), {b"\x00"}, {"BS": [b"\x00"]}, {b"\x00"}),
    (STRING_SET, {"s"}, {"SS": ["s"]}, {"s"}),
    (NUMBER_SET, {1, Decimal("0.5")}, {"NS": ["1", "0.5"]}, {1, 0.5}),
    (BINARY_SET, {b"b"}, {"BS": [b"b"]}, {b"b"}),
    (MAP, {"n": 1, "f": 0.5, "s": "", "b": b"x", "t": True, "z": None, "ss": {"a"},
           "ns": {1}, "bs": {b"c"}, "l": [{"d": Decimal("1.25")}]},
     {"M": {"n": {"N": "1"}, "f": {"N": "0.5"}, "s": {"S": ""}, "b": {"B": b"x"},
            "t": {"BOOL": True}, "z": {"NULL": True}, "ss": {"SS": ["a"]},
            "ns": {"NS": ["1"]}, "bs": {"BS": [b"c"]},
            "l": {"L": [{"M": {"d": {"N": "1.25"}}}]}}},
     {"n": 1, "f": 0.5, "s": "", "b": b"x", "t": True, "z": None, "ss": {"a"}, "ns": {1},
      "bs": {b"c"}, "l": [{"d": 1.25}]}),
    (LIST, [1, "a", [None], {"k": False}], {"L": [{"N": "1"}, {"S": "a"},
                                                 {"L": [{"NULL": True}]},
                                                 {"M": {"k": {"BOOL": False}}}]},
     [1, "a", [None], {"k": False}]),
    (BOOL, True, {"BOOL": True}, True),
    (BOOL, False, {"BOOL": False}, False),
    (PickleType(), {"any": ("python", 1)}, {"B": pickle.dumps({"any": ("python", 1)})},
     {"any": ("python", 1)}),
    ("pickle", [1, 2], {"B": pickle.dumps([1, 2])}, [1, 2]),
    (set_(PickleType), {(1, 2)}, {"BS": [pickle.dumps((1, 2))]}, {(1, 2)}),
]


def make_model(data_type: Any, **field_options: Any) -> type[Model]:
    """A model with a string hash key 'id' and one field 'value' of ``data_type``."""
    return type(
        "Row", (Model,), {"id": Field(hash_key=True),
                          "value": Field(data_type=data_type, **field_options)}
    )


@pytest.mark.parametrize(
    "data_type, value, wire, loaded",
    STORAGE_ROWS,
    ids=[f"{row[0]!r}-{index}" for index, row in enumerate(STORAGE_ROWS)],
)
def test_storage_format(
    engine: Any, raw: Any, data_type: Any, value: Any, wire: Any, loaded: Any
) -> None:
    Row = make_model(data_type)
    engine.register(Row)
    engine.create_schema()
    engine.save(Row("k", value=value))
    item = stored(raw, engine, Row, id="k")
    assert item is not None
    assert same_av(item["value"], wire), item["value"]
    got = engine.get(Row, id="k", consistent=True)
    assert got.value == loaded
    assert type(got.value) is type(loaded)
    if isinstance(loaded, (set, dict, list)):
        assert_same_types(got.value, loaded)


def assert_same_types(actual: Any, expected: Any) -> None:
    """Equal values of the same Python types, all the way down."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            assert_same_types(actual[key], expected[key])
    elif isinstance(expected, list):
        assert len(actual) == len(expected)
        for left, right in zip(actual, expected):
            assert_same_types(left, right)
    elif isinstance(expected, (set, frozenset)):
        assert sorted(map(repr, actual)) == sorted(map(repr, expected))
    else:
        assert actual == expected


@pytest.mark.parametrize("data_type", [set, set_(int), STRING_SET, frozenset([date])])
def test_empty_and_none_sets_mean_no_attribute(engine: Any, raw: Any, data_type: Any) -> None:
    Row = make_model(data_type)
    engine.register(Row)
    engine.create_schema()
    engine.save(Row("empty", value=set()))
    engine.save(Row("none", value=None))
    for key in ("empty", "none"):
        assert stored(raw, engine, Row, id=key) == {"id": {"S": key}}
        assert engine.get(Row, id=key, consistent=True).value == set()
    obj = Row("full", value={"1"} if data_type in (set, STRING_SET) else set())
    engine.save(obj)
    obj.value = set()
    obj.sync()
    assert stored(raw, engine, Row, id="full") == {"id": {"S": "full"}}


@pytest.mark.parametrize("data_type", [
    str, int, dict, datetime, bytes,
    # sync checks the map it replaces with '=', which dynalite never finds equal on M values
    pytest.param(MAP, marks=pytest.mark.requires("document_equality")),
])
def test_none_removes_the_attribute(engine: Any, raw: Any, data_type: Any) -> None:
    Row = make_model(data_type)
    engine.register(Row)
    engine.create_schema()
    example = {str: "x", int: 1, dict: {"a": 1}, MAP: {"a": 1}, datetime: datetime(2000, 1, 1),
               bytes: b"x"}[data_type]
    obj = Row("k", value=example)
    engine.save(obj)
    assert "value" in stored(raw, engine, Row, id="k")  # type: ignore[operator]
    del obj.value
    obj.sync()
    assert stored(raw, engine, Row, id="k") == {"id": {"S": "k"}}
    assert engine.get(Row, id="k").value is None


# -- undeclared attributes ----------------------------------------------------------------------


class Loose(Model):
    id = Field(hash_key=True)


UNDECLARED_ROWS: list[tuple[Any, Any, Any]] = [
    ("text", {"S": "text"}, "text"),
    ("", {"S": ""}, ""),
    (12, {"N": "12"}, 12),
    (10**37, {"N": str(10**37)}, 10**37),
    (0.1, {"N": "0.1"}, 0.1),
    (Decimal("1.0000000000000000000000000001"), {"N": "1.0000000000000000000000000001"},
     Decimal("1.0000000000000000000000000001")),
    (b"\x00bin", {"B": b"\x00bin"}, b"\x00bin"),
    (True, {"BOOL": True}, True),
    (False, {"BOOL": False}, False),
    ({"a", "b"}, {"SS": ["a", "b"]}, {"a", "b"}),
    ({1, 0.5}, {"NS": ["1", "0.5"]}, {1, 0.5}),
    ({b"a"}, {"BS": [b"a"]}, {b"a"}),
    ({"k": [1, None, {"s"}]}, {"M": {"k": {"L": [{"N": "1"}, {"NULL": True}, {"SS": ["s"]}]}}},
     {"k": [1, None, {"s"}]}),
    ([0.5, "a", b"b"], {"L": [{"N": "0.5"}, {"S": "a"}, {"B": b"b"}]}, [0.5, "a", b"b"]),
]


@pytest.mark.parametrize(
    "value, wire, loaded", UNDECLARED_ROWS, ids=[repr(row[0])[:30] for row in UNDECLARED_ROWS]
)
def test_undeclared_natural_types(
    engine: Any, raw: Any, value: Any, wire: Any, loaded: Any
) -> None:
    engine.register(Loose)
    engine.create_schema()
    obj = Loose("k")
    obj.extra = value
    engine.save(obj)
    assert same_av(stored(raw, engine, Loose, id="k")["extra"], wire)  # type: ignore[index]
    got = engine.get(Loose, id="k", consistent=True)
    assert_same_types(got.extra, loaded)


def test_undeclared_underscore_names_are_never_saved(engine: Any, raw: Any) -> None:
    engine.register(Loose)
    engine.create_schema()
    obj = Loose("k", retweets=7)
    obj._last_updated = datetime(2020, 1, 1)
    obj.local_ = "x"
    obj.middle_under_score = 1
    engine.save(obj)
    assert set(stored(raw, engine, Loose, id="k")) == {  # type: ignore[arg-type]
        "id", "retweets", "middle_under_score"}
    obj.retweets = 8
    obj._other = 1
    obj.sync()
    assert set(stored(raw, engine, Loose, id="k")) == {  # type: ignore[arg-type]
        "id", "retweets", "middle_under_score"}
    got = engine.get(Loose, id="k")
    assert got.retweets == 8 and not hasattr(got, "_last_updated")


def test_filter_on_undeclared_field(engine: Any) -> None:
    engine.register(Loose)
    engine.create_schema()
    engine.save([Loose("a", link="x", n=1), Loose("b", link="y", n=2.5), Loose("c")])
    found = engine.scan(Loose).filter(Loose.field("link") == "y").all()
    assert [obj.id for obj in found] == ["b"]
    found = engine.scan(Loose).filter(Loose.field("n") > 1).all()
    assert [obj.id for obj in found] == ["b"]
    assert sorted(o.id for o in engine.scan(Loose).filter(Loose.field("link") != None)
                  .all()) == ["a", "b"]


# -- lenient loading --------------------------------------------------------------------------


class Lenient(Model):
    id = Field(hash_key=True)
    doc = Field(data_type=dict)
    items = Field(data_type=list)
    flag = Field(data_type=bool)
    native = Field(data_type=MAP)
    nothing = Field(data_type=NULL)
    text = Field()


def test_fields_load_what_other_clients_wrote(engine: Any, raw: Any) -> None:
    engine.register(Lenient)
    engine.create_schema()
    raw.put_item(TableName=engine.tablename(Lenient), Item={
        "id": {"S": "k"},
        "doc": {"M": {"a": {"N": "1"}, "b": {"L": [{"S": "x"}]}}},
        "items": {"L": [{"N": "2.5"}, {"BOOL": True}]},
        "flag": {"BOOL": True},
        "native": {"S": '{"from": "json"}'},
        "nothing": {"NULL": True},
        "text": {"NULL": True},
    })
    got = engine.get(Lenient, id="k", consistent=True)
    assert got.doc == {"a": 1, "b": ["x"]}
    assert got.items == [2.5, True]
    assert got.flag is True
    assert got.native == {"from": "json"}
    assert got.nothing is None
    assert got.text is None


# -- coercion through a save ------------------------------------------------------------------


class Coerced(Model):
    id = Field(hash_key=True)
    points = Field(data_type=int, coerce=True)
    data = Field(data_type=bytes)
    text = Field()
    tags = Field(data_type=set_(int), coerce=True)
    doc = Field(data_type=dict, default={"nested": []})
    names = Field(data_type=set_(str), default={"a"})


def test_coercion_and_defaults(engine: Any, raw: Any) -> None:
    engine.register(Coerced)
    engine.create_schema()
    obj = Coerced("k", points="123", data="é", text=b"\xc3\xa9", tags=["1", 2.0])
    assert (obj.points, obj.data, obj.text, obj.tags) == (123, "é".encode(), "é", {1, 2})
    obj.points = 4.0
    assert obj.points == 4 and type(obj.points) is int
    with pytest.raises(ValueError, match=r"Coerced\.points.*1\.8.*data loss"):
        obj.points = 1.8
    other = Coerced("other")
    other.doc["nested"].append(1)
    other.names.add("b")
    assert obj.doc == {"nested": []} and obj.names == {"a"}
    engine.save([obj, other])
    item = stored(raw, engine, Coerced, id="k")
    assert item is not None
    assert item["points"] == {"N": "4"} and item["data"] == {"B": "é".encode()}
    assert item["text"] == {"S": "é"}
    assert same_av(item["tags"], {"NS": ["1", "2"]})
    assert stored(raw, engine, Coerced, id="other")["doc"] == {  # type: ignore[index]
        "S": '{"nested":[1]}'}


def test_mutable_custom_type_changed_in_place_is_synced(engine: Any, raw: Any) -> None:
    Row = make_model("pickle")
    engine.register(Row)
    engine.create_schema()
    obj = Row("k", value={"cart": []})
    engine.save(obj)
    obj.value["cart"].append("apple")
    obj.sync()
    item = stored(raw, engine, Row, id="k")
    assert item is not None and pickle.loads(item["value"]["B"]) == {"cart": ["apple"]}


def test_custom_type_as_key_and_in_a_set(engine: Any, raw: Any) -> None:
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

        def __hash__(self) -> int:
            return hash((self.x, self.y))

    class PointType(TypeDefinition):
        data_type = Point
        ddb_data_type = STRING

        def coerce(self, value: Any, force: bool) -> Any:
            if isinstance(value, Point):
                return value
            raise TypeError(f"expected a Point, got {value!r}")

        def ddb_dump(self, value: Point) -> str:
            return f"{value.x},{value.y}"

        def ddb_load(self, value: str) -> Point:
            x, y = value.split(",")
            return Point(int(x), int(y))

    class Grid(Model):
        spot = Field(data_type=PointType(), hash_key=True)
        neighbours = Field(data_type=set_(PointType))

    engine.register(Grid)
    engine.create_schema()
    engine.save(Grid(Point(1, 2), neighbours={Point(0, 2), Point(1, 3)}))
    item = stored(raw, engine, Grid, spot=Point(1, 2))
    assert item is not None and item["spot"] == {"S": "1,2"}
    assert same_av(item["neighbours"], {"SS": ["0,2", "1,3"]})
    got = engine.get(Grid, spot=Point(1, 2))
    assert got.spot == Point(1, 2) and got.neighbours == {Point(0, 2), Point(1, 3)}
    found = engine.scan(Grid).filter(Grid.neighbours.contains_(Point(1, 3))).all()
    assert found == [got]


# -- datetimes never depend on the machine's time zone --------------------------------------


@pytest.fixture
def exotic_tz(request: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process's local time zone set to a POSIX TZ string (no tz database needed)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform")
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    try:
        yield request.param
    finally:
        monkeypatch.undo()
        time.tzset()


def epoch_text(value: datetime) -> str:
    """The expected N text, computed independently (Decimal arithmetic on the UTC value)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    delta = value - datetime(1970, 1, 1)
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    return str(seconds.normalize()) if seconds != seconds.to_integral() else str(int(seconds))


class Event(Model):
    id = Field(hash_key=True)
    at = Field(data_type=datetime)
    day = Field(data_type=date)


DATETIMES = [
    datetime(2015, 6, 1, 12, 30, 45, 123456),
    datetime(1969, 12, 31, 23, 59, 59, 999999),
    datetime(1, 1, 1, 0, 0, 0, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(2015, 3, 8, 2, 30),  # inside a DST gap in many zones
    datetime(2015, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(1850, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=13, minutes=45))),
]


@pytest.mark.parametrize(
    "exotic_tz", ["XXX-13:45", "EST+5EDT,M3.2.0/2,M11.1.0/2", "UTC0"], indirect=True
)
def test_datetimes_ignore_the_local_time_zone(engine: Any, raw: Any, exotic_tz: str) -> None:
    if exotic_tz != "UTC0":
        assert time.timezone != 0 or time.altzone != 0, "TZ had no effect"
    engine.register(Event)
    engine.create_schema()
    for number, value in enumerate(DATETIMES):
        engine.save(Event(str(number), at=value, day=value.date()))
    for number, value in enumerate(DATETIMES):
        item = stored(raw, engine, Event, id=str(number))
        assert item is not None
        assert Decimal(item["at"]["N"]) == Decimal(epoch_text(value)), value
        assert item["at"]["N"].lstrip("-").split(".")[0] == epoch_text(value).lstrip("-").split(
            ".")[0]
        got = engine.get(Event, id=str(number), consistent=True)
        utc_naive = (value.astimezone(timezone.utc).replace(tzinfo=None)
                     if value.tzinfo else value)
        assert got.at == utc_naive and got.at.tzinfo is None
        assert got.day == value.date()
    query_from = datetime(1969, 12, 31, 23, 59, 59)
    later = engine.scan(Event).filter(Event.at >= query_from).all()
    assert {obj.id for obj in later} == {str(n) for n, v in enumerate(DATETIMES)
                                         if (v.astimezone(timezone.utc).replace(tzinfo=None)
                                             if v.tzinfo else v) >= query_from}


def test_tz_environment_is_restored() -> None:
    # The fixture above must not leak its zone into later tests.
    assert os.environ.get("TZ") != "XXX-13:45"


# -- bad input: a clear error before any request, and nothing written -------------------------


class Strict(Model):
    __metadata__ = {"global_indexes": [GlobalIndex("by-owner", "owner", "rank")]}
    id = Field(hash_key=True)
    sort = Field(range_key=True)
    local = Field(index="by-local")
    owner = Field()
    rank = Field(data_type=int)
    count = Field(data_type=int)
    whole = Field(data_type=int, coerce=True)
    ratio = Field(data_type=float)
    exact = Field(data_type=Decimal)
    anynum = Field(data_type=NUMBER)
    tags = Field(data_type=set_(int))
    moments = Field(data_type=set_(datetime))
    doc = Field(data_type=dict)
    native = Field(data_type=MAP)
    items = Field(data_type=LIST)
    positive = Field(data_type=int, check=lambda value: value > 0)
    when = Field(data_type=datetime)


BAD_INPUTS: list[tuple[str, Any, type[Exception]]] = [
    ("count", 1.5, TypeError),  # wrong type, no coerce
    ("count", "12", TypeError),
    ("ratio", "0.5", TypeError),
    ("whole", 1.8, ValueError),  # coerce refuses to drop data
    ("whole", "1.5", ValueError),
    ("whole", "abc", ValueError),
    ("tags", {"a"}, TypeError),  # a typed set checks its members
    ("tags", {1, 1.5}, TypeError),
    ("count", 10**38 + 1, ValueError),  # 39 significant digits
    ("count", 10**126, ValueError),  # above DynamoDB's range
    ("exact", Decimal("1." + "1" * 38), ValueError),
    ("exact", Decimal("1E+126"), ValueError),
    ("exact", Decimal("1E-131"), ValueError),
    ("exact", Decimal("NaN"), ValueError),
    ("exact", Decimal("-Infinity"), ValueError),
    ("ratio", float("nan"), ValueError),
    ("ratio", float("inf"), ValueError),
    ("ratio", 1e-200, ValueError),
    ("anynum", float("-inf"), ValueError),
    ("anynum", Decimal("9.99E+125") * 10, ValueError),
    ("doc", {"x": float("nan")}, ValueError),  # found when the item is dumped
    ("doc", {"x": object()}, TypeError),
    ("native", {"x": Decimal("Infinity")}, ValueError),
    ("native", {"x": set()}, ValueError),
    ("items", [float("nan")], ValueError),
    ("positive", -1, ValueError),  # check= fails
    ("when", datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), ValueError),
    ("moments", {datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2)))}, ValueError),
    ("local", "", ValueError),  # an empty string on a local index key
    ("owner", "", ValueError),  # ... on a global index hash key
    ("undeclared", float("nan"), ValueError),
    ("undeclared", {"deep": [Decimal("sNaN")]}, ValueError),
    ("undeclared", object(), TypeError),
    ("undeclared", {1, "mixed"}, TypeError),
]


def assert_names_everything(exc: BaseException, name: str, value: Any) -> None:
    message = str(exc)
    assert f"Strict.{name}" in message, message
    assert repr(value) in message, message


@pytest.mark.parametrize(
    "name, value, error", BAD_INPUTS, ids=[f"{n}={v!r}"[:40] for n, v, _ in BAD_INPUTS]
)
def test_bad_input_is_refused_before_any_request(
    engine: Any, raw: Any, name: str, value: Any, error: type[Exception]
) -> None:
    engine.register(Strict)
    engine.create_schema()
    good = Strict("stored", "1", owner="me", rank=1, positive=1)
    engine.save(good)
    before = stored(raw, engine, Strict, id="stored", sort="1")

    # A new object: the error comes on assignment or on save, and no item appears.
    with pytest.raises(error) as caught:
        fresh = Strict("new", "1")
        setattr(fresh, name, value)
        engine.save(fresh)
    assert_names_everything(caught.value, name, value)
    assert stored(raw, engine, Strict, id="new", sort="1") is None

    # A stored object: the error comes on assignment or on sync, and the item is unchanged.
    with pytest.raises(error) as caught:
        setattr(good, name, value)
        good.sync()
    assert_names_everything(caught.value, name, value)
    assert stored(raw, engine, Strict, id="stored", sort="1") == before
    assert len(all_stored(raw, engine, Strict)) == 1


@pytest.mark.parametrize("key", [{"id": "", "sort": "1"}, {"id": "a", "sort": ""},
                                 {"id": b"", "sort": "1"}])
def test_empty_primary_key_is_refused(engine: Any, raw: Any, key: dict[str, Any]) -> None:
    engine.register(Strict)
    engine.create_schema()
    with pytest.raises(ValueError) as caught:
        engine.save(Strict(**key))
    empty = next(name for name, value in key.items() if not value)
    assert f"Strict.{empty}" in str(caught.value) and "''" in str(caught.value)
    assert all_stored(raw, engine, Strict) == []


def test_empty_index_key_on_binary_field(engine: Any, raw: Any) -> None:
    class Blob(Model):
        __metadata__ = {"global_indexes": [GlobalIndex("by-digest", "digest")]}
        id = Field(hash_key=True)
        digest = Field(data_type=bytes)

    engine.register(Blob)
    engine.create_schema()
    with pytest.raises(ValueError, match=r"Blob\.digest.*global index 'by-digest'.*b''"):
        engine.save(Blob("k", digest=b""))
    assert all_stored(raw, engine, Blob) == []
    engine.save(Blob("k", digest=None))  # absent is fine: the item is just not in the index
    assert stored(raw, engine, Blob, id="k") == {"id": {"S": "k"}}


# -- the docs' type table is the code's ---------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "types.md"


def docs_type_table() -> list[tuple[list[str], str, str]]:
    """(data_type expressions, example expression, DynamoDB type) of each row of the table
    under '## The types' in docs/types.md."""
    text = DOCS_PAGE.read_text()
    section = text.split("## The types", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        names = re.findall(r"`([^`]+)`", cells[0])
        (example,) = re.findall(r"^`(.+)`$", cells[1])
        (ddb_type,) = re.findall(r"^`([A-Z]+)`$", cells[2])
        rows.append((names, example, ddb_type))
    return rows


def test_docs_type_table_matches_the_code(engine: Any, raw: Any) -> None:
    import flywheel

    scope: dict[str, Any] = {name: getattr(flywheel, name) for name in flywheel.__all__}
    scope.update(datetime=datetime, date=date, Decimal=Decimal, set_=set_, Binary=Binary)
    rows = docs_type_table()
    assert len(rows) >= 20
    documented = {name for names, _, _ in rows for name in names}
    for constant in ("STRING", "NUMBER", "BINARY", "STRING_SET", "NUMBER_SET", "BINARY_SET",
                     "MAP", "LIST", "BOOL", "NULL", "str", "bytes", "int", "float", "Decimal",
                     "bool", "datetime", "date", "dict", "list", "set"):
        assert constant in documented, f"{constant} is missing from the docs' type table"

    fields: dict[str, Any] = {"id": Field(hash_key=True)}
    examples: dict[str, tuple[Any, str]] = {}
    for number, (names, example, ddb_type) in enumerate(rows):
        for name in names:
            declared = Field(data_type=eval(name, scope))
            assert declared.ddb_data_type == ddb_type, (name, declared.ddb_data_type, ddb_type)
        fields[f"f{number}"] = Field(data_type=eval(names[0], scope))
        examples[f"f{number}"] = (eval(example, scope), ddb_type)
    Documented = type("Documented", (Model,), fields)
    engine.register(Documented)
    engine.create_schema()
    engine.save(Documented("k", **{name: value for name, (value, _) in examples.items()}))
    item = stored(raw, engine, Documented, id="k")
    loaded = engine.get(Documented, id="k", consistent=True)
    assert item is not None
    for name, (value, ddb_type) in examples.items():
        if value is None:  # NULL: None is "no attribute"; a stored NULL loads as None
            assert name not in item and ddb_type == "NULL"
            assert Documented.meta_.fields[name].ddb_load({"NULL": True}) is None
            continue
        assert list(item[name]) == [ddb_type], (name, item[name])
        assert getattr(loaded, name) == value, name
