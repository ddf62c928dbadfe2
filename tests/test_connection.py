"""The wire layer against a real local server (moto or dynalite, see conftest.py).

Failures that a real server cannot be asked for (throttling, 5xx, dropped connections) are
in test_connection_faults.py.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from flywheel.connection import DynamoDBConnection
from flywheel.exceptions import (
    BatchWriteError,
    CheckFailed,
    ConditionalCheckFailedException,
    ConnectionFailure,
    DynamoDBError,
)

THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def table_request(name: str, **extra: Any) -> dict[str, Any]:
    """CreateTable parameters: hash key 'h' (S), range key 'r' (N)."""
    return {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "h", "KeyType": "HASH"},
            {"AttributeName": "r", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "h", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "N"},
            *extra.pop("attribute_definitions", []),
        ],
        "ProvisionedThroughput": THROUGHPUT,
        **extra,
    }


@pytest.fixture
def table(dynamo: DynamoDBConnection, namespace: str) -> Iterator[str]:
    """A fresh hash+range table, deleted afterwards."""
    name = f"{namespace}-wire"
    dynamo.create_table(table_request(name))
    try:
        yield name
    finally:
        dynamo.delete_table(name)


def item(h: str, r: int, **attributes: str) -> dict[str, dict[str, Any]]:
    return {"h": {"S": h}, "r": {"N": str(r)}, **{k: {"S": v} for k, v in attributes.items()}}


def put(h: str, r: int, **attributes: str) -> dict[str, Any]:
    return {"PutRequest": {"Item": item(h, r, **attributes)}}


def scan_all(dynamo: DynamoDBConnection, table: str) -> list[dict[str, Any]]:
    request = {"TableName": table, "ConsistentRead": True}
    return [i for page in dynamo.paginate("Scan", request) for i in page.get("Items", [])]


# -- the seam ---------------------------------------------------------------------------------
def test_call_round_trips_every_attribute_type(dynamo: DynamoDBConnection, table: str) -> None:
    stored = {
        **item("a", 1),
        "s": {"S": "text"},
        "n": {"N": "12345678901234567890.5"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["x", "y"]},
        "m": {"M": {"inner": {"L": [{"N": "1"}, {"BOOL": True}, {"NULL": True}]}}},
    }
    dynamo.call("PutItem", {"TableName": table, "Item": stored})
    got = dynamo.call(
        "GetItem", {"TableName": table, "Key": item("a", 1), "ConsistentRead": True}
    )["Item"]
    assert got["b"] == {"B": b"\x00\xffbytes"}
    assert got["n"] == {"N": "12345678901234567890.5"}
    assert sorted(got["ss"]["SS"]) == ["x", "y"]
    assert got["m"] == stored["m"]


def test_call_rejects_unknown_operation(dynamo: DynamoDBConnection) -> None:
    with pytest.raises(ValueError, match="NoSuchThing"):
        dynamo.call("NoSuchThing", {})
    with pytest.raises(ValueError, match="get_paginator"):
        dynamo.call("get_paginator", {})


# -- error translation ------------------------------------------------------------------------
def test_condition_failure_is_check_failed(dynamo: DynamoDBConnection, table: str) -> None:
    dynamo.call("PutItem", {"TableName": table, "Item": item("a", 1)})
    request = {
        "TableName": table,
        "Item": item("a", 1),
        "ConditionExpression": "attribute_not_exists(#h)",
        "ExpressionAttributeNames": {"#h": "h"},
    }
    with pytest.raises(CheckFailed) as caught:
        dynamo.call("PutItem", request)
    error = caught.value
    assert isinstance(error, ConditionalCheckFailedException)
    assert error.code == "ConditionalCheckFailedException"
    assert error.status == 400
    assert error.operation == "PutItem"
    assert error.table == table
    assert table in str(error)


def test_validation_error_keeps_code_and_message(dynamo: DynamoDBConnection, table: str) -> None:
    with pytest.raises(DynamoDBError) as caught:
        dynamo.call("PutItem", {"TableName": table, "Item": {"h": {"S": "no range key"}}})
    error = caught.value
    assert type(error) is DynamoDBError
    assert error.code == "ValidationException"
    assert error.message  # the service's own words
    assert error.message in str(error)
    assert error.status == 400
    assert error.operation == "PutItem"


def test_missing_table_is_resource_not_found(dynamo: DynamoDBConnection, namespace: str) -> None:
    with pytest.raises(DynamoDBError) as caught:
        dynamo.call("GetItem", {"TableName": f"{namespace}-absent", "Key": item("a", 1)})
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.table == f"{namespace}-absent"


def test_invalid_parameters_raise_before_sending_when_validation_is_on(
    local_server: Any, table: str
) -> None:
    # flywheel builds its own requests, so botocore's validation is off by default; users
    # sending hand-made requests through call() can turn it back on.
    checked = DynamoDBConnection.connect_to_host(
        local_server.host, local_server.port, parameter_validation=True
    )
    with pytest.raises(DynamoDBError) as caught:
        checked.call("PutItem", {"TableName": table, "Item": "not a dict"})
    assert caught.value.code == "ParamValidationError"


def test_dead_server_raises_connection_failure() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = DynamoDBConnection.connect_to_host(
        "127.0.0.1", port, max_attempts=3, backoff_base=0.001, backoff_cap=0.01
    )
    with pytest.raises(ConnectionFailure) as caught:
        dead.list_tables()
    assert caught.value.code == "EndpointConnectionError"
    assert caught.value.status is None
    assert caught.value.operation == "ListTables"


# -- paging -----------------------------------------------------------------------------------
def test_paginate_follows_pages_past_one_megabyte(dynamo: DynamoDBConnection, table: str) -> None:
    payload = "x" * 5000
    dynamo.batch_write(table, [put("p", i, data=payload) for i in range(300)], ["h", "r"])

    query = {
        "TableName": table,
        "KeyConditionExpression": "#h = :h",
        "ExpressionAttributeNames": {"#h": "h"},
        "ExpressionAttributeValues": {":h": {"S": "p"}},
        "ConsistentRead": True,
    }
    original = dict(query)
    pages = list(dynamo.paginate("Query", query))
    assert len(pages) >= 2  # 1.5 MB cannot fit one page
    ranges = [int(i["r"]["N"]) for page in pages for i in page["Items"]]
    assert ranges == list(range(300))  # every item once, in range-key order
    assert query == original  # the caller's request is left alone

    scanned = scan_all(dynamo, table)
    assert sorted(int(i["r"]["N"]) for i in scanned) == list(range(300))


def test_paginate_is_lazy(dynamo: DynamoDBConnection, table: str) -> None:
    dynamo.batch_write(table, [put("p", i) for i in range(5)], ["h", "r"])
    pages = dynamo.paginate("Scan", {"TableName": table, "Limit": 1})
    first = next(pages)
    assert len(first["Items"]) == 1
    assert "LastEvaluatedKey" in first
    pages.close()


# -- batch writes -----------------------------------------------------------------------------
def test_batch_write_dedupes_last_wins(dynamo: DynamoDBConnection, table: str) -> None:
    # 60 requests for 40 distinct keys: keys 0-19 are written three times, 20-39 once.
    requests = [put("k", i % 20, version="first") for i in range(20)]
    requests += [put("k", i, version="second") for i in range(40)]
    requests[-1] = {"DeleteRequest": {"Key": item("k", 39)}}  # a delete wins too
    assert len(requests) == 60
    dynamo.batch_write(table, requests, ["h", "r"])
    stored = {int(i["r"]["N"]): i["version"]["S"] for i in scan_all(dynamo, table)}
    assert stored == {r: "second" for r in range(39)}


def test_batch_write_treats_equal_numbers_as_one_key(
    dynamo: DynamoDBConnection, table: str
) -> None:
    requests = [
        {"PutRequest": {"Item": {"h": {"S": "n"}, "r": {"N": "1"}, "v": {"S": "a"}}}},
        {"PutRequest": {"Item": {"h": {"S": "n"}, "r": {"N": "1.0"}, "v": {"S": "b"}}}},
    ]
    dynamo.batch_write(table, requests, ["h", "r"])
    assert [i["v"]["S"] for i in scan_all(dynamo, table)] == ["b"]


def test_batch_write_failure_reports_unwritten_requests(
    dynamo: DynamoDBConnection, table: str
) -> None:
    good = [put("g", i) for i in range(25)]  # the first batch of 25, written
    bad = [{"PutRequest": {"Item": {"h": {"S": "g"}, "r": {"S": "not a number"}}}}]
    rest = [put("g", i) for i in range(100, 110)]
    with pytest.raises(BatchWriteError) as caught:
        dynamo.batch_write(table, good + bad + rest, ["h", "r"])
    error = caught.value
    assert error.code == "ValidationException"
    assert error.unprocessed == bad + rest
    assert len(scan_all(dynamo, table)) == 25


def test_batch_write_requires_key_attributes(dynamo: DynamoDBConnection, table: str) -> None:
    with pytest.raises(ValueError, match="'r'"):
        dynamo.batch_write(table, [{"PutRequest": {"Item": {"h": {"S": "x"}}}}], ["h", "r"])
    with pytest.raises(ValueError, match="PutRequest or DeleteRequest"):
        dynamo.batch_write(table, [{"Put": {}}], ["h", "r"])


# -- batch gets -------------------------------------------------------------------------------
def test_batch_get_dedupes_and_skips_missing(dynamo: DynamoDBConnection, table: str) -> None:
    dynamo.batch_write(table, [put("g", i, extra="e") for i in range(130)], ["h", "r"])
    keys = [item("g", i) for i in range(140)]  # 130 exist, 10 do not
    keys += [item("g", i) for i in range(10)]  # 10 repeated
    assert len(keys) == 150
    found = dynamo.batch_get(table, keys, ["h", "r"], consistent=True)
    assert sorted(int(i["r"]["N"]) for i in found) == list(range(130))
    assert all(i["extra"] == {"S": "e"} for i in found)


def test_batch_get_projects_attributes_and_keys(dynamo: DynamoDBConnection, table: str) -> None:
    dynamo.batch_write(
        table, [put("g", i, size="big", colour="red") for i in range(3)], ["h", "r"]
    )
    keys = [item("g", i) for i in range(3)]
    found = dynamo.batch_get(table, keys, ["h", "r"], attributes=["size"])
    assert len(found) == 3
    assert all(set(i) == {"h", "r", "size"} for i in found)


def test_batch_get_of_nothing_sends_nothing(dynamo: DynamoDBConnection, table: str) -> None:
    assert dynamo.batch_get(table, [], ["h", "r"]) == []
    dynamo.batch_write(table, [], ["h", "r"])


# -- tables -----------------------------------------------------------------------------------
def test_table_lifecycle(dynamo: DynamoDBConnection, namespace: str) -> None:
    name = f"{namespace}-life"
    assert dynamo.describe_table(name) is None
    request = table_request(
        name,
        attribute_definitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "g-index",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": THROUGHPUT,
            }
        ],
    )
    created = dynamo.create_table(request)
    assert created["TableStatus"] == "ACTIVE"
    assert [i["IndexStatus"] for i in created["GlobalSecondaryIndexes"]] == ["ACTIVE"]
    assert name in dynamo.list_tables()

    described = dynamo.describe_table(name)
    assert described is not None
    assert described["TableName"] == name
    assert {k["AttributeName"] for k in described["KeySchema"]} == {"h", "r"}

    with pytest.raises(DynamoDBError) as caught:
        dynamo.create_table(request)
    assert caught.value.code == "ResourceInUseException"

    updated = dynamo.update_table(
        {
            "TableName": name,
            "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 6},
        }
    )
    assert updated["TableStatus"] == "ACTIVE"
    assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 7

    assert dynamo.delete_table(name) is True
    assert dynamo.describe_table(name) is None
    assert name not in dynamo.list_tables()
    assert dynamo.delete_table(name) is False


@pytest.mark.requires("add_global_index")
def test_update_table_waits_for_new_index(dynamo: DynamoDBConnection, table: str) -> None:
    updated = dynamo.update_table(
        {
            "TableName": table,
            "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": "g-index",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                        "ProvisionedThroughput": THROUGHPUT,
                    }
                }
            ],
        }
    )
    indexes = {i["IndexName"]: i["IndexStatus"] for i in updated["GlobalSecondaryIndexes"]}
    assert indexes == {"g-index": "ACTIVE"}


def test_create_table_without_wait_returns_description(
    dynamo: DynamoDBConnection, namespace: str
) -> None:
    name = f"{namespace}-nowait"
    description = dynamo.create_table(table_request(name), wait=False)
    assert description["TableName"] == name
    assert dynamo.wait_until_active(name)["TableStatus"] == "ACTIVE"
    assert dynamo.delete_table(name, wait=False) is True
    dynamo.wait_until_gone(name)
    assert dynamo.describe_table(name) is None
