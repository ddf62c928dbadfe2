"""Shared fixtures for flywheel's own suite, built on the plugin that flywheel ships for its
users (flywheel.pytest_plugin, see docs/testing.md): one DynamoDB-compatible server per test
session, one namespace per test.

Which server the session talks to (the plugin's settings):

* ``FLYWHEEL_TEST_ENDPOINT=http://host:port`` (or ``--flywheel-endpoint``) — a server someone
  else runs; nothing is started. ``FLYWHEEL_TEST_SERVER`` may still name its kind, to pick the
  capabilities below.
* otherwise ``FLYWHEEL_TEST_SERVER=moto`` (the default) or ``dynalite`` (or
  ``--flywheel-server``) — started by the plugin and stopped when the session ends.

The fixture names used throughout the suite (``local_server``, ``server_kind``, ``dynamo``,
``namespace``, ``engine``) are thin aliases of the plugin's ``flywheel_*`` fixtures.

Tests that need something not every server has say so with
``@pytest.mark.requires('transactions')``; they are skipped on servers that lack it.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

# pytest loads the plugin through its entry point before any conftest; when it did not (with
# PYTEST_DISABLE_PLUGIN_AUTOLOAD=1, or an install that predates the entry point), load it here.
# Loading it both ways would register the module twice, which pytest refuses.
_PLUGIN = "flywheel.pytest_plugin"
pytest_plugins = () if _PLUGIN in sys.modules else (_PLUGIN,)


def _server_settings(config: pytest.Config) -> Any:
    # Imported on use: importing the plugin module before pytest loads it would keep pytest
    # from rewriting its asserts (and warn about it).
    from flywheel.pytest_plugin import server_settings

    return server_settings(config)

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
        "binary_functions",  # begins_with / contains on B values (moto: never true)
        "fast_scan",  # scans thousands of items a second (moto: about 300), for bulk tests
        # concurrent updates of one item never lose one another (moto 5.2.5 alone has no
        # per-item lock; flywheel.local serialises moto's requests, which restores it)
        "atomic_updates",
    }
)
CAPABILITIES: dict[str, frozenset[str]] = {
    "moto": ALL_CAPABILITIES
    - {"strict_validation", "binary_functions", "fast_scan"},
    "dynalite": frozenset({"strict_validation", "binary_functions", "fast_scan", "atomic_updates"}),
    # An endpoint of unknown kind, or a region: assume it is the real thing.
    "dynamodb": ALL_CAPABILITIES,
}


def _capabilities(config: pytest.Config) -> frozenset[str]:
    return CAPABILITIES[_server_settings(config).software]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*capabilities): skip unless the test server has every capability named "
        f"(known: {', '.join(sorted(ALL_CAPABILITIES))})",
    )
    _server_settings(config)  # a misspelt server kind stops the run here, once, not in every test


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    available = _capabilities(config)
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
def server_kind(flywheel_server: Any) -> str:
    """'moto', 'dynalite', 'endpoint' (FLYWHEEL_TEST_ENDPOINT) or 'region' (FLYWHEEL_TEST_REGION)."""
    return flywheel_server.kind


@pytest.fixture(scope="session")
def local_server(flywheel_server: Any) -> Any:
    """The session's server (.kind, .host, .port, .endpoint, .is_secure)."""
    return flywheel_server


@pytest.fixture(scope="session")
def dynamo(flywheel_connection: Any) -> Any:
    """A flywheel DynamoDBConnection to the session's server."""
    return flywheel_connection


@pytest.fixture
def namespace(flywheel_namespace: str) -> str:
    """A table-name prefix of this test's own, so tests never see each other's tables."""
    return flywheel_namespace


@pytest.fixture
def engine(flywheel_engine: Any) -> Iterator[Any]:
    """A flywheel Engine in the test's namespace (no models registered); every table in the
    namespace is dropped afterwards, however the test ends."""
    yield flywheel_engine



@pytest.fixture
def tables(engine: Any, request: pytest.FixtureRequest) -> Any:
    """``engine`` with the test module's ``MODELS`` registered and their tables created."""
    engine.register(*request.module.MODELS)
    engine.create_schema()
    return engine


@pytest.fixture
def elsewhere(tables: Any, request: pytest.FixtureRequest) -> Any:
    """A second Engine on the same tables: another client of the database."""
    from flywheel import Engine

    other = Engine(dynamo=tables.dynamo, namespace=tables.namespace)
    other.register(*request.module.MODELS)
    return other
