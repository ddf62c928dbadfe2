"""flywheel through a fault-injecting proxy (tests/fault_proxy.py) in front of the real test
server: throttling, 5xx, dropped connections, lost answers and timeouts, at seeded rates.

These are the short seeded versions that run in the normal suite; benchmarks/soak.py runs
the full sizes (10,000 items, 1,000 syncs, 16 threads). Sizes are smaller on servers without
``fast_scan`` (moto) so a run stays within seconds.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fault_proxy import STANDARD_FAULTS, FaultProxy, FaultRates
from fault_workload import Record, assert_exact, bulk, mixed_threads

from flywheel import CheckFailed, Engine
from flywheel.exceptions import BatchWriteError, ConnectionFailure, ThroughputException

SEED = 20240501


@pytest.fixture
def checker(engine: Engine) -> Engine:
    """The test's engine, straight to the server: creates the table, checks the results."""
    engine.register(Record)
    engine.create_schema()
    return engine


@pytest.fixture
def proxy(local_server: Any) -> Iterator[FaultProxy]:
    if not local_server.endpoint.startswith("http://"):
        pytest.skip("the fault proxy forwards plain HTTP to a local server")
    with FaultProxy(local_server.endpoint, seed=SEED, delay_seconds=0.6) as running:
        yield running


def faulty_engine(proxy: FaultProxy, checker: Engine, **options: Any) -> Engine:
    options.setdefault("max_attempts", 12)
    options.setdefault("read_timeout", 0.3)
    engine = Engine(proxy.connect(**options), namespace=checker.namespace)
    engine.register(Record)
    return engine


def sizes(local_server: Any) -> tuple[int, int]:
    """(items, syncs) for this server: moto scans and queries about 100x slower."""
    return (120, 40) if local_server.kind == "moto" else (1000, 150)


# -- exact data under the standard fault mix --------------------------------------------------
def test_bulk_workload_is_exact_under_faults(
    proxy: FaultProxy, checker: Engine, local_server: Any
) -> None:
    proxy.set_rates(STANDARD_FAULTS)
    items, syncs = sizes(local_server)
    tally = bulk(faulty_engine(proxy, checker), items, syncs, seed=SEED)
    proxy.set_rates(FaultRates())
    assert_exact(checker, tally)
    assert proxy.injected["throttle"] > 0 and proxy.injected["server_error"] > 0, proxy.summary()
    assert proxy.injected["drop_before"] + proxy.injected["drop_after"] > 0, proxy.summary()


def test_sixteen_threads_share_one_engine_under_faults(
    proxy: FaultProxy, checker: Engine, local_server: Any
) -> None:
    proxy.set_rates(STANDARD_FAULTS)
    rounds = 12 if local_server.kind == "moto" else 40
    tally = mixed_threads(faulty_engine(proxy, checker), threads=16, rounds=rounds, seed=SEED)
    proxy.set_rates(FaultRates())
    assert_exact(checker, tally)
    assert sum(proxy.injected.values()) > 0, proxy.summary()


def test_partial_batches_and_timeouts_lose_nothing(proxy: FaultProxy, checker: Engine) -> None:
    proxy.set_rates(FaultRates(partial_batch=0.5, delay=0.03, drop_after=0.05))
    engine = faulty_engine(proxy, checker)
    records = [Record("p", n, value=f"v{n}") for n in range(80)]
    engine.save(records)
    assert [r.n for r in engine.get(Record, [{"group": "p", "n": n} for n in range(80)])] == list(range(80))
    engine.delete_key(Record, [{"group": "p", "n": n} for n in range(0, 80, 2)])
    proxy.set_rates(FaultRates())
    assert sorted(r.n for r in checker.scan(Record).gen()) == list(range(1, 80, 2))
    assert proxy.injected["partial_batch"] > 0, proxy.summary()


def test_a_seed_replays_the_same_faults(local_server: Any, checker: Engine) -> None:
    def run() -> tuple[dict[str, int], int]:
        with FaultProxy(local_server.endpoint, STANDARD_FAULTS, seed=99) as proxy:
            engine = faulty_engine(proxy, checker)
            for n in range(30):
                engine.save(Record("r", n, value="x"))
                engine.get(Record, group="r", n=n)
            return dict(proxy.injected), proxy.received

    assert run() == run()


# -- lost answers of conditional writes -------------------------------------------------------
def test_lost_answer_of_a_create_is_not_a_conflict(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker)
    proxy.force("drop_after", operation="PutItem")
    engine.save(Record("c", 1, value="mine"), overwrite=False)  # the retry finds its own item
    assert checker.get(Record, group="c", n=1).value == "mine"
    # A different item under the key is a real conflict, lost answer or not.
    proxy.force("drop_before", operation="PutItem")
    with pytest.raises(CheckFailed, match="not written"):
        engine.save(Record("c", 1, value="theirs"), overwrite=False)
    # And with no lost answer, even an identical existing item is a conflict (spec 1.4.1).
    with pytest.raises(CheckFailed):
        engine.save(Record("c", 1, value="mine"), overwrite=False)


def test_lost_answer_of_a_conditional_sync_is_not_a_conflict(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("s", 1, value="a", counter=5)
    engine.save(record)
    for kind, counter in (("drop_after", 6), ("delay", 7)):
        record.value = f"after {kind}"
        record.incr_(counter=1)
        proxy.force(kind, operation="UpdateItem")
        record.sync(raise_on_conflict=True)
        assert (record.value, record.counter) == (f"after {kind}", counter)
    stored = checker.get(Record, group="s", n=1)
    assert (stored.value, stored.counter) == ("after delay", 7)  # each increment once


def test_lost_answer_then_someone_elses_change_is_a_conflict(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("s", 2, value="a")
    engine.save(record)
    other = checker.get(Record, group="s", n=2)
    other.value = "theirs"
    other.sync()
    record.value = "mine"
    proxy.force("drop_before", operation="UpdateItem")
    with pytest.raises(CheckFailed):
        record.sync(raise_on_conflict=True)
    assert checker.get(Record, group="s", n=2).value == "theirs"


def test_lost_attempt_then_an_identical_change_by_someone_else_is_a_conflict(
    proxy: FaultProxy, checker: Engine
) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("s", 3, value="a")
    engine.save(record)

    def meanwhile() -> None:  # another client makes the very change we are making
        theirs = checker.get(Record, group="s", n=3)
        theirs.value = "b"
        theirs.sync()

    record.value = "b"
    proxy.force("drop_before", operation="UpdateItem", meanwhile=meanwhile)
    # The item holds what we meant to write, but not by our write: both read "a", so one
    # of the two read-modify-writes must be told it lost.
    with pytest.raises(CheckFailed):
        record.sync(raise_on_conflict=True)


# -- lost answers of increments ---------------------------------------------------------------
def test_lost_answer_of_an_increment_counts_once(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("i", 1, counter=0)
    engine.save(record)
    for kind, raise_on_conflict in (("drop_after", True), ("delay", True), ("drop_after", False)):
        record.incr_(counter=1)
        proxy.force(kind, operation="UpdateItem")  # applied, answer lost: the retry is sent
        record.sync(raise_on_conflict=raise_on_conflict)
    assert record.counter == 3
    assert checker.get(Record, group="i", n=1).counter == 3


def test_lost_increment_then_other_writers_still_counts_once(
    proxy: FaultProxy, checker: Engine
) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("i", 2, counter=0)
    engine.save(record)
    other = Engine(checker.dynamo, namespace=checker.namespace)
    other.register(Record)

    def meanwhile() -> None:  # two increments by another client before our retry
        theirs = other.get(Record, group="i", n=2)
        for _ in range(2):
            theirs.incr_(counter=10)
            theirs.sync()

    record.incr_(counter=1)
    proxy.force("drop_after", operation="UpdateItem", meanwhile=meanwhile)
    record.sync()
    assert checker.get(Record, group="i", n=2).counter == 21
    assert record.counter == 21


def test_increment_that_landed_unheard_is_done_when_retries_run_out(
    proxy: FaultProxy, checker: Engine
) -> None:
    engine = faulty_engine(proxy, checker, max_attempts=3)
    record = Record("i", 3, counter=0)
    engine.save(record)
    record.incr_(counter=1)
    proxy.force("drop_after", "throttle", "throttle", operation="UpdateItem")
    record.sync()  # the first attempt landed: that is what the caller is told
    assert checker.get(Record, group="i", n=3).counter == 1
    # one that never landed fails, and stays pending
    record.incr_(counter=1)
    proxy.force("drop_before", "throttle", "throttle", operation="UpdateItem")
    with pytest.raises(ThroughputException):
        record.sync()
    assert checker.get(Record, group="i", n=3).counter == 1
    record.sync()
    assert checker.get(Record, group="i", n=3).counter == 2


def test_lost_answer_of_a_sync_with_set_additions_and_removals(
    proxy: FaultProxy, checker: Engine
) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("t", 1, value="a")
    record.tags = {"a", "b"}
    engine.save(record)
    record.value = "b"
    record.add_(tags="c")
    record.remove_(tags="a")  # a second UpdateItem, after the first landed
    proxy.force("drop_after", operation="UpdateItem")
    record.sync(raise_on_conflict=True)
    stored = checker.get(Record, group="t", n=1)
    assert (stored.value, stored.tags) == ("b", {"b", "c"})
    assert (record.value, record.tags) == ("b", {"b", "c"})


def test_lost_answer_of_a_conditional_delete_is_not_a_conflict(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker)
    record = Record("d", 1, value="a")
    engine.save(record)
    proxy.force("drop_after", operation="DeleteItem")
    engine.delete(record, raise_on_conflict=True)
    assert checker.get(Record, group="d", n=1) is None


# -- when retries run out --------------------------------------------------------------------
def test_batch_write_error_says_what_was_and_was_not_written(proxy: FaultProxy, checker: Engine) -> None:
    # A batch of 25 can take longer than the suite's 0.3 s timeout on moto; a timed-out send
    # would use up one of the scripted faults meant for another and blur what is checked.
    engine = faulty_engine(proxy, checker, max_attempts=3, read_timeout=10)
    records = [Record("b", n, value="v") for n in range(60)]  # three batches of 25, 25, 10
    proxy.force(None, None, "throttle", "throttle", "throttle", operation="BatchWriteItem")
    with pytest.raises(BatchWriteError) as caught:
        engine.save(records)
    error = caught.value
    assert error.code == "ProvisionedThroughputExceededException"
    written = {r["PutRequest"]["Item"]["n"]["N"] for r in error.written}
    not_written = {r["PutRequest"]["Item"]["n"]["N"] for r in error.unprocessed}
    # the first batch goes alone; the other two are sent together (batch_concurrency), so
    # whichever of them reached the proxy second is the one throttled to the end
    assert not_written in ({str(n) for n in range(25, 50)}, {str(n) for n in range(50, 60)})
    assert written == {str(n) for n in range(60)} - not_written
    assert f"{len(written)} of 60 requests written, {len(not_written)} not" in str(error)
    stored = {str(r.n) for r in checker.scan(Record).gen()}
    assert stored == written  # nothing reported written is missing, nothing else landed
    # the objects know it too: those written are saved; the others are not, and save again
    assert {str(r.n) for r in records if r.persisted_} == written
    engine.save([r for r in records if not r.persisted_])
    assert all(r.persisted_ for r in records)
    assert {r.n for r in checker.scan(Record).gen()} == set(range(60))

    # a batch delete that gives up: the objects deleted know they are no longer stored
    proxy.force(None, None, "throttle", "throttle", "throttle", operation="BatchWriteItem")
    with pytest.raises(BatchWriteError) as caught:
        engine.delete(records)
    gone = {str(n) for n in range(60)} - {str(r.n) for r in checker.scan(Record).gen()}
    assert {r["DeleteRequest"]["Key"]["n"]["N"] for r in caught.value.written} == gone
    assert {str(r.n) for r in records if not r.persisted_} == gone


def test_batch_that_never_progresses_reports_the_rest(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker, max_attempts=2, read_timeout=10)  # as above
    records = [Record("u", n, value="v") for n in range(26)]
    # the first batch (25) lands; the second (1) comes back unprocessed twice: no progress
    proxy.force(None, "partial_batch", "partial_batch", operation="BatchWriteItem")
    with pytest.raises(BatchWriteError) as caught:
        engine.save(records)
    error = caught.value
    assert "25 of 26 requests written, 1 not" in str(error)
    assert [r["PutRequest"]["Item"]["n"]["N"] for r in error.unprocessed] == ["25"]
    assert {r.n for r in checker.scan(Record).gen()} == set(range(25))


def test_single_write_gives_up_with_the_last_failure(proxy: FaultProxy, checker: Engine) -> None:
    engine = faulty_engine(proxy, checker, max_attempts=3)
    proxy.force("drop_before", "drop_before", "drop_before", operation="PutItem")
    with pytest.raises(ConnectionFailure) as caught:
        engine.save(Record("x", 1, value="v"))
    assert caught.value.unanswered_attempts == 2
    assert checker.get(Record, group="x", n=1) is None
