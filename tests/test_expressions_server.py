"""Rendered expressions against real servers over HTTP, with plain botocore: proof that the
syntax flywheel.expressions produces is what DynamoDB-compatible servers accept.

Runs on the session's test server: moto, and dynalite, which validates expressions strictly
(unused placeholders, reserved words, syntax).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from flywheel.expressions import (
    Constraint,
    Placeholders,
    UpdateBuilder,
    attribute_absent,
    attribute_equals,
    attribute_present,
    join_conditions,
    make_constraint,
    render_condition,
    render_filter,
    render_key_condition,
    render_projection,
)
from flywheel.fields.conditions import Condition


class FakeField:
    """Just enough of a Field for constraints: a name and dumps for its type."""

    def __init__(self, name: str, data_type: str = "S"):
        self.name = name
        self.data_type = data_type

    def ddb_dump_for_query(self, value: Any) -> dict[str, Any]:
        if self.data_type == "N":
            return {"N": str(value)}
        if self.data_type == "SS":
            return {"SS": sorted(value)}
        return {"S": str(value)}

    def ddb_dump_inner(self, value: Any) -> dict[str, Any]:
        if self.data_type == "SS":
            return {"S": str(value)}
        return self.ddb_dump_for_query(value)


@pytest.fixture(scope="module")
def server_client(local_server: Any) -> Iterator[Any]:
    """A plain botocore client for the session's test server (see conftest.py)."""
    import botocore.session

    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=local_server.endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    yield client


# Reserved words and awkward names as keys and attributes.
HASH, RANGE = FakeField("name"), FakeField("data", "N")
STATUS, COUNT, SIZE = FakeField("status"), FakeField("count", "N"), FakeField("size", "N")
TAGS, DOTTED, DASHED, SPACED = FakeField("tags", "SS"), FakeField("a.b"), FakeField("my-attr"), FakeField("with space")


@pytest.fixture(scope="module")
def table(server_client: Any) -> Iterator[str]:
    name = f"expressions-{uuid.uuid4().hex[:8]}"
    server_client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "name", "AttributeType": "S"},
            {"AttributeName": "data", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "name", "KeyType": "HASH"},
            {"AttributeName": "data", "KeyType": "RANGE"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    server_client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    for i in range(10):
        item: dict[str, dict[str, Any]] = {
            "name": {"S": "u"}, "data": {"N": str(i)},
            "status": {"S": "even" if i % 2 == 0 else "odd"},
            "count": {"N": str(i * 10)},
            "a.b": {"S": f"dot{i}"}, "my-attr": {"S": f"dash{i}"}, "with space": {"S": f"sp{i}"},
        }
        if i < 5:
            item["tags"] = {"SS": ["all", f"t{i}"]}
            item["size"] = {"N": str(i)}
        server_client.put_item(TableName=name, Item=item)
    yield name
    server_client.delete_table(TableName=name)


def _query(client: Any, table: str, key: list[Constraint], filters: list[Constraint] = (),  # type: ignore[assignment]
           join: str = "AND", projection: list[str] | None = None) -> list[dict[str, Any]]:
    ph = Placeholders()
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": render_key_condition(key, ph)}
    if filters:
        request["FilterExpression"] = render_filter(filters, ph, join)
    if projection:
        request["ProjectionExpression"] = render_projection(projection, ph)
    items: list[dict[str, Any]] = client.query(**ph.apply(request))["Items"]
    return items


def _range_values(items: list[dict[str, Any]]) -> list[int]:
    return sorted(int(item["data"]["N"]) for item in items)


HASH_EQ = make_constraint(HASH, "eq", "u")


@pytest.mark.parametrize(
    "op, other, expected",
    [
        ("eq", 3, [3]),
        ("lt", 3, [0, 1, 2]),
        ("lte", 3, [0, 1, 2, 3]),
        ("gt", 7, [8, 9]),
        ("gte", 7, [7, 8, 9]),
        ("between", (2, 4), [2, 3, 4]),
    ],
)
def test_server_key_conditions(server_client: Any, table: str, op: str, other: Any, expected: list[int]) -> None:
    # range constraint given first; when both are 'eq' and no hash_key is named, the first
    # is taken as the partition key, and servers accept the keys in either order.
    items = _query(server_client, table, [make_constraint(RANGE, op, other), HASH_EQ])
    assert _range_values(items) == expected


@pytest.mark.parametrize(
    "constraint, expected",
    [
        (make_constraint(STATUS, "eq", "odd"), [1, 3, 5, 7, 9]),
        (make_constraint(STATUS, "ne", "odd"), [0, 2, 4, 6, 8]),
        (make_constraint(COUNT, "lt", 20), [0, 1]),
        (make_constraint(COUNT, "lte", 20), [0, 1, 2]),
        (make_constraint(COUNT, "gt", 70), [8, 9]),
        (make_constraint(COUNT, "gte", 70), [7, 8, 9]),
        (make_constraint(SIZE, "between", (1, 3)), [1, 2, 3]),
        (make_constraint(DOTTED, "beginswith", "dot1"), [1]),
        (make_constraint(TAGS, "contains", "t2"), [2]),
        (make_constraint(DASHED, "contains", "sh9"), [9]),
        (make_constraint(TAGS, "ncontains", "t2"), [0, 1, 3, 4, 5, 6, 7, 8, 9]),
        (make_constraint(SPACED, "in", ["sp1", "sp4", "nope"]), [1, 4]),
        (make_constraint(SIZE, "null", None), [5, 6, 7, 8, 9]),
        (make_constraint(SIZE, "not_null", None), [0, 1, 2, 3, 4]),
    ],
)
def test_server_filters(server_client: Any, table: str, constraint: Constraint, expected: list[int]) -> None:
    assert _range_values(_query(server_client, table, [HASH_EQ], [constraint])) == expected


def test_server_filter_and_or_with_split_in(server_client: Any, table: str) -> None:
    wanted = [Decimal(n) for n in range(0, 500, 3)]  # 167 values: two INs joined with OR
    big_in = make_constraint(COUNT, "in", wanted)
    odd = make_constraint(STATUS, "eq", "odd")
    both = _query(server_client, table, [HASH_EQ], [big_in, odd])  # counts 0,30,60,90 ∩ odd
    assert _range_values(both) == [3, 9]
    either = _query(server_client, table, [HASH_EQ], [big_in, odd], join="OR")
    assert _range_values(either) == [0, 1, 3, 5, 6, 7, 9]
    begins = _query(server_client, table, [HASH_EQ, make_constraint(RANGE, "between", (0, 5))],
                    [make_constraint(STATUS, "beginswith", "ev")])
    assert _range_values(begins) == [0, 2, 4]


def test_server_projection(server_client: Any, table: str) -> None:
    items = _query(server_client, table, [HASH_EQ, make_constraint(RANGE, "eq", 1)],
                   projection=["data", "a.b", "with space", "status"])
    assert items == [{"data": {"N": "1"}, "a.b": {"S": "dot1"}, "with space": {"S": "sp1"}, "status": {"S": "odd"}}]


def test_server_begins_with_key_condition(server_client: Any) -> None:
    name = "expressions-strkey"
    server_client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"},
                              {"AttributeName": "size", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}, {"AttributeName": "size", "KeyType": "RANGE"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    server_client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    for size in ["small", "smaller", "large"]:
        server_client.put_item(TableName=name, Item={"key": {"S": "k"}, "size": {"S": size}})
    key = [make_constraint(FakeField("key"), "eq", "k"), make_constraint(FakeField("size"), "beginswith", "sma")]
    items = _query(server_client, name, key)
    assert sorted(item["size"]["S"] for item in items) == ["small", "smaller"]


def test_server_update_all_clauses_with_conditions(server_client: Any, table: str) -> None:
    key = {"name": {"S": "u"}, "data": {"N": "2"}}
    ph = Placeholders()
    update = UpdateBuilder(ph)
    update.set("status", {"S": "changed"}).set("key", {"S": "new"})
    update.remove("with space").add("count", {"N": "5"}).add("size", {"N": "1"})
    update.delete("tags", {"SS": ["t2"]})
    condition = join_conditions([
        attribute_equals("count", {"N": "20"}, ph),
        join_conditions([attribute_present("a.b", ph), attribute_absent("nothing", ph)], "OR"),
    ])
    request = ph.apply({"TableName": table, "Key": key, "UpdateExpression": update.render(),
                        "ConditionExpression": condition, "ReturnValues": "ALL_NEW"})
    item = server_client.update_item(**request)["Attributes"]
    assert item["status"] == {"S": "changed"} and item["key"] == {"S": "new"}
    assert "with space" not in item
    assert item["count"] == {"N": "25"} and item["size"] == {"N": "3"}
    assert item["tags"] == {"SS": ["all"]}
    # the same conflict check now fails: count is 25
    ph = Placeholders()
    update = UpdateBuilder(ph).set("status", {"S": "again"})
    request = ph.apply({"TableName": table, "Key": key, "UpdateExpression": update.render(),
                        "ConditionExpression": attribute_equals("count", {"N": "20"}, ph)})
    with pytest.raises(server_client.exceptions.ConditionalCheckFailedException):
        server_client.update_item(**request)


def test_server_put_if_absent(server_client: Any, table: str) -> None:
    item = {"name": {"S": "new"}, "data": {"N": "1"}}
    ph = Placeholders()
    request = ph.apply({"TableName": table, "Item": item, "ConditionExpression": attribute_absent("name", ph)})
    server_client.put_item(**request)
    with pytest.raises(server_client.exceptions.ConditionalCheckFailedException):
        server_client.put_item(**request)
    # a condition built from a Condition renders as a ConditionExpression too
    ph = Placeholders()
    cond = Condition.construct(STATUS, "eq", None) & Condition.construct(FakeField("name"), "ne", "other")
    request = ph.apply({"TableName": table, "Key": {"name": {"S": "new"}, "data": {"N": "1"}},
                        "ConditionExpression": render_condition(cond, ph)})
    server_client.delete_item(**request)
