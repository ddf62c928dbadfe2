"""Test helpers for code that uses flywheel, for ``unittest`` (pytest users: see the fixtures
of :mod:`flywheel.pytest_plugin`).

:class:`DynamoSystemTest` is a ``unittest.TestCase`` base class: list your models in
``models`` and the class gets ``cls.dynamo`` (the connection) and ``cls.engine`` (an Engine
in a namespace of its own, with the models' tables created). Tables are emptied after each
test and dropped after the class, even when a test or ``setUpClass`` fails part-way.

Where it runs, first found wins:

* the class attributes ``endpoint = 'http://localhost:8000'`` (a DynamoDB-compatible server
  you run) or ``region = 'us-east-1'`` (DynamoDB itself, with your AWS credentials);
* the environment variables ``FLYWHEEL_TEST_ENDPOINT`` or ``FLYWHEEL_TEST_REGION``;
* otherwise flywheel's embedded server (``pip install 'flywheel[local]'``; the kind from
  ``FLYWHEEL_TEST_SERVER``, moto by default), started once per process and stopped at exit.
"""
from __future__ import annotations

import atexit
import os
import threading
import unittest
import uuid
from typing import ClassVar

from .connection import DynamoDBConnection
from .engine import Engine
from .models import Model

__all__ = ["DynamoSystemTest", "test_connection"]

# One connection per place, shared by every test class of the process; an embedded server
# started for them lives until the process exits.
_connections: dict[tuple[str, str], DynamoDBConnection] = {}
_lock = threading.Lock()


def test_connection(
    endpoint: str | None = None, region: str | None = None
) -> DynamoDBConnection:
    """The process-wide connection for an endpoint, a region, or (neither given, nor set in
    ``FLYWHEEL_TEST_ENDPOINT`` / ``FLYWHEEL_TEST_REGION``) the embedded server."""
    endpoint = endpoint or os.environ.get("FLYWHEEL_TEST_ENDPOINT") or None
    region = region or os.environ.get("FLYWHEEL_TEST_REGION") or None
    if endpoint:
        place = ("endpoint", endpoint if "://" in endpoint else f"http://{endpoint}")
    elif region:
        place = ("region", region)
    else:
        place = ("local", os.environ.get("FLYWHEEL_TEST_SERVER") or "moto")
    with _lock:
        connection = _connections.get(place)
        if connection is None:
            connection = _connect(*place)
            _connections[place] = connection
        return connection


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


def _connect(kind: str, where: str) -> DynamoDBConnection:
    if kind == "endpoint":
        return DynamoDBConnection.connect_to_endpoint(where)
    if kind == "region":
        return DynamoDBConnection.connect_to_region(where)
    from .local import LocalServer

    server = LocalServer(where).start()
    atexit.register(server.stop)
    return server.connect()


class DynamoSystemTest(unittest.TestCase):
    """Base class for tests that need an Engine with tables for ``models``."""

    dynamo: ClassVar[DynamoDBConnection | None] = None
    models: ClassVar[list[type[Model]]] = []
    engine: ClassVar[Engine]
    #: A DynamoDB-compatible server to use instead of the embedded one.
    endpoint: ClassVar[str | None] = None
    #: An AWS region whose DynamoDB to use (creates real tables: costs money).
    region: ClassVar[str | None] = None
    #: The namespace of the class's tables, ``test-<random>``; set in setUpClass.
    namespace: ClassVar[list[str]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        dynamo = test_connection(cls.endpoint, cls.region)
        cls.dynamo = dynamo
        cls.namespace = ["test", uuid.uuid4().hex[:10]]
        cls.engine = Engine(dynamo, namespace=cls.namespace)
        cls.engine.register(*cls.models)
        # A class cleanup runs even when setUpClass fails after this line (tearDownClass
        # would not), so tables created before a failure are dropped too.
        cls.addClassCleanup(cls._drop_tables)
        cls.engine.create_schema()

    def tearDown(self) -> None:
        """Empty the models' tables, so each test starts from empty tables."""
        try:
            for model in self.engine.models.values():
                if not model.meta_.abstract:
                    self.engine.scan(model).delete()
        finally:
            super().tearDown()

    @classmethod
    def tearDownClass(cls) -> None:
        """Drop the models' tables."""
        try:
            cls._drop_tables()
        finally:
            super().tearDownClass()

    @classmethod
    def _drop_tables(cls) -> None:
        engine = getattr(cls, "engine", None)
        if engine is not None and engine.dynamo is not None:
            engine.delete_schema()
