"""Soak: every operation mixed under injected faults for about two minutes, then invariants.

    .venv/bin/python benchmarks/soak.py [--server dynalite|moto] [--seed N] [--seconds S]

Starts a local server (loopback only) and tests/fault_proxy.FaultProxy in front of it with
the issue's fault mix — 20% throttling, 5% server errors (500/503), 2% dropped connections
(half before the request reaches the server, half after it was applied) — plus timeouts
(responses held past the client's read timeout) and partially processed batches. Then:

1. the full-size sequence: save 10,000 items (a tenth twice), get them all back by key, page
   a query per group and a scan over the table, delete half by key, 1,000 syncs with
   increments (tests/fault_workload.bulk);
2. rounds of 16 threads sharing one engine, each doing random saves, gets, syncs with
   increments, deletes and queries on its own items, until the time is up
   (tests/fault_workload.mixed_threads).

After each step the table is read directly (no proxy) and compared with what the callers
were told: every item present once with its last value, no extra item, every counter equal
to the increments reported done. Prints a summary (operations, requests, faults by kind,
invariants) and exits non-zero if any invariant failed. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fault_proxy import FaultProxy, FaultRates
from fault_workload import Record, Tally, assert_exact, bulk, mixed_threads

from flywheel import Engine
from flywheel.local import LocalServer

SOAK_FAULTS = FaultRates(
    throttle=0.20, server_error=0.05, drop_before=0.01, drop_after=0.01, delay=0.002, partial_batch=0.05
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="dynalite", choices=("dynalite", "moto"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=120.0, help="time budget (default 120)")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--syncs", type=int, default=1_000)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    started = time.monotonic()
    invariants: dict[str, str] = {}
    operations = Tally()
    with LocalServer(args.server) as server, FaultProxy(
        server.endpoint, SOAK_FAULTS, seed=args.seed, delay_seconds=1.2
    ) as proxy:
        checker = Engine(server.connect(), namespace=["soak"])
        checker.register(Record)
        checker.create_schema()
        engine = Engine(
            proxy.connect(max_attempts=12, read_timeout=1.0, max_pool_connections=32),
            namespace=["soak"],
        )
        engine.register(Record)

        def check(name: str, tally: Tally) -> None:
            try:
                assert_exact(checker, tally)
                invariants[name] = "held"
            except AssertionError as exc:
                invariants[name] = f"FAILED: {exc}"

        step = time.monotonic()
        tally = bulk(engine, args.items, args.syncs, seed=args.seed)
        check(f"bulk ({args.items} items, {args.syncs} syncs) exact", tally)
        operations.operations.update(tally.operations)
        print(f"bulk sequence: {time.monotonic() - step:.1f}s; {proxy.summary()}", flush=True)
        checker.delete_key(Record, [{"group": g, "n": n} for g, n in tally.expected])

        rounds = 0
        while time.monotonic() < deadline - 15:
            rounds += 1
            tally = mixed_threads(engine, threads=16, rounds=60, seed=args.seed * 100 + rounds)
            operations.operations.update(tally.operations)
            check(f"16 threads, round {rounds}: exact", tally)
            checker.delete_key(Record, [{"group": g, "n": n} for g, n in tally.expected])
        check("table empty at the end", Tally())
        checker.delete_schema()
        summary = {
            "server": args.server,
            "seed": args.seed,
            "seconds": round(time.monotonic() - started, 1),
            "operations": dict(sorted(operations.operations.items())),
            "operations total": sum(operations.operations.values()),
            "requests received by the proxy": proxy.received,
            "requests forwarded to the server": proxy.forwarded,
            "faults injected": dict(sorted(proxy.injected.items())),
            "faults total": sum(proxy.injected.values()),
            "thread rounds": rounds,
            "invariants": invariants,
        }
    print(json.dumps(summary, indent=2))
    failed = [name for name, result in invariants.items() if result != "held"]
    print(f"{len(invariants) - len(failed)} of {len(invariants)} invariants held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
