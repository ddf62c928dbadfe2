"""Test helpers for code that uses flywheel.

:class:`DynamoSystemTest` is a ``unittest.TestCase`` base class: list your models in
``models`` and every test gets ``self.engine`` (an Engine in a namespace of its own, with the
tables created) and ``self.dynamo`` (the connection). Tables are emptied after each test and
dropped after the class.

By default it runs on flywheel's embedded server (``pip install 'flywheel[local]'``), started
once per process. Set ``FLYWHEEL_TEST_ENDPOINT=http://host:port`` to use another
DynamoDB-compatible server, or ``FLYWHEEL_TEST_REGION=us-east-1`` for real DynamoDB.
"""
from __future__ import annotations

import atexit
import os
import unittest
import uuid
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .connection import DynamoDBConnection
from .engine import Engine
from .models import Model

__all__ = ["DynamoSystemTest", "test_connection"]

_shared: dict[str, Any] = {}


def test_connection() -> DynamoDBConnection:
    """The process-wide connection the test helpers use (starting a local server if needed)."""
    connection = _shared.get("connection")
    if connection is not None:
        return connection
    region = os.environ.get("FLYWHEEL_TEST_REGION")
    endpoint = os.environ.get("FLYWHEEL_TEST_ENDPOINT")
    if region:
        connection = DynamoDBConnection.connect_to_region(region)
    else:
        if not endpoint:
            from .local import LocalServer

            server = LocalServer(os.environ.get("FLYWHEEL_TEST_SERVER", "moto"))
            server.start()
            atexit.register(server.stop)
            _shared["server"] = server
            endpoint = server.endpoint
        parts = urlsplit(endpoint)
        connection = DynamoDBConnection.connect_to_host(
            host=parts.hostname or "localhost",
            port=parts.port or (443 if parts.scheme == "https" else 80),
            is_secure=parts.scheme == "https",
        )
    _shared["connection"] = connection
    return connection


class DynamoSystemTest(unittest.TestCase):
    """Base class for tests that need an Engine with tables for ``models``."""

    dynamo: ClassVar[DynamoDBConnection | None] = None
    models: ClassVar[list[type[Model]]] = []
    engine: ClassVar[Engine]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.dynamo = test_connection()
        cls.engine = Engine(cls.dynamo, namespace=["test", uuid.uuid4().hex[:10]])
        cls.engine.register(*cls.models)
        cls.engine.create_schema()

    def tearDown(self) -> None:
        for model in self.models:
            if not model.meta_.abstract:
                self.engine.scan(model).delete()
        super().tearDown()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.engine.delete_schema()
        super().tearDownClass()
