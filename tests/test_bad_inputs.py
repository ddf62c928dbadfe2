"""The catalogue of bad inputs (listed in docs/errors.md): each gets a flywheel error naming the
model, field and value involved, raised before any request is sent, and leaves the stored data
as it was.

Requests are counted by a FaultProxy with no faults between the engine and the server, so
whatever the transport (botocore or fast), a request sent is a request counted. The stored
data is compared as raw AttributeValues, read straight from the server.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy

from flywheel import MAP, NUMBER_SET, Engine, Field, GlobalIndex, Model, set_
from flywheel.query import InvalidCursorError


class Doc(Model):
    __metadata__ = {"global_indexes": [GlobalIndex("by-owner", "owner", "rank")]}
    id = Field(hash_key=True)
    version = Field(data_type=int, range_key=True)
    owner = Field()
    rank = Field(data_type=int)
    price = Field(data_type=Decimal)
    ratio = Field(data_type=float)
    body = Field()
    tags = Field(data_type=set_(str))
    loose = Field(data_type=set)
    numbers = Field(data_type=NUMBER_SET)
    blob = Field(data_type=bytes)
    meta = Field(data_type=dict)
    native = Field(data_type=MAP)
    when = Field(data_type=datetime.datetime)
    flag = Field(data_type=bool)
    score = Field(data_type=int, check=lambda value: value >= 0)


def nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for _ in range(depth):
        document = {"x": document}
    return document


@dataclass
class Bad:
    """One bad input: what it does, the error it must get and what the message must name."""

    name: str
    action: Callable[[Engine, Doc], Any]
    error: type[Exception]
    mentions: tuple[str, ...]


def save(**values: Any) -> Callable[[Engine, Doc], Any]:
    return lambda engine, stored: engine.save(Doc("new", 1, **values))


def save_keys(hash_key: Any, range_key: Any) -> Callable[[Engine, Doc], Any]:
    return lambda engine, stored: engine.save(Doc(hash_key, range_key))


def sync_after(change: Callable[[Doc], Any]) -> Callable[[Engine, Doc], Any]:
    def action(engine: Engine, stored: Doc) -> None:
        change(stored)
        engine.sync(stored)

    return action


def batch_delete(engine: Engine, objs: list[Doc]) -> None:
    with engine.batch_write() as batch:
        batch.delete(objs)


def in_namespace(namespace: list[str]) -> Callable[[Engine, Doc], Any]:
    return lambda engine, stored: Engine(engine.dynamo, namespace=namespace).save(Doc("n", 1))


DIGITS_39 = 123456789012345678901234567890123456789

CATALOGUE = [
    # -- wrong types --------------------------------------------------------------------------
    Bad("text for a number field", save(rank="abc"), TypeError, ("Doc.rank", "'abc'")),
    Bad("number for a text hash key", save_keys(5, 1), TypeError, ("Doc.id", "5")),
    Bad("text for a number range key", save_keys("k", "x"), TypeError, ("Doc.version", "'x'")),
    Bad("wrong set member type", save(tags={1, 2}), TypeError, ("Doc.tags", "1")),
    Bad("text for a set field", save(tags="abc"), TypeError, ("Doc.tags", "'abc'")),
    Bad("list for a dict field", save(meta=[1]), TypeError, ("Doc.meta", "[1]")),
    Bad("dict not JSON-able", save(meta={"a": {1, 2}}), TypeError, ("Doc.meta", "{1, 2}")),
    Bad("text for a datetime field", save(when="2020"), TypeError, ("Doc.when", "'2020'")),
    Bad("text for a bool field", save(flag="yes"), TypeError, ("Doc.flag", "'yes'")),
    Bad("undeclared value of no DynamoDB type", save(extra=object()), TypeError, ("Doc.extra", "object")),
    Bad("save() of something not a model", lambda e, s: e.save("hello"), TypeError, ("save()", "'hello'")),
    Bad("sync() of a class", lambda e, s: e.sync(Doc), TypeError, ("sync()", "Doc")),
    Bad("incr_ of a text field", sync_after(lambda d: d.incr_(body=1)), TypeError, ("Doc.body",)),
    Bad("incr_ by text", sync_after(lambda d: d.incr_(rank="x")), TypeError, ("Doc.rank", "'x'")),
    Bad(
        "remove_ of a number from a set of text (untyped set)",
        sync_after(lambda d: d.remove_(loose={7})),
        TypeError,
        ("Doc.loose", "remove_", "7"),
    ),
    Bad("failing check=", save(score=-1), ValueError, ("Doc.score", "-1")),
    Bad("too many positional arguments", lambda e, s: Doc("a", 1, 2), TypeError, ("Doc",)),
    # -- numbers ------------------------------------------------------------------------------
    Bad("NaN", save(ratio=float("nan")), ValueError, ("Doc.ratio", "nan")),
    Bad("infinity", save(ratio=float("inf")), ValueError, ("Doc.ratio", "inf")),
    Bad("Decimal infinity", save(price=Decimal("-Infinity")), ValueError, ("Doc.price", "Infinity")),
    Bad("Decimal NaN", save(price=Decimal("NaN")), ValueError, ("Doc.price", "NaN")),
    Bad("NaN in an undeclared attribute", save(extra=float("nan")), ValueError, ("Doc.extra", "nan")),
    Bad("NaN in a number set", save(numbers={1, float("nan")}), ValueError, ("Doc.numbers", "nan")),
    Bad("39 significant digits (Decimal)", save(price=Decimal("1." + "1" * 38)), ValueError, ("Doc.price", "38")),
    Bad("39 significant digits (int)", save(rank=DIGITS_39), ValueError, ("Doc.rank", str(DIGITS_39))),
    Bad("number above 1E+126", save(price=Decimal("1e126")), ValueError, ("Doc.price", "1E+126")),
    Bad("int above 1E+126", save(rank=10**126), ValueError, ("Doc.rank",)),
    Bad("number below 1E-130", save(price=Decimal("1e-131")), ValueError, ("Doc.price", "1E-131")),
    # -- sizes (bytes, not characters) --------------------------------------------------------
    Bad("text over 400 KB in UTF-8", save(body="é" * 210_000), ValueError, ("Doc", "Doc.body", "'éééé")),
    Bad("bytes over 400 KB", save(blob=b"a" * 410_000), ValueError, ("Doc", "Doc.blob", "b'aaaa")),
    Bad(
        "attributes adding up to 400 KB",
        save(body="a" * 150_000, extra="b" * 150_000, more="c" * 150_000),
        ValueError,
        ("Doc", "400 KB"),
    ),
    Bad("hash key over 2048 bytes", save_keys("k" * 2100, 1), ValueError, ("Doc.id", "2,100 bytes", "'kkkk")),
    Bad("hash key over 2048 bytes in UTF-8", save_keys("é" * 1100, 1), ValueError, ("Doc.id", "2,200 bytes")),
    Bad(
        "key over 2048 bytes in get",
        lambda e, s: e.get(Doc, id="k" * 2100, version=1),
        ValueError,
        ("Doc.id", "'kkkk"),
    ),
    Bad(
        "key over 2048 bytes in delete",
        lambda e, s: e.delete([s, Doc("k" * 2100, 1)]),
        ValueError,
        ("Doc.id", "2,100 bytes", "'kkkk"),
    ),
    Bad(
        "key over 2048 bytes in a batch_write delete",
        lambda e, s: batch_delete(e, [Doc("k" * 2100, 1)]),
        ValueError,
        ("Doc.id", "2,100 bytes", "'kkkk"),
    ),
    Bad("document nested 33 deep", save(native=nested(40)), ValueError, ("Doc.native", "32", "{'x'")),
    Bad("undeclared document nested too deep", save(extra=nested(40)), ValueError, ("Doc.extra", "32")),
    # -- keys ---------------------------------------------------------------------------------
    Bad("None hash key", save_keys(None, 1), ValueError, ("Doc.id", "None")),
    Bad("empty hash key", save_keys("", 1), ValueError, ("Doc.id", "''")),
    Bad("None range key", save_keys("k", None), ValueError, ("Doc.version", "None")),
    Bad("text not UTF-8 in a key", save_keys("\udc80", 1), ValueError, ("Doc.id", "'\\udc80'")),
    Bad("empty global index key", save(owner="", rank=1), ValueError, ("Doc.owner", "by-owner", "''")),
    Bad(
        "unknown field in a key dict",
        lambda e, s: e.get(Doc, [{"id": "a", "version": 1, "zzz": 1}]),
        ValueError,
        ("Doc", "zzz"),
    ),
    Bad("key dict missing the range key", lambda e, s: e.get(Doc, [{"id": "a"}]), ValueError, ("Doc.version",)),
    Bad(
        "wrong-typed key value",
        lambda e, s: e.get(Doc, [{"id": "a", "version": "x"}]),
        TypeError,
        ("Doc.version", "'x'"),
    ),
    Bad("empty key in get", lambda e, s: e.get(Doc, id="", version=1), ValueError, ("Doc.id", "''")),
    Bad(
        "unknown field in delete_key",
        lambda e, s: e.delete_key(Doc, id="a", version=1, zzz=2),
        ValueError,
        ("Doc", "zzz"),
    ),
    Bad("plain key for a model with a range key", lambda e, s: e.get(Doc, ["a"]), TypeError, ("Doc", "'a'")),
    Bad("a string where a list of keys goes", lambda e, s: e.get(Doc, "abc"), TypeError, ("'abc'",)),
    Bad("changing the hash key", lambda e, s: setattr(s, "id", "z"), AttributeError, ("Doc.id", "'a'", "'z'")),
    Bad("changing the range key", lambda e, s: setattr(s, "version", 9), AttributeError, ("Doc.version", "9")),
    # -- queries ------------------------------------------------------------------------------
    Bad(
        "consistent read of a global index",
        lambda e, s: e.query(Doc).filter(Doc.owner == "o").index("by-owner").all(consistent=True),
        ValueError,
        ("Doc", "by-owner", "consistent"),
    ),
    Bad(
        "a query no index can serve",
        lambda e, s: e.query(Doc).filter(Doc.body == "x").all(),
        ValueError,
        ("Doc", "hash key"),
    ),
    Bad(
        "a query on the range key alone",
        lambda e, s: e.query(Doc).filter(Doc.version == 1).all(),
        ValueError,
        ("Doc",),
    ),
    Bad(
        "an index that does not exist",
        lambda e, s: e.query(Doc).filter(Doc.id == "a").index("nope").all(),
        ValueError,
        ("Doc", "'nope'"),
    ),
    Bad(
        "a filter value of the wrong type",
        lambda e, s: e.query(Doc).filter(Doc.id == "a", Doc.rank == "x").all(),
        TypeError,
        ("Doc.rank", "'x'"),
    ),
    Bad(
        "an empty hash key in a query",
        lambda e, s: e.query(Doc).filter(Doc.id == "").all(),
        ValueError,
        ("Doc.id", "''"),
    ),
    Bad(
        "an empty global index key in a query",
        lambda e, s: e.query(Doc).filter(Doc.owner == "").index("by-owner").all(),
        ValueError,
        ("Doc.owner", "by-owner", "''"),
    ),
    Bad("None as a query's hash key", lambda e, s: e.query(Doc).filter(id=None).all(), ValueError, ("Doc.id", "None")),
    Bad("in_ with no values", lambda e, s: e.query(Doc).filter(Doc.id == "a", Doc.body.in_([])).all(), ValueError, ("Doc.body", "[]")),
    Bad(
        "a filter the field's type does not support",
        lambda e, s: e.query(Doc).filter(Doc.id == "a", Doc.rank.beginswith_(1)).all(),
        TypeError,
        ("Doc.rank", "beginswith", "1"),
    ),
    Bad(
        "constraints that are not conditions",
        lambda e, s: e.sync(s, constraints=["rank >= 1"]),
        TypeError,
        ("constraints", "'rank >= 1'"),
    ),
    Bad("desc=True on a scan", lambda e, s: e.scan(Doc).all(desc=True), ValueError, ("Doc", "desc")),
    Bad(
        "a negative limit",
        lambda e, s: e.query(Doc).filter(Doc.id == "a").limit(-1).all(),
        ValueError,
        ("-1",),
    ),
    Bad(
        "a cursor from elsewhere",
        lambda e, s: e.query(Doc).filter(Doc.id == "a").page(2, "garbage"),
        InvalidCursorError,
        ("cursor",),
    ),
    Bad(
        "constraints without raise_on_conflict",
        lambda e, s: e.sync(s, raise_on_conflict=False, constraints=[Doc.rank == 1]),
        ValueError,
        ("raise_on_conflict",),
    ),
    # -- table names --------------------------------------------------------------------------
    Bad("namespace with invalid characters", in_namespace(["bad name!"]), ValueError, ("Doc", "'bad name!-Doc'")),
    Bad("namespace making a name over 255", in_namespace(["x" * 260]), ValueError, ("Doc", "255")),
    Bad("default_conflict not a mode", lambda e, s: Engine(default_conflict="bogus"), ValueError, ("'bogus'",)),
]


@pytest.fixture
def bench(engine: Engine, local_server: Any) -> Iterator[tuple[Engine, FaultProxy, Doc, Callable[[], Any]]]:
    """(an engine through a counting proxy, the proxy, a stored Doc loaded through it, a
    function returning the raw table contents)."""
    engine.register(Doc)
    engine.create_schema()
    engine.save(Doc("a", 1, owner="o", rank=1, body="x", tags={"t"}, loose={"l"}))
    table = engine.tablename(Doc)

    def raw_items() -> list[dict[str, Any]]:
        items = engine.dynamo.call("Scan", {"TableName": table, "ConsistentRead": True})["Items"]
        return sorted(items, key=repr)

    with FaultProxy(local_server.endpoint) as proxy:
        counted = Engine(proxy.connect(), namespace=engine.namespace)
        counted.register(Doc)
        stored = counted.get(Doc, id="a", version=1)
        assert stored is not None
        yield counted, proxy, stored, raw_items


def test_the_catalogue_has_at_least_40_entries_all_in_the_docs() -> None:
    assert len(CATALOGUE) >= 40
    assert len({bad.name for bad in CATALOGUE}) == len(CATALOGUE)
    page = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text()
    rows = {line.split("|")[1].strip(): line.split("|")[-2].strip() for line in page.splitlines() if line.startswith("| ")}
    for bad in CATALOGUE:
        assert rows.get(bad.name) == f"`{bad.error.__name__}`", f"{bad.name!r}: docs/errors.md says {rows.get(bad.name)!r}"


@pytest.mark.parametrize("bad", CATALOGUE, ids=[bad.name for bad in CATALOGUE])
def test_bad_input(bad: Bad, bench: tuple[Engine, FaultProxy, Doc, Callable[[], Any]]) -> None:
    engine, proxy, stored, raw_items = bench
    before = raw_items()
    requests = proxy.received
    with pytest.raises(bad.error) as caught:
        bad.action(engine, stored)
    message = str(caught.value)
    for text in bad.mentions:
        assert text in message, f"{text!r} not in {message!r}"
    assert proxy.received == requests, f"{proxy.received - requests} request(s) sent: {proxy.operations}"
    assert raw_items() == before


def test_a_key_repeated_in_a_batch_is_written_once_last_value_winning(
    bench: tuple[Engine, FaultProxy, Doc, Callable[[], Any]],
) -> None:
    """Not an error (CONTRACT.md, Writing): DynamoDB would refuse the batch, flywheel sends
    the key once."""
    engine, proxy, _stored, _raw_items = bench
    requests = proxy.received
    engine.save([Doc("d", 1, body="first"), Doc("d", 1, body="second")])
    assert proxy.operations["BatchWriteItem"] == 1 and proxy.received == requests + 1
    assert engine.get(Doc, id="d", version=1).body == "second"
    assert engine.delete_key(Doc, [{"id": "d", "version": 1}, {"id": "d", "version": 1}]) == 1
    assert engine.get(Doc, id="d", version=1) is None
