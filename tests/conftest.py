"""Shared fixtures: one DynamoDB-compatible server per test session, one namespace per test.

Which server the session talks to:

* ``FLYWHEEL_TEST_ENDPOINT=http://host:port`` — a server someone else runs; nothing is
  started. ``FLYWHEEL_TEST_SERVER`` may still name its kind, to pick the capabilities below.
* otherwise ``FLYWHEEL_TEST_SERVER=moto`` (the default) or ``dynalite`` — started here with
  flywheel.local.LocalServer and stopped when the session ends.

Tests that need something not every server has say so with
``@pytest.mark.requires('transactions')``; they are skipped on servers that lack it.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

SERVER_ENV = "FLYWHEEL_TEST_SERVER"
ENDPOINT_ENV = "FLYWHEEL_TEST_ENDPOINT"
SERVER_KINDS = ("moto", "dynalite")

# What each server can do beyond the basics (tables, items, queries, scans, batches,
# conditions). Found by trying each operation against moto 5.2.5 and dynalite 4.0.0.
ALL_CAPABILITIES = frozenset(
    {
        "transactions",  # TransactWriteItems / TransactGetItems
        "ttl",  # UpdateTimeToLive
        "add_global_index",  # UpdateTable creating a GSI (dynalite accepts it, builds nothing)
        "return_values_on_condition_check_failure",
        "partiql",  # ExecuteStatement / BatchExecuteStatement
        "streams",  # StreamSpecification
        "strict_validation",  # rejects what DynamoDB rejects (moto is lenient in places)
        "document_equality",  # '=' in a condition compares M / L values (dynalite: never equal)
    }
)
CAPABILITIES: dict[str, frozenset[str]] = {
    "moto": ALL_CAPABILITIES - {"strict_validation"},
    "dynalite": frozenset({"strict_validation"}),
    # An endpoint of unknown kind: assume it is the real thing.
    "endpoint": ALL_CAPABILITIES,
}


@dataclass(frozen=True)
class ServerAddress:
    """Where the session's server listens, and what kind it is."""

    kind: str  # 'moto', 'dynalite' or 'endpoint'
    host: str
    port: int
    is_secure: bool

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.is_secure else 'http'}://{self.host}:{self.port}"


def _configured_kind() -> str:
    kind = os.environ.get(SERVER_ENV, "moto").strip() or "moto"
    if kind not in SERVER_KINDS:
        raise pytest.UsageError(
            f"{SERVER_ENV}={kind!r} is not a server kind flywheel can start; "
            f"use one of {', '.join(SERVER_KINDS)}, or set {ENDPOINT_ENV}=http://host:port"
        )
    return kind


def _capabilities() -> frozenset[str]:
    if os.environ.get(ENDPOINT_ENV) and not os.environ.get(SERVER_ENV):
        return CAPABILITIES["endpoint"]
    return CAPABILITIES[_configured_kind()]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*capabilities): skip unless the test server has every capability named "
        f"(known: {', '.join(sorted(ALL_CAPABILITIES))})",
    )
    _configured_kind()  # a misspelt server kind stops the run here, once, not in every test


def pytest_report_header(config: pytest.Config) -> str:
    endpoint = os.environ.get(ENDPOINT_ENV)
    where = f"endpoint {endpoint}" if endpoint else f"local {_configured_kind()} server"
    return f"flywheel test server: {where}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    available = _capabilities()
    for item in items:
        for marker in item.iter_markers("requires"):
            unknown = set(marker.args) - ALL_CAPABILITIES
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: unknown capability {sorted(unknown)} in "
                    f"@pytest.mark.requires; known: {sorted(ALL_CAPABILITIES)}"
                )
            missing = sorted(set(marker.args) - available)
            if missing:
                item.add_marker(
                    pytest.mark.skip(reason=f"test server lacks {', '.join(missing)}")
                )


@pytest.fixture(scope="session")
def server_kind() -> str:
    """'moto', 'dynalite', or 'endpoint' when FLYWHEEL_TEST_ENDPOINT points elsewhere."""
    return "endpoint" if os.environ.get(ENDPOINT_ENV) else _configured_kind()


@pytest.fixture(scope="session")
def local_server(server_kind: str) -> Iterator[ServerAddress]:
    """The session's server: started here unless FLYWHEEL_TEST_ENDPOINT names one."""
    if server_kind == "endpoint":
        url = urlsplit(os.environ[ENDPOINT_ENV])
        if url.scheme not in ("http", "https") or not url.hostname:
            raise pytest.UsageError(
                f"{ENDPOINT_ENV}={os.environ[ENDPOINT_ENV]!r} is not an http(s)://host:port URL"
            )
        is_secure = url.scheme == "https"
        yield ServerAddress(
            "endpoint", url.hostname, url.port or (443 if is_secure else 80), is_secure
        )
        return

    from flywheel.local import LocalServer, LocalServerError

    try:
        server = LocalServer(server_kind).start()
    except LocalServerError as exc:
        # Asked for explicitly and unavailable: an error, not a skip, so CI can't go quietly green.
        raise pytest.UsageError(f"cannot start the {server_kind} test server: {exc}") from exc
    try:
        yield ServerAddress(server_kind, server.host, server.port, False)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamo(local_server: ServerAddress) -> Any:
    """A flywheel DynamoDBConnection to the session's server."""
    from flywheel.connection import DynamoDBConnection

    return DynamoDBConnection.connect_to_host(
        host=local_server.host, port=local_server.port, is_secure=local_server.is_secure
    )


@pytest.fixture
def namespace() -> str:
    """A table-name prefix of this test's own, so tests never see each other's tables."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def engine(dynamo: Any, namespace: str) -> Iterator[Any]:
    """A flywheel Engine in the test's namespace; its tables are deleted afterwards."""
    from flywheel import Engine  # imported here so tests of lower layers never need it

    engine = Engine(namespace=[namespace])
    engine.connect(dynamo)
    try:
        yield engine
    finally:
        _drop_namespace(engine, dynamo, namespace)


def _drop_namespace(engine: Any, dynamo: Any, namespace: str) -> None:
    # Best effort: a failed cleanup must not hide the test's own result, and the namespace is
    # unique, so a left-over table harms nothing but the server's memory.
    with contextlib.suppress(Exception):
        engine.delete_schema()
    leftovers: list[str] = []
    with contextlib.suppress(Exception):
        leftovers = [name for name in dynamo.list_tables() if name.startswith(namespace)]
    for name in leftovers:
        with contextlib.suppress(Exception):
            dynamo.delete_table(name)
