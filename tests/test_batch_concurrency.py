"""Batch writes and gets sent several at a time (DynamoDBConnection.batch_concurrency).

A scripted loopback server (fault_server.py) counts how many requests it holds at once and
fails chosen batches, so these tests see what no real server can be asked for: the overlap
itself, and a failure while other batches are in flight. What the caller observes must not
depend on the overlap: every request is reported written or not written, exactly.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fault_server import FaultServer, Reply, error, ok

from flywheel import Engine, Field, Model
from flywheel.connection import DynamoDBConnection
from flywheel.exceptions import BatchWriteError


def put(number: int) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"id": {"N": str(number)}, "v": {"S": f"value {number}"}}}}


def ids(requests: list[dict[str, Any]]) -> list[int]:
    return [int(r["PutRequest"]["Item"]["id"]["N"]) for r in requests]


class Overlap:
    """A script wrapper that holds each request a moment and records the most held at once."""

    def __init__(self, answer: Any, hold: float = 0.03) -> None:
        self.answer = answer
        self.hold = hold
        self.current = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, number: int, operation: str, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.current += 1
            self.most = max(self.most, self.current)
        time.sleep(self.hold)
        with self.lock:
            self.current -= 1
        reply: Reply = self.answer(number, operation, body)
        return reply


def write_all(written: list[int]) -> Any:
    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        written.extend(ids(body["RequestItems"]["t"]))
        return ok({})

    return answer


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_batches_overlap_up_to_the_bound(concurrency: int) -> None:
    written: list[int] = []
    overlap = Overlap(write_all(written))
    with FaultServer(overlap) as server:
        server.connect(batch_concurrency=concurrency).batch_write("t", [put(i) for i in range(250)], ["id"])
        sizes = [len(body["RequestItems"]["t"]) for _, body in server.requests]
    assert sorted(written) == list(range(250))
    assert sizes == [25] * 10
    assert overlap.most == concurrency


def test_the_first_batch_goes_alone() -> None:
    """A call that fails at once (a missing table) fails after one request, not several."""
    with FaultServer(lambda n, op, body: error("ResourceNotFoundException", "no table")) as server:
        with pytest.raises(BatchWriteError) as caught:
            server.connect(batch_concurrency=8).batch_write("t", [put(i) for i in range(200)], ["id"])
        assert len(server.requests) == 1
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.written == []
    assert ids(caught.value.unprocessed) == list(range(200))


def test_failure_among_concurrent_batches_reports_exactly() -> None:
    """Batches in flight when one fails still land and are reported written; batches not yet
    sent are not sent; unprocessed and written are in the caller's order."""
    written: list[int] = []

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"]["t"]
        if 50 in ids(requests):  # the third batch is refused
            return error("ValidationException", "bad item")
        written.extend(ids(requests))
        return ok({})

    requests = [put(i) for i in range(500)]
    with FaultServer(Overlap(answer, hold=0.02)) as server:
        with pytest.raises(BatchWriteError) as caught:
            server.connect(batch_concurrency=4).batch_write("t", requests, ["id"])
        sent = len(server.requests)
    error_ = caught.value
    assert error_.code == "ValidationException"
    assert sent < 20  # it stopped sending
    assert ids(error_.written) == sorted(written)
    assert ids(error_.unprocessed) == sorted(set(range(500)) - set(written))
    assert set(range(50, 75)) <= set(ids(error_.unprocessed))
    assert all(any(r is original for original in requests) for r in error_.unprocessed)
    assert f"{len(written)} of 500 requests written, {500 - len(written)} not" in str(error_)


def test_unprocessed_items_are_retried_one_batch_at_a_time() -> None:
    """While DynamoDB leaves items over, batches go one at a time with backoff (more in
    flight would only be throttled too); full concurrency comes back after."""
    written: list[int] = []
    lock = threading.Lock()
    throttled_sends = 6

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"]["t"]
        with lock:
            held = number in range(2, 2 + throttled_sends)
        kept, leftover = (requests[:-3], requests[-3:]) if held else (requests, [])
        written.extend(ids(kept))
        return ok({"UnprocessedItems": {"t": leftover} if leftover else {}})

    overlap = Overlap(answer, hold=0.01)
    with FaultServer(overlap) as server:
        server.connect(batch_concurrency=4).batch_write("t", [put(i) for i in range(600)], ["id"])
    assert sorted(written) == list(range(600))
    assert overlap.most > 1


def test_backoff_grows_only_while_sends_make_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under steady partial throttling (half of every batch handed back) each send makes
    progress, so the backoff stays near its base instead of growing with every send; a
    send that writes nothing backs off a step further."""
    from flywheel.connection import batches

    steps: list[int] = []
    real_delay = batches.backoff_delay

    def recording_delay(attempt: int, base: float, cap: float) -> float:
        steps.append(attempt)
        return real_delay(attempt, base, cap)

    monkeypatch.setattr(batches, "backoff_delay", recording_delay)
    written: list[int] = []

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"]["t"]
        if number in (3, 4):  # two sends in a row that write nothing
            kept, leftover = [], requests
        else:
            half = (len(requests) + 1) // 2
            kept, leftover = requests[:half], requests[half:]
        written.extend(ids(kept))
        return ok({"UnprocessedItems": {"t": leftover} if leftover else {}})

    with FaultServer(answer) as server:
        server.connect(backoff_base=0.001).batch_write("t", [put(i) for i in range(200)], ["id"])
    assert sorted(written) == list(range(200))
    assert len(steps) >= 10
    assert steps[:3] == [1, 1, 1] and steps[3:5] == [2, 3] and steps[5:7] == [2, 1]
    assert max(steps) == 3


def test_batches_in_flight_handed_back_by_one_blip_count_as_one_stall() -> None:
    """Four batches in flight come back wholly unprocessed from one throttling blip: that is
    one attempt without progress, not four, so max_attempts=3 is not used up by it."""
    written: list[int] = []
    lock = threading.Lock()

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"]["t"]
        with lock:
            blip = number in range(1, 5)  # the 4 sends after the first one
            if not blip:
                written.extend(ids(requests))
        return ok({"UnprocessedItems": {"t": requests} if blip else {}})

    with FaultServer(Overlap(answer, hold=0.02)) as server:
        connection = server.connect(batch_concurrency=4, max_attempts=3, backoff_base=0.001)
        connection.batch_write("t", [put(i) for i in range(200)], ["id"])
    assert sorted(written) == list(range(200))


def test_batch_get_overlaps_and_returns_every_item() -> None:
    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        keys = body["RequestItems"]["t"]["Keys"]
        return ok({"Responses": {"t": [{**key, "v": {"S": "x"}} for key in keys]}})

    overlap = Overlap(answer)
    keys = [{"id": {"N": str(i)}} for i in range(1000)]
    with FaultServer(overlap) as server:
        found = server.connect(batch_concurrency=4).batch_get("t", keys, ["id"])
    assert sorted(int(item["id"]["N"]) for item in found) == list(range(1000))
    assert overlap.most == 4


def test_batch_get_error_is_raised_after_the_rest_finish() -> None:
    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        keys = body["RequestItems"]["t"]["Keys"]
        if {"id": {"N": "250"}} in keys:
            return error("ValidationException", "bad key")
        return ok({"Responses": {"t": keys}})

    keys = [{"id": {"N": str(i)}} for i in range(1000)]
    with FaultServer(Overlap(answer, hold=0.02)) as server:
        with pytest.raises(Exception) as caught:
            server.connect(batch_concurrency=4).batch_get("t", keys, ["id"])
        assert len(server.requests) < 10
    assert getattr(caught.value, "code", None) == "ValidationException"


class Pair(Model):
    __metadata__ = {"_name": "pair"}
    id = Field(data_type=int, hash_key=True)
    v = Field()


def test_engine_get_of_many_keys_keeps_key_order() -> None:
    """Batches answer out of order (the first is slowest); get still follows the keys."""

    def answer(number: int, operation: str, body: dict[str, Any]) -> Reply:
        keys = body["RequestItems"]["t-pair"]["Keys"] if operation == "BatchGetItem" else []
        if number == 1:
            time.sleep(0.05)
        return ok({"Responses": {"t-pair": [{**k, "v": {"S": k["id"]["N"]}} for k in reversed(keys)]}})

    order = [(i * 37) % 450 for i in range(450)]
    with FaultServer(answer) as server:
        engine = Engine(namespace=["t"])
        engine.register(Pair)
        engine.connect(server.connect(batch_concurrency=4))
        got = engine.get(Pair, order)
    assert [p.id for p in got] == order
    assert all(p.v == str(p.id) for p in got)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "4"])
def test_batch_concurrency_must_be_a_positive_int(value: Any) -> None:
    with pytest.raises(ValueError, match="batch_concurrency"):
        DynamoDBConnection.connect_to_host("http://127.0.0.1:1", batch_concurrency=value)


def test_close_ends_the_batch_threads() -> None:
    with FaultServer(write_all([])) as server:
        before = set(threading.enumerate())
        dynamo = server.connect(batch_concurrency=3)
        dynamo.batch_write("t", [put(i) for i in range(100)], ["id"])
        started = [t for t in set(threading.enumerate()) - before if t.name.startswith("flywheel-batch")]
        assert started
        dynamo.close()
        assert not any(t.is_alive() for t in started)
        dynamo.batch_write("t", [put(i) for i in range(100)], ["id"])  # a new pool on demand
        dynamo.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_batch_threads() -> None:
    import os
    import signal

    with FaultServer(write_all([])) as server:
        dynamo = server.connect(batch_concurrency=3)
        dynamo.batch_write("t", [put(i) for i in range(100)], ["id"])  # the parent's pool
        pid = os.fork()
        if pid == 0:  # the child: its inherited pool has no threads; it must not hang
            code = 1
            try:
                signal.alarm(20)  # a hang kills the child (exit by SIGALRM), not the test run
                dynamo.batch_write("t", [put(i) for i in range(100)], ["id"])
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        dynamo.close()
    assert os.waitstatus_to_exitcode(status) == 0
