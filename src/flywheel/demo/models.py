"""The demo's models: the nycflights13 tables (flights from New York City's airports in 2013).

Each table is keyed for the questions the demo asks:

* ``Flight`` lives in one partition per carrier and day (``carrier_day = 'UA:2013-07-04'``),
  sorted by scheduled departure, so "every UA flight on July 4th in departure order" is one
  query; its local index on ``dep_delay`` makes "the ten most delayed" one query too.
* ``Weather`` lives in one partition per airport, sorted by hour, so "the weather at JFK
  around 5 pm" is a range query.
* ``Airline``, ``Airport`` and ``Plane`` are looked up by their codes.
"""
from __future__ import annotations

from datetime import date, datetime

from ..fields import Field
from ..models import Model

__all__ = ["DEMO_MODELS", "Airline", "Airport", "Flight", "Plane", "Weather", "carrier_day", "flight_slot"]


def carrier_day(carrier: str, day: date) -> str:
    """The hash key of a carrier's flights on one day: ``'UA:2013-07-04'``."""
    return f"{carrier}:{day.isoformat()}"


def flight_slot(sched_dep_time: int, flight: int, origin: str) -> str:
    """The range key of a flight inside its carrier-day: ``'0515:1545:EWR'``.

    Scheduled departure first (zero-padded HHMM, so text order is time order), then the
    flight number and origin, which together make it unique: nycflights13 has no two flights
    of one carrier on one day with the same number from the same airport.
    """
    return f"{sched_dep_time:04d}:{flight}:{origin}"


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
    """One scheduled flight; times are local HHMM integers as in the data set."""

    carrier_day = Field(hash_key=True)
    slot = Field(range_key=True)
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
