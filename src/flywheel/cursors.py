"""Resumable paging: :class:`Page` and the opaque cursor strings that continue a query or scan.

A cursor is DynamoDB's ``LastEvaluatedKey`` (the key of the last item read: the table's key
attributes, plus the index's when reading an index) written as compact JSON and encoded as
URL-safe base64 without padding, so it can travel in a URL or a JSON body and be resumed by
a fresh engine in another process. It never uses pickle and never evaluates anything: the
decoder accepts only a JSON object of the expected shape, whose key values are S, N or B
AttributeValues (B as base64 text), and rejects anything else with
:class:`InvalidCursorError`.

A cursor also records what it continues — the operation (Query or Scan), the model, the
index and the direction — so resuming it on a different read fails with a clear error
instead of silently returning the wrong items. It does not record the filters: a cursor is a
position, and the query that resumes it decides what matches from there on.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["CursorScope", "InvalidCursorError", "Page", "decode_cursor", "encode_cursor"]

T = TypeVar("T")

#: The format version written into every cursor, so a future format can tell old ones apart.
CURSOR_VERSION = 1
# Keys are at most 2 KB (hash) + 1 KB (range), an index adds two more: a cursor longer than
# this is not one of ours, and refusing it early bounds the work an attacker can ask for.
MAX_CURSOR_LENGTH = 16_384
_KEY_TYPES = frozenset({"S", "N", "B"})


class InvalidCursorError(ValueError):
    """A cursor string that is malformed, or that belongs to another query."""


@dataclass(frozen=True)
class CursorScope:
    """What a cursor continues: the operation, the model's table name, the index, the order.

    ``key_names`` are the attributes DynamoDB puts in ``LastEvaluatedKey`` for that read."""

    operation: str
    model: str
    index: str | None
    desc: bool
    key_names: tuple[str, ...]

    def describe(self) -> str:
        where = f"index {self.index!r}" if self.index else "the table"
        order = ", descending" if self.desc else ""
        return f"a {self.operation.lower()} of {self.model} on {where}{order}"


@dataclass
class Page(Generic[T]):
    """One page of results and the cursor that continues after it.

    ``cursor`` is None when the read is finished; otherwise pass it to ``page(size, cursor)``
    (on the same query, in this process or another) for the next page. A page holds fewer
    than ``size`` items only when it is the last one. With a filter, a page that ends exactly
    where DynamoDB's own page ends cannot know whether more matches follow, so it returns a
    cursor, and the page after it may be empty (with no cursor).
    """

    items: list[T] = field(default_factory=list)
    cursor: str | None = None

    @property
    def has_more(self) -> bool:
        """True when ``cursor`` continues the read."""
        return self.cursor is not None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _encode_value(name: str, av: Any) -> list[str]:
    if not isinstance(av, dict) or len(av) != 1:
        raise TypeError(f"key attribute {name!r} is not an AttributeValue: {av!r}")
    ((kind, value),) = av.items()
    if kind == "B":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"key attribute {name!r}: B value is not bytes: {value!r}")
        return ["B", base64.b64encode(bytes(value)).decode("ascii")]
    if kind in ("S", "N") and isinstance(value, str):
        return [kind, value]
    raise TypeError(f"key attribute {name!r} must be S, N or B, got {av!r}")


def encode_cursor(scope: CursorScope, key: dict[str, Any]) -> str:
    """The cursor string for ``key`` (a LastEvaluatedKey) read by ``scope``."""
    document = {
        "v": CURSOR_VERSION,
        "o": scope.operation,
        "m": scope.model,
        "i": scope.index,
        "d": scope.desc,
        "k": {name: _encode_value(name, av) for name, av in key.items()},
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _invalid(reason: str) -> InvalidCursorError:
    return InvalidCursorError(f"invalid cursor: {reason}")


def _decode_value(name: str, encoded: Any) -> dict[str, Any]:
    if (
        not isinstance(encoded, list)
        or len(encoded) != 2
        or encoded[0] not in _KEY_TYPES
        or not isinstance(encoded[1], str)
    ):
        raise _invalid(f"key attribute {name!r} is not an S, N or B value")
    kind, value = encoded
    if kind == "B":
        try:
            return {"B": base64.b64decode(value.encode("ascii"), validate=True)}
        except (binascii.Error, UnicodeEncodeError):
            raise _invalid(f"key attribute {name!r} holds bad base64") from None
    return {kind: value}


def decode_cursor(cursor: str, scope: CursorScope) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, checked against the read resuming it.

    Raises :class:`InvalidCursorError` (a ValueError) for anything that is not a cursor made
    by a read like ``scope``."""
    if not isinstance(cursor, str):
        raise InvalidCursorError(f"a cursor is a string, not {type(cursor).__name__}")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(f"length {len(cursor)} is outside 1..{MAX_CURSOR_LENGTH}")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid("not a cursor string returned by page()") from None
    if not isinstance(document, dict) or document.get("v") != CURSOR_VERSION:
        raise _invalid("unknown format")
    made_by = (document.get("o"), document.get("m"), document.get("i"), document.get("d"))
    expected = (scope.operation, scope.model, scope.index, scope.desc)
    if made_by != expected:
        operation, model, index, desc = made_by
        if isinstance(operation, str) and isinstance(model, str) and isinstance(desc, bool) and (
            index is None or isinstance(index, str)
        ):
            source = CursorScope(operation, model, index, desc, ()).describe()
        else:
            source = "another read"
        raise InvalidCursorError(
            f"this cursor continues {source}; it cannot resume {scope.describe()}"
        )
    key = document.get("k")
    if not isinstance(key, dict) or sorted(key) != sorted(scope.key_names):
        names = sorted(key) if isinstance(key, dict) else key
        raise _invalid(f"its key attributes {names!r} are not {sorted(scope.key_names)}")
    return {name: _decode_value(name, encoded) for name, encoded in key.items()}


def key_of(item: dict[str, Any], key_names: Sequence[str]) -> dict[str, Any]:
    """The LastEvaluatedKey DynamoDB would give for a read that stopped at ``item``."""
    return {name: item[name] for name in key_names}
