"""BatchWriteItem and BatchGetItem: dedupe, split to DynamoDB's limits, retry the leftovers.

DynamoDB rejects a batch that names one key twice, caps a batch at 25 writes / 100 keys, and
answers with ``UnprocessedItems`` / ``UnprocessedKeys`` when it is throttled or a response
would pass 16 MB. These functions hide all three and report exactly what was not done.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


class _Window:
    """Sends the chunks of a pending queue, up to ``concurrency`` at a time, in queue order.

    One chunk goes alone until a chunk comes back wholly processed (so a call that fails at
    once, on a missing table or a throttled one, fails after one request, not after
    ``concurrency``), and again whenever one comes back with unprocessed entries: those go
    back to the front of the queue and are resent with backoff, one chunk at a time, exactly
    as without concurrency, because sending more at a throttled table only earns more
    throttling. After a failure (an error, or ``max_attempts`` sends in a row that made no
    progress) no new chunk starts; the chunks already sent are waited for and accounted for,
    so the caller can say exactly what was and was not done.
    """

    def __init__(
        self,
        connection: DynamoDBConnection,
        pending: deque[Any],
        size: int,
        send: Callable[[list[Any]], dict[str, Any]],
        settle: Callable[[list[Any], dict[str, Any]], list[Any]],
        operation: str,
        table: str,
    ) -> None:
        self.connection = connection
        self.pending = pending
        self.size = size
        self.send = send
        #: records what a response did and returns the entries it left unprocessed
        self.settle = settle
        self.operation = operation
        self.table = table
        #: the first error a send raised, and the chunks of every send that raised
        self.failure: DynamoDBError | None = None
        self.failed: list[Any] = []
        #: consecutive sends that made no progress, and whether that made run() give up
        self.stalled = 0
        self.gave_up = False

    def run(self) -> None:
        connection = self.connection
        pending = self.pending
        concurrency = connection.batch_concurrency
        pool = connection.batch_pool() if concurrency > 1 else None
        in_flight: dict[Future[dict[str, Any]], list[Any]] = {}
        serial = True  # one chunk at a time: before the first full success, and when throttled
        throttled = 0  # consecutive sends that left something over: the backoff exponent
        stopped = False
        while True:
            limit = 1 if serial else concurrency
            while pending and not stopped and len(in_flight) < limit:
                chunk = [pending.popleft() for _ in range(min(self.size, len(pending)))]
                in_flight[self._start(pool, chunk)] = chunk
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = in_flight.pop(future)
                try:
                    response = future.result()
                except DynamoDBError as exc:
                    if self.failure is None:
                        self.failure = exc
                    self.failed.extend(chunk)
                    stopped = True
                    continue
                leftover = self.settle(chunk, response)
                if not leftover:
                    serial = False
                    self.stalled = throttled = 0
                    continue
                pending.extendleft(reversed(leftover))
                serial = True
                throttled += 1
                self.stalled = self.stalled + 1 if len(leftover) >= len(chunk) else 0
                if self.stalled >= connection.max_attempts:
                    self.gave_up = stopped = True
                if stopped:
                    continue
                delay = backoff_delay(throttled, connection.backoff_base, connection.backoff_cap)
                LOG.debug(
                    "%s on %s: %d unprocessed, retrying in %.3fs",
                    self.operation, self.table, len(leftover), delay,
                )
                time.sleep(delay)

    def _start(self, pool: ThreadPoolExecutor | None, chunk: list[Any]) -> Future[dict[str, Any]]:
        if pool is not None:
            return pool.submit(self.send, chunk)
        # concurrency 1: send in the caller's thread, no pool
        future: Future[dict[str, Any]] = Future()
        try:
            future.set_result(self.send(chunk))
        except DynamoDBError as exc:
            future.set_exception(exc)
        return future


def _in_order(requests: Iterable[Any], position: dict[int, int]) -> list[Any]:
    return sorted(requests, key=lambda r: position.get(id(r), len(position)))


def batch_write(
    connection: DynamoDBConnection,
    table: str,
    requests: Sequence[dict[str, Any]],
    key_names: Sequence[str],
) -> None:
    """Write every request, retrying unprocessed ones; see DynamoDBConnection.batch_write."""
    latest = dedupe_writes(requests, key_names, table)
    total = len(latest)
    written: list[dict[str, Any]] = []  # confirmed by DynamoDB, for the error if we give up

    def send(chunk: list[dict[str, Any]]) -> dict[str, Any]:
        return connection.call("BatchWriteItem", {"RequestItems": {table: chunk}})

    def settle(chunk: list[dict[str, Any]], response: dict[str, Any]) -> list[dict[str, Any]]:
        leftover = (response.get("UnprocessedItems") or {}).get(table)
        if not leftover:
            written.extend(chunk)
            return []
        # Report the caller's own request objects, not the server's echo of them.
        identities = [key_identity(_write_attributes(r, table), key_names, table) for r in leftover]
        held_back = set(identities)
        written.extend(
            r for r in chunk
            if key_identity(_write_attributes(r, table), key_names, table) not in held_back
        )
        return [latest.get(identity, r) for identity, r in zip(identities, leftover)]

    window = _Window(
        connection, deque(latest.values()), WRITE_BATCH_SIZE, send, settle, "BatchWriteItem", table
    )
    window.run()
    if window.failure is None and not window.gave_up:
        return
    position = {id(r): i for i, r in enumerate(latest.values())}
    done = _in_order(written, position)
    not_written = _in_order([*window.failed, *window.pending], position)
    exc = window.failure
    if exc is not None:
        error = BatchWriteError(
            f"batch write to {table!r} failed, {len(done)} of {total} requests written, "
            f"{len(not_written)} not: {exc.code}: {exc.message}",
            not_written,
            code=exc.code,
            written=done,
            status=exc.status,
            operation="BatchWriteItem",
            response=exc.response,
            table=table,
        )
        error.unanswered_attempts = exc.unanswered_attempts
        raise error from exc
    raise BatchWriteError(
        f"batch write to {table!r} gave up after {window.stalled} attempts without progress, "
        f"{len(done)} of {total} requests written, {len(not_written)} not",
        not_written,
        written=done,
        operation="BatchWriteItem",
        table=table,
    )


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
    found: list[Item] = []

    def send(chunk: list[Item]) -> dict[str, Any]:
        return connection.call(
            "BatchGetItem", {"RequestItems": {table: {**table_request, "Keys": chunk}}}
        )

    def settle(chunk: list[Item], response: dict[str, Any]) -> list[Item]:
        found.extend((response.get("Responses") or {}).get(table) or ())
        leftover: list[Item] = ((response.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys") or []
        return leftover

    window = _Window(
        connection, deque(unique.values()), GET_BATCH_SIZE, send, settle, "BatchGetItem", table
    )
    window.run()
    if window.failure is not None:
        raise window.failure
    if window.gave_up:
        raise BatchGetError(
            f"batch get from {table!r} gave up after {window.stalled} attempts without progress, "
            f"{len(window.pending)} of {len(unique)} keys not read",
            list(window.pending),
            operation="BatchGetItem",
            table=table,
        )
    return found
