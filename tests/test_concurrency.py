"""One Engine shared by many threads: no lost update, whether through safe syncs retried on
CheckFailed (optimistic locking) or through atomic increments and set additions.

Each thread has its own model objects (objects are not thread-safe; the engine is).
Racing on one item needs a server that applies each update atomically: moto 5.2.5 does not
(two racing updates can both apply to the same old value), so those tests need the
``atomic_updates`` capability; the engine's own thread safety is tested on every server.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from flywheel import CheckFailed, Engine, Field, Model

THREADS = 8
CYCLES = 50


class Tally(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)
    members = Field(data_type=set)


@pytest.fixture
def tables(engine: Engine) -> Engine:
    engine.register(Tally)
    engine.create_schema()
    engine.save(Tally("t", n=0))
    return engine


def run_threads(work: Callable[[int], None]) -> None:
    """Run ``work(thread_number)`` in THREADS threads at once; re-raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def body(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]


@pytest.mark.requires("atomic_updates")
def test_read_modify_write_with_safe_sync_loses_no_update(tables: Engine) -> None:
    conflicts = [0] * THREADS

    def work(number: int) -> None:
        tally = tables.get(Tally, id="t", consistent=True)
        assert tally is not None
        for _ in range(CYCLES):
            while True:
                tally.n = tally.n + 1
                try:
                    tally.sync(raise_on_conflict=True)
                    break
                except CheckFailed:
                    conflicts[number] += 1
                    tally.refresh(consistent=True)  # someone else won: read and try again

    run_threads(work)
    final = tables.get(Tally, id="t", consistent=True)
    assert final is not None and final.n == THREADS * CYCLES
    # The threads really did race (otherwise this test proves nothing about conflicts).
    assert sum(conflicts) > 0


@pytest.mark.requires("atomic_updates")
def test_increments_from_many_threads_add_up_without_retries(tables: Engine) -> None:
    def work(number: int) -> None:
        tally = Tally("t")  # never loaded: increments merge with the stored value
        for _ in range(CYCLES):
            tally.incr_(n=1)
            tables.sync(tally, raise_on_conflict=True)  # atomic: never a conflict

    run_threads(work)
    final = tables.get(Tally, id="t", consistent=True)
    assert final is not None and final.n == THREADS * CYCLES


@pytest.mark.requires("atomic_updates")
def test_set_additions_from_many_threads_all_land(tables: Engine) -> None:
    def work(number: int) -> None:
        tally = tables.get(Tally, id="t")
        assert tally is not None
        for cycle in range(10):
            tally.add_(members=f"{number}-{cycle}")
            tally.sync()

    run_threads(work)
    final = tables.get(Tally, id="t", consistent=True)
    assert final is not None
    assert final.members == {f"{t}-{c}" for t in range(THREADS) for c in range(10)}


def test_threads_sharing_one_engine_each_on_their_own_items(tables: Engine) -> None:
    """Every engine operation at once from many threads: nothing is mixed up between them."""

    def work(number: int) -> None:
        mine = Tally(f"thread-{number}", n=0)
        tables.save(mine)
        for cycle in range(CYCLES // 2):
            mine.n = mine.n + 1
            mine.sync(raise_on_conflict=True)
            mine.incr_(n=1)
            mine.add_(members=str(cycle))
            mine.sync(raise_on_conflict=True)
        assert mine.n == CYCLES and len(mine.members) == CYCLES // 2
        again = tables.get(Tally, [f"thread-{number}", "t"], consistent=True)
        assert [t.id for t in again] == [f"thread-{number}", "t"]
        assert again[0].n == CYCLES
        tables.refresh(again)
        tables.delete(again[0], raise_on_conflict=True)

    run_threads(work)
    assert [t.id for t in tables.scan(Tally).all()] == ["t"]
