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

    :meth:`run` sends the whole queue; a producer that appends to the queue as it goes
    calls :meth:`feed` instead, and :meth:`run` once at the end. Responses are settled in
    the caller's thread, only the sends run in the pool.
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
        prepare: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        self.connection = connection
        self.pending = pending
        self.size = size
        #: what is sent for a chunk of entries (run in the caller's thread as it starts)
        self.prepare = prepare
        self.send = send
        #: records what a response did and returns the entries it left unprocessed
        self.settle = settle
        self.operation = operation
        self.table = table
        #: the first error a send raised
        self.failure: DynamoDBError | None = None
        #: consecutive sends that made no progress, and whether that made run() give up
        self.stalled = 0
        self.gave_up = False
        #: told to send nothing more (the caller was interrupted)
        self.halted = False
        self.in_flight: dict[Future[dict[str, Any]], list[Any]] = {}
        #: the epoch each send in flight started in: a new epoch begins at each answer that
        #: handed entries back, and only answers to sends of the current epoch move the
        #: counters below (sends that were already in flight tell nothing new: four of them
        #: handed back by one throttling blip are one stall, not four)
        self.epoch = 0
        self.started: dict[Future[dict[str, Any]], int] = {}
        self.serial = True  # one chunk at a time: before the first full success, and when throttled
        #: the backoff exponent: up one for a send that left everything over, down one for a
        #: send that left only some over, 0 once a send leaves nothing
        self.throttled = 0
        self.pool = connection.batch_pool() if connection.batch_concurrency > 1 else None

    @property
    def stopped(self) -> bool:
        return self.failure is not None or self.gave_up or self.halted

    def run(self) -> None:
        """Send every pending entry and wait for all of them (or stop at a failure)."""
        while True:
            self.start(final=True)
            if not self.in_flight:
                return
            self.collect()

    def feed(self) -> None:
        """Send the whole chunks the queue holds, as the window has room; wait for room
        while a whole chunk is left, so the queue stays under two chunks."""
        self.start(final=False)
        while len(self.pending) >= self.size and not self.stopped:
            self.collect()
            self.start(final=False)

    def start(self, final: bool) -> None:
        """Start sending chunks while the window has room (a short last chunk if ``final``)."""
        pending = self.pending
        limit = 1 if self.serial else self.connection.batch_concurrency
        while (
            pending
            and not self.stopped
            and len(self.in_flight) < limit
            and (final or len(pending) >= self.size)
        ):
            chunk = [pending.popleft() for _ in range(min(self.size, len(pending)))]
            future = self._start(chunk)
            self.in_flight[future] = chunk
            self.started[future] = self.epoch

    def collect(self, block: bool = True) -> None:
        """Settle every send that has finished; with ``block``, wait for one first."""
        if block:
            done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
        else:
            done = {future for future in self.in_flight if future.done()}
        connection = self.connection
        for future in done:
            chunk = self.in_flight.pop(future)
            current = self.started.pop(future) == self.epoch
            try:
                response = future.result()
            except DynamoDBError as exc:
                if self.failure is None:
                    self.failure = exc
                continue
            leftover = self.settle(chunk, response)
            if leftover:
                self.pending.extendleft(reversed(leftover))
            if not current:
                continue
            if not leftover:
                self.serial = False
                self.stalled = self.throttled = 0
                continue
            self.epoch += 1
            self.serial = True
            if len(leftover) < len(chunk):  # progress: back off a step less than last time
                self.stalled, self.throttled = 0, max(1, self.throttled - 1)
            else:
                self.stalled += 1
                self.throttled += 1
            if self.stalled >= connection.max_attempts:
                self.gave_up = True
            if self.stopped:
                continue
            delay = backoff_delay(self.throttled, connection.backoff_base, connection.backoff_cap)
            LOG.debug(
                "%s on %s: %d unprocessed, retrying in %.3fs",
                self.operation, self.table, len(leftover), delay,
            )
            time.sleep(delay)

    def _start(self, chunk: list[Any]) -> Future[dict[str, Any]]:
        payload = chunk if self.prepare is None else self.prepare(chunk)
        if self.pool is not None:
            return self.pool.submit(self.send, payload)
        # concurrency 1: send in the caller's thread, no pool
        future: Future[dict[str, Any]] = Future()
        try:
            future.set_result(self.send(payload))
        except DynamoDBError as exc:
            future.set_exception(exc)
        return future


class WriteStream:
    """Batch writes to one table, fed one request at a time and sent as they come.

    Requests go out in batches of 25 through a :class:`_Window` while the caller goes on
    producing, so preparing items overlaps with sending them, and no more than two batches
    wait to be sent. A request naming the key of one not yet sent replaces it (the last
    write wins); one naming the key of a batch in flight waits for that batch to settle, so
    writes to one key land in the order given.

    ``on_written(request, owner)`` runs in the caller's thread for each request DynamoDB
    confirms, with the ``owner`` given to :meth:`add` for that request (not for the earlier
    requests it replaced, which were never sent). Once :attr:`stopped`, nothing more is
    sent: :meth:`flush` waits for what is in flight and raises :class:`BatchWriteError`
    listing what was not written. Not thread-safe: one caller at a time.
    """

    def __init__(
        self,
        connection: DynamoDBConnection,
        table: str,
        key_names: Sequence[str],
        on_written: Callable[[dict[str, Any], Any], None] | None = None,
        keep_written: bool = True,
    ) -> None:
        self.table = table
        self.key_names = key_names
        self.on_written = on_written
        #: the confirmed requests, for BatchWriteError.written (a stream of a million items
        #: passes keep_written=False and reports their number)
        self.written: list[dict[str, Any]] | None = [] if keep_written else None
        self.written_count = 0
        #: every request not confirmed yet (queued, in flight, handed back or failed), by key
        self.unconfirmed: dict[KeyIdentity, dict[str, Any]] = {}
        self.owners: dict[KeyIdentity, Any] = {}
        self.sending: set[KeyIdentity] = set()
        self.window = _Window(
            connection, deque(), WRITE_BATCH_SIZE, self._send, self._settle,
            "BatchWriteItem", table, prepare=self._prepare,
        )

    @property
    def stopped(self) -> bool:
        """True once a send failed, retries ran out or :meth:`unsent` was called."""
        return self.window.stopped

    def add(self, request: dict[str, Any], owner: Any = None) -> bool:
        """Queue one PutRequest / DeleteRequest, sending a batch when 25 are queued.

        Returns whether the request was queued: not when the stream had stopped. The stream
        may also stop while sending; check :attr:`stopped` after."""
        table = self.table
        identity = key_identity(_write_attributes(request, table), self.key_names, table)
        window = self.window
        while identity in self.sending and window.in_flight and not window.stopped:
            window.collect()
        if window.stopped:
            return False
        if identity not in self.unconfirmed:
            window.pending.append(identity)
        self.unconfirmed[identity] = request
        if owner is None:
            self.owners.pop(identity, None)
        else:
            self.owners[identity] = owner
        if len(window.pending) >= WRITE_BATCH_SIZE:
            window.feed()
        return True

    def poll(self) -> None:
        """Settle the batches that have come back, without waiting for any."""
        if self.window.in_flight:
            self.window.collect(block=False)

    def extend(self, latest: dict[KeyIdentity, dict[str, Any]]) -> None:
        """Queue requests by key (from :func:`dedupe_writes`), none of them queued yet, to
        be sent by :meth:`flush`."""
        self.window.pending.extend(latest)
        self.unconfirmed.update(latest)

    def flush(
        self, not_sent: Sequence[dict[str, Any]] = (), others: Sequence[WriteStream] = ()
    ) -> None:
        """Send everything queued and wait for it. If the stream stopped, BatchWriteError,
        counting ``not_sent`` (requests the caller never got to add) as not written; the
        streams of the same writer to ``others`` tables are stopped and counted in."""
        self.window.run()
        if self.window.stopped:
            raise self._failure(not_sent, others)

    def unsent(self) -> list[dict[str, Any]]:
        """Stop sending: wait for the batches in flight, return every request not written."""
        window = self.window
        window.halted = True
        window.pending.clear()
        while window.in_flight:
            window.collect()
        self.sending.clear()
        return list(self.unconfirmed.values())

    def _prepare(self, chunk: list[KeyIdentity]) -> list[dict[str, Any]]:
        self.sending.update(chunk)
        unconfirmed = self.unconfirmed
        return [unconfirmed[identity] for identity in chunk]

    def _send(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        return self.window.connection.call("BatchWriteItem", {"RequestItems": {self.table: requests}})

    def _settle(self, chunk: list[KeyIdentity], response: dict[str, Any]) -> list[KeyIdentity]:
        self.sending.difference_update(chunk)
        table = self.table
        leftover = (response.get("UnprocessedItems") or {}).get(table)
        held_back = {
            key_identity(_write_attributes(r, table), self.key_names, table)
            for r in leftover or ()
        }
        unconfirmed, owners, on_written = self.unconfirmed, self.owners, self.on_written
        for identity in chunk:
            if identity in held_back:
                continue
            request = unconfirmed.pop(identity)
            self.written_count += 1
            if self.written is not None:
                self.written.append(request)
            owner = owners.pop(identity, None)
            if on_written is not None and owner is not None:
                on_written(request, owner)
        return [identity for identity in chunk if identity in held_back]

    def _failure(
        self, not_sent: Sequence[dict[str, Any]], others: Sequence[WriteStream]
    ) -> BatchWriteError:
        window = self.window
        not_written = list(self.unconfirmed.values())
        for other in others:
            not_written.extend(other.unsent())
        not_written.extend(not_sent)
        streams = [self, *others]
        done = [request for stream in streams for request in stream.written or ()]
        written = sum(stream.written_count for stream in streams)
        counts = f"{written} of {written + len(not_written)} requests written, {len(not_written)} not"
        exc = window.failure
        if exc is not None:
            error = BatchWriteError(
                f"batch write to {self.table!r} failed, {counts}: {exc.code}: {exc.message}",
                not_written,
                code=exc.code,
                written=done,
                status=exc.status,
                operation="BatchWriteItem",
                response=exc.response,
                table=self.table,
            )
            error.unanswered_attempts = exc.unanswered_attempts
            error.__cause__, error.__suppress_context__ = exc, True
            return error
        return BatchWriteError(
            f"batch write to {self.table!r} gave up after {window.stalled} attempts without "
            f"progress, {counts}",
            not_written,
            written=done,
            operation="BatchWriteItem",
            table=self.table,
        )


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
    stream = WriteStream(connection, table, key_names)
    stream.extend(latest)
    try:
        stream.flush()
    except BatchWriteError as error:
        # both lists in the caller's order
        position = {id(r): i for i, r in enumerate(latest.values())}
        error.written = _in_order(error.written, position)
        error.unprocessed = _in_order(error.unprocessed, position)
        raise


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
