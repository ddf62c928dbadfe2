"""DynamoDBConnection: the one object that talks to DynamoDB.

Everything here speaks DynamoDB's JSON: items and keys are dicts of AttributeValues in
botocore's form (``{'id': {'S': 'a'}, 'n': {'N': '1'}, 'b': {'B': b'...'}}``). It knows
nothing about models. Every request goes through :meth:`DynamoDBConnection.call`, so a
faster transport can replace botocore's by replacing that one method.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore
from botocore.exceptions import BotoCoreError, ClientError

from ..exceptions import DynamoDBError, TableWaitTimeout, ThroughputException
from . import batches, clients
from .errors import backoff_delay, translate_error
from .fast import FAST_OPERATIONS, FastTransport, supports_fast_path

LOG = logging.getLogger("flywheel")

Item = dict[str, dict[str, Any]]

#: The transports a connection can send with (see fast.py), and the environment variable
#: that picks one for connections that do not say (so a whole test suite can run on either).
TRANSPORTS = ("botocore", "fast")
TRANSPORT_ENV = "FLYWHEEL_TRANSPORT"
DEFAULT_TRANSPORT = "fast"

#: Requests of one batch operation in flight at once. A batch is a few hundred microseconds
#: of client CPU and a few milliseconds of server time, so a few in flight keep the server
#: busy; more only queue on a server that is already saturated.
DEFAULT_BATCH_CONCURRENCY = 4

#: How call() sends one operation: takes the request dict, returns the response dict.
Sender = Callable[[dict[str, Any]], dict[str, Any]]

#: Failures that call() hands to translate_error; anything else is a bug and propagates.
_BOTOCORE_FAILURES = (ClientError, BotoCoreError)

# Table polling: start fast (local servers finish at once), settle at a gentle pace.
_POLL_FIRST = 0.05
_POLL_MAX = 0.5
_POLL_GROWTH = 1.5


class DynamoDBConnection:
    """A connection to DynamoDB or a DynamoDB-compatible server.

    ``client`` is a botocore DynamoDB client; build it with retries disabled (as
    :meth:`connect_to_region` / :meth:`connect_to_host` do), because this class retries
    throttling, 5xx answers and dropped connections itself: up to ``max_attempts`` attempts,
    sleeping a random time in ``[0, min(backoff_cap, backoff_base * 2**n))`` before retry n,
    and never retrying once ``retry_deadline`` seconds have passed since the first failure.
    ``table_wait_timeout`` bounds the waits of the table methods.

    ``transport`` picks how item operations are sent: ``'botocore'`` (the client's methods)
    or ``'fast'`` (fast.py: same credentials, endpoint, HTTP pool and errors, without
    botocore's per-value shape walks). ``None`` reads ``$FLYWHEEL_TRANSPORT``, else
    :data:`DEFAULT_TRANSPORT`. Table administration always goes through the client.

    ``batch_concurrency`` bounds how many requests of one :meth:`batch_write` /
    :meth:`batch_get` are in flight at once (sent from a pool of that many threads, shared
    by every call on this connection); 1 sends them one after another from the caller's
    thread. botocore's ``max_pool_connections`` (default 10) should not be below it.
    """

    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 8,
        backoff_base: float = 0.05,
        backoff_cap: float = 5.0,
        retry_deadline: float = 60.0,
        table_wait_timeout: float = 300.0,
        transport: str | None = None,
        batch_concurrency: int = DEFAULT_BATCH_CONCURRENCY,
    ) -> None:
        if transport is None:
            transport = os.environ.get(TRANSPORT_ENV) or DEFAULT_TRANSPORT
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
        if (
            not isinstance(batch_concurrency, int)
            or isinstance(batch_concurrency, bool)
            or batch_concurrency < 1
        ):
            raise ValueError(f"batch_concurrency must be an int >= 1, got {batch_concurrency!r}")
        for name, value in (
            ("backoff_base", backoff_base),
            ("backoff_cap", backoff_cap),
            ("retry_deadline", retry_deadline),
            ("table_wait_timeout", table_wait_timeout),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if not clients.retries_disabled(client):
            LOG.warning(
                "the botocore client given to DynamoDBConnection retries by itself; its attempts "
                "multiply with flywheel's (build it with Config(retries={'total_max_attempts': 1}))"
            )
        self.client = client
        self.max_attempts = max_attempts
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)
        self.retry_deadline = float(retry_deadline)
        self.table_wait_timeout = float(table_wait_timeout)
        self.transport = transport
        self.batch_concurrency = batch_concurrency
        self._batch_pool: ThreadPoolExecutor | None = None
        self._batch_pool_pid = os.getpid()
        self._batch_pool_lock = threading.Lock()
        self._fast: FastTransport | None = None
        if transport == "fast" and supports_fast_path(client):
            self._fast = FastTransport(client)
        # operation name -> how to send it, resolved on first use
        self._senders: dict[str, Sender] = {}

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def connect_to_region(
        cls,
        region: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> DynamoDBConnection:
        """Connect to DynamoDB in an AWS region.

        ``session`` is a botocore session (its credential chain is used when no keys are
        given). ``kwargs`` may hold this class's options (``max_attempts``...),
        ``endpoint_url``, ``session_token``, ``verify``, ``config`` (a botocore ``Config``)
        and loose botocore Config options (``connect_timeout``, ``read_timeout``,
        ``max_pool_connections``...).
        """
        connection_options, client_options, config_options = clients.split_options(kwargs)
        client = clients.create_client(
            region=region,
            session=session,
            access_key=access_key,
            secret_key=secret_key,
            client_options=client_options,
            config_options=config_options,
        )
        return cls(client, **connection_options)

    @classmethod
    def connect_to_host(
        cls,
        host: str = "localhost",
        port: int = 8000,
        is_secure: bool = False,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        **kwargs: Any,
    ) -> DynamoDBConnection:
        """Connect to a DynamoDB-compatible server at ``host:port``.

        ``host`` may also be a full URL (``'http://127.0.0.1:5123'``), then ``port`` and
        ``is_secure`` are ignored. When no credentials are given or configured, dummy ones
        are used. ``kwargs`` are as for :meth:`connect_to_region`, plus ``session``.
        """
        url = clients.host_endpoint_url(host, port, is_secure)
        return cls.connect_to_endpoint(
            url, region=region, access_key=access_key, secret_key=secret_key, **kwargs
        )

    @classmethod
    def connect_to_endpoint(
        cls,
        url: str,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> DynamoDBConnection:
        """Connect to the server at endpoint ``url``; dummy credentials if none configured."""
        connection_options, client_options, config_options = clients.split_options(kwargs)
        client_options["endpoint_url"] = url
        client = clients.create_client(
            region=region,
            session=session,
            access_key=access_key,
            secret_key=secret_key,
            client_options=client_options,
            config_options=config_options,
            dummy_credentials=True,
        )
        return cls(client, **connection_options)

    @property
    def region(self) -> str | None:
        region: str | None = self.client.meta.region_name
        return region

    @property
    def endpoint_url(self) -> str:
        url: str = self.client.meta.endpoint_url
        return url

    def batch_pool(self) -> ThreadPoolExecutor:
        """The threads that send batch requests (created on first use, ended by close())."""
        with self._batch_pool_lock:
            # a forked child inherits the pool object but not its threads: it needs its own
            if self._batch_pool is None or self._batch_pool_pid != os.getpid():
                self._batch_pool = ThreadPoolExecutor(
                    self.batch_concurrency, thread_name_prefix="flywheel-batch"
                )
                self._batch_pool_pid = os.getpid()
            return self._batch_pool

    def close(self) -> None:
        """Close the client's pooled HTTP connections and end the batch threads."""
        with self._batch_pool_lock:
            pool, self._batch_pool = self._batch_pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> DynamoDBConnection:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.endpoint_url!r}, region={self.region!r}, "
            f"transport={self.transport!r})"
        )

    # -- the seam ---------------------------------------------------------------------------
    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Send one operation ('PutItem', 'Query'...) and return the response dict.

        ``request`` holds the operation's parameters exactly as botocore takes them; it is
        neither copied nor changed. Throttling, 5xx answers and dropped connections are
        retried; every failure raises a :class:`~flywheel.exceptions.DynamoDBError`.
        """
        send = self._senders.get(operation) or self._resolve(operation)
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s on %s", operation, _table_of(request) or "-")
        try:
            return send(request)
        except _BOTOCORE_FAILURES as exc:
            return self._retry_or_raise(operation, send, request, exc)

    def _resolve(self, operation: str) -> Sender:
        if operation not in self.client.meta.service_model.operation_names:
            raise ValueError(f"DynamoDB has no operation named {operation!r}")
        send: Sender
        if self._fast is not None and operation in FAST_OPERATIONS:
            fast = self._fast

            def send(request: dict[str, Any]) -> dict[str, Any]:
                return fast.send(operation, request)

        else:
            method = getattr(self.client, botocore.xform_name(operation))

            def send(request: dict[str, Any]) -> dict[str, Any]:
                response: dict[str, Any] = method(**request)
                return response

        self._senders[operation] = send
        return send

    def _retry_or_raise(
        self,
        operation: str,
        send: Sender,
        request: dict[str, Any],
        failure: BaseException,
    ) -> dict[str, Any]:
        first_failure_at = time.monotonic()
        table = _table_of(request)
        attempt = 1
        unanswered = 0  # earlier attempts that may have been applied without our hearing so
        while True:
            error, retryable = translate_error(failure, operation, table)
            error.unanswered_attempts = unanswered
            if not retryable:
                raise error from failure
            if not isinstance(error, ThroughputException):  # throttled means not applied
                unanswered += 1
            if attempt >= self.max_attempts:
                LOG.debug("%s: giving up after %d attempts: %s", operation, attempt, error)
                raise error from failure
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if time.monotonic() - first_failure_at + delay > self.retry_deadline:
                LOG.debug("%s: giving up, retry deadline passed after %d attempts", operation, attempt)
                raise error from failure
            LOG.debug(
                "%s on %s: %s (attempt %d of %d), retrying in %.3fs",
                operation,
                table or "-",
                error.code,
                attempt,
                self.max_attempts,
                delay,
            )
            time.sleep(delay)
            attempt += 1
            try:
                return send(request)
            except _BOTOCORE_FAILURES as exc:
                failure = exc

    # -- multi-call helpers ----------------------------------------------------------------
    def paginate(self, operation: str, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield every page of a Query or Scan, following LastEvaluatedKey.

        The caller's ``request`` is not changed. Pages are fetched as they are consumed, so
        stopping the iteration stops the requests.
        """
        page_request = dict(request)
        while True:
            response = self.call(operation, page_request)
            yield response
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return
            page_request["ExclusiveStartKey"] = last_key

    def batch_write(
        self, table: str, requests: Sequence[dict[str, Any]], key_names: Sequence[str]
    ) -> None:
        """Write ``{'PutRequest': {'Item': ...}}`` / ``{'DeleteRequest': {'Key': ...}}``.

        Requests naming the same key (by the attributes in ``key_names``) are sent once, the
        last one winning; they go out in batches of 25, up to ``batch_concurrency`` batches
        at a time, and unprocessed ones are retried with backoff (one batch at a time while
        DynamoDB leaves some over). If DynamoDB makes no progress for ``max_attempts`` sends
        in a row, or a request fails, no further batch is sent, those already sent are
        waited for, and :class:`~flywheel.exceptions.BatchWriteError` is raised: its
        ``unprocessed`` lists the caller's requests that were not written and ``written``
        those that were, both in the caller's order. Batches never share a key, so the order
        they land in cannot change what is stored.
        """
        batches.batch_write(self, table, requests, key_names)

    def batch_get(
        self,
        table: str,
        keys: Sequence[Item],
        key_names: Sequence[str],
        consistent: bool = False,
        attributes: Iterable[str] | None = None,
    ) -> list[Item]:
        """Fetch items by key, in any order, each once; missing keys are skipped.

        ``attributes`` limits the attributes returned (the key attributes always come
        back). Keys go out in batches of 100, up to ``batch_concurrency`` at a time;
        unprocessed keys are retried with backoff and
        :class:`~flywheel.exceptions.BatchGetError` is raised if no progress is made.
        """
        return batches.batch_get(self, table, keys, key_names, consistent, attributes)

    # -- tables -----------------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        """Names of all tables, across every page of ListTables."""
        names: list[str] = []
        request: dict[str, Any] = {}
        while True:
            response = self.call("ListTables", request)
            names.extend(response.get("TableNames", ()))
            last = response.get("LastEvaluatedTableName")
            if not last:
                return names
            request = {"ExclusiveStartTableName": last}

    def describe_table(self, table: str) -> dict[str, Any] | None:
        """The table's description (DescribeTable's ``Table``), or None if it does not exist."""
        try:
            response = self.call("DescribeTable", {"TableName": table})
        except DynamoDBError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        description: dict[str, Any] = response["Table"]
        return description

    def create_table(
        self, request: dict[str, Any], wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Create a table from CreateTable's parameters; return its description.

        With ``wait``, returns once the table and all its global indexes are ACTIVE (or
        raises TableWaitTimeout after ``timeout`` seconds, default ``table_wait_timeout``).
        """
        response = self.call("CreateTable", request)
        if not wait:
            description: dict[str, Any] = response["TableDescription"]
            return description
        return self.wait_until_active(request["TableName"], timeout)

    def update_table(
        self, request: dict[str, Any], wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Change a table (UpdateTable's parameters); return its description.

        With ``wait``, returns once the table and all its global indexes are ACTIVE again
        (an index being added must finish backfilling, which can take long on a big table).
        """
        response = self.call("UpdateTable", request)
        if not wait:
            description: dict[str, Any] = response["TableDescription"]
            return description
        return self.wait_until_active(request["TableName"], timeout)

    def delete_table(self, table: str, wait: bool = True, timeout: float | None = None) -> bool:
        """Delete a table; False if it did not exist, else True (once it is gone, with wait).

        A table still being created or updated is deleted once it is ACTIVE; one already
        being deleted counts as deleted by this call.
        """
        try:
            self.call("DeleteTable", {"TableName": table})
        except DynamoDBError as exc:
            if exc.code == "ResourceNotFoundException":
                return False
            if exc.code != "ResourceInUseException":
                raise
            if not self._delete_busy_table(table, timeout):
                return False
        if wait:
            self.wait_until_gone(table, timeout)
        return True

    def _delete_busy_table(self, table: str, timeout: float | None) -> bool:
        """DeleteTable said the table is busy: wait for it to settle, then delete it."""
        description = self.describe_table(table)
        if description is None:
            return False
        if description.get("TableStatus") != "DELETING":
            self.wait_until_active(table, timeout)
            try:
                self.call("DeleteTable", {"TableName": table})
            except DynamoDBError as exc:
                if exc.code == "ResourceNotFoundException":
                    return False
                raise
        return True

    def wait_until_active(self, table: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll until the table and all its global indexes are ACTIVE; return its description."""
        # the poller reads the last state seen, for its timeout message
        last_state = ["not found"]
        for _ in self._poll(table, timeout, last_state):
            description = self.describe_table(table)
            if description is None:
                continue  # a table just created may not be visible yet
            last_state[0] = _describe_state(description)
            if last_state[0] == "ACTIVE":
                return description
        raise AssertionError("unreachable")  # pragma: no cover - _poll raises on timeout

    def wait_until_gone(self, table: str, timeout: float | None = None) -> None:
        """Poll until DescribeTable no longer finds the table."""
        for _ in self._poll(table, timeout, ["DELETING"]):
            if self.describe_table(table) is None:
                return

    def _poll(self, table: str, timeout: float | None, state: list[str]) -> Iterator[None]:
        """Yield at a growing interval until ``timeout``; then raise TableWaitTimeout."""
        limit = self.table_wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        interval = _POLL_FIRST
        while True:
            yield
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TableWaitTimeout(
                    f"table {table!r} still {state[0]} after {limit:g}s",
                    operation="DescribeTable",
                    table=table,
                )
            time.sleep(min(interval, remaining))
            interval = min(interval * _POLL_GROWTH, _POLL_MAX)


def _table_of(request: dict[str, Any]) -> str | None:
    """The table a request addresses, to name it in errors; None when several or none."""
    table = request.get("TableName")
    if table is None:
        tables = request.get("RequestItems")
        if isinstance(tables, dict) and len(tables) == 1:
            table = next(iter(tables))
    return table if isinstance(table, str) else None


def _describe_state(description: dict[str, Any]) -> str:
    """'ACTIVE' when the table and every global index are; else what is not, for messages."""
    status = description.get("TableStatus", "UNKNOWN")
    if status != "ACTIVE":
        return str(status)
    for index in description.get("GlobalSecondaryIndexes") or ():
        index_status = index.get("IndexStatus", "ACTIVE")
        if index_status != "ACTIVE":
            return f"ACTIVE, index {index.get('IndexName')!r} {index_status}"
    return "ACTIVE"
