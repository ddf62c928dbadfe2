"""A fault-injecting HTTP proxy on loopback, in front of a real DynamoDB-compatible server.

Unlike fault_server.FaultServer (scripted answers, no data), this proxy forwards every request
to a real server and, at configurable rates, misbehaves the way a network and a busy DynamoDB
do:

* ``throttle``  — answers 400 ProvisionedThroughputExceededException or ThrottlingException
  without forwarding (DynamoDB throttles before it applies anything);
* ``server_error`` — answers 500 InternalServerError or 503 ServiceUnavailable without
  forwarding;
* ``drop_before`` — closes the connection without forwarding (the request never arrives);
* ``drop_after`` — forwards, then closes the connection without answering (the request was
  applied, its response is lost);
* ``delay`` — forwards, then holds the response ``delay_seconds`` (past the client's read
  timeout: applied, and the client gives up waiting);
* ``partial_batch`` — a BatchWriteItem / BatchGetItem has only its first half forwarded and
  the rest handed back as UnprocessedItems / UnprocessedKeys, as a throttled batch is (a
  batch of one is handed back whole, without forwarding).

Which fault (if any) each request gets is drawn from ``random.Random(seed)``, one draw per
request in arrival order, so a single-threaded run replays exactly from its seed (a
multi-threaded run draws the same sequence, handed out in arrival order).

    with FaultProxy(local_server.endpoint, FaultRates(throttle=0.2), seed=7) as proxy:
        engine.connect(proxy.connect(max_attempts=12))
        ...
        print(proxy.injected)   # Counter of faults by kind
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from flywheel.connection import DynamoDBConnection

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
THROTTLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException")
SERVER_ERRORS = ((500, "InternalServerError"), (503, "ServiceUnavailable"))
# Headers copied from the server's answer to the client (the rest are hop-by-hop or redundant).
FORWARDED_RESPONSE_HEADERS = ("content-type", "x-amzn-requestid", "x-amz-crc32")


@dataclass(frozen=True)
class FaultRates:
    """The probability of each fault per request; they must sum to at most 1."""

    throttle: float = 0.0
    server_error: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    delay: float = 0.0
    partial_batch: float = 0.0

    def __post_init__(self) -> None:
        if sum(self.as_dict().values()) > 1.0:
            raise ValueError(f"fault rates sum to more than 1: {self}")

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The issue's standard mix: 20% throttling, 5% server errors, 2% dropped connections (half
#: before the request reaches the server, half after it was applied).
STANDARD_FAULTS = FaultRates(throttle=0.20, server_error=0.05, drop_before=0.01, drop_after=0.01)


class FaultProxy:
    """A threaded HTTP proxy from a loopback port to ``upstream`` (``http://host:port``)."""

    def __init__(
        self,
        upstream: str,
        rates: FaultRates = FaultRates(),
        seed: int = 0,
        delay_seconds: float = 1.5,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the proxy forwards to a plain http:// server, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.rates = rates
        self.seed = seed
        self.delay_seconds = delay_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        # (fault kind or None, operation or None, action or None): given to the next matching
        # requests first; the action runs where the fault strikes (see force)
        self._forced: list[tuple[str | None, str | None, Callable[[], None] | None]] = []
        #: faults injected, by kind (``'throttle'``, ``'drop_after'``...)
        self.injected: Counter[str] = Counter()
        #: requests received, by operation
        self.operations: Counter[str] = Counter()
        #: requests forwarded to the server (a request may be received but not forwarded)
        self.forwarded = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def received(self) -> int:
        return sum(self.operations.values())

    def set_rates(self, rates: FaultRates) -> None:
        with self._lock:
            self.rates = rates

    def force(
        self,
        *kinds: str | None,
        operation: str | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """Give the next requests of ``operation`` (any, if None) these faults, in order,
        before any random draw (None: forward that one untouched).

        ``meanwhile`` runs where each of these faults strikes, before the client hears of it:
        another client's write between a lost attempt (dropped before or after reaching the
        server) and its retry."""
        with self._lock:
            self._forced.extend((kind, operation, meanwhile) for kind in kinds)

    def connect(self, **options: Any) -> DynamoDBConnection:
        """A connection through this proxy, with quick backoff (tests pass max_attempts...)."""
        options.setdefault("backoff_base", 0.002)
        options.setdefault("backoff_cap", 0.05)
        return DynamoDBConnection.connect_to_host(self.url, **options)

    def summary(self) -> str:
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(self.injected.items()))
        return (
            f"seed {self.seed}: {self.received} requests, {self.forwarded} forwarded, "
            f"{sum(self.injected.values())} faults ({faults or 'none'})"
        )

    def __enter__(self) -> FaultProxy:  # noqa: PYI034 - Self needs Python 3.11
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- the fault draw ----------------------------------------------------------------------
    def _draw(self, operation: str) -> tuple[str | None, float, Callable[[], None] | None]:
        """The fault for the next request (None for none), a second draw to pick variants,
        and the action forced with it."""
        with self._lock:
            self.operations[operation] += 1
            roll = self._random.random()
            variant = self._random.random()
            for position, (kind, wanted, meanwhile) in enumerate(self._forced):
                if wanted is None or wanted == operation:
                    del self._forced[position]
                    if kind is not None:
                        self.injected[kind] += 1
                    return kind, variant, meanwhile
            for kind, rate in self.rates.as_dict().items():
                if roll < rate:
                    if kind == "partial_batch" and operation not in ("BatchWriteItem", "BatchGetItem"):
                        return None, variant, None
                    self.injected[kind] += 1
                    return kind, variant, None
                roll -= rate
            return None, variant, None

    def _count_forwarded(self) -> None:
        with self._lock:
            self.forwarded += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects
            # headers and body go out in separate writes: without this, Nagle's algorithm
            # meets the client's delayed ACK and every answer waits ~40 ms
            disable_nagle_algorithm = True
            upstream_connection: http.client.HTTPConnection | None = None

            def do_POST(self) -> None:  # the name http.server calls
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                fault, variant, meanwhile = proxy._draw(operation)
                if fault == "throttle":
                    code = THROTTLE_CODES[int(variant * len(THROTTLE_CODES))]
                    return self._answer_error(400, code, "Rate of requests exceeds the allowed throughput.")
                if fault == "server_error":
                    status, code = SERVER_ERRORS[int(variant * len(SERVER_ERRORS))]
                    return self._answer_error(status, code, "Internal server error (injected)")
                if fault == "drop_before":
                    if meanwhile is not None:
                        meanwhile()
                    self.close_connection = True
                    return None
                held_back: dict[str, Any] = {}
                if fault == "partial_batch":
                    body, held_back = _split_batch(operation, body)
                if held_back and not body:  # nothing left to forward
                    status, headers, answer = 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}"
                else:
                    status, headers, answer = self._forward(body)
                if fault == "drop_after":
                    if meanwhile is not None:
                        meanwhile()
                    self.close_connection = True
                    return None
                if fault == "delay":
                    time.sleep(proxy.delay_seconds)
                if held_back and status == 200:
                    answer = _merge_unprocessed(operation, answer, held_back)
                    headers["x-amz-crc32"] = str(zlib.crc32(answer) & 0xFFFFFFFF)
                self._answer(status, headers, answer)
                return None

            def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
                headers = {name: value for name, value in self.headers.items()}
                headers["Content-Length"] = str(len(body))
                for attempt in (1, 2):  # a pooled upstream connection may have gone stale
                    if self.upstream_connection is None:
                        self.upstream_connection = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                    try:
                        self.upstream_connection.request("POST", self.path, body, headers)
                        response = self.upstream_connection.getresponse()
                        answer = response.read()
                    except (OSError, http.client.HTTPException):
                        self.upstream_connection.close()
                        self.upstream_connection = None
                        if attempt == 2:
                            raise
                        continue
                    proxy._count_forwarded()
                    kept = {
                        name: value
                        for name, value in response.getheaders()
                        if name.lower() in FORWARDED_RESPONSE_HEADERS
                    }
                    return response.status, kept, answer
                raise AssertionError("unreachable")  # pragma: no cover

            def _answer_error(self, status: int, code: str, message: str) -> None:
                answer = json.dumps({"__type": ERROR_PREFIX + code, "message": message}).encode()
                headers = {
                    "Content-Type": "application/x-amz-json-1.0",
                    "x-amz-crc32": str(zlib.crc32(answer) & 0xFFFFFFFF),
                    "x-amzn-RequestId": "fault-proxy",
                }
                self._answer(status, headers, answer)

            def _answer(self, status: int, headers: dict[str, str], answer: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client timed out and left (the delay fault)
                    self.close_connection = True

            def finish(self) -> None:
                if self.upstream_connection is not None:
                    self.upstream_connection.close()
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


def _split_batch(operation: str, body: bytes) -> tuple[bytes, dict[str, Any]]:
    """Forward the first half of a batch; return the new body (empty when nothing is left
    to forward) and the held-back half."""
    request = json.loads(body)
    items = request.get("RequestItems") or {}
    held: dict[str, Any] = {}
    for table, entries in list(items.items()):
        if operation == "BatchWriteItem":
            keep = len(entries) // 2
            held[table] = entries[keep:]
            items[table] = entries[:keep]
            if not keep:
                del items[table]
        else:
            keys = entries.get("Keys") or []
            keep = len(keys) // 2
            held[table] = {**entries, "Keys": keys[keep:]}
            entries["Keys"] = keys[:keep]
            if not keep:
                del items[table]
    return (json.dumps(request).encode() if items else b""), held


def _merge_unprocessed(operation: str, answer: bytes, held: dict[str, Any]) -> bytes:
    response = json.loads(answer)
    slot = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
    unprocessed = response.get(slot) or {}
    for table, entries in held.items():
        if operation == "BatchWriteItem":
            unprocessed[table] = list(unprocessed.get(table) or []) + entries
        else:
            existing = unprocessed.get(table)
            if existing:
                existing["Keys"] = list(existing.get("Keys") or []) + entries["Keys"]
            else:
                unprocessed[table] = entries
    response[slot] = unprocessed
    return json.dumps(response).encode()
