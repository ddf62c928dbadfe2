"""The workloads of run.py, each a function returning one Result per contestant.

Rates are the best of ``rounds`` rounds, each repeating the work for at least ``min_time``
seconds. Every botocore-based contestant (PynamoDB, boto3, raw botocore, flywheel's botocore
transport) runs with botocore's parameter validation off — their fastest setting, which
PynamoDB uses by default anyway.
"""
from __future__ import annotations

import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_data
import boto3
import botocore.session
import canned_server
import urllib3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.parsers import create_parser

from flywheel import Engine
from flywheel.connection import DynamoDBConnection
from flywheel.connection.core import DEFAULT_TRANSPORT
from flywheel.connection.fast import encode_request, parse_body

HERE = Path(__file__).resolve().parent
WORKLOADS = ("hydrate", "dump", "roundtrip", "bulk", "memory")
FLYWHEEL = f"flywheel ({DEFAULT_TRANSPORT})"


@dataclass
class Settings:
    min_time: float = 1.0
    rounds: int = 3
    bulk_items: int = 100_000


@dataclass
class Result:
    workload: str  # 'hydrate', 'GetItem'...
    contestant: str
    rate: float  # units per second (or MB for memory)
    unit: str
    note: str = ""


@dataclass
class Results:
    rows: list[Result] = field(default_factory=list)

    def add(self, workload: str, contestant: str, rate: float, unit: str, note: str = "") -> None:
        self.rows.append(Result(workload, contestant, rate, unit, note))
        print(f"  {workload:<12} {contestant:<22} {rate:>14,.1f} {unit}", flush=True)

    def rate(self, workload: str, contestant: str) -> float | None:
        for row in self.rows:
            if row.workload == workload and row.contestant == contestant:
                return row.rate
        return None


def rates(contestants: dict[str, Callable[[], int]], settings: Settings) -> dict[str, float]:
    """Units per second of each contestant's work (which returns the units it did).

    Time is this process's CPU time (user + system, ``time.process_time``): the client's
    own cost, which is what these workloads compare, and unlike wall-clock time it does not
    count the moments other processes on a shared machine held the CPU. The canned server
    runs in another process, so its work is not counted either. The contestants take turns
    (``2 * rounds`` rounds of ``min_time / 2`` seconds each), and the rate comes from the
    25th-percentile CPU time per unit over all of a contestant's samples.
    """
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    for work in contestants.values():
        work()  # warm up: imports, connection pools, caches
    for _ in range(2 * settings.rounds):
        for name, work in contestants.items():
            gc.collect()
            deadline = time.perf_counter() + settings.min_time / 2
            taken = 0
            while time.perf_counter() < deadline or taken < 2:
                start = time.process_time()
                units = work()
                samples[name].append((time.process_time() - start) / units)
                taken += 1
    return {name: 1.0 / sorted(times)[len(times) // 4] for name, times in samples.items()}


def add_rates(
    results: Results, workload: str, unit: str, contestants: dict[str, Callable[[], int]], settings: Settings
) -> None:
    for name, rate in rates(contestants, settings).items():
        results.add(workload, name, rate, unit)


def botocore_client(url: str) -> Any:
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=bench_data.ACCESS_KEY,
        aws_secret_access_key=bench_data.SECRET_KEY,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def boto3_table(url: str, name: str) -> Any:
    resource_ = boto3.resource(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=bench_data.ACCESS_KEY,
        aws_secret_access_key=bench_data.SECRET_KEY,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    return resource_.Table(name)


def flywheel_engine(url: str, transport: str, namespace: tuple[str, ...] = ()) -> Engine:
    dynamo = DynamoDBConnection.connect_to_host(
        url, access_key=bench_data.ACCESS_KEY, secret_key=bench_data.SECRET_KEY, transport=transport
    )
    engine = Engine(namespace=namespace)
    engine.register(bench_data.BenchItem)
    engine.connect(dynamo)
    return engine


@contextmanager
def canned_endpoint() -> Iterator[str]:
    """The canned-response server in its own process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "canned_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def one(result: Any) -> int:
    """One call done (the result is received, and then dropped)."""
    assert result is not None
    return 1


# -- hydrate ------------------------------------------------------------------------------------
def hydrate(results: Results, settings: Settings) -> None:
    """One Query page of 1,000 items (response bytes in memory) -> objects; items/s."""
    print("hydrate: 1,000-item Query response -> objects", flush=True)
    logical = bench_data.logical_items(1000)
    fw_body = json.dumps({"Items": bench_data.flywheel_items(logical), "Count": 1000}).encode()
    pn_body = json.dumps({"Items": bench_data.pynamodb_items(logical), "Count": 1000}).encode()
    client = botocore_client("http://127.0.0.1:1")
    shape = client.meta.service_model.operation_model("Query").output_shape
    parser = create_parser("json")

    def botocore_parse(body: bytes) -> dict[str, Any]:
        parsed: dict[str, Any] = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
        return parsed

    engine = Engine()
    model = bench_data.BenchItem
    pmodel = bench_data.pynamodb_model("pbench", None)
    deserializer = TypeDeserializer()
    contestants: dict[str, Callable[[], int]] = {
        "floor": lambda: len(json.loads(fw_body)["Items"]),
        # copy=False: the engine hands items it has just read straight to the objects
        "flywheel/fast": lambda: len([model.ddb_load_(engine, i, copy=False) for i in parse_body(fw_body)["Items"]]),
        "flywheel/botocore": lambda: len(
            [model.ddb_load_(engine, i, copy=False) for i in botocore_parse(fw_body)["Items"]]
        ),
        "botocore": lambda: len(botocore_parse(fw_body)["Items"]),
        "boto3 Table": lambda: len(
            [
                {k: deserializer.deserialize(v) for k, v in item.items()}
                for item in botocore_parse(fw_body)["Items"]
            ]
        ),
        "PynamoDB": lambda: len([pmodel.from_raw_data(i) for i in botocore_parse(pn_body)["Items"]]),
    }
    add_rates(results, "hydrate", "items/s", contestants, settings)


# -- dump ---------------------------------------------------------------------------------------
def _batches(items: list[Any], size: int = 25) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def dump(results: Results, settings: Settings) -> None:
    """1,000 objects -> the request bodies of their BatchWriteItem calls; items/s."""
    print("dump: 1,000 objects -> BatchWriteItem request bodies", flush=True)
    logical = bench_data.logical_items(1000)
    objects = bench_data.flywheel_objects(logical)
    pmodel = bench_data.pynamodb_model("pbench", None)
    pobjects = bench_data.pynamodb_objects(pmodel, logical)
    plain = [dict(item) for item in logical]
    prebuilt = bench_data.flywheel_items(logical)
    client = botocore_client("http://127.0.0.1:1")
    operation = client.meta.service_model.operation_model("BatchWriteItem")
    serializer = client._serializer
    type_serializer = TypeSerializer()

    def botocore_bodies(items: list[dict[str, Any]]) -> int:
        for batch in _batches(items):
            request = {"RequestItems": {"bench": [{"PutRequest": {"Item": i}} for i in batch]}}
            serializer.serialize_to_request(request, operation)
        return len(items)

    def fast_bodies(items: list[dict[str, Any]]) -> int:
        for batch in _batches(items):
            encode_request({"RequestItems": {"bench": [{"PutRequest": {"Item": i}} for i in batch]}})
        return len(items)

    def boto3_items() -> list[dict[str, Any]]:
        # boto3 Table.batch_writer: datetime/dict/float are not storable, so convert as a user must
        out = []
        for item in plain:
            values = dict(item, created=int(item["created"].timestamp()), meta=json.dumps(item["meta"]))
            values["f1"], values["f2"], values["f3"] = (str(values[k]) for k in ("f1", "f2", "f3"))
            out.append({k: type_serializer.serialize(v) for k, v in values.items()})
        return out

    contestants: dict[str, Callable[[], int]] = {
        "floor": lambda: sum(
            len(json.dumps({"RequestItems": {"bench": [{"PutRequest": {"Item": i}} for i in b]}}))
            for b in _batches(prebuilt)
        )
        and len(prebuilt),
        "flywheel/fast": lambda: fast_bodies([o.ddb_dump_() for o in objects]),
        "flywheel/botocore": lambda: botocore_bodies([o.ddb_dump_() for o in objects]),
        "botocore": lambda: botocore_bodies(prebuilt),
        "boto3 Table": lambda: botocore_bodies(boto3_items()),
        "PynamoDB": lambda: botocore_bodies([o.serialize() for o in pobjects]),
    }
    add_rates(results, "dump", "items/s", contestants, settings)


# -- round trips --------------------------------------------------------------------------------
def roundtrip(results: Results, settings: Settings) -> None:
    """GetItem calls/s and a paged 1,000-item Query (items/s) against the canned endpoint."""
    print("roundtrip: canned-response endpoint in its own process", flush=True)
    with canned_endpoint() as url:
        _roundtrip(results, settings, url)


def _roundtrip(results: Results, settings: Settings, url: str) -> None:
    model = bench_data.BenchItem
    fast = flywheel_engine(url, "fast")
    slow = flywheel_engine(url, "botocore")
    pmodel = bench_data.pynamodb_model("pbench", url)
    table = boto3_table(url, "bench")
    client = botocore_client(url)
    key = {"pk": {"S": "p"}, "sk": {"S": "item-0000000"}}
    pool = urllib3.PoolManager(maxsize=1)
    get_body = json.dumps({"TableName": "bench", "Key": key}).encode()

    def raw_post(target: str, body: bytes) -> Any:
        response = pool.request(
            "POST",
            url + "/",
            body=body,
            headers={"X-Amz-Target": "DynamoDB_20120810." + target, "Content-Type": "application/x-amz-json-1.0"},
        )
        return json.loads(response.data)

    def floor_query() -> int:
        count, start = 0, None
        while True:
            request: dict[str, Any] = {"TableName": "bench", "KeyConditionExpression": "pk = :p"}
            if start:
                request["ExclusiveStartKey"] = start
            page = raw_post("Query", json.dumps(request).encode())
            count += len(page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return count

    def botocore_query() -> int:
        paginator = client.get_paginator("query")
        pages = paginator.paginate(
            TableName="bench", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
        )
        return sum(len(page["Items"]) for page in pages)

    def boto3_query() -> int:
        count, request = 0, {"KeyConditionExpression": boto3.dynamodb.conditions.Key("pk").eq("p")}
        while True:
            page = table.query(**request)
            count += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return count
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    gets: dict[str, Callable[[], int]] = {
        "floor": lambda: one(raw_post("GetItem", get_body)),
        "flywheel/fast": lambda: one(fast.get(model, pk="p", sk="item-0000000")),
        "flywheel/botocore": lambda: one(slow.get(model, pk="p", sk="item-0000000")),
        "botocore": lambda: one(client.get_item(TableName="bench", Key=key)["Item"]),
        "boto3 Table": lambda: one(table.get_item(Key={"pk": "p", "sk": "item-0000000"})["Item"]),
        "PynamoDB": lambda: one(pmodel.get("p", "item-0000000")),
    }
    add_rates(results, "GetItem", "calls/s", gets, settings)
    queries: dict[str, Callable[[], int]] = {
        "floor": floor_query,
        "flywheel/fast": lambda: len(fast.query(model).filter(pk="p").all()),
        "flywheel/botocore": lambda: len(slow.query(model).filter(pk="p").all()),
        "botocore": botocore_query,
        "boto3 Table": boto3_query,
        "PynamoDB": lambda: sum(1 for _ in pmodel.query("p")),
    }
    add_rates(results, "Query", "items/s", queries, settings)


# -- bulk load ----------------------------------------------------------------------------------
BULK_ROUNDS = 3


def bulk(results: Results, settings: Settings) -> None:
    """``bulk_items`` items stored on dynalite: flywheel's writers vs parallel raw batch writes.

    The contestants take turns (``BULK_ROUNDS`` rounds of ``bulk_items / BULK_ROUNDS`` items
    each, every run into a fresh table) and each is rated by its median round: on a shared
    2-core machine a single run measures mostly what else was running at that moment.
    """
    from flywheel.local import LocalServer

    per_round = settings.bulk_items // BULK_ROUNDS
    print(f"bulk: {BULK_ROUNDS} x {per_round:,} items into dynalite", flush=True)
    logical = bench_data.logical_items(per_round)
    raw_items = bench_data.flywheel_items(logical)
    rates_: dict[str, list[float]] = {}
    with LocalServer("dynalite").start() as server:
        url = f"http://{server.host}:{server.port}"
        runs: dict[str, Callable[[str], float]] = {
            "flywheel/fast batch_write": lambda tag: _flywheel_bulk(url, "fast", tag, logical, True),
            "flywheel/fast save(list)": lambda tag: _flywheel_bulk(url, "fast", tag, logical, False),
            "flywheel/botocore batch_write": lambda tag: _flywheel_bulk(url, "botocore", tag, logical, True),
        }
        for threads in (1, 4, 8):
            runs[f"botocore x{threads}"] = lambda tag, n=threads: _botocore_bulk(url, raw_items, n, tag)
        for round_ in range(BULK_ROUNDS):
            for name, run in runs.items():
                rate = run(f"r{round_}")
                print(f"    round {round_ + 1}: {name:<30} {rate:>10,.1f} items/s", flush=True)
                rates_.setdefault(name, []).append(rate)
    for name, rounds in rates_.items():
        note = "rounds: " + ", ".join(f"{rate:,.0f}" for rate in rounds)
        results.add("bulk", name, statistics.median(rounds), "items/s", note)


def _flywheel_bulk(
    url: str, transport: str, tag: str, logical: list[dict[str, Any]], stream: bool
) -> float:
    """Models built from the logical items (untimed), then stored into a fresh table: by
    ``engine.batch_write()`` if ``stream``, else by one ``engine.save(list)``."""
    engine = flywheel_engine(url, transport, (f"fw{transport}{'s' if stream else 'l'}{tag}",))
    engine.create_schema()
    objects = bench_data.flywheel_objects(logical)
    start = time.perf_counter()
    if stream:
        with engine.batch_write() as batch:
            for obj in objects:
                batch.save(obj)
    else:
        engine.save(objects, overwrite=True)
    return len(objects) / (time.perf_counter() - start)


def _botocore_bulk(url: str, items: list[dict[str, Any]], threads: int, tag: str) -> float:
    """Prepared AttributeValue dicts -> BatchWriteItem of 25 from ``threads`` threads."""
    client = botocore_client(url)
    table = f"raw{threads}{tag}-bench"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.1})

    def write(batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as executor:
        list(executor.map(write, _batches(items)))
    return len(items) / (time.perf_counter() - start)


# -- memory -------------------------------------------------------------------------------------
MEMORY_CONTESTANTS = ("flywheel/fast", "flywheel/botocore", "PynamoDB")


def memory(results: Results, settings: Settings) -> None:
    """Peak RSS growth while iterating 200,000 items, each contestant in a fresh process."""
    total = canned_server.MEMORY_PAGES * canned_server.MEMORY_PAGE
    print(f"memory: iterate {total:,} items, peak RSS growth", flush=True)
    with canned_endpoint() as url:
        port = url.rsplit(":", 1)[1]
        for name in MEMORY_CONTESTANTS:
            output = subprocess.run(
                [sys.executable, str(HERE / "run.py"), "--memory-child", name, port],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            grown_mb, seen = float(output[-2]), int(output[-1])
            assert seen == total, (name, seen)
            results.add("memory", name, grown_mb, "MB")


def _peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    VmHWM, not getrusage's ru_maxrss: a process started by vfork + exec inherits its
    parent's ru_maxrss, so a child of the (large) benchmark process would report the
    parent's peak. VmHWM belongs to the process's own address space.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def memory_child(contestant: str, port: int) -> None:
    """In a fresh process: iterate the 200,000 items; print peak RSS growth (MB) and count."""
    url = f"http://127.0.0.1:{port}"
    if contestant.startswith("flywheel"):
        engine = flywheel_engine(url, contestant.split("/")[1], ("mem",))
        iterate = lambda: engine.query(bench_data.BenchItem).filter(pk="p").gen()
    elif contestant == "PynamoDB":
        pmodel = bench_data.pynamodb_model("pmem", url)
        iterate = lambda: pmodel.query("p")
    else:
        client = botocore_client(url)

        def iterate() -> Iterator[Any]:
            paginator = client.get_paginator("query")
            for page in paginator.paginate(
                TableName="mem-bench", KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "p"}},
            ):
                yield from page["Items"]

    gc.collect()
    baseline = _peak_rss_mb()  # after imports and set-up, before the first page
    seen = 0
    for _ in iterate():
        seen += 1
    print(f"{_peak_rss_mb() - baseline:.1f} {seen}")


def run(selected: list[str], settings: Settings) -> Results:
    results = Results()
    functions = {"hydrate": hydrate, "dump": dump, "roundtrip": roundtrip, "bulk": bulk, "memory": memory}
    for name in selected:
        functions[name](results, settings)
    return results
