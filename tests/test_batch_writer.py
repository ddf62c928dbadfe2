"""engine.batch_write(): objects checked as they are given and written in batches of 25 while
the caller goes on, against the local server; then, against a scripted server
(fault_server.py), what no real server can be asked for: a batch failing mid-stream, the bound
on what waits to be sent, and the order of two writes to one key.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fault_server import FaultServer, Reply, error, ok
from helpers import stored

from flywheel import Engine, Field, Model
from flywheel.exceptions import BatchWriteError, CheckFailed


class Row(Model):
    id = Field(data_type=int, hash_key=True)
    text = Field()
    n = Field(data_type=int, default=0)

    def post_save_(self) -> None:
        self.__dict__["saved_calls"] = self.__dict__.get("saved_calls", 0) + 1


class Other(Model):
    name = Field(hash_key=True)
    tags = Field(data_type=set)


@pytest.fixture
def sent(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The operations sent through the engine's connection, in order."""
    operations: list[str] = []
    real_call = tables.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        operations.append(operation)
        return real_call(operation, request)

    monkeypatch.setattr(tables.dynamo, "call", recording_call)
    yield operations


def all_ids(engine: Engine) -> list[int]:
    return sorted(row.id for row in engine.scan(Row).all())


def test_batch_write_stores_every_object_and_marks_it_saved(tables: Engine) -> None:
    rows = [Row(i, text=f"row {i}", n=i * 3) for i in range(260)]
    others = [Other(f"o{i}", tags={"a", f"t{i}"}) for i in range(30)]
    with tables.batch_write() as batch:
        for row in rows:
            batch.save(row)
        batch.save(others)
    assert all_ids(tables) == list(range(260))
    assert sorted(o.name for o in tables.scan(Other).all()) == sorted(o.name for o in others)
    assert tables.get(Row, id=259).n == 777
    assert tables.get(Other, name="o7").tags == {"a", "t7"}
    for obj in [*rows, *others]:
        assert obj.persisted_ and not obj.__dict__["__dirty__"]
    assert all(row.__dict__["saved_calls"] == 1 for row in rows)
    # a saved object syncs only what changes next
    rows[5].text = "changed"
    rows[5].sync()
    assert stored(tables, Row, id=5)["text"] == {"S": "changed"}


def test_batches_go_out_while_objects_are_still_being_given(tables: Engine, sent: list[str]) -> None:
    with tables.batch_write() as batch:
        for i in range(100):
            batch.save(Row(i, text="x"))
        # still inside the block: the first three full batches at least are on their way
        deadline = time.monotonic() + 10
        while len(all_ids(tables)) < 75 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(all_ids(tables)) >= 75
    assert sent.count("BatchWriteItem") == 4
    assert all_ids(tables) == list(range(100))


def test_a_bad_object_raises_when_given_naming_model_field_and_value(tables: Engine) -> None:
    good = [Row(i, text="ok") for i in range(30)]
    with pytest.raises(TypeError) as caught:
        with tables.batch_write() as batch:
            batch.save(good)
            batch.save(Row(99, n="many"))  # type: ignore[arg-type]
    assert "Row.n" in str(caught.value) and "'many'" in str(caught.value)
    # what was given before the error was accepted: it is written, and the objects know it
    assert all_ids(tables) == list(range(30))
    assert all(row.persisted_ for row in good)


def test_an_empty_key_raises_before_anything_of_it_is_sent(tables: Engine) -> None:
    with tables.batch_write() as batch:
        batch.save(Other("fine"))
        with pytest.raises(ValueError, match="Other.name"):
            batch.save(Other(""))
    assert [o.name for o in tables.scan(Other).all()] == ["fine"]


def test_writes_to_one_key_land_in_the_order_given(tables: Engine) -> None:
    first, second = Row(7, text="first"), Row(7, text="second")
    gone = Row(8, text="soon deleted")
    with tables.batch_write() as batch:
        batch.save(first)
        batch.save(gone)
        batch.save([Row(i) for i in range(100, 160)])  # first and gone are sent meanwhile
        batch.save(second)
        batch.delete(gone)
    assert stored(tables, Row, id=7)["text"] == {"S": "second"}
    assert stored(tables, Row, id=8) is None
    assert first.persisted_ and second.persisted_
    assert not gone.persisted_


def test_batch_delete_of_objects(tables: Engine) -> None:
    rows = [Row(i) for i in range(60)]
    tables.save(rows)
    with tables.batch_write() as batch:
        batch.delete(rows[:45])
    assert all_ids(tables) == list(range(45, 60))
    assert not any(row.persisted_ for row in rows[:45])
    assert all(row.persisted_ for row in rows[45:])


def test_batch_write_takes_only_model_objects(tables: Engine) -> None:
    with tables.batch_write() as batch:
        with pytest.raises(TypeError, match="save\\(\\) takes model objects"):
            batch.save({"id": 1})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="delete\\(\\) takes model objects"):
            batch.delete(Row)  # type: ignore[arg-type]
    assert all_ids(tables) == []


class Hooked(Model):
    """post_save_ raises for ids in ``refuse``."""

    refuse: set[int] = set()
    id = Field(data_type=int, hash_key=True)
    v = Field()

    def post_save_(self) -> None:
        if self.id in self.refuse:
            raise RuntimeError(f"hook refused {self.id}")


def test_a_post_save_hook_that_raises_leaves_the_writer_whole(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook's error reaches the caller only once every confirmed object of the call is
    marked; every write is stored, and the writer goes on accepting and sending."""
    monkeypatch.setattr(Hooked, "refuse", {10, 40})
    objs = [Hooked(i, v="a") for i in range(80)]
    raised: list[str] = []
    with tables.batch_write() as batch:
        for obj in objs:
            try:
                batch.save(obj)
            except RuntimeError as exc:
                raised.append(str(exc))
        # keys whose first write was confirmed take a second write, which must land; a hook
        # error in the middle of a list does not cut the list short
        for step in (lambda: batch.save([Hooked(i, v="b") for i in range(60)]), batch.flush):
            try:
                step()
            except RuntimeError as exc:
                raised.append(str(exc))
    assert raised and all("hook refused" in message for message in raised)
    assert sorted(h.id for h in tables.scan(Hooked).all() if h.v == "b") == list(range(60))
    assert sorted(h.id for h in tables.scan(Hooked).all() if h.v == "a") == list(range(60, 80))
    assert all(obj.persisted_ for obj in objs)  # the refused ones too: they were stored


def test_a_hook_that_raises_at_the_end_still_lets_every_table_be_written(
    tables: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Hooked, "refuse", {3})
    with pytest.raises(RuntimeError, match="hook refused 3"):
        with tables.batch_write() as batch:
            batch.save([Hooked(i, v="x") for i in range(10)])
            batch.save([Row(i) for i in range(10)])
    assert len(tables.scan(Hooked).all()) == 10
    assert all_ids(tables) == list(range(10))


def test_an_object_whose_write_was_replaced_is_not_marked_saved(tables: Engine) -> None:
    """Two objects for one key given before the first was sent: only the second is written;
    the first stays unsaved, so its later sync is checked against what is stored, instead
    of silently writing over the second object's item."""
    tables.save(Row(1, text="stored"))
    loaded = tables.get(Row, id=1)
    first, second = Row(2, text="first"), Row(2, text="second")
    with tables.batch_write() as batch:
        batch.delete(loaded)
        batch.save(Row(1, text="new"))
        batch.save(first)
        batch.save(second)
    assert stored(tables, Row, id=1)["text"] == {"S": "new"}
    assert stored(tables, Row, id=2)["text"] == {"S": "second"}
    assert loaded.persisted_  # its delete was replaced by the save: nothing told it it is gone
    assert not first.persisted_ and second.persisted_
    first.text = "first again"
    with pytest.raises(CheckFailed):
        tables.sync(first)  # it never saw the stored item: a conflict, not an overwrite
    assert stored(tables, Row, id=2)["text"] == {"S": "second"}


def test_one_writer_shared_by_threads_writes_everything(tables: Engine) -> None:
    objs = [[Row(t * 1000 + i, text=f"t{t}") for i in range(150)] for t in range(8)]
    failures: list[BaseException] = []
    with tables.batch_write() as batch:

        def work(rows: list[Row]) -> None:
            try:
                for row in rows:
                    batch.save(row)
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(rows,)) for rows in objs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert all_ids(tables) == sorted(row.id for rows in objs for row in rows)
    assert all(row.persisted_ for rows in objs for row in rows)


def test_batch_write_and_list_calls_take_any_iterable(tables: Engine) -> None:
    with tables.batch_write() as batch:
        batch.save(Row(i) for i in range(30))
    tables.save(Row(i) for i in range(30, 40))
    assert all_ids(tables) == list(range(40))
    rows = tables.scan(Row).all()
    tables.delete(row for row in rows if row.id % 2)
    assert all_ids(tables) == list(range(0, 40, 2))


def test_a_writer_dropped_with_writes_unsent_warns(tables: Engine) -> None:
    batch = tables.batch_write()
    batch.save([Row(1), Row(2)])
    with pytest.warns(ResourceWarning, match="dropped with 2 writes not sent"):
        del batch  # at once, not at some later garbage collection
    assert all_ids(tables) == []


class Audited(Model):
    """post_save_ gives an Audit row to the writer in ``writer``."""

    writer: list[Any] = []
    id = Field(data_type=int, hash_key=True)

    def post_save_(self) -> None:
        self.writer[0].save(Audit(self.id))


class Audit(Model):
    id = Field(data_type=int, hash_key=True)




def test_writes_a_hook_gives_while_the_block_ends_are_sent_too(
    tables: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tables.batch_write() as batch:
        monkeypatch.setattr(Audited, "writer", [batch])
        batch.save([Audited(i) for i in range(30)])
    assert sorted(a.id for a in tables.scan(Audit).all()) == list(range(30))


def test_a_writer_refuses_use_after_its_block(tables: Engine) -> None:
    with tables.batch_write() as batch:
        batch.save(Row(1))
    with pytest.raises(RuntimeError, match="block has ended"):
        batch.save([Row(i) for i in range(100, 140)])
    assert all_ids(tables) == [1]


def test_changes_made_after_an_object_was_given_stay_pending(tables: Engine, elsewhere: Engine) -> None:
    """The item as given is what is stored; an incr_ / add_ made after giving the object
    (before its write was confirmed) is still to be synced, atomically."""
    tables.save([Row(1, n=10), Other("o", tags={"a"})])
    loaded, other = tables.get(Row, id=1), tables.get(Other, name="o")
    loaded.incr_(n=1)  # pending when given: part of the item written
    fresh = Row(2)
    with tables.batch_write() as batch:
        batch.save([loaded, fresh, other])
        loaded.incr_(n=2)
        fresh.incr_(n=5)
        other.add_(tags="b")
    assert stored(tables, Row, id=1)["n"] == {"N": "11"}
    assert stored(tables, Row, id=2)["n"] == {"N": "0"}
    assert loaded.persisted_ and (loaded.n, fresh.n) == (13, 5)
    theirs = elsewhere.get(Row, id=1), elsewhere.get(Row, id=2)
    for row in theirs:
        row.incr_(n=100)
    elsewhere.sync(list(theirs))
    tables.sync([loaded, fresh, other], raise_on_conflict=False)
    assert stored(tables, Row, id=1)["n"] == {"N": "113"}  # 11 + 100 + 2: both increments count
    assert stored(tables, Row, id=2)["n"] == {"N": "105"}
    assert sorted(stored(tables, Other, name="o")["tags"]["SS"]) == ["a", "b"]


def test_pending_changes_a_list_save_wrote_are_done(tables: Engine) -> None:
    tables.save(Other("o", tags={"a"}))
    row = Row(1, n=100)
    tables.save(row)
    other = tables.get(Other, name="o")
    row.incr_(n=5)
    other.add_(tags="x")
    tables.save([row, other, Row(2)])
    assert stored(tables, Row, id=1)["n"] == {"N": "105"}
    for obj in (row, other):
        assert obj.__dict__["__incrs__"] == {}
    row.incr_(n=1)
    row.sync()
    assert stored(tables, Row, id=1)["n"] == {"N": "106"}


def test_an_object_given_twice_with_an_increment_between_ends_with_nothing_pending(
    tables: Engine,
) -> None:
    row = Row(1, n=100)
    tables.save(row)
    row.incr_(n=5)
    with tables.batch_write() as batch:
        batch.save(row)
        batch.save([Row(i) for i in range(100, 124)])  # the batch holding row goes out
        row.incr_(n=3)
        batch.save(row)  # waits for the first write of its key, then goes out too
    assert stored(tables, Row, id=1)["n"] == {"N": "108"}
    assert row.__dict__["__incrs__"] == {} and row.n == 108
    row.incr_(n=2)
    row.sync()
    assert stored(tables, Row, id=1)["n"] == {"N": "110"}


def test_a_list_save_with_a_key_twice_writes_it_once(tables: Engine, sent: list[str]) -> None:
    """The earlier object of a repeated key is neither sent nor marked saved, even when 25
    writes separate the two."""
    first, last = Row(1, text="first"), Row(1, text="last")
    tables.save([first, *(Row(i) for i in range(100, 140)), last])
    assert stored(tables, Row, id=1)["text"] == {"S": "last"}
    assert not first.persisted_ and last.persisted_
    assert sent.count("BatchWriteItem") == 2  # 41 distinct keys


def test_a_hook_error_does_not_cut_a_one_by_one_save_or_sync_short(
    tables: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Hooked, "refuse", {1})
    objs = [Hooked(i, v="a") for i in range(4)]
    with pytest.raises(RuntimeError, match="hook refused 1"):
        tables.save(objs, overwrite=False)
    assert sorted(h.id for h in tables.scan(Hooked).all()) == [0, 1, 2, 3]
    assert all(obj.persisted_ for obj in objs)
    for obj in objs:
        obj.v = "b"
    with pytest.raises(RuntimeError, match="hook refused 1"):
        tables.sync(objs)
    assert {h.v for h in tables.scan(Hooked).all()} == {"b"}
    assert all(obj.cached_("v") == "b" for obj in objs)  # each object loaded its item


class LoadHooked(Model):
    """post_load_ raises for ids in ``refuse``."""

    refuse: set[str] = set()
    id = Field(hash_key=True)
    tags = Field(data_type=set)
    n = Field(data_type=int, default=0)

    def post_load_(self, engine: Any) -> None:
        if self.id in self.refuse:
            raise RuntimeError(f"load hook refused {self.id}")


def test_a_load_hook_error_does_not_cut_a_list_sync_short_nor_drop_set_removals(
    tables: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = LoadHooked("a", tags={"b", "c"}), LoadHooked("b")
    tables.save([a, b])
    monkeypatch.setattr(LoadHooked, "refuse", {"a"})
    a.add_(tags="a")
    a.remove_(tags="b")  # a set given add_ and remove_ takes a second update for removals
    b.incr_(n=1)
    with pytest.raises(RuntimeError, match="load hook refused a"):
        tables.sync([a, b])
    assert stored(tables, LoadHooked, id="a")["tags"]["SS"] in (["a", "c"], ["c", "a"])
    assert stored(tables, LoadHooked, id="b")["n"] == {"N": "1"}
    assert a.tags == {"a", "c"} and a.__dict__["__incrs__"] == {} and b.n == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11+")
def test_a_hook_error_while_the_block_raised_is_noted_on_the_blocks_error(
    tables: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Hooked, "refuse", {2})
    with pytest.raises(LookupError) as caught:
        with tables.batch_write() as batch:
            batch.save([Hooked(i) for i in range(5)])
            raise LookupError("the block's own error")
    assert any("hook refused 2" in note for note in caught.value.__notes__)
    assert len(tables.scan(Hooked).all()) == 5


# -- scripted server ------------------------------------------------------------------------
class Pair(Model):
    __metadata__ = {"_name": "pair"}
    id = Field(data_type=int, hash_key=True)
    v = Field()


TABLE = "t-pair"


def engine_on(server: FaultServer, concurrency: int = 4) -> Engine:
    engine = Engine(namespace=["t"])
    engine.register(Pair)
    engine.connect(server.connect(batch_concurrency=concurrency))
    return engine


def ids(requests: list[dict[str, Any]]) -> list[int]:
    return [int(r["PutRequest"]["Item"]["id"]["N"]) for r in requests]


def test_a_failing_batch_stops_the_stream_and_says_what_was_written() -> None:
    written: list[int] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"][TABLE]
        if 60 in ids(requests):
            return error("ValidationException", "bad item")
        time.sleep(0.01)
        with lock:
            written.extend(ids(requests))
        return ok({})

    pairs = [Pair(i, v=str(i)) for i in range(1000)]
    given = 0
    with FaultServer(answer) as server:
        engine = engine_on(server)
        with pytest.raises(BatchWriteError) as caught:
            with engine.batch_write() as batch:
                for pair in pairs:
                    batch.save(pair)
                    given += 1
        sent = len(server.requests)
        with pytest.raises(RuntimeError, match="stopped at an error"):
            batch.save(Pair(5000))
        assert len(server.requests) == sent  # nothing more was sent
    error_ = caught.value
    assert error_.code == "ValidationException"
    assert given < 400  # it raised from save(), long before the end
    assert set(range(50, 75)) <= set(ids(error_.unprocessed))
    # every object given is either confirmed (and saved) or listed as not written
    assert sorted(written) == sorted(p.id for p in pairs[:given] if p.persisted_)
    assert sorted([*written, *ids(error_.unprocessed)]) == list(range(given + 1))
    assert not any(p.persisted_ for p in pairs[given:])
    assert f"{len(written)} of {given + 1} requests written" in str(error_)


def test_what_waits_to_be_sent_stays_under_a_few_batches() -> None:
    """A stream of 2,000 objects never has more than the batches in flight and two more
    given but unsent: memory stays bounded however long the stream."""
    given = 0
    ahead: list[int] = []  # at each request: objects given minus objects the server has seen
    seen = 0
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        nonlocal seen
        with lock:
            seen += len(body["RequestItems"][TABLE])
            ahead.append(given - seen)
        time.sleep(0.005)
        return ok({})

    with FaultServer(answer) as server:
        with engine_on(server, concurrency=3).batch_write() as batch:
            for i in range(2000):
                batch.save(Pair(i))
                with lock:
                    given += 1
    assert seen == 2000
    assert max(ahead) <= 25 * (3 + 2)


def test_a_key_in_flight_is_written_again_only_after_its_batch_is_answered() -> None:
    spans: list[tuple[float, float, dict[int, str]]] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        start = time.monotonic()
        time.sleep(0.05)
        values = {int(r["PutRequest"]["Item"]["id"]["N"]): r["PutRequest"]["Item"]["v"]["S"]
                  for r in body["RequestItems"][TABLE]}
        with lock:
            spans.append((start, time.monotonic(), values))
        return ok({})

    with FaultServer(answer) as server:
        with engine_on(server).batch_write() as batch:
            for round_ in ("old", "new"):
                for i in range(50):
                    batch.save(Pair(i, v=f"{round_} {i}"))
    for i in range(50):
        ((old_end,),) = [[end for _, end, values in spans if values.get(i) == f"old {i}"]]
        ((new_start,),) = [[start for start, _, values in spans if values.get(i) == f"new {i}"]]
        assert new_start >= old_end, i
    assert len(spans) >= 4  # the new writes waited for their keys only, not for every batch


def test_a_key_handed_back_unprocessed_is_replaced_by_its_newer_write() -> None:
    """DynamoDB hands key 3 back unprocessed while a newer write of key 3 waits: the newer
    one is what gets written, and the older is never sent after it."""
    writes_of_3: list[str] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"][TABLE]
        with lock:
            writes_of_3.extend(r["PutRequest"]["Item"]["v"]["S"] for r in requests if ids([r]) == [3])
            first = number == 0
        time.sleep(0.02)
        leftover = [r for r in requests if first and ids([r]) == [3]]
        return ok({"UnprocessedItems": {TABLE: leftover} if leftover else {}})

    first, second = Pair(3, v="first"), Pair(3, v="second")
    with FaultServer(answer) as server:
        with engine_on(server).batch_write() as batch:
            batch.save([Pair(i, v="x") for i in range(25) if i != 3] + [first])
            batch.save(second)
    assert writes_of_3[0] == "first" and writes_of_3[-1] == "second"
    assert writes_of_3.count("second") == 1 and len(writes_of_3) == 2
    # first's write was replaced before it landed: first is left as it was, not saved
    assert not first.persisted_ and second.persisted_
    assert second.__dict__["__cache__"]["v"] == {"S": "second"}


@pytest.mark.parametrize("call", ["save", "delete"])
def test_a_list_save_or_delete_that_stops_lists_every_write_not_done(call: str) -> None:
    """engine.save(list) / delete(list) prepare everything first: when a batch fails, the
    error accounts for all of it, including what was never handed to the sender."""
    written: list[int] = []
    lock = threading.Lock()

    def key_ids(requests: list[dict[str, Any]]) -> list[int]:
        return [int(next(iter(r.values()))[("Item" if "PutRequest" in r else "Key")]["id"]["N"]) for r in requests]

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"][TABLE]
        if 60 in key_ids(requests):
            return error("ValidationException", "bad item")
        time.sleep(0.01)
        with lock:
            written.extend(key_ids(requests))
        return ok({})

    pairs = [Pair(i, v="x") for i in range(600)]
    with FaultServer(answer) as server:
        engine = engine_on(server)
        with pytest.raises(BatchWriteError) as caught:
            getattr(engine, call)(pairs)
    error_ = caught.value
    assert sorted(key_ids(error_.written)) == sorted(written)
    assert sorted(key_ids(error_.written) + key_ids(error_.unprocessed)) == list(range(600))
    assert f"{len(written)} of 600 requests written, {600 - len(written)} not" in str(error_)
    if call == "save":
        assert sorted(p.id for p in pairs if p.persisted_) == sorted(written)


def test_an_interrupted_block_sends_nothing_more_and_the_writer_refuses_use() -> None:
    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        time.sleep(0.01)
        return ok({})

    pairs = [Pair(i) for i in range(200)]
    with FaultServer(answer) as server:
        engine = engine_on(server)
        with pytest.raises(KeyboardInterrupt):
            with engine.batch_write() as batch:
                for pair in pairs[:110]:
                    batch.save(pair)
                raise KeyboardInterrupt
        sent = sum(len(body["RequestItems"][TABLE]) for _, body in server.requests)
        with pytest.raises(RuntimeError, match="stopped at an interruption"):
            batch.save(pairs[150])
        time.sleep(0.05)
        assert sum(len(body["RequestItems"][TABLE]) for _, body in server.requests) == sent
    # what the server confirmed is marked; the 10 queued but unsent are not
    assert sum(p.persisted_ for p in pairs) == sent <= 100


def test_a_failure_on_one_table_stops_every_table_and_counts_all_of_them() -> None:
    """engine.save(list) of two models: a batch of one table fails; the error's written and
    unprocessed cover both tables, and nothing more is sent to either."""

    class Second(Model):
        __metadata__ = {"_name": "second"}
        id = Field(data_type=int, hash_key=True)

    written: list[tuple[str, int]] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        ((table, requests),) = body["RequestItems"].items()
        keys = [int(r["PutRequest"]["Item"]["id"]["N"]) for r in requests]
        if table == TABLE and 260 in keys:
            return error("ValidationException", "bad item")
        time.sleep(0.005)
        with lock:
            written.extend((table, k) for k in keys)
        return ok({})

    objs: list[Model] = []
    for i in range(300):
        objs.extend([Second(i), Pair(i)])
    with FaultServer(answer) as server:
        engine = engine_on(server)
        engine.register(Second)
        with pytest.raises(BatchWriteError) as caught:
            engine.save(objs)
    error_ = caught.value

    assert len(error_.written) == len(written)
    assert len(error_.written) + len(error_.unprocessed) == 600
    assert f"{len(written)} of 600 requests written, {600 - len(written)} not" in str(error_)
    assert sum(obj.persisted_ for obj in objs) == len(written)
    assert {table for table, _ in written} == {"t-pair", "t-second"}


class Interrupting(Model):
    """post_save_ raises KeyboardInterrupt for the id in ``at`` (as Ctrl-C would, there)."""

    __metadata__ = {"_name": "pair"}
    at: list[int] = []
    id = Field(data_type=int, hash_key=True)
    v = Field()

    def post_save_(self) -> None:
        if self.id in self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["in a call", "while the block ends"])
def test_an_interruption_inside_the_writer_stops_it_and_marks_what_landed(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_ids: list[int] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        time.sleep(0.005)
        with lock:
            stored_ids.extend(ids(body["RequestItems"][TABLE]))
        return ok({})

    objs = [Interrupting(i, v="x") for i in range(90)]
    monkeypatch.setattr(Interrupting, "at", [3] if where == "in a call" else [80])
    with FaultServer(answer) as server:
        engine = Engine(namespace=["t"])
        engine.register(Interrupting)
        engine.connect(server.connect())
        with pytest.raises(KeyboardInterrupt):
            with engine.batch_write() as batch:
                for obj in objs:
                    batch.save(obj)
        sent = len(server.requests)
        with pytest.raises(RuntimeError, match="stopped at an interruption"):
            batch.save(Interrupting(500))
        time.sleep(0.05)
        assert len(server.requests) == sent
    # exactly the objects whose writes landed are marked saved
    assert sorted(obj.id for obj in objs if obj.persisted_) == sorted(stored_ids)
    if where == "in a call":
        assert len(stored_ids) < 90


MODELS = (Row, Other, Hooked, Audited, Audit, LoadHooked)  # the tables fixture creates these
