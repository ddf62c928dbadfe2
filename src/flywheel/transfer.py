"""Dump a table to JSON lines and load it back: what ``flywheel dump`` and ``flywheel load`` do.

The file format is the one DynamoDB's own export to S3 uses: one item per line, as
``{"Item": {...}}`` in DynamoDB JSON (``{"id": {"S": "a"}, "n": {"N": "1"}}``), with binary
values (``B``, the members of ``BS``, at any depth) in base64. Items are copied as stored,
attribute for attribute, so a load reproduces a dump exactly, whatever the model declares.

Both stream: a dump writes each Scan page as it arrives, a load sends batches of 25 as it
reads. Both are resumable: progress is kept in a checkpoint file next to the data file
(``FILE.checkpoint`` for a dump, ``FILE.TABLE.load-checkpoint`` for a load), and is removed
when the work completes. A dump checkpoints after each page, and on resume cuts the file back
to the last page it recorded, so no item is written twice. A load checkpoints at most once a
second; on resume it re-sends at most that second's batches, which is harmless, as writing
an item twice leaves the same item.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from .connection import DynamoDBConnection

__all__ = [
    "DumpReport",
    "LoadReport",
    "ProgressReporter",
    "TransferError",
    "decode_item",
    "dump_checkpoint_path",
    "dump_table",
    "encode_item",
    "load_checkpoint_path",
    "load_table",
]

BATCH_SIZE = 25  # BatchWriteItem's limit
LOAD_CHECKPOINT_INTERVAL = 1.0  # seconds


class TransferError(Exception):
    """A dump or load cannot start or go on; the message says why and what to do."""


class ProgressReporter(Protocol):
    """What dump_table / load_table report progress to (flywheel.demo.progress.Progress fits)."""

    def advance(self, count: int = 1) -> None: ...


# -- DynamoDB JSON with base64 binaries --------------------------------------------------------
def _encode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode("ascii") for member in inner]}
    if kind == "M":
        return {"M": {name: _encode_value(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [_encode_value(member) for member in inner]}
    return value


def _decode_value(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"{where}: expected an attribute value like {{'S': 'text'}}, got {value!r}")
    ((kind, inner),) = value.items()
    try:
        if kind == "B":
            return {"B": base64.b64decode(inner, validate=True)}
        if kind == "BS":
            return {"BS": [base64.b64decode(member, validate=True) for member in inner]}
    except (binascii.Error, TypeError) as exc:
        raise ValueError(f"{where}: {kind} value is not base64 ({exc})") from None
    if kind == "M":
        return {"M": {name: _decode_value(member, f"{where}.{name}") for name, member in inner.items()}}
    if kind == "L":
        return {"L": [_decode_value(member, f"{where}[{i}]") for i, member in enumerate(inner)]}
    return value


def encode_item(item: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An item as botocore returns it (bytes for binaries) -> JSON-ready (base64 strings)."""
    return {name: _encode_value(value) for name, value in item.items()}


def decode_item(data: dict[str, Any], where: str = "item") -> dict[str, dict[str, Any]]:
    """The inverse of :func:`encode_item`; ValueError names the attribute that is malformed."""
    return {name: _decode_value(value, f"{where}: attribute {name!r}") for name, value in data.items()}


# -- checkpoints --------------------------------------------------------------------------------
def dump_checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".checkpoint")


def load_checkpoint_path(source: Path, table: str) -> Path:
    return source.with_name(f"{source.name}.{table}.load-checkpoint")


def _read_checkpoint(path: Path, table: str) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TransferError(f"cannot read the checkpoint {path}: {exc}; delete it to start over") from None
    if not isinstance(state, dict) or state.get("table") != table or not isinstance(state.get("offset"), int):
        raise TransferError(
            f"the checkpoint {path} is not for table {table!r}; delete it to start over"
        )
    return state


def _write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    # Written aside and renamed over: an interruption leaves the old checkpoint or the new one.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)


def _refuse_unasked_resume(checkpoint: Path, verb: str) -> None:
    if checkpoint.exists():
        raise TransferError(
            f"an earlier {verb} was interrupted ({checkpoint} exists): add --resume to go on "
            f"from where it stopped, or delete {checkpoint} to start over"
        )


# -- dump ---------------------------------------------------------------------------------------
@dataclass
class DumpReport:
    table: str
    items: int  # in the file, counting those of an earlier interrupted run
    resumed: bool
    seconds: float


def dump_table(
    connection: DynamoDBConnection,
    table: str,
    output: Path | None,
    *,
    stream: BinaryIO | None = None,
    resume: bool = False,
    page_size: int | None = None,
    consistent: bool = False,
    progress: ProgressReporter | None = None,
    on_page: Callable[[int], None] | None = None,
) -> DumpReport:
    """Write every item of ``table`` to ``output`` as JSON lines (see the module docstring).

    ``output`` None writes to ``stream`` instead (not resumable). ``page_size`` caps the
    items per Scan request (DynamoDB's Limit). ``on_page(items_so_far)`` is called after each
    page is safely written and checkpointed.
    """
    started = time.monotonic()
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": consistent}
    if page_size is not None:
        request["Limit"] = page_size
    if output is None:
        if stream is None:
            raise ValueError("dump_table needs an output path or a stream")
        count = _dump_pages(connection, request, stream, None, None, 0, progress, on_page)
        return DumpReport(table, count, False, time.monotonic() - started)

    checkpoint = dump_checkpoint_path(output)
    state: dict[str, Any] = {"table": table, "offset": 0, "items": 0, "last_key": None}
    if resume and checkpoint.exists():
        state = _read_checkpoint(checkpoint, table)
        if state.get("last_key") is None:
            # The last page was written; only removing the checkpoint was cut short.
            checkpoint.unlink()
            return DumpReport(table, int(state.get("items", 0)), True, time.monotonic() - started)
        if not output.exists() or output.stat().st_size < state["offset"]:
            raise TransferError(
                f"{output} is shorter than its checkpoint {checkpoint} records; delete the "
                "checkpoint to start over"
            )
    else:
        _refuse_unasked_resume(checkpoint, "dump")
    resumed = state["offset"] > 0
    if state.get("last_key") is not None:
        request["ExclusiveStartKey"] = decode_item(state["last_key"], "checkpoint key")
    if progress is not None and state["items"]:
        progress.advance(state["items"])
    with open(output, "r+b" if resumed else "wb") as file:
        # Lines past the checkpoint belong to a page that was cut short: drop them.
        file.seek(state["offset"])
        file.truncate()
        count = _dump_pages(
            connection, request, file, checkpoint, state, state["items"], progress, on_page
        )
    checkpoint.unlink(missing_ok=True)
    return DumpReport(table, count, resumed, time.monotonic() - started)


def _dump_pages(
    connection: DynamoDBConnection,
    request: dict[str, Any],
    file: BinaryIO,
    checkpoint: Path | None,
    state: dict[str, Any] | None,
    count: int,
    progress: ProgressReporter | None,
    on_page: Callable[[int], None] | None,
) -> int:
    for page in connection.paginate("Scan", request):
        items = page.get("Items", [])
        lines = b"".join(
            json.dumps({"Item": encode_item(item)}, separators=(",", ":")).encode() + b"\n"
            for item in items
        )
        file.write(lines)
        file.flush()
        count += len(items)
        if checkpoint is not None and state is not None:
            os.fsync(file.fileno())  # the checkpoint must never run ahead of the data
            last_key = page.get("LastEvaluatedKey")
            state.update(
                offset=file.tell(),
                items=count,
                last_key=encode_item(last_key) if last_key else None,
            )
            _write_checkpoint(checkpoint, state)
        if progress is not None:
            progress.advance(len(items))
        if on_page is not None:
            on_page(count)
    return count


def count_lines(path: Path) -> int:
    """Lines in a file, read in blocks (for a progress bar's total)."""
    lines = 0
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            lines += block.count(b"\n")
    return lines


# -- load ---------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    table: str
    items: int  # written by this run
    skipped: int  # already written by an earlier, interrupted run (resumed past)
    resumed: bool
    seconds: float


def _read_items(
    file: BinaryIO, path: Path, line_number: int
) -> Iterator[tuple[dict[str, Any], int, int]]:
    """(item, offset just after its line, line number) for each non-blank line from the
    file's position (readline, not iteration: iteration forbids tell())."""
    while raw := file.readline():
        line_number += 1
        where = f"{path}, line {line_number}"
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise TransferError(f"{where}: not JSON ({exc})") from None
        if not isinstance(record, dict) or not isinstance(record.get("Item"), dict):
            raise TransferError(f'{where}: expected {{"Item": {{...}}}}, got {raw[:80]!r}')
        try:
            item = decode_item(record["Item"], where)
        except ValueError as exc:
            raise TransferError(str(exc)) from None
        yield item, file.tell(), line_number


def load_table(
    connection: DynamoDBConnection,
    table: str,
    key_names: Sequence[str],
    source: Path,
    *,
    resume: bool = False,
    progress: ProgressReporter | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> LoadReport:
    """Put every item of a JSON-lines file into ``table`` (see the module docstring).

    ``key_names`` are the table's key attributes (items repeated in one batch are written
    once). ``on_batch(items_so_far)`` is called after each batch is written.
    """
    started = time.monotonic()
    checkpoint = load_checkpoint_path(source, table)
    state: dict[str, Any] = {"table": table, "offset": 0, "items": 0, "lines": 0}
    if resume and checkpoint.exists():
        state = _read_checkpoint(checkpoint, table)
    else:
        _refuse_unasked_resume(checkpoint, "load")
    skipped = state["items"]
    if progress is not None and skipped:
        progress.advance(skipped)
    written = 0
    last_saved = time.monotonic()
    with open(source, "rb") as file:
        file.seek(state["offset"])
        batch: list[dict[str, Any]] = []
        # Line numbers are kept for error messages after a resume.
        for item, end, line_number in _read_items(file, source, state.get("lines", 0)):
            batch.append({"PutRequest": {"Item": item}})
            if len(batch) == BATCH_SIZE:
                written += _flush(connection, table, key_names, batch, progress, on_batch, skipped + written)
                batch = []
                if time.monotonic() - last_saved >= LOAD_CHECKPOINT_INTERVAL:
                    state.update(offset=end, items=skipped + written, lines=line_number)
                    _write_checkpoint(checkpoint, state)
                    last_saved = time.monotonic()
        if batch:
            written += _flush(connection, table, key_names, batch, progress, on_batch, skipped + written)
    checkpoint.unlink(missing_ok=True)
    return LoadReport(table, written, skipped, skipped > 0, time.monotonic() - started)


def _flush(
    connection: DynamoDBConnection,
    table: str,
    key_names: Sequence[str],
    batch: list[dict[str, Any]],
    progress: ProgressReporter | None,
    on_batch: Callable[[int], None] | None,
    before: int,
) -> int:
    connection.batch_write(table, batch, key_names)
    if progress is not None:
        progress.advance(len(batch))
    if on_batch is not None:
        on_batch(before + len(batch))
    return len(batch)
