"""Writer marks: telling whether a write whose answer was lost has landed.

A write whose answer is lost (a dropped connection, a timeout) may have been applied, and
the connection sends it again. That is harmless for a plain put or a SET, but not for an
increment (it would count twice) nor for a conditional write (its retry fails the condition
against the write's own result). DynamoDB's UpdateItem and PutItem carry no idempotency
token, so flywheel makes one:

- Each Engine, in each process, writes under its own *writer mark*: an attribute named
  ``__flywheel_w_<8 random characters>``.
- A guarded write (an increment, or a conditional write that changes something) also sets
  its mark to a fresh token, on condition that the mark does not hold that token already.
  A retry of a write that landed therefore fails that condition, and the engine reads the
  item back: if the mark holds the write's token, the write landed (once) and is reported as
  done; otherwise the failure is a real one.
- One engine never has two guarded writes of the same item in flight at once (a lock per
  item key, striped), so between a write and its retry only that write can change its mark.

A mark older than :data:`STALE_SECONDS` belongs to no write that can still be retried (the
connection gives up after its ``retry_deadline``, 60 s by default). When a write's answer
shows stale marks of other writers, the engine removes them, on condition that each still
holds the token seen: an item carries about one mark per engine that wrote it recently.

Marks are never loaded into objects (nor cached, nor compared by sync); readers outside
flywheel see them as ordinary string attributes.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from .expressions import Placeholders, attribute_absent, join_conditions

__all__ = ["MARK_PREFIX", "STALE_SECONDS", "WriterMark", "is_mark", "stale_marks", "strip_marks"]

MARK_PREFIX = "__flywheel_w_"
STALE_SECONDS = 600
_LOCK_STRIPES = 64


def is_mark(name: str) -> bool:
    return name.startswith(MARK_PREFIX)


def strip_marks(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without writer marks (the same dict when it holds none)."""
    if any(name.startswith(MARK_PREFIX) for name in item):
        return {name: av for name, av in item.items() if not name.startswith(MARK_PREFIX)}
    return item


def _written_at(token: str) -> int | None:
    stamp, _, _ = token.partition(".")
    try:
        return int(stamp, 16)
    except ValueError:
        return None


def stale_marks(item: Mapping[str, Any], own: str, now: float | None = None) -> dict[str, Any]:
    """The marks in ``item`` (other than ``own``) whose token is older than STALE_SECONDS."""
    cutoff = (time.time() if now is None else now) - STALE_SECONDS
    found = {}
    for name, av in item.items():
        if name.startswith(MARK_PREFIX) and name != own:
            written = _written_at(av.get("S", "")) if isinstance(av, dict) else None
            if written is not None and written < cutoff:
                found[name] = av
    return found


class WriterMark:
    """The writer mark of one Engine: its attribute name (new in a forked child process),
    fresh tokens, and the per-item locks that keep one guarded write per item in flight."""

    def __init__(self) -> None:
        self._pid = -1
        self._name = ""
        self._guard = threading.Lock()
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    @property
    def attribute(self) -> str:
        pid = os.getpid()
        if pid != self._pid:
            with self._guard:
                if pid != self._pid:
                    self._name = MARK_PREFIX + secrets.token_hex(4)
                    self._pid = pid
        return self._name

    @staticmethod
    def new_token() -> str:
        """A token no other write will use: the time written (hex seconds) and 64 random bits."""
        return f"{int(time.time()):x}.{secrets.token_hex(8)}"

    def lock(self, table: str, key: Any) -> threading.Lock:
        """The lock that guarded writes of the item at ``key`` in ``table`` take."""
        return self._locks[hash((table, key)) % _LOCK_STRIPES]

    @staticmethod
    def condition(name: str, token: str, ph: Placeholders) -> str:
        """True unless the mark ``name`` already holds ``token`` (the write landed before)."""
        return f"({attribute_absent(name, ph)} OR {ph.name(name)} <> {ph.value({'S': token})})"

    @staticmethod
    def cleanup_request(stale: Mapping[str, Any]) -> tuple[str, str, Placeholders]:
        """(UpdateExpression, ConditionExpression, placeholders) removing ``stale`` marks if
        each still holds the token seen."""
        ph = Placeholders()
        update = "REMOVE " + ", ".join(ph.name(name) for name in stale)
        condition = join_conditions(
            [f"{ph.name(name)} = {ph.value(av)}" for name, av in stale.items()], "AND"
        )
        return update, condition, ph
