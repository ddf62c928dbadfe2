"""The wire layer's retries and error translation under faults, plus its pure helpers.

The faults come from fault_server.FaultServer: real HTTP on loopback with scripted answers,
because no real server throttles, fails or drops connections on demand. No server fixture.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import botocore.session
import pytest
from fault_server import FaultServer, Reply, error, ok, server_error, throttled

from flywheel.connection import DynamoDBConnection
from flywheel.connection.batches import dedupe_writes, key_identity
from flywheel.connection.clients import DUMMY_ACCESS_KEY, host_endpoint_url
from flywheel.connection.errors import backoff_delay
from flywheel.exceptions import (
    BatchGetError,
    BatchWriteError,
    ConnectionFailure,
    DynamoDBError,
    TableWaitTimeout,
    ThroughputException,
)

GET = {"TableName": "t", "Key": {"id": {"S": "a"}}}
FOUND = {"Item": {"id": {"S": "a"}}}


def fail_first(count: int, failure: Reply, then: Reply | None = None) -> Any:
    """A script answering the first ``count`` requests with ``failure``, then ``then``."""
    success = then or ok(FOUND)
    return lambda number, operation, body: failure if number < count else success


# -- retries of one call ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        throttled(),
        throttled("ThrottlingException"),
        throttled("RequestLimitExceeded"),
        server_error(500, "InternalServerError"),
        server_error(503, "ServiceUnavailable"),
        Reply(status=502, body=b"<html>Bad Gateway</html>", content_type="text/html"),
        Reply(drop=True),
        Reply(bad_checksum=True, body=b'{"Item": {"id": {"S": "corrupted"}}}'),
    ],
    ids=["throughput", "throttling", "request-limit", "500", "503", "502-html", "drop", "crc32"],
)
def test_transient_failures_are_retried(failure: Reply) -> None:
    with FaultServer(fail_first(3, failure)) as server:
        response = server.connect(max_attempts=4).call("GetItem", GET)
        assert server.operations() == ["GetItem"] * 4
    assert response["Item"] == FOUND["Item"]


def test_call_returns_the_parsed_response() -> None:
    with FaultServer(fail_first(1, throttled())) as server:
        response = server.connect().call("GetItem", GET)
    assert response["Item"] == FOUND["Item"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_throttling_after_retries_is_throughput_exception() -> None:
    with FaultServer(fail_first(99, throttled())) as server:
        with pytest.raises(ThroughputException) as caught:
            server.connect(max_attempts=3).call("GetItem", GET)
        assert server.operations() == ["GetItem"] * 3
    error_ = caught.value
    assert error_.code == "ProvisionedThroughputExceededException"
    assert "provisioned throughput" in error_.message
    assert error_.status == 400
    assert error_.operation == "GetItem"
    assert error_.table == "t"


def test_server_errors_after_retries_keep_code_and_status() -> None:
    with FaultServer(fail_first(99, server_error(500))) as server:
        with pytest.raises(DynamoDBError) as caught:
            server.connect(max_attempts=5).call("PutItem", {"TableName": "t", "Item": {}})
        assert server.operations() == ["PutItem"] * 5
    assert type(caught.value) is DynamoDBError
    assert (caught.value.code, caught.value.status) == ("InternalServerError", 500)
    assert caught.value.message == "Internal server error"


def test_dropped_connections_after_retries_are_connection_failure() -> None:
    with FaultServer(fail_first(99, Reply(drop=True))) as server:
        with pytest.raises(ConnectionFailure) as caught:
            server.connect(max_attempts=3).call("GetItem", GET)
        assert server.operations() == ["GetItem"] * 3
    assert caught.value.code == "ConnectionClosedError"
    assert caught.value.status is None


def test_unanswered_request_times_out_instead_of_hanging() -> None:
    with FaultServer(fail_first(99, Reply(delay=1.0))) as server:
        dynamo = server.connect(max_attempts=2, read_timeout=0.2, connect_timeout=0.2)
        with pytest.raises(ConnectionFailure) as caught:
            dynamo.call("GetItem", GET)
        assert server.operations() == ["GetItem"] * 2
    assert caught.value.code == "ReadTimeoutError"


def test_client_errors_are_not_retried() -> None:
    script = fail_first(99, error("ValidationException", "One or more parameter values were invalid"))
    with FaultServer(script) as server:
        with pytest.raises(DynamoDBError) as caught:
            server.connect(max_attempts=8).call("GetItem", GET)
        assert server.operations() == ["GetItem"]
    assert caught.value.code == "ValidationException"
    assert caught.value.message == "One or more parameter values were invalid"


def test_retry_deadline_stops_retries_early() -> None:
    with FaultServer(fail_first(99, throttled())) as server:
        dynamo = server.connect(max_attempts=50, backoff_base=0.05, backoff_cap=0.05, retry_deadline=0)
        with pytest.raises(ThroughputException):
            dynamo.call("GetItem", GET)
        assert len(server.requests) < 50


def test_retries_are_logged_without_credentials(caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(fail_first(1, throttled())) as server:
        dynamo = DynamoDBConnection.connect_to_host(
            server.url, access_key="AKIDFLYWHEELTEST", secret_key="secret-do-not-log", backoff_base=0.001
        )
        with caplog.at_level(logging.DEBUG, logger="flywheel"):
            dynamo.call("GetItem", GET)
    ours = [r for r in caplog.records if r.name.startswith("flywheel")]
    assert any("ProvisionedThroughputExceededException" in r.getMessage() for r in ours)
    text = " ".join(r.getMessage() for r in ours) + repr(dynamo)
    assert "AKIDFLYWHEELTEST" not in text and "secret-do-not-log" not in text


# -- paging and table admin with canned answers ---------------------------------------------
def test_paginate_sends_exclusive_start_key_and_stops_when_told() -> None:
    endless = ok({"Items": [], "LastEvaluatedKey": {"id": {"S": "next"}}})
    with FaultServer(lambda n, op, body: endless) as server:
        request = {"TableName": "t"}
        pages = server.connect().paginate("Scan", request)
        for _ in range(3):
            next(pages)
        pages.close()
        assert len(server.requests) == 3
        assert "ExclusiveStartKey" not in server.requests[0][1]
        assert server.requests[2][1]["ExclusiveStartKey"] == {"id": {"S": "next"}}
    assert request == {"TableName": "t"}


def test_list_tables_follows_pages() -> None:
    pages = [
        ok({"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"}),
        ok({"TableNames": ["ccc"]}),
    ]
    with FaultServer(lambda n, op, body: pages[n]) as server:
        assert server.connect().list_tables() == ["aaa", "bbb", "ccc"]
        assert server.requests[1][1] == {"ExclusiveStartTableName": "bbb"}


def test_delete_table_waits_for_a_table_being_created() -> None:
    answers = {
        0: error("ResourceInUseException", "Table is being created"),
        1: ok({"Table": {"TableName": "t", "TableStatus": "CREATING"}}),  # is it deleting?
        2: ok({"Table": {"TableName": "t", "TableStatus": "CREATING"}}),  # wait...
        3: ok({"Table": {"TableName": "t", "TableStatus": "ACTIVE"}}),
        4: ok({"TableDescription": {"TableName": "t", "TableStatus": "DELETING"}}),
        5: ok({"Table": {"TableName": "t", "TableStatus": "DELETING"}}),
    }
    gone = error("ResourceNotFoundException", "Requested resource not found")
    with FaultServer(lambda n, op, body: answers.get(n, gone)) as server:
        assert server.connect().delete_table("t") is True
        assert server.operations() == [
            "DeleteTable", "DescribeTable", "DescribeTable", "DescribeTable",
            "DeleteTable", "DescribeTable", "DescribeTable",
        ]  # fmt: skip


def test_table_wait_times_out() -> None:
    creating = ok({"Table": {"TableName": "t", "TableStatus": "ACTIVE",
                             "GlobalSecondaryIndexes": [{"IndexName": "gi", "IndexStatus": "CREATING"}]}})  # fmt: skip
    with (
        FaultServer(lambda n, op, body: creating) as server,
        pytest.raises(TableWaitTimeout, match="'gi' CREATING"),
    ):
        server.connect().wait_until_active("t", timeout=0.2)


# -- batches with unprocessed items ---------------------------------------------------------
def put(number: int) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"id": {"N": str(number)}, "v": {"S": f"value {number}"}}}}


def batch_server(stuck: set[str], written: list[dict[str, Any]]) -> Any:
    """BatchWriteItem answers leaving the requests for ``stuck`` ids unprocessed, always."""

    def script(number: int, operation: str, body: dict[str, Any]) -> Reply:
        leftover = []
        for requests in body["RequestItems"].values():
            for request in requests:
                if request["PutRequest"]["Item"]["id"]["N"] in stuck:
                    leftover.append(request)
                else:
                    written.append(request)
        return ok({"UnprocessedItems": {"t": leftover} if leftover else {}})

    return script


def test_batch_write_retries_unprocessed_until_done() -> None:
    def script(number: int, operation: str, body: dict[str, Any]) -> Reply:
        requests = body["RequestItems"]["t"]
        # the first two sends leave their last 5 requests over
        leftover = requests[-5:] if number < 2 else []
        return ok({"UnprocessedItems": {"t": leftover} if leftover else {}})

    with FaultServer(script) as server:
        server.connect().batch_write("t", [put(i) for i in range(60)], ["id"])
        sent = [r for _, body in server.requests for r in body["RequestItems"]["t"]]
    assert all(len(body["RequestItems"]["t"]) <= 25 for _, body in server.requests)
    ids = [r["PutRequest"]["Item"]["id"]["N"] for r in sent]
    assert set(ids) == {str(i) for i in range(60)}
    assert len(ids) == 70  # 60 plus the 2 x 5 sent again


def test_batch_write_reports_exactly_the_stuck_requests() -> None:
    written: list[dict[str, Any]] = []
    requests = [put(i) for i in range(60)]
    with (
        FaultServer(batch_server({"3", "30", "59"}, written)) as server,
        pytest.raises(BatchWriteError) as caught,
    ):
        server.connect(max_attempts=3).batch_write("t", requests, ["id"])
    unprocessed = caught.value.unprocessed
    assert caught.value.code == "UnprocessedItems"
    assert sorted(r["PutRequest"]["Item"]["id"]["N"] for r in unprocessed) == ["3", "30", "59"]
    assert all(any(r is original for original in requests) for r in unprocessed)  # caller's own
    assert len(written) == 57


def test_batch_write_reports_batches_never_sent() -> None:
    written: list[dict[str, Any]] = []
    requests = [put(i) for i in range(60)]
    with FaultServer(batch_server({str(i) for i in range(60)}, written)) as server:
        with pytest.raises(BatchWriteError) as caught:
            server.connect(max_attempts=3).batch_write("t", requests, ["id"])
        assert len(server.requests) == 3  # the first batch, three times, then gave up
    assert sorted(caught.value.unprocessed, key=lambda r: int(r["PutRequest"]["Item"]["id"]["N"])) == requests


def test_batch_write_throttled_outright_reports_everything() -> None:
    with (
        FaultServer(fail_first(99, throttled())) as server,
        pytest.raises(BatchWriteError) as caught,
    ):
        server.connect(max_attempts=2).batch_write("t", [put(i) for i in range(30)], ["id"])
    assert caught.value.code == "ProvisionedThroughputExceededException"
    assert isinstance(caught.value.__cause__, ThroughputException)
    assert len(caught.value.unprocessed) == 30


def test_batch_get_retries_unprocessed_keys() -> None:
    def script(number: int, operation: str, body: dict[str, Any]) -> Reply:
        keys = body["RequestItems"]["t"]["Keys"]
        served, leftover = (keys[:50], keys[50:]) if number == 0 else (keys, [])
        answer: dict[str, Any] = {"Responses": {"t": served}}
        if leftover:
            answer["UnprocessedKeys"] = {"t": {**body["RequestItems"]["t"], "Keys": leftover}}
        return ok(answer)

    keys = [{"id": {"N": str(i)}} for i in range(150)]
    with FaultServer(script) as server:
        found = server.connect().batch_get("t", keys + keys[:20], ["id"], attributes=["v"])
        bodies = [body for _, body in server.requests]
    assert sorted(int(i["id"]["N"]) for i in found) == list(range(150))
    assert [len(b["RequestItems"]["t"]["Keys"]) for b in bodies] == [100, 100]
    first = bodies[0]["RequestItems"]["t"]
    assert first["ProjectionExpression"] == "#p0, #p1"
    assert first["ExpressionAttributeNames"] == {"#p0": "id", "#p1": "v"}


def test_batch_get_gives_up_on_stuck_keys() -> None:
    def script(number: int, operation: str, body: dict[str, Any]) -> Reply:
        return ok({"Responses": {"t": []}, "UnprocessedKeys": {"t": body["RequestItems"]["t"]}})

    keys = [{"id": {"S": "a"}}, {"id": {"S": "b"}}]
    with FaultServer(script) as server:
        with pytest.raises(BatchGetError) as caught:
            server.connect(max_attempts=2).batch_get("t", keys, ["id"], consistent=True)
        assert server.requests[0][1]["RequestItems"]["t"]["ConsistentRead"] is True
    assert caught.value.unprocessed == keys


# -- connecting -------------------------------------------------------------------------------
@pytest.fixture
def no_configured_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


def signer_of(server: FaultServer, **options: Any) -> str:
    server.connect(**options).call("GetItem", GET)
    return server.authorizations[-1].split("Credential=")[1].split("/")[0]


@pytest.mark.usefixtures("no_configured_credentials")
def test_local_host_signs_with_dummy_credentials_when_none_configured() -> None:
    with FaultServer(lambda n, op, body: ok(FOUND)) as server:
        assert signer_of(server) == DUMMY_ACCESS_KEY
        assert signer_of(server, access_key="AKIDGIVEN", secret_key="s") == "AKIDGIVEN"


@pytest.mark.usefixtures("no_configured_credentials")
def test_local_host_uses_configured_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    with FaultServer(lambda n, op, body: ok(FOUND)) as server:
        assert signer_of(server) == "AKIDFROMENV"
        assert signer_of(server, session=botocore.session.Session()) == "AKIDFROMENV"


def test_connect_options_reach_connection_and_client() -> None:
    dynamo = DynamoDBConnection.connect_to_host(
        "127.0.0.1", 5999, max_attempts=3, backoff_cap=1, read_timeout=7, max_pool_connections=33
    )
    assert (dynamo.max_attempts, dynamo.backoff_cap) == (3, 1.0)
    config = dynamo.client.meta.config
    assert (config.read_timeout, config.connect_timeout, config.max_pool_connections) == (7, 5, 33)
    assert config.retries["total_max_attempts"] == 1  # botocore never retries behind our back
    assert dynamo.endpoint_url == "http://127.0.0.1:5999"
    assert dynamo.region == "us-east-1"


def test_connect_to_region_builds_an_aws_client() -> None:
    dynamo = DynamoDBConnection.connect_to_region("eu-west-1", access_key="AKID", secret_key="s")
    assert dynamo.region == "eu-west-1"
    assert "amazonaws.com" in dynamo.endpoint_url
    assert dynamo.max_attempts == 8


def test_connect_rejects_bad_options() -> None:
    with pytest.raises(TypeError):
        DynamoDBConnection.connect_to_host(no_such_option=1)
    with pytest.raises(ValueError, match="secret_key"):
        DynamoDBConnection.connect_to_host(access_key="AKID")
    with pytest.raises(ValueError, match="max_attempts"):
        DynamoDBConnection.connect_to_host(max_attempts=0)


def test_host_endpoint_urls() -> None:
    assert host_endpoint_url("localhost", 8000, False) == "http://localhost:8000"
    assert host_endpoint_url("example.com", 443, True) == "https://example.com:443"
    assert host_endpoint_url("http://127.0.0.1:5123/", 8000, False) == "http://127.0.0.1:5123"
    assert host_endpoint_url("::1", 8000, False) == "http://[::1]:8000"


# -- pure helpers -----------------------------------------------------------------------------
def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    for attempt in range(1, 12):
        ceiling = min(5.0, 0.05 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 0.05, 5.0) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not fixed
    assert backoff_delay(10_000, 0.05, 5.0) <= 5.0  # no overflow for absurd attempt numbers
    worst_case = sum(min(5.0, 0.05 * 2 ** (n - 1)) for n in range(1, 8))
    assert worst_case < 60  # the default 8 attempts sleep well under a minute in all


def test_key_identity_matches_dynamodb_key_equality() -> None:
    def ident(value: dict[str, Any]) -> Any:
        return key_identity({"k": value}, ["k"], "t")

    assert ident({"N": "1"}) == ident({"N": "1.0"}) == ident({"N": "1E0"})
    assert ident({"N": "1"}) != ident({"S": "1"})
    assert ident({"B": b"x"}) == ident({"B": bytearray(b"x")})
    assert ident({"N": "0.1"}) == (("N", Decimal("0.1")),)


def test_dedupe_keeps_last_request_at_its_last_position() -> None:
    a1, b1, a2 = (
        {"PutRequest": {"Item": {"k": {"S": "a"}, "v": {"N": "1"}}}},
        {"PutRequest": {"Item": {"k": {"S": "b"}}}},
        {"DeleteRequest": {"Key": {"k": {"S": "a"}}}},
    )
    assert list(dedupe_writes([a1, b1, a2], ["k"], "t").values()) == [b1, a2]


def test_batch_helpers_reject_misuse() -> None:
    dynamo = DynamoDBConnection.connect_to_host("127.0.0.1", 5999, max_attempts=1)
    with pytest.raises(ValueError, match="no key attribute names"):
        dynamo.batch_write("t", [{"PutRequest": {"Item": {"k": {"S": "a"}}}}], [])
    with pytest.raises(TypeError, match="list of names"):
        dynamo.batch_get("t", [{"k": {"S": "a"}}], ["k"], attributes="size")
