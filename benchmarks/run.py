#!/usr/bin/env python3
"""flywheel against the other Python ways to use DynamoDB, side by side, in one run.

    .venv/bin/python benchmarks/run.py [--quick] [--bulk-items 100000] [--no-readme]
                                       [--only hydrate,dump,roundtrip,bulk,memory]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: PynamoDB, boto3, matplotlib,
orjson) and, for the bulk load, dynalite (flywheel.local starts it). Contestants:

* flywheel          — models, on the default transport of this checkout
* flywheel/botocore — the same models sent through the botocore client (``transport='botocore'``)
* flywheel/fast     — the same models on the fast transport (``transport='fast'``)
* PynamoDB          — its models (current release)
* boto3 Table       — ``boto3.resource('dynamodb').Table``: plain dicts of Python values
* botocore          — raw client calls: AttributeValue dicts, no objects
* floor             — the response bytes decoded by the JSON parser, nothing built

Workloads (see benchmarks/README.md for exactly what each measures):
hydrate, dump, roundtrip (a canned-response endpoint in its own process), bulk (dynalite),
memory (peak RSS of iterating 200,000 items, each contestant in a fresh process).
Writes the table and the chart into benchmarks/README.md and benchmarks/results.png, and
the raw rows into benchmarks/results.json (``--only`` re-runs some workloads and keeps the
other rows from there).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if str(HERE.parent / "src") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "src"))

import bench_report
import bench_workloads as workloads

#: the rows of the last run, so ``--only`` can re-run some workloads and keep the rest
SAVED = HERE / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter timings, 20,000-item bulk load")
    parser.add_argument("--bulk-items", type=int, default=None, help="items in the bulk load (100,000)")
    parser.add_argument("--only", default="", help="comma-separated workloads to run")
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    parser.add_argument("--memory-child", nargs=2, metavar=("CONTESTANT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        workloads.memory_child(args.memory_child[0], int(args.memory_child[1]))
        return 0
    selected = [w for w in args.only.split(",") if w] or list(workloads.WORKLOADS)
    settings = workloads.Settings(
        min_time=0.3 if args.quick else 1.0,
        rounds=2 if args.quick else 3,
        bulk_items=args.bulk_items or (20_000 if args.quick else 100_000),
    )
    results = workloads.run(selected, settings)
    if args.only:  # keep the other workloads' rows of the last run, so the report stays whole
        results = bench_report.merge_saved(results, selected, SAVED)
    bench_report.save(results, SAVED)
    report = bench_report.render(results, settings)
    print(report)
    if not args.no_readme:
        bench_report.write_readme(report)
        bench_report.write_chart(results, HERE / "results.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
