"""Workloads run through a faulty proxy, each checking that the data comes out exact.

Shared by tests/test_faults.py (small, seeded sizes in the normal suite) and
benchmarks/soak.py (full sizes, about two minutes). Every function takes an ``engine`` whose
connection goes through the proxy and a ``checker`` engine that talks to the server directly
(so the final checks are not themselves subject to faults), and raises AssertionError naming
the first difference.

"Exact" is the issue's definition: every item present once with its last value, no extra
items, counters equal to the number of increments the caller was told succeeded.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flywheel import Engine, Field, Model


class Record(Model):
    """One item of a workload: ``group`` spreads items over partitions, ``n`` orders them."""

    __metadata__ = {"_name": "FaultRecord"}
    group = Field(hash_key=True)
    n = Field(data_type=int, range_key=True)
    value = Field()
    counter = Field(data_type=int)


@dataclass
class Tally:
    """What a workload did: operations by kind, and the expected final table."""

    operations: Counter[str] = field(default_factory=Counter)
    #: (group, n) -> (value, counter) of every item that must be in the table at the end
    expected: dict[tuple[str, int], tuple[str, int | None]] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.operations.update(other.operations)
        self.expected.update(other.expected)


def stored_items(checker: Engine) -> dict[tuple[str, int], tuple[str, int | None]]:
    """Every item of the table, read directly; fails on a key seen twice."""
    found: dict[tuple[str, int], tuple[str, int | None]] = {}
    for record in checker.scan(Record).gen():
        key = (record.group, record.n)
        assert key not in found, f"{key} returned twice by a scan"
        found[key] = (record.value, record.counter)
    return found


def assert_exact(checker: Engine, tally: Tally) -> None:
    stored = stored_items(checker)
    missing = sorted(set(tally.expected) - set(stored))
    extra = sorted(set(stored) - set(tally.expected))
    wrong = sorted(k for k in tally.expected.keys() & stored.keys() if stored[k] != tally.expected[k])
    assert not (missing or extra or wrong), (
        f"{len(missing)} missing (first {missing[:5]}), {len(extra)} extra (first {extra[:5]}), "
        f"{len(wrong)} wrong (first {[(k, stored[k], tally.expected[k]) for k in wrong[:5]]})"
    )


def _groups(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{g}" for g in range(count)]


def bulk(engine: Engine, size: int, syncs: int, seed: int, prefix: str = "g", page_size: int = 97) -> Tally:
    """The issue's sequence: save ``size`` items (a tenth of them twice more, with new values,
    through ``engine.batch_write()``), get them back by key, page a query over each group and
    a scan over the table, delete half by key, then ``syncs`` syncs each incrementing a
    counter and setting a value."""
    rng = random.Random(seed)
    tally = Tally()
    groups = _groups(prefix, max(1, size // 500))
    records = [Record(groups[i % len(groups)], i, value=f"v{i}") for i in range(size)]
    for start in range(0, size, 1000):
        engine.save(records[start : start + 1000])
        tally.operations["save"] += len(records[start : start + 1000])
    rewritten = rng.sample(records, size // 10)
    # the tenth rewritten twice through the streaming writer: the second value must win
    with engine.batch_write() as batch:
        for record in rewritten:
            batch.save(Record(record.group, record.n, value=f"x{record.n}"))
        for record in rewritten:
            record.value = f"w{record.n}"
            batch.save(record)
    tally.operations["save"] += 2 * len(rewritten)
    expected = {(r.group, r.n): (r.value, None) for r in records}

    keys = [{"group": r.group, "n": r.n} for r in records]
    got = engine.get(Record, keys)
    tally.operations["get"] += len(keys)
    assert [(r.group, r.n, r.value) for r in got] == [
        (r.group, r.n, expected[(r.group, r.n)][0]) for r in records
    ], "get by key returned other items than saved"

    queried: list[tuple[str, int]] = []
    for group in groups:
        cursor: str | None = None
        while True:
            page = engine.query(Record).filter(Record.group == group).page(page_size, cursor)
            tally.operations["query page"] += 1
            queried.extend((r.group, r.n) for r in page)
            cursor = page.cursor
            if cursor is None:
                break
    assert sorted(queried) == sorted(expected), "paged queries did not return every item once"
    scanned: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = engine.scan(Record).page(page_size * 3, cursor)
        tally.operations["scan page"] += 1
        scanned.extend((r.group, r.n) for r in page)
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(scanned) == sorted(expected), "a paged scan did not return every item once"

    doomed = [r for r in records if r.n % 2 == 0]
    engine.delete_key(Record, [{"group": r.group, "n": r.n} for r in doomed])
    tally.operations["delete"] += len(doomed)
    for r in doomed:
        del expected[(r.group, r.n)]

    survivors = [r for r in records if r.n % 2 == 1]
    live = engine.get(Record, [{"group": r.group, "n": r.n} for r in rng.sample(survivors, min(50, len(survivors)))])
    counts: Counter[tuple[str, int]] = Counter()
    for number in range(syncs):
        record = live[number % len(live)]
        record.incr_(counter=1)
        if number % 2:  # half the syncs also set a value (checked by raise_on_conflict)
            record.value = f"s{number}"
        record.sync()
        counts[(record.group, record.n)] += 1
        expected[(record.group, record.n)] = (record.value, counts[(record.group, record.n)])
    tally.operations["sync"] += syncs
    tally.expected = expected
    return tally


def mixed_threads(engine: Engine, threads: int, rounds: int, seed: int) -> Tally:
    """``threads`` threads share ``engine``, each doing ``rounds`` random operations on its own
    group: save, get, sync with an increment, delete, query. Each keeps the expected state of
    its own items; errors in any thread are re-raised here."""
    results: list[Tally] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        group = f"t{number}"
        tally = Tally()
        local: dict[int, Record] = {}
        try:
            for step in range(rounds):
                action = rng.choice(("save", "save", "get", "sync", "sync", "delete", "query"))
                n = rng.randrange(rounds // 2 + 1)
                if action == "save":
                    record = Record(group, n, value=f"{number}-{step}")
                    engine.save(record)
                    local[n] = record
                elif action == "get":
                    found = engine.get(Record, group=group, n=n)
                    assert (found is None) == (n not in local), f"{group}/{n}: get disagrees"
                    if found is not None:
                        assert found.value == local[n].value, f"{group}/{n}: {found.value!r}"
                elif action == "sync" and n in local:
                    record = local[n]
                    record.incr_(counter=1)
                    if rng.random() < 0.5:  # else a bare increment
                        record.value = f"{number}-{step}"
                    record.sync()
                elif action == "delete" and n in local:
                    engine.delete_key(Record, group=group, n=n)
                    del local[n]
                elif action == "query":
                    found_ns = sorted(r.n for r in engine.query(Record).filter(group=group).all())
                    assert found_ns == sorted(local), f"{group}: query gave {found_ns}"
                tally.operations[action] += 1
            tally.expected = {(group, n): (r.value, r.counter) for n, r in local.items()}
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            with lock:
                failures.append(exc)
            return
        with lock:
            results.append(tally)

    workers = [threading.Thread(target=worker, args=(number,)) for number in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    total = Tally()
    for tally in results:
        total.merge(tally)
    return total


def describe(tally: Tally) -> dict[str, Any]:
    return {"operations": dict(tally.operations), "items expected": len(tally.expected)}
