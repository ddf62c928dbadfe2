"""Queries and scans over many pages (issue 5): exact counts and limits across 1 MB pages and
filters, resumable pages with cursors (resumed in another process), parallel scans, and
deletes that remove exactly the matches.
"""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flywheel import DynamoDBError, Engine, Field, GlobalIndex, Model
from flywheel.query import InvalidCursorError, Page


class Blob(Model):
    """Big items: 600 of them make about 2.4 MB, three or more 1 MB pages."""

    owner = Field(hash_key=True)
    seq = Field(data_type=int, range_key=True)
    payload = Field()
    wanted = Field(data_type=bool)


WANTED = {260, 270, 520, 599}  # sparse: the first 1 MB page holds none of them


@pytest.fixture
def blobs(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, list[str]]:
    engine.register(Blob)
    engine.create_schema()
    payload = "x" * 4000
    engine.save([Blob("me", seq=i, payload=payload, wanted=i in WANTED) for i in range(600)])
    engine.save(Blob("someone else", seq=1, payload="small", wanted=True))
    operations: list[str] = []
    real_call = engine.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        operations.append(operation)
        return real_call(operation, request)

    monkeypatch.setattr(engine.dynamo, "call", recording_call)
    return engine, operations


def test_counts_limits_and_first_across_pages(blobs: tuple[Engine, list[str]]) -> None:
    engine, operations = blobs
    mine = engine(Blob).filter(owner="me")
    assert mine.count() == 600
    assert len(operations) >= 3  # the data really spans several 1 MB pages
    wanted = mine.filter(Blob.wanted == True)
    assert wanted.count() == 4
    assert [b.seq for b in wanted.limit(3).all()] == [260, 270, 520]
    assert wanted.limit(3).count() == 3
    assert wanted.first().seq == 260  # past a first page that the filter leaves empty
    assert wanted.first(desc=True).seq == 599
    assert [b.seq for b in wanted.all(desc=True)] == sorted(WANTED, reverse=True)
    assert [b.seq for b in mine.all()] == list(range(600))
    assert engine.scan(Blob).count() == 601
    assert engine.scan(Blob).filter(Blob.wanted == True).count() == 5
    assert sorted(b.seq for b in engine.scan(Blob).filter(Blob.seq >= 598).all()) == [598, 599]
    assert len(engine.scan(Blob).filter(Blob.wanted == True).limit(2).all()) == 2
    # gen() reads a page only when the previous one is used up
    operations.clear()
    results = mine.gen()
    assert operations == []
    assert next(results).seq == 0 and len(operations) == 1
    results.close()


def test_query_delete_removes_exactly_the_matches(blobs: tuple[Engine, list[str]]) -> None:
    engine, _ = blobs
    deleted = engine(Blob).filter(Blob.owner == "me", Blob.wanted == True).delete()
    assert deleted == 4
    remaining = [row["seq"] for row in engine(Blob).filter(owner="me").all(attributes=["seq"])]
    assert remaining == [i for i in range(600) if i not in WANTED]
    assert engine(Blob).filter(Blob.owner == "me", Blob.seq < 10).limit(4).delete() == 4
    assert engine(Blob).filter(owner="me").first().seq == 4
    assert engine.get(Blob, owner="someone else", seq=1) is not None


def test_scan_delete_removes_exactly_the_matches(blobs: tuple[Engine, list[str]]) -> None:
    engine, _ = blobs
    assert engine.scan(Blob).filter(Blob.seq.between_(100, 199)).delete(segments=4) == 100
    assert engine.scan(Blob).filter(Blob.wanted == True).delete() == 5
    remaining = sorted(row["seq"] for row in engine.scan(Blob).all(attributes=["seq"]))
    assert remaining == [i for i in range(600) if not 100 <= i <= 199 and i not in WANTED]


# -- pages and cursors ---------------------------------------------------------------------
class Event(Model):
    """Binary range key, a local and a global index: cursors hold B values and index keys."""

    __metadata__ = {"global_indexes": [GlobalIndex.all("kind-index", "kind", "at")]}  # noqa: RUF012
    stream = Field(hash_key=True)
    token = Field(data_type=bytes, range_key=True)
    at = Field(data_type=int).all_index("at-index")
    kind = Field()
    mod3 = Field(data_type=int)


def _event(i: int) -> Event:
    # 'at' repeats, so index keys are not unique and the cursor needs the table key too
    return Event("s1", bytes([i, 255 - i]), at=i // 2, kind="k" if i % 4 else "z", mod3=i % 3)


@pytest.fixture
def events(engine: Engine) -> Engine:
    engine.register(Event)
    engine.create_schema()
    engine.save([_event(i) for i in range(50)])
    return engine


def _read_in_pages(make_page: Any, size: int) -> list[Page[Any]]:
    pages = [make_page(size, None)]
    while pages[-1].cursor is not None:
        assert len(pages) < 100
        pages.append(make_page(size, pages[-1].cursor))
    return pages


def test_pages_hold_exactly_size_matches(events: Engine) -> None:
    query = events(Event).filter(Event.stream == "s1", Event.mod3 == 0)  # 17 of 50 match
    pages = _read_in_pages(lambda size, cursor: query.page(size, cursor), 5)
    assert [len(page) for page in pages] == [5, 5, 5, 2]
    assert pages[-1].cursor is None and not pages[-1].has_more and pages[0].has_more
    everything = [e.token for page in pages for e in page]
    assert everything == [e.token for e in query.all()]
    # descending, and without a filter (DynamoDB's Limit does the work)
    backwards = events(Event).filter(stream="s1")
    pages = _read_in_pages(lambda size, cursor: backwards.page(size, cursor, desc=True), 10)
    assert [len(page) for page in pages] == [10, 10, 10, 10, 10]  # no empty page at the end
    assert [e.token for page in pages for e in page] == [e.token for e in backwards.all(desc=True)]
    for cursor in (p.cursor for p in pages if p.cursor):
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe, no padding


@pytest.mark.parametrize(
    "read",
    [
        "local index",
        "global index",
        "global index, attributes",
        "scan",
        "scan of a global index",
    ],
)
def test_pages_on_indexes_and_scans(events: Engine, read: str) -> None:
    attributes = ["mod3"] if "attributes" in read else None
    if read == "local index":
        query: Any = events(Event).filter(Event.stream == "s1", Event.at >= 5)
    elif read.startswith("global index"):
        query = events(Event).filter(Event.kind == "k", Event.at < 20)
    elif read == "scan":
        query = events.scan(Event).filter(Event.mod3 != 1)
    else:
        query = events.scan(Event).index("kind-index")
    pages = _read_in_pages(lambda size, cursor: query.page(size, cursor, attributes=attributes), 7)
    every = query.all(attributes=attributes)
    assert all(len(page) == 7 for page in pages[:-1]) and len(pages[-1]) <= 7
    paged = [item for page in pages for item in page]
    if attributes is not None:  # the key was read to build the cursor, and is not returned
        assert all(set(row) == {"mod3"} for row in paged)
        assert sorted(r["mod3"] for r in paged) == sorted(r["mod3"] for r in every)
    elif read.startswith("scan"):
        assert sorted(e.token for e in paged) == sorted(e.token for e in every)
        assert len(paged) == len({e.token for e in paged})
    else:
        assert [e.token for e in paged] == [e.token for e in every]


def test_cursor_resumes_in_a_fresh_engine_in_another_process(
    events: Engine, local_server: Any
) -> None:
    query = events(Event).filter(Event.stream == "s1", Event.mod3 == 0)
    first = query.page(4)
    second = query.page(4, first.cursor)
    program = f"""
import json, sys
from flywheel import Engine, Field, GlobalIndex, Model

class Event(Model):
    __metadata__ = {{"global_indexes": [GlobalIndex.all("kind-index", "kind", "at")]}}
    stream = Field(hash_key=True)
    token = Field(data_type=bytes, range_key=True)
    at = Field(data_type=int).all_index("at-index")
    kind = Field()
    mod3 = Field(data_type=int)

engine = Engine(namespace={list(events.namespace)!r})
engine.connect_to_host(host={local_server.host!r}, port={local_server.port!r})
page = engine(Event).filter(Event.stream == "s1", Event.mod3 == 0).page(4, sys.argv[1])
print(json.dumps({{"tokens": [e.token.hex() for e in page], "cursor": page.cursor}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", program, first.cursor or ""],
        capture_output=True, text=True, timeout=120, check=True,
    )
    resumed = json.loads(done.stdout)
    assert resumed["tokens"] == [e.token.hex() for e in second]
    assert resumed["cursor"] == second.cursor


def test_invalid_cursors_are_refused(events: Engine) -> None:
    query = events(Event).filter(stream="s1")
    cursor = query.page(3).cursor
    assert cursor is not None
    document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert document["k"]["token"][0] == "B"  # plain JSON: a binary key is base64 text
    with pytest.raises(InvalidCursorError, match="descending"):
        query.page(3, cursor, desc=True)
    with pytest.raises(InvalidCursorError, match="at-index"):
        query.index("at-index").page(3, cursor)
    with pytest.raises(InvalidCursorError, match="scan"):
        events.scan(Event).page(3, cursor)

    def forged(**changes: Any) -> str:
        text = json.dumps({**document, **changes}).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    for bad in (
        "",
        "not a cursor!",
        "x" * 20_000,
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        forged(v=2),
        forged(k={"stream": ["S", "s1"]}),
        forged(k={"stream": ["S", "s1"], "token": ["B", "***"]}),
        forged(k={"stream": ["SS", ["s1"]], "token": ["B", ""]}),
        forged(k={"stream": {"S": "s1"}, "token": ["B", ""]}),
    ):
        with pytest.raises(InvalidCursorError):
            query.page(3, bad)
    with pytest.raises(InvalidCursorError):
        query.page(3, 12)  # type: ignore[arg-type]
    assert issubclass(InvalidCursorError, ValueError)
    with pytest.raises(ValueError, match="at least 1"):
        query.page(0)
    with pytest.raises(ValueError, match="limit"):
        query.limit(3).page(3)


# -- parallel scans ------------------------------------------------------------------------
class Dot(Model):
    x = Field(data_type=int, hash_key=True)
    even = Field(data_type=bool)


ITEMS = 5000


@pytest.fixture(scope="module")
def dots(dynamo: Any) -> Iterator[Engine]:
    engine = Engine(namespace=[f"test-{uuid.uuid4().hex[:8]}"])
    engine.connect(dynamo)
    engine.register(Dot)
    engine.create_schema()
    try:
        engine.save([Dot(i, even=i % 2 == 0) for i in range(ITEMS)])
        yield engine
    finally:
        engine.delete_schema()


def _scan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("flywheel-scan")]


@pytest.mark.parametrize("segments", [1, 7, 32])
def test_parallel_scan_returns_every_item_once(dots: Engine, segments: int) -> None:
    seen = Counter(dot.x for dot in dots.scan(Dot).gen(segments=segments))
    assert len(seen) == ITEMS and set(seen.values()) == {1}
    assert set(seen) == set(range(ITEMS))
    assert not _scan_threads()


def test_parallel_all_count_and_limit(dots: Engine) -> None:
    evens = dots.scan(Dot).filter(Dot.even == True)
    rows = evens.all(segments=4, attributes=["x"])
    assert sorted(row["x"] for row in rows) == list(range(0, ITEMS, 2))
    assert dots.scan(Dot).count(segments=5) == ITEMS
    assert evens.count(segments=3) == ITEMS // 2
    limited = evens.limit(10).all(segments=4)
    assert len(limited) == 10 and all(dot.even for dot in limited)
    assert evens.limit(10).count(segments=4) == 10
    assert not _scan_threads()


def test_stopping_a_parallel_scan_early_stops_its_threads(dots: Engine) -> None:
    results = dots.scan(Dot).gen(segments=6)
    first = next(results)
    assert isinstance(first, Dot) and _scan_threads()
    results.close()
    assert not _scan_threads()
    for count, _ in enumerate(dots.scan(Dot).gen(segments=4), 1):
        if count == 5:
            break
    assert not _scan_threads()


def test_a_failing_segment_raises_in_the_caller(dots: Engine) -> None:
    missing = Engine(namespace=["no-such-namespace"])
    missing.connect(dots.dynamo)
    with pytest.raises(DynamoDBError, match="no-such-namespace"):
        missing.scan(Dot).all(segments=4)
    assert not _scan_threads()
    with pytest.raises(ValueError, match="segments"):
        dots.scan(Dot).all(segments=0)
    with pytest.raises(TypeError, match="segments"):
        dots.scan(Dot).count(segments="4")  # type: ignore[arg-type]
