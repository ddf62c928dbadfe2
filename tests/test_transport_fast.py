"""The fast transport (flywheel/connection/fast.py) against botocore's own behaviour.

The whole suite also runs on it with ``FLYWHEEL_TRANSPORT=fast``; these tests pin what that
cannot show by itself: the signature is botocore's, binary values survive both ways, errors
come out as the same exceptions, and the transport is picked as documented.
"""
from __future__ import annotations

import base64
from urllib.parse import quote
import time
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from fault_server import FaultServer, Reply, error, ok

from flywheel.connection import DynamoDBConnection
from flywheel.connection.core import TRANSPORT_ENV
from flywheel.connection.fast import (
    SigV4Signer,
    encode_request,
    host_header,
    parse_body,
)
from flywheel.exceptions import CheckFailed, ConnectionFailure, DynamoDBError

GET = {"TableName": "t", "Key": {"id": {"S": "a"}}}


@pytest.mark.parametrize("path", ["/", "/prefix", "/a b/c"])
@pytest.mark.parametrize("token", [None, "session-token", " a  token  with   spaces "])
def test_signature_matches_botocore_sigv4(token: str | None, path: str) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret/key", token)
    body = encode_request({"TableName": "t", "Key": {"id": {"S": "é"}}})
    target = "DynamoDB_20120810.GetItem"
    for _ in range(3):  # both signers must see the same second
        now = time.time()
        url_path = quote(path, safe="/~")  # as it stands in the endpoint URL
        # the canonical URI encodes the URL's path once more, as botocore does
        signer = SigV4Signer(credentials, "eu-west-1", "127.0.0.1:5123", path=quote(url_path, safe="/~"))
        ours = signer.headers(target, body, now)
        request = AWSRequest(
            method="POST",
            url="http://127.0.0.1:5123" + url_path,
            data=body,
            headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        )
        SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(request)
        if request.headers["X-Amz-Date"] == ours["X-Amz-Date"]:
            break
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_host_header_drops_default_ports() -> None:
    assert host_header("http://127.0.0.1:8000/") == "127.0.0.1:8000"
    assert host_header("https://dynamodb.eu-west-1.amazonaws.com/") == "dynamodb.eu-west-1.amazonaws.com"
    assert host_header("https://example.com:443/") == "example.com"
    assert host_header("http://[::1]:8000/") == "[::1]:8000"


def test_binary_values_are_base64_on_the_wire_and_bytes_after() -> None:
    item = {
        "B": {"S": "an attribute named B is not a binary value"},
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"x", bytearray(b"y")]},
        "doc": {"M": {"inner": {"B": b"z"}, "list": {"L": [{"B": b"w"}, {"S": "B"}]}}},
    }
    body = encode_request({"Item": item})
    assert base64.b64encode(b"\x00\xff").decode() in body.decode()
    parsed = parse_body(body)["Item"]
    assert parsed["B"] == {"S": "an attribute named B is not a binary value"}
    assert parsed["b"] == {"B": b"\x00\xff"}
    assert parsed["bs"] == {"BS": [b"x", b"y"]}
    assert parsed["doc"]["M"]["inner"] == {"B": b"z"}
    assert parsed["doc"]["M"]["list"]["L"] == [{"B": b"w"}, {"S": "B"}]


def test_fast_transport_is_used_and_answers_like_botocore() -> None:
    found = {"Item": {"id": {"S": "a"}, "b": {"B": base64.b64encode(b"raw").decode()}}}
    with FaultServer(lambda n, op, body: ok(found)) as server:
        connections = {t: server.connect(transport=t) for t in ("botocore", "fast")}
        assert connections["fast"]._fast is not None and connections["botocore"]._fast is None
        responses = {t: dynamo.call("GetItem", GET) for t, dynamo in connections.items()}
        assert server.requests[0] == server.requests[1]  # the same request body
    fast, slow = responses["fast"], responses["botocore"]
    assert fast["Item"] == slow["Item"] == {"id": {"S": "a"}, "b": {"B": b"raw"}}
    assert fast["ResponseMetadata"]["HTTPStatusCode"] == slow["ResponseMetadata"]["HTTPStatusCode"]
    assert fast["ResponseMetadata"]["RequestId"] == "fault-1"  # the x-amzn-RequestId header
    assert set(fast["ResponseMetadata"]) == set(slow["ResponseMetadata"])


@pytest.mark.parametrize("transport", ["botocore", "fast"])
def test_errors_translate_the_same_on_both_transports(transport: str) -> None:
    script = lambda n, op, body: error("ConditionalCheckFailedException", "The conditional request failed")
    with FaultServer(script) as server, pytest.raises(CheckFailed) as caught:
        server.connect(transport=transport).call("PutItem", {"TableName": "t", "Item": GET["Key"]})
    assert caught.value.code == "ConditionalCheckFailedException"
    assert caught.value.message == "The conditional request failed"
    assert caught.value.status == 400
    assert caught.value.table == "t"


@pytest.mark.parametrize("transport", ["botocore", "fast"])
def test_an_error_without_a_message_says_what_the_status_was(transport: str) -> None:
    """A bare 413 (a proxy's, or a local server's request size limit) is not an empty
    message: it names the status and what it means."""
    script = lambda n, op, body: Reply(status=413, body=b"", content_type="text/plain")
    with FaultServer(script) as server, pytest.raises(DynamoDBError) as caught:
        server.connect(transport=transport).call("PutItem", {"TableName": "t", "Item": GET["Key"]})
    assert caught.value.status == 413
    assert "HTTP 413" in caught.value.message and "too large" in caught.value.message


@pytest.mark.parametrize("orjson", [True, False], ids=["orjson", "json"])
def test_request_text_is_utf8_not_escaped(orjson: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Non-ASCII text goes as UTF-8 with or without orjson (escaped as \\uXXXX it would take
    up to 6 bytes a character, and a batch of large items would pass the 16 MB limit); a
    lone surrogate, which UTF-8 cannot carry, is escaped for the server to judge."""
    from flywheel.connection import fast

    if not orjson:
        monkeypatch.setattr(fast, "_dumps_fast", None)
    elif fast._dumps_fast is None:
        pytest.skip("orjson is not installed")
    assert encode_request({"S": "é€"}) == '{"S":"é€"}'.encode()
    assert encode_request({"S": "\udc80"}) == b'{"S":"\\udc80"}'


@pytest.mark.parametrize("garbled", [b'{"Item": {"id"', b"[]", b'"x"', b"null"], ids=repr)
def test_an_unreadable_success_answer_is_retried_like_a_lost_one(garbled: bytes) -> None:
    """A 200 whose body is cut short or not a JSON object (its CRC matching what arrived) is
    no answer: sent again, and a ConnectionFailure if it never comes back readable."""
    item = {"Item": {"id": {"S": "a"}}}
    script = lambda n, op, body: Reply(body=garbled) if n == 0 else ok(item)
    with FaultServer(script) as server:
        response = server.connect(transport="fast").call("GetItem", GET)
        assert response["Item"] == item["Item"] and len(server.requests) == 2
    with FaultServer(lambda n, op, body: Reply(body=garbled)) as server:
        with pytest.raises(ConnectionFailure) as caught:
            server.connect(transport="fast", max_attempts=2).call("GetItem", GET)
        assert caught.value.code == "UnreadableResponse" and len(server.requests) == 2


@pytest.mark.parametrize("transport", ["botocore", "fast"])
def test_an_error_answer_with_a_bad_checksum_is_retried(transport: str) -> None:
    def script(n: int, op: str, body: Any) -> Reply:
        if n == 0:
            reply = error("ValidationException", "garbled on the way")
            reply.bad_checksum = True
            return reply
        return ok({})

    with FaultServer(script) as server:
        assert "Item" not in server.connect(transport=transport).call("GetItem", GET)
        assert len(server.requests) == 2


def test_an_endpoint_with_a_path_gets_the_same_requests_on_both_transports() -> None:
    with FaultServer(lambda n, op, body: ok({})) as server:
        for transport in ("botocore", "fast"):
            connection = DynamoDBConnection.connect_to_host(server.url + "/prefix", transport=transport)
            connection.call("GetItem", GET)
        assert server.paths == ["/prefix", "/prefix"]
        # the same credentials and moment would give the same signature: compare the parts
        signed = [a.split("Signature=")[0] for a in server.authorizations]
        assert signed[0] == signed[1]


def test_transport_is_chosen_by_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSPORT_ENV, "fast")
    assert DynamoDBConnection.connect_to_host("127.0.0.1", 5999).transport == "fast"
    assert DynamoDBConnection.connect_to_host("127.0.0.1", 5999, transport="botocore").transport == "botocore"
    monkeypatch.setenv(TRANSPORT_ENV, "carrier-pigeon")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        DynamoDBConnection.connect_to_host("127.0.0.1", 5999)


def test_parameter_validation_keeps_requests_on_botocore() -> None:
    dynamo = DynamoDBConnection.connect_to_host("127.0.0.1", 5999, transport="fast", parameter_validation=True)
    with pytest.raises(DynamoDBError) as caught:
        dynamo.call("PutItem", {"TableName": "t", "Item": "not a dict"})
    assert caught.value.code == "ParamValidationError"


def test_binary_round_trip_on_the_test_server(local_server: Any, namespace: str) -> None:
    dynamo = DynamoDBConnection.connect_to_host(
        local_server.host, local_server.port, is_secure=local_server.is_secure, transport="fast"
    )
    table = f"{namespace}-binary"
    dynamo.create_table(
        {
            "TableName": table,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "B"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        }
    )
    try:
        key = {"id": {"B": b"\x00key\xff"}}
        item = {**key, "bs": {"BS": [b"\x01", b"\x02"]}, "doc": {"M": {"x": {"B": b"\x03"}}}}
        dynamo.call("PutItem", {"TableName": table, "Item": item})
        stored = dynamo.call("GetItem", {"TableName": table, "Key": key})["Item"]
        assert stored["id"] == {"B": b"\x00key\xff"}
        assert sorted(stored["bs"]["BS"]) == [b"\x01", b"\x02"]
        assert stored["doc"] == {"M": {"x": {"B": b"\x03"}}}
        pages = list(dynamo.paginate("Scan", {"TableName": table}))
        assert pages[0]["Items"][0]["id"] == {"B": b"\x00key\xff"}
    finally:
        dynamo.delete_table(table)


@pytest.mark.parametrize("transport", ["botocore", "fast"])
def test_a_missing_aws_profile_does_not_stop_a_local_connection(
    transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_PROFILE naming no profile cannot be meant for a local server: the connection
    signs with placeholder keys, as it does when nothing is configured."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with FaultServer(lambda n, op, body: ok({"Item": GET["Key"]})) as server:
        response = DynamoDBConnection.connect_to_host(server.url, transport=transport).call("GetItem", GET)
        assert response["Item"] == GET["Key"]
