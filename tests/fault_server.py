"""A scripted stand-in for DynamoDB on loopback, for failures a real server cannot be asked for.

It speaks real HTTP, so botocore's whole stack (signing, connection pool, parsing, checksum
check) runs exactly as against DynamoDB: only the answers are made up. A test gives it a
``script``: a function from (request number, operation, request body) to a :class:`Reply`.

    with FaultServer(lambda n, op, body: throttled() if n < 2 else ok({})) as server:
        dynamo = server.connect(max_attempts=3)
        ...
        assert [op for op, _ in server.requests] == ['PutItem'] * 3
"""
from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flywheel.connection import DynamoDBConnection

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class Reply:
    """What the server does with one request.

    ``drop``: close the connection without answering. ``delay``: seconds to wait first
    (longer than the client's read timeout makes a read timeout). ``bad_checksum``: send an
    x-amz-crc32 header that does not match the body, as a corrupted response would.
    """

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/x-amz-json-1.0"
    drop: bool = False
    delay: float = 0.0
    bad_checksum: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def ok(payload: dict[str, Any]) -> Reply:
    return Reply(body=json.dumps(payload).encode())


def error(code: str, message: str = "injected fault", status: int = 400) -> Reply:
    return Reply(status=status, body=json.dumps({"__type": ERROR_PREFIX + code, "message": message}).encode())


def throttled(code: str = "ProvisionedThroughputExceededException") -> Reply:
    return error(code, "The level of configured provisioned throughput for the table was exceeded")


def server_error(status: int = 500, code: str = "InternalServerError") -> Reply:
    return error(code, "Internal server error", status=status)


Script = Callable[[int, str, dict[str, Any]], Reply]


class FaultServer:
    """A threaded HTTP server answering DynamoDB requests by ``script``; records requests."""

    def __init__(self, script: Script) -> None:
        self.script = script
        #: (operation, parsed JSON body) of every request received, in order
        self.requests: list[tuple[str, dict[str, Any]]] = []
        #: the Authorization header of every request (to check which credentials signed it)
        self.authorizations: list[str] = []
        #: the path every request was sent to
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.requests]

    def connect(self, **options: Any) -> DynamoDBConnection:
        """A connection to this server with tiny backoff (tests pass max_attempts etc.)."""
        options.setdefault("backoff_base", 0.001)
        options.setdefault("backoff_cap", 0.01)
        return DynamoDBConnection.connect_to_host(self.url, **options)

    def __enter__(self) -> FaultServer:  # noqa: PYI034 - Self needs Python 3.11
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects

            def do_POST(self) -> None:  # the name http.server calls
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                with server._lock:
                    number = len(server.requests)
                    server.requests.append((operation, body))
                    server.authorizations.append(self.headers.get("Authorization") or "")
                    server.paths.append(self.path)
                reply = server.script(number, operation, body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                checksum = zlib.crc32(reply.body) & 0xFFFFFFFF
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("x-amzn-RequestId", f"fault-{number}")
                self.send_header("x-amz-crc32", str(checksum + 1 if reply.bad_checksum else checksum))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler
