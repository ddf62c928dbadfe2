"""flywheel.tests.DynamoSystemTest: the unittest base class users subclass.

Each test builds a TestCase subclass pointed at the session's server (its ``endpoint``
attribute), runs it with unittest's own runner, and checks what it saw and what it left.
"""
from __future__ import annotations

import unittest
from typing import Any, ClassVar

import pytest

from flywheel import Engine, Field, Model
from flywheel.connection import DynamoDBConnection
from flywheel.tests import DynamoSystemTest, test_connection


class Gadget(Model):
    name = Field(hash_key=True)
    colour = Field()


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TestResult()
    suite.run(result)
    return result


def tables_of(dynamo: DynamoDBConnection, namespace: list[str]) -> list[str]:
    prefix = "-".join(namespace) + "-"
    return [name for name in dynamo.list_tables() if name.startswith(prefix)]


def test_tables_are_created_emptied_after_each_test_and_dropped(local_server: Any) -> None:
    seen: dict[str, Any] = {}

    class GadgetTest(DynamoSystemTest):
        endpoint = local_server.endpoint
        models: ClassVar[list[type[Model]]] = [Gadget]

        def test_1_save(self) -> None:
            seen["tables"] = tables_of(self.dynamo, self.namespace)  # type: ignore[arg-type]
            self.engine.save(Gadget("spanner", colour="red"))
            seen["after_save"] = self.engine.scan(Gadget).count()

        def test_2_starts_empty(self) -> None:
            seen["second_test_sees"] = self.engine.scan(Gadget).count()

        def test_3_fails(self) -> None:
            self.engine.save(Gadget("hammer"))
            self.fail("on purpose: cleanup must still happen")

        def test_4_after_a_failure(self) -> None:
            seen["after_failure_sees"] = self.engine.scan(Gadget).count()

    result = run(GadgetTest)
    assert [str(error[1]).splitlines()[-1] for error in result.failures] == [
        "AssertionError: on purpose: cleanup must still happen"
    ]
    assert not result.errors
    assert seen == {
        "tables": [f"{'-'.join(GadgetTest.namespace)}-Gadget"],
        "after_save": 1,
        "second_test_sees": 0,
        "after_failure_sees": 0,
    }
    assert isinstance(GadgetTest.engine, Engine)
    assert GadgetTest.namespace[0] == "test"
    assert tables_of(GadgetTest.engine.dynamo, GadgetTest.namespace) == []


def test_a_failing_set_up_class_still_drops_the_tables_it_created(local_server: Any) -> None:
    class Broken(Model):
        __metadata__: ClassVar[dict[str, Any]] = {"_name": "Broken"}
        key = Field(hash_key=True)

    class BrokenTest(DynamoSystemTest):
        endpoint = local_server.endpoint
        models: ClassVar[list[type[Model]]] = [Gadget, Broken]

        @classmethod
        def setUpClass(cls) -> None:
            super().setUpClass()
            raise RuntimeError("setUpClass broke after creating the tables")

        def test_never_runs(self) -> None:
            raise AssertionError("unreachable")

    result = run(BrokenTest)
    assert len(result.errors) == 1
    assert "setUpClass broke" in result.errors[0][1]
    assert tables_of(BrokenTest.engine.dynamo, BrokenTest.namespace) == []


def test_the_connection_is_shared_per_place(local_server: Any) -> None:
    first = test_connection(endpoint=local_server.endpoint)
    assert test_connection(endpoint=local_server.endpoint) is first
    assert first.endpoint_url.rstrip("/") == local_server.endpoint


def test_default_is_the_embedded_server(monkeypatch: pytest.MonkeyPatch, server_kind: str) -> None:
    if server_kind not in ("moto", "dynalite"):
        pytest.skip("the embedded server is what this test is about")
    for name in ("FLYWHEEL_TEST_ENDPOINT", "FLYWHEEL_TEST_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLYWHEEL_TEST_SERVER", server_kind)
    connection = test_connection()
    assert connection.endpoint_url.startswith("http://127.0.0.1:")
    assert isinstance(connection.list_tables(), list)
