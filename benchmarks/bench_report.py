"""The results of run.py as a markdown report (tables, targets) and a PNG chart."""
from __future__ import annotations

import json
import os
import platform
import re
from dataclasses import asdict
from datetime import date
from importlib.metadata import version
from pathlib import Path

from bench_workloads import BULK_ROUNDS, FLYWHEEL, Result, Results, Settings

#: the workload names of each run.py workload (roundtrip reports two)
WORKLOAD_ROWS = {"roundtrip": ("GetItem", "Query")}

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- run.py:results -->", "<!-- /run.py:results -->"

#: (workload, rate unit) in report order; memory is MB, lower is better
SECTIONS = [
    ("hydrate", "items/s", "1,000-item Query response (bytes in memory) -> objects"),
    ("dump", "items/s", "1,000 objects -> BatchWriteItem request bodies"),
    ("GetItem", "calls/s", "GetItem round trip, canned endpoint"),
    ("Query", "items/s", "1,000-item Query in 4 pages, canned endpoint"),
    ("bulk", "items/s", "items stored on dynalite"),
    ("memory", "MB", "peak RSS growth iterating 200,000 items (lower is better)"),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = re.findall(r"model name\s*:\s*(.+)", info.read())
        if names:
            cpu = names[0].strip()
    except OSError:
        pass
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("flywheel", "botocore", "boto3", "pynamodb", "orjson")
    )
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {packages}; {date.today().isoformat()}"
    )


BULK_FLYWHEEL = "flywheel/fast batch_write"  # the engine's bulk writer, on the default transport


def _flywheel_row(results: Results, workload: str) -> str:
    for candidate in ("flywheel/fast", BULK_FLYWHEEL, FLYWHEEL):
        if results.rate(workload, candidate) is not None:
            return candidate
    return FLYWHEEL


def targets(results: Results) -> list[str]:
    """One line per target of the issue: met or not, with the ratio measured."""
    lines = []

    def check(label: str, ratio: float | None, goal: float, lower_is_better: bool = False) -> None:
        if ratio is None:
            lines.append(f"| {label} | not measured | |")
            return
        met = ratio <= goal if lower_is_better else ratio >= goal
        sign = "≤" if lower_is_better else "≥"
        lines.append(f"| {label} | {ratio:.2f} (goal {sign} {goal:g}) | {'met' if met else '**not met**'} |")

    def ratio(workload: str, numerator: str, denominator: str) -> float | None:
        top, bottom = results.rate(workload, numerator), results.rate(workload, denominator)
        return None if top is None or not bottom else top / bottom

    fw = "flywheel/fast"
    check("hydrate: flywheel / PynamoDB", ratio("hydrate", fw, "PynamoDB"), 3)
    check("hydrate: flywheel / boto3 Table", ratio("hydrate", fw, "boto3 Table"), 2)
    check("hydrate: floor / flywheel (time ratio)", ratio("hydrate", "floor", fw), 3, lower_is_better=True)
    check("GetItem: flywheel / PynamoDB", ratio("GetItem", fw, "PynamoDB"), 1.5)
    check("GetItem: flywheel / raw botocore", ratio("GetItem", fw, "botocore"), 1.2)
    bulk_best = max(
        (row.rate for row in results.rows if row.workload == "bulk" and row.contestant.startswith("botocore")),
        default=None,
    )
    for contestant, label in ((BULK_FLYWHEEL, "engine.batch_write()"), ("flywheel/fast save(list)", "engine.save(list)")):
        bulk_fw = results.rate("bulk", contestant)
        check(
            f"bulk load: flywheel {label} / best raw botocore writer",
            None if bulk_best is None or bulk_fw is None else bulk_fw / bulk_best,
            0.9,
        )
    check("memory: flywheel peak RSS growth, MB", results.rate("memory", fw), 50, lower_is_better=True)
    return ["| target | ratio | |", "|---|---:|---|", *lines]


def render(results: Results, settings: Settings) -> str:
    out = [
        (
            f"Machine and versions: {machine()}. Default transport of this checkout: `{FLYWHEEL}`. "
            f"Contestants take turns ({2 * settings.rounds} rounds of {settings.min_time / 2:g} s "
            "each); each rate is per second of client CPU time, from the 25th-percentile sample. "
            f"Bulk is wall-clock throughput, the median of {BULK_ROUNDS} alternating rounds of "
            f"{settings.bulk_items // BULK_ROUNDS:,} items per contestant (every round in the "
            "bulk table's last column); the best raw writer is the thread count with the best median."
        ),
        "",
        "### Targets",
        "",
        *targets(results),
    ]
    for workload, unit, title in SECTIONS:
        rows = [row for row in results.rows if row.workload == workload]
        if not rows:
            continue
        reference = results.rate(workload, _flywheel_row(results, workload)) or 1.0
        notes = any(row.note for row in rows)
        head = f"| contestant | {unit} | flywheel's advantage |" + (" |" if notes else "")
        out += ["", f"### {workload}: {title}", "", head, "|---|---:|---:|" + ("---|" if notes else "")]
        for row in rows:
            advantage = (row.rate / reference) if workload == "memory" else (reference / row.rate if row.rate else 0)
            line = f"| {row.contestant} | {row.rate:,.1f} | {advantage:.2f}× |"
            out.append(line + (f" {row.note} |" if notes else ""))
    return "\n".join(out)


def write_readme(report: str) -> None:
    text = README.read_text() if README.exists() else ""
    block = f"{BEGIN}\n{report}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text += "\n" + block + "\n"
    README.write_text(text)


def write_chart(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = [s for s in SECTIONS if any(row.workload == s[0] for row in results.rows)]
    figure, axes = plt.subplots(len(sections), 1, figsize=(9, 2.3 * len(sections)), squeeze=False)
    for axis, (workload, unit, title) in zip(axes[:, 0], sections):
        rows = [row for row in results.rows if row.workload == workload]
        names = [row.contestant for row in rows]
        colours = ["tab:green" if name.startswith("flywheel") else "tab:gray" for name in names]
        axis.barh(names, [row.rate for row in rows], color=colours)
        axis.invert_yaxis()
        axis.set_title(f"{workload}: {title}", fontsize=9, loc="left")
        axis.set_xlabel(unit, fontsize=8)
        axis.tick_params(labelsize=8)
        for index, row in enumerate(rows):
            axis.text(row.rate, index, f" {row.rate:,.0f}", va="center", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def save(results: Results, path: Path) -> None:
    path.write_text(json.dumps([asdict(row) for row in results.rows], indent=1) + "\n")


def merge_saved(results: Results, selected: list[str], path: Path) -> Results:
    """The saved rows of the workloads not in ``selected``, then this run's rows."""
    if not path.exists():
        return results
    replaced = {name for workload in selected for name in WORKLOAD_ROWS.get(workload, (workload,))}
    kept = [Result(**row) for row in json.loads(path.read_text()) if row["workload"] not in replaced]
    merged = Results(kept + results.rows)
    order = [name for section in SECTIONS for name in (section[0],)]
    merged.rows.sort(key=lambda row: order.index(row.workload) if row.workload in order else len(order))
    return merged
