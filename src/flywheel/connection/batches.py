"""BatchWriteItem and BatchGetItem: dedupe, split to DynamoDB's limits, retry the leftovers.

DynamoDB rejects a batch that names one key twice, caps a batch at 25 writes / 100 keys, and
answers with ``UnprocessedItems`` / ``UnprocessedKeys`` when it is throttled or a response
would pass 16 MB. These functions hide all three and report exactly what was not done.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..exceptions import BatchGetError, BatchWriteError, DynamoDBError
from .errors import backoff_delay

if TYPE_CHECKING:
    from .core import DynamoDBConnection

LOG = logging.getLogger("flywheel")

WRITE_BATCH_SIZE = 25
GET_BATCH_SIZE = 100

Item = dict[str, dict[str, Any]]
KeyIdentity = tuple[Hashable, ...]


def key_identity(attributes: Item, key_names: Sequence[str], table: str) -> KeyIdentity:
    """A hashable value equal for two items exactly when DynamoDB sees the same key.

    Numbers compare by value (DynamoDB treats '1' and '1.0' as one key) and binary by bytes.
    """
    if not key_names:
        raise ValueError(f"no key attribute names given for table {table!r}")
    parts: list[Hashable] = []
    for name in key_names:
        try:
            value = attributes[name]
        except KeyError:
            raise ValueError(
                f"key attribute {name!r} of table {table!r} missing from {sorted(attributes)}"
            ) from None
        if len(value) != 1:
            raise ValueError(f"key attribute {name!r} of table {table!r} is not an AttributeValue: {value!r}")
        ((kind, raw),) = value.items()
        if kind == "N":
            try:
                raw = Decimal(raw)
            except (InvalidOperation, TypeError):
                pass  # the server will reject it with a proper message
        elif kind == "B" and not isinstance(raw, bytes):
            raw = raw.encode() if isinstance(raw, str) else bytes(raw)
        parts.append((kind, raw))
    return tuple(parts)


def _write_attributes(request: dict[str, Any], table: str) -> Item:
    if "PutRequest" in request:
        item: Item = request["PutRequest"]["Item"]
        return item
    if "DeleteRequest" in request:
        key: Item = request["DeleteRequest"]["Key"]
        return key
    raise ValueError(
        f"batch write to {table!r}: expected a PutRequest or DeleteRequest, got {request!r}"
    )


def dedupe_writes(
    requests: Iterable[dict[str, Any]], key_names: Sequence[str], table: str
) -> dict[KeyIdentity, dict[str, Any]]:
    """The requests by key: the last request for a key wins, in order of last occurrence."""
    latest: dict[KeyIdentity, dict[str, Any]] = {}
    for request in requests:
        identity = key_identity(_write_attributes(request, table), key_names, table)
        # pop first so the key moves to the position of its last occurrence
        latest.pop(identity, None)
        latest[identity] = request
    return latest


def batch_write(
    connection: DynamoDBConnection,
    table: str,
    requests: Sequence[dict[str, Any]],
    key_names: Sequence[str],
) -> None:
    """Write every request, retrying unprocessed ones; see DynamoDBConnection.batch_write."""
    latest = dedupe_writes(requests, key_names, table)
    pending: deque[dict[str, Any]] = deque(latest.values())
    total = len(pending)
    written: list[dict[str, Any]] = []  # confirmed by DynamoDB, for the error if we give up
    stalled = 0  # consecutive sends that wrote nothing: the give-up counter
    throttled = 0  # consecutive sends that left something over: the backoff exponent
    while pending:
        chunk = [pending.popleft() for _ in range(min(WRITE_BATCH_SIZE, len(pending)))]
        try:
            response = connection.call("BatchWriteItem", {"RequestItems": {table: chunk}})
        except DynamoDBError as exc:
            not_written = chunk + list(pending)
            error = BatchWriteError(
                f"batch write to {table!r} failed, {len(written)} of {total} requests written, "
                f"{len(not_written)} not: {exc.code}: {exc.message}",
                not_written,
                code=exc.code,
                written=written,
                status=exc.status,
                operation="BatchWriteItem",
                response=exc.response,
                table=table,
            )
            error.unanswered_attempts = exc.unanswered_attempts
            raise error from exc
        leftover = (response.get("UnprocessedItems") or {}).get(table)
        if not leftover:
            written.extend(chunk)
            stalled = throttled = 0
            continue
        # Report the caller's own request objects, not the server's echo of them.
        identities = [key_identity(_write_attributes(r, table), key_names, table) for r in leftover]
        originals = [latest.get(identity, r) for identity, r in zip(identities, leftover)]
        held_back = set(identities)
        written.extend(
            r for r in chunk
            if key_identity(_write_attributes(r, table), key_names, table) not in held_back
        )
        pending.extendleft(reversed(originals))
        throttled += 1
        stalled = stalled + 1 if len(leftover) >= len(chunk) else 0
        if stalled >= connection.max_attempts:
            raise BatchWriteError(
                f"batch write to {table!r} gave up after {stalled} attempts without progress, "
                f"{len(written)} of {total} requests written, {len(pending)} not",
                list(pending),
                written=written,
                operation="BatchWriteItem",
                table=table,
            )
        delay = backoff_delay(throttled, connection.backoff_base, connection.backoff_cap)
        LOG.debug(
            "BatchWriteItem on %s: %d unprocessed, retrying in %.3fs", table, len(leftover), delay
        )
        time.sleep(delay)


def batch_get(
    connection: DynamoDBConnection,
    table: str,
    keys: Sequence[Item],
    key_names: Sequence[str],
    consistent: bool = False,
    attributes: Iterable[str] | None = None,
) -> list[Item]:
    """Fetch items by key, retrying unprocessed keys; see DynamoDBConnection.batch_get."""
    if isinstance(attributes, str):
        raise TypeError(f"attributes must be a list of names, not the string {attributes!r}")
    unique: dict[KeyIdentity, Item] = {}
    for key in keys:
        identity = key_identity(key, key_names, table)
        if identity not in unique:
            # DynamoDB rejects non-key attributes in a key; send only the key's own.
            unique[identity] = key if len(key) == len(key_names) else {n: key[n] for n in key_names}
    table_request: dict[str, Any] = {}
    if consistent:
        table_request["ConsistentRead"] = True
    if attributes is not None:
        # Key attributes always come back: callers match the results to keys by them.
        names = list(dict.fromkeys([*key_names, *attributes]))
        placeholders = {f"#p{i}": name for i, name in enumerate(names)}
        table_request["ProjectionExpression"] = ", ".join(placeholders)
        table_request["ExpressionAttributeNames"] = placeholders

    pending: deque[Item] = deque(unique.values())
    found: list[Item] = []
    stalled = 0
    throttled = 0
    while pending:
        chunk = [pending.popleft() for _ in range(min(GET_BATCH_SIZE, len(pending)))]
        response = connection.call(
            "BatchGetItem", {"RequestItems": {table: {**table_request, "Keys": chunk}}}
        )
        found.extend((response.get("Responses") or {}).get(table) or ())
        leftover = ((response.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys")
        if not leftover:
            stalled = throttled = 0
            continue
        pending.extendleft(reversed(leftover))
        throttled += 1
        stalled = stalled + 1 if len(leftover) >= len(chunk) else 0
        if stalled >= connection.max_attempts:
            raise BatchGetError(
                f"batch get from {table!r} gave up after {stalled} attempts without progress, "
                f"{len(pending)} of {len(unique)} keys not read",
                list(pending),
                operation="BatchGetItem",
                table=table,
            )
        delay = backoff_delay(throttled, connection.backoff_base, connection.backoff_cap)
        LOG.debug(
            "BatchGetItem on %s: %d unprocessed, retrying in %.3fs", table, len(leftover), delay
        )
        time.sleep(delay)
    return found
