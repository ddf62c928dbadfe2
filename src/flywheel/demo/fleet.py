"""The demo's writes after loading: flights counted into the plane items, and a conflict.

* ``tally_flights`` reads a carrier's flights over the days loaded (one query on the global
  index 'carrier-index', projecting only ``tailnum``) and counts them per day and per plane.
* ``record_flight_counts`` adds each plane's count to its item with an atomic increment:
  ``plane.incr_(flights=n)``, then one ``engine.sync(planes, raise_on_conflict=False)``.
  Increments need no conflict check; they add up whoever else writes. The counts add to
  what the items hold, and ``load_demo_data`` saves the plane items whole (no counts), so a
  run of the demo (load, then questions) leaves the same counts however often it runs.
* ``busiest_planes`` finds the planes with the most flights by a parallel scan of the plane
  table (``scan(Plane).filter(Plane.flights > 0).all(segments=4)``).
* ``show_conflict`` edits two copies of one plane: the second ``sync`` with
  ``raise_on_conflict=True`` raises CheckFailed, because the stored value changed since that
  copy was read; the copy is refreshed and the edit retried.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from ..engine import Engine
from ..exceptions import CheckFailed
from .models import Flight, Plane

__all__ = [
    "PARALLEL_SEGMENTS",
    "ConflictStory",
    "FleetAnswers",
    "ask_fleet",
    "busiest_planes",
    "print_fleet",
    "record_flight_counts",
    "show_conflict",
    "tally_flights",
]

#: Segments of the parallel plane scan (threads, each reading its share of the table).
PARALLEL_SEGMENTS = 4
#: How many of the busiest planes to list.
BUSIEST_SHOWN = 5
#: The conflict: the plane is in service; operations flags it, the hangar signs it off.
IN_SERVICE = "in service"
FLAGGED = "due for A-check"
SIGNED_OFF = "A-check done"


@dataclass
class ConflictStory:
    """What happened when two copies of one plane were edited (see :func:`show_conflict`)."""

    tailnum: str
    first_edit: str  # what the first copy wrote (its sync succeeded)
    raised: bool  # whether the stale copy's sync raised CheckFailed
    seen_after_refresh: str | None  # the stale copy's status once refreshed
    final_status: str | None  # the stored status after the retry


@dataclass
class FleetAnswers:
    """The counts written into the plane items and what was read back."""

    flights_per_plane: dict[str, int]  # tail number -> flights, as tallied from the queries
    planes_counted: list[Plane]  # the plane items incremented, as synced (counts loaded back)
    unknown_tails: list[str]  # tail numbers the planes table lacks (nothing written for them)
    busiest: list[Plane]  # the most flown planes, from the parallel scan, busiest first
    planes_flown: int  # planes with a count, from the same scan
    conflict: ConflictStory | None = None
    segments: int = PARALLEL_SEGMENTS


def tally_flights(
    engine: Engine, carrier: str, days: Iterable[date]
) -> tuple[dict[date, int], Counter[str]]:
    """The carrier's flights on each day, and per tail number over all the days.

    One query on the global index 'carrier-index' (carrier, dep_at) reads the whole span of
    days, however many, instead of one query per day's partition. The index projects only
    the keys and ``tailnum``, and ``attributes=`` asks for just two of them: small pages."""
    wanted = sorted(set(days))
    per_day: dict[date, int] = dict.fromkeys(wanted, 0)
    per_plane: Counter[str] = Counter()
    if not wanted:
        return per_day, per_plane
    span = Flight.dep_at.between_(f"{wanted[0].isoformat()} 00:00", f"{wanted[-1].isoformat()} 23:59")
    rows = engine(Flight).filter(span, carrier=carrier).gen(attributes=["dep_at", "tailnum"])
    for row in rows:
        day = date.fromisoformat(row["dep_at"][:10])
        if day in per_day:  # a slice like "days 4-5 of every month" spans days it skips
            per_day[day] += 1
            if row.get("tailnum"):
                per_plane[row["tailnum"]] += 1
    return per_day, per_plane


def record_flight_counts(
    engine: Engine, per_plane: Counter[str]
) -> tuple[list[Plane], list[str]]:
    """Add each plane's count to its item; returns the planes synced and the unknown tails.

    The planes are read in batches (``engine.get`` with a list of keys), each gets
    ``incr_(flights=n)``, and one ``sync`` call sends an UpdateItem per plane with an ADD:
    concurrent counters would add up, so no conflict check is needed."""
    tails = sorted(per_plane)
    planes = engine.get(Plane, tails)
    known = {plane.tailnum for plane in planes}
    for plane in planes:
        plane.incr_(flights=per_plane[plane.tailnum])
    engine.sync(planes, raise_on_conflict=False)
    return planes, [tail for tail in tails if tail not in known]


def busiest_planes(engine: Engine, shown: int = BUSIEST_SHOWN) -> tuple[list[Plane], int]:
    """The ``shown`` planes with the most flights (ties by tail number) and how many have a
    count, from one parallel scan of the plane table."""
    counted = engine.scan(Plane).filter(Plane.flights > 0).all(segments=PARALLEL_SEGMENTS)
    counted.sort(key=lambda plane: (-(plane.flights or 0), plane.tailnum))
    return counted[:shown], len(counted)


def show_conflict(engine: Engine, tailnum: str) -> ConflictStory:
    """Two clients edit one plane's status; the one holding a stale copy must retry.

    The plane is put in service; operations and the hangar both read it. Operations flags
    it and syncs. The
    hangar, still holding the copy read before that, signs it off: its sync with
    ``raise_on_conflict=True`` checks that the status is still what the hangar last saw,
    finds it changed and raises CheckFailed, writing nothing. The hangar refreshes (now it
    sees the flag), makes its edit again, and this time the sync succeeds."""
    operations = engine.get(Plane, tailnum=tailnum)
    if operations is None:
        raise LookupError(f"Plane {tailnum!r} is not in the planes table")
    # A known start, so the story is the same however often it is told.
    operations.status = IN_SERVICE
    engine.sync(operations)
    hangar = engine.get(Plane, tailnum=tailnum)
    assert hangar is not None
    operations.status = FLAGGED
    engine.sync(operations, raise_on_conflict=True)

    hangar.status = SIGNED_OFF
    try:
        engine.sync(hangar, raise_on_conflict=True)
        raised = False
    except CheckFailed:
        raised = True
    hangar.refresh()
    seen = hangar.status
    hangar.status = SIGNED_OFF
    engine.sync(hangar, raise_on_conflict=True)
    stored = engine.get(Plane, consistent=True, tailnum=tailnum)
    return ConflictStory(
        tailnum=tailnum,
        first_edit=FLAGGED,
        raised=raised,
        seen_after_refresh=seen,
        final_status=stored.status if stored is not None else None,
    )


def ask_fleet(engine: Engine, per_plane: Counter[str]) -> FleetAnswers:
    """Record the counts, find the busiest planes, and show a conflict on the busiest."""
    planes, unknown = record_flight_counts(engine, per_plane)
    busiest, flown = busiest_planes(engine)
    answers = FleetAnswers(
        flights_per_plane=dict(per_plane),
        planes_counted=planes,
        unknown_tails=unknown,
        busiest=busiest,
        planes_flown=flown,
    )
    if busiest:
        answers.conflict = show_conflict(engine, busiest[0].tailnum)
    return answers


# -- printing -------------------------------------------------------------------------------
def print_fleet(fleet: FleetAnswers, carrier: str, span: str, out: TextIO) -> None:
    """Print the counts, the busiest planes and the conflict for a person to read."""
    out.write(f"\n== Flights per {carrier} plane, {span}, counted into the plane items\n")
    out.write(
        "  for each tail number: plane.incr_(flights=n); then "
        "engine.sync(planes, raise_on_conflict=False)\n"
    )
    out.write(
        f"  {len(fleet.planes_counted)} plane items incremented (atomic ADD, one UpdateItem each)"
    )
    if fleet.unknown_tails:
        out.write(f"; {len(fleet.unknown_tails)} tail numbers are not in the planes table")
    out.write("\n")

    out.write(f"\n== The busiest {carrier} planes, {span}\n")
    out.write(
        f"  scan(Plane).filter(Plane.flights > 0).all(segments={fleet.segments})"
        f" -> {fleet.planes_flown} planes; the top {len(fleet.busiest)}:\n"
    )
    for plane in fleet.busiest:
        what = " ".join(str(part) for part in (plane.manufacturer, plane.model) if part)
        out.write(f"  {plane.tailnum:<7} {plane.flights:>4} flights  {what}\n")

    story = fleet.conflict
    if story is None:
        return
    out.write(f"\n== Two copies of {story.tailnum} edited at once: a safe sync\n")
    out.write(f"  operations and the hangar both read the plane: status {IN_SERVICE!r}\n")
    out.write(
        f"  operations: status = {story.first_edit!r}; engine.sync(plane, "
        "raise_on_conflict=True) -> written\n"
    )
    outcome = "CheckFailed: the status changed since this copy was read" if story.raised else (
        "written (no conflict?)"
    )
    out.write(f"  hangar (stale copy): status = {SIGNED_OFF!r}; sync -> {outcome}\n")
    out.write(
        f"  hangar: refresh() -> sees {story.seen_after_refresh!r}; sets {SIGNED_OFF!r} again; "
        f"sync -> written; stored status: {story.final_status!r}\n"
    )
