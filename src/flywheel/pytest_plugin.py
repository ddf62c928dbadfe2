"""pytest fixtures for testing code that uses flywheel (loaded automatically when flywheel is
installed: it is registered as the ``flywheel`` pytest plugin).

Fixtures:

* ``flywheel_server`` (session) — where the tests' DynamoDB is: a :class:`TestServer` with
  ``kind``, ``endpoint``, ``host``, ``port``, ``region``. By default flywheel's embedded moto
  server, started on first use and stopped when the session ends.
* ``flywheel_connection`` (session) — a :class:`~flywheel.DynamoDBConnection` to it.
* ``flywheel_namespace`` — a table-name prefix of the test's own (``test-1a2b3c4d``).
* ``flywheel_models`` — the models ``flywheel_engine`` registers and creates tables for;
  empty unless you override it (in a test module or a ``conftest.py``).
* ``flywheel_engine`` — an :class:`~flywheel.Engine` in the test's namespace with
  ``flywheel_models`` registered and their tables created. Every table in the namespace is
  dropped after the test, whether it passed or failed.

Where the server is, from the command line, then the ini file, then the environment:

* ``--flywheel-server moto|dynalite`` / ini ``flywheel_server`` / ``FLYWHEEL_TEST_SERVER``:
  the embedded server to start (dynalite needs Node.js).
* ``--flywheel-endpoint URL`` / ini ``flywheel_endpoint`` / ``FLYWHEEL_TEST_ENDPOINT``: a
  DynamoDB-compatible server you run; nothing is started.
* ``--flywheel-region NAME`` / ini ``flywheel_region`` / ``FLYWHEEL_TEST_REGION``: DynamoDB
  itself in that region, with your AWS credentials (this creates real tables and costs money).

Disable the plugin with ``-p no:flywheel``.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:  # pragma: no cover - flywheel is imported lazily, when a fixture is used
    from .connection import DynamoDBConnection
    from .engine import Engine
    from .models import Model

__all__ = [
    "SERVER_KINDS",
    "ServerSettings",
    "TestServer",
    "drop_namespace",
    "server_settings",
]

SERVER_KINDS = ("moto", "dynalite")
SERVER_ENV = "FLYWHEEL_TEST_SERVER"
ENDPOINT_ENV = "FLYWHEEL_TEST_ENDPOINT"
REGION_ENV = "FLYWHEEL_TEST_REGION"


@dataclass(frozen=True)
class ServerSettings:
    """What the session was told to use; exactly one of the three ways is in effect.

    ``kind`` is 'moto' or 'dynalite' for an embedded server, 'endpoint' for a server the
    user runs (unless ``declared_kind`` says which software it is), 'region' for DynamoDB.
    """

    kind: str
    endpoint: str | None = None
    region: str | None = None
    declared_kind: str | None = None

    @property
    def software(self) -> str:
        """The server's software as far as known: 'moto', 'dynalite', or 'dynamodb'."""
        if self.kind in SERVER_KINDS:
            return self.kind
        if self.declared_kind:
            return self.declared_kind
        return "dynamodb"

    def describe(self) -> str:
        if self.kind == "region":
            return f"DynamoDB in region {self.region}"
        if self.kind == "endpoint":
            return f"endpoint {self.endpoint}"
        return f"local {self.kind} server"


@dataclass(frozen=True)
class TestServer:
    """Where the session's DynamoDB answers. ``host``/``port`` are None for a region."""

    __test__ = False  # a class named Test* that pytest must not collect

    kind: str  # 'moto', 'dynalite', 'endpoint' or 'region'
    endpoint: str | None
    region: str
    host: str | None = None
    port: int | None = None
    is_secure: bool = False

    def connect(self) -> DynamoDBConnection:
        """A new connection to this server."""
        from .connection import DynamoDBConnection

        if self.endpoint is None:
            return DynamoDBConnection.connect_to_region(self.region)
        return DynamoDBConnection.connect_to_endpoint(self.endpoint, region=self.region)


def _option(config: pytest.Config, name: str, env: str) -> str | None:
    """A setting from the command line, else the ini file, else the environment."""
    value = config.getoption(f"flywheel_{name}", default=None)
    if not value:
        try:
            value = config.getini(f"flywheel_{name}")
        except ValueError:  # the plugin's ini options are not registered (plugin disabled)
            value = None
    if not value:
        value = os.environ.get(env)
    text = str(value).strip() if value else ""
    return text or None


def server_settings(config: pytest.Config) -> ServerSettings:
    """Read and check the settings; a bad one raises pytest.UsageError naming it."""
    kind = _option(config, "server", SERVER_ENV)
    endpoint = _option(config, "endpoint", ENDPOINT_ENV)
    region = _option(config, "region", REGION_ENV)
    if kind is not None and kind not in SERVER_KINDS:
        raise pytest.UsageError(
            f"flywheel test server {kind!r} (--flywheel-server / {SERVER_ENV}) is not a server "
            f"flywheel can start; use one of {', '.join(SERVER_KINDS)}, or give an endpoint "
            f"(--flywheel-endpoint / {ENDPOINT_ENV}) or a region (--flywheel-region / {REGION_ENV})"
        )
    if endpoint is not None:
        url = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        if url.scheme not in ("http", "https") or not url.hostname:
            raise pytest.UsageError(
                f"flywheel test endpoint {endpoint!r} is not an http(s)://host:port URL"
            )
        return ServerSettings("endpoint", endpoint=url.geturl().rstrip("/"), declared_kind=kind)
    if region is not None:
        return ServerSettings("region", region=region, declared_kind=kind)
    return ServerSettings(kind or "moto")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flywheel", "flywheel test server")
    group.addoption(
        "--flywheel-server", dest="flywheel_server", choices=SERVER_KINDS, default=None,
        help=f"embedded server to start for the flywheel fixtures (default: moto; env {SERVER_ENV})",
    )
    group.addoption(
        "--flywheel-endpoint", dest="flywheel_endpoint", metavar="URL", default=None,
        help=f"use this DynamoDB-compatible server instead of starting one (env {ENDPOINT_ENV})",
    )
    group.addoption(
        "--flywheel-region", dest="flywheel_region", metavar="NAME", default=None,
        help=f"use DynamoDB itself in this AWS region; creates real tables (env {REGION_ENV})",
    )
    parser.addini("flywheel_server", "embedded server for the flywheel fixtures: moto or dynalite")
    parser.addini("flywheel_endpoint", "URL of a DynamoDB-compatible server for the flywheel fixtures")
    parser.addini("flywheel_region", "AWS region whose DynamoDB the flywheel fixtures use")


def pytest_configure(config: pytest.Config) -> None:
    server_settings(config)  # a bad setting stops the run here, once, not in every test


def pytest_report_header(config: pytest.Config) -> str:
    return f"flywheel test server: {server_settings(config).describe()}"


@pytest.fixture(scope="session")
def flywheel_server(pytestconfig: pytest.Config) -> Iterator[TestServer]:
    """The session's DynamoDB: an embedded server started here, or the one configured."""
    settings = server_settings(pytestconfig)
    if settings.kind == "region":
        assert settings.region is not None
        yield TestServer("region", None, settings.region)
        return
    if settings.kind == "endpoint":
        assert settings.endpoint is not None
        url = urlsplit(settings.endpoint)
        is_secure = url.scheme == "https"
        yield TestServer(
            "endpoint", settings.endpoint, "us-east-1", url.hostname,
            url.port or (443 if is_secure else 80), is_secure,
        )
        return

    from .local import LocalServer, LocalServerError

    try:
        server = LocalServer(settings.kind).start()
    except (LocalServerError, ImportError) as exc:
        # Asked for and unavailable: an error, not a skip, so a CI run cannot go quietly green.
        raise pytest.UsageError(f"cannot start the {settings.kind} test server: {exc}") from exc
    try:
        yield TestServer(settings.kind, server.endpoint, "us-east-1", server.host, server.port)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def flywheel_connection(flywheel_server: TestServer) -> Iterator[DynamoDBConnection]:
    """A DynamoDBConnection to the session's server, shared by every test."""
    connection = flywheel_server.connect()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def flywheel_namespace() -> str:
    """A table-name prefix of this test's own, so tests never see each other's tables."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def flywheel_models() -> Sequence[type[Model]]:
    """The models flywheel_engine creates tables for: override this fixture to list yours."""
    return ()


@pytest.fixture
def flywheel_engine(
    flywheel_connection: DynamoDBConnection,
    flywheel_namespace: str,
    flywheel_models: Sequence[type[Model]],
) -> Iterator[Engine]:
    """An Engine in the test's namespace, with flywheel_models' tables created; every table in
    the namespace is dropped afterwards, whatever the test's outcome."""
    from .engine import Engine

    engine = Engine(flywheel_connection, namespace=[flywheel_namespace])
    try:
        if flywheel_models:
            engine.register(*flywheel_models)
            engine.create_schema()
        yield engine
    finally:
        drop_namespace(engine, flywheel_namespace)


def drop_namespace(engine: Engine, namespace: str) -> list[str]:
    """Drop the engine's tables and any other table whose name starts with ``namespace-``;
    returns the names dropped. Best effort: a failed cleanup must not hide the test's own
    result, and the namespace is unique, so a left-over table harms only the server's memory."""
    dropped: list[str] = []
    with contextlib.suppress(Exception):
        dropped.extend(engine.delete_schema())
    leftovers: list[str] = []
    with contextlib.suppress(Exception):
        leftovers = [
            name for name in engine.dynamo.list_tables()
            if name.startswith(f"{namespace}-") and name not in dropped
        ]
    for name in leftovers:
        with contextlib.suppress(Exception):
            if engine.dynamo.delete_table(name):
                dropped.append(name)
    return dropped
