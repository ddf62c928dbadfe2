"""The fast transport: DynamoDB's data-plane operations without botocore's per-value walks.

botocore serializes a request by walking the operation's input shape for every value, and
parses a response by walking the output shape for every value; for item-heavy responses that
walk is most of the client's CPU. DynamoDB's protocol is plain JSON, so for the operations
that carry items (:data:`FAST_OPERATIONS`) this module

* writes the request dict with ``json.dumps`` (``bytes`` become base64, as botocore does),
* signs it with AWS Signature Version 4 using the botocore client's own credentials (so the
  credential chain, refreshes and session tokens are botocore's), caching the derived
  signing key per day and region,
* sends it through the botocore client's own HTTP session (same pool, proxies, TLS and
  timeouts, and the same exceptions for refused, dropped or timed-out connections),
* checks DynamoDB's ``x-amz-crc32`` like botocore, and parses the body with orjson when it
  is installed (else ``json``), decoding base64 ``B`` / ``BS`` values back to ``bytes`` only
  when the body contains such a key.

Errors (any status >= 300) go through botocore's own parser and come out as the same
``ClientError`` subclasses the client raises, so translation and retries above this module
cannot tell the transports apart. Every other operation (table admin, with its timestamps)
and every request when the client validates parameters or signs other than SigV4 is left to
the botocore client.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import importlib
import json
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import botocore
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ChecksumError, NoCredentialsError
from botocore.parsers import create_parser
from botocore.validate import ParamValidationDecorator

from .errors import UnreadableResponse

_dumps_fast: Callable[..., bytes] | None
try:  # optional: faster than json on item-heavy pages, ~8x faster writing a batch
    # looked up by name so that type checking does not depend on orjson being installed
    orjson: Any = importlib.import_module("orjson")

    _loads: Callable[[bytes], Any] = orjson.loads
    _dumps_fast = orjson.dumps
    # types json refuses go to the default hook (which refuses them too), not to orjson's
    # own conversions, so both encoders accept exactly the same requests
    _DUMPS_OPTIONS = (
        orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads
    _dumps_fast = None
    _DUMPS_OPTIONS = 0

#: Operations whose requests and responses are sent and parsed here; all carry items.
FAST_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
_SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target"
_SIGNED_HEADERS_WITH_TOKEN = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _encode_binary(value: Any) -> Any:
    """json.dumps hook: bytes-like values are base64 text on the wire (blob members)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_request(request: dict[str, Any]) -> bytes:
    """The JSON body of a request dict in botocore's form."""
    if _dumps_fast is not None:
        try:
            return _dumps_fast(request, default=_encode_binary, option=_DUMPS_OPTIONS)
        except TypeError:
            # orjson's JSONEncodeError: an int over 64 bits, a str subclass, a lone
            # surrogate...: json writes what it can and words the error for what it cannot
            pass
    # UTF-8 as it is, like orjson: escaping every non-ASCII character as \uXXXX (json's
    # default) makes a request up to 6 times its size, and a batch of 25 large non-ASCII
    # items would pass DynamoDB's 16 MB request limit
    text = json.dumps(request, separators=(",", ":"), default=_encode_binary, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, for the server to judge
        return json.dumps(request, separators=(",", ":"), default=_encode_binary).encode("utf-8")


def decode_binary_values(node: Any) -> None:
    """Turn base64 ``B`` / ``BS`` AttributeValues under ``node`` into bytes, in place.

    An AttributeValue ``{'B': '...'}`` holds a string, while an item with an attribute named
    'B' holds a dict, so the two cannot be confused.
    """
    if isinstance(node, dict):
        if len(node) == 1:
            if "B" in node and isinstance(node["B"], str):
                node["B"] = base64.b64decode(node["B"])
                return
            if "BS" in node and isinstance(node["BS"], list):
                node["BS"] = [base64.b64decode(member) for member in node["BS"]]
                return
        for value in node.values():
            if isinstance(value, (dict, list)):
                decode_binary_values(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                decode_binary_values(value)


def parse_body(body: bytes) -> dict[str, Any]:
    """A successful response body as botocore would return it (bytes for binary values)."""
    parsed: dict[str, Any] = _loads(body) if body else {}
    # Cheap pre-check: most tables hold no binary, and then no walk is needed.
    if b'"B"' in body or b'"BS"' in body:
        decode_binary_values(parsed)
    return parsed


class SigV4Signer:
    """AWS Signature Version 4 for DynamoDB JSON requests, with the signing key cached.

    Produces the same Authorization header as botocore's ``SigV4Auth`` for these requests
    (tests compare the two); deriving the key is four HMACs, so it is done once per day,
    region and secret rather than per request.
    """

    def __init__(
        self, credentials: Any, region: str, host: str, service: str = "dynamodb", path: str = "/"
    ) -> None:
        self.credentials = credentials
        self.path = path  # the canonical URI: the endpoint's path, URI-encoded
        self.region = region
        self.host = host
        self.service = service
        self._keys: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def _signing_key(self, secret: str, day: str) -> bytes:
        cache_key = (secret, day)
        key = self._keys.get(cache_key)
        if key is None:
            key = _hmac(("AWS4" + secret).encode("utf-8"), day)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            with self._lock:
                self._keys.clear()  # one day's key at a time: secrets may rotate
                self._keys[cache_key] = key
        return key

    def headers(self, target: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The headers of a signed POST of ``body`` with ``X-Amz-Target: target``."""
        if self.credentials is None:
            raise NoCredentialsError()
        frozen = self.credentials.get_frozen_credentials()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = stamp[:8]
        token = frozen.token
        if token:
            canonical_headers = (
                f"content-type:{_CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:{stamp}\n"
                # header values are signed trimmed, runs of spaces as one (SigV4)
                f"x-amz-security-token:{' '.join(token.split())}\nx-amz-target:{target}\n"
            )
            signed_headers = _SIGNED_HEADERS_WITH_TOKEN
        else:
            canonical_headers = (
                f"content-type:{_CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:{stamp}\n"
                f"x-amz-target:{target}\n"
            )
            signed_headers = _SIGNED_HEADERS
        canonical_request = (
            f"POST\n{self.path}\n\n{canonical_headers}\n{signed_headers}\n"
            f"{hashlib.sha256(body).hexdigest()}"
        )
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"
            f"{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(frozen.secret_key, day), string_to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        headers = {
            "X-Amz-Target": target,
            "Content-Type": _CONTENT_TYPE,
            "X-Amz-Date": stamp,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, "
                f"SignedHeaders={signed_headers}, Signature={signature}"
            ),
            "Content-Length": str(len(body)),
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def host_header(url: str) -> str:
    """The Host header botocore signs for ``url``: the netloc, without a default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        return f"{host}:{parts.port}"
    return host


def supports_fast_path(client: Any) -> bool:
    """Whether requests of ``client`` may bypass it: SigV4 signing, no parameter validation."""
    # botocore keeps the parameter_validation option only in the serializer it picks
    if isinstance(getattr(client, "_serializer", None), ParamValidationDecorator):
        return False
    return getattr(client.meta.config, "signature_version", None) in (None, "v4")


class FastTransport:
    """Sends :data:`FAST_OPERATIONS` for a botocore DynamoDB client, bypassing its shape walks.

    ``send`` raises exactly the botocore exceptions the client would raise (``ClientError``
    subclasses, connection errors, ``ChecksumError``), so the connection's retry loop and
    error translation work unchanged.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        # the endpoint's own path, as botocore sends it ('/' when it has none)
        endpoint = client.meta.endpoint_url
        path = urlsplit(endpoint).path
        self.url = endpoint if path else endpoint + "/"
        signer = client._request_signer  # the client's credentials, refreshed by botocore
        self.signer = SigV4Signer(
            signer._credentials, client.meta.region_name or "us-east-1", host_header(self.url),
            signer._signing_name or "dynamodb", path=quote(path or "/", safe="/~"),
        )
        # the client's own HTTP session: its connection pool, proxies, TLS settings, timeouts
        self.http = client._endpoint.http_session
        self._error_parser = create_parser("json")
        self._user_agent = f"flywheel-fast botocore/{botocore.__version__}"

    def send(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Send one operation; the parsed response, with ``ResponseMetadata`` as botocore's."""
        body = encode_request(request)
        headers = self.signer.headers(_TARGET_PREFIX + operation, body)
        headers["User-Agent"] = self._user_agent
        prepared = AWSPreparedRequest("POST", self.url, headers, body, False)
        http_response = self.http.send(prepared)
        status = http_response.status_code
        content: bytes = http_response.content
        response_headers = http_response.headers
        expected_crc = response_headers.get("x-amz-crc32")
        if expected_crc is not None:  # on error answers too, as botocore checks them
            actual_crc = zlib.crc32(content) & 0xFFFFFFFF
            if actual_crc != int(expected_crc):
                raise ChecksumError(
                    checksum_type="crc32", expected_checksum=expected_crc, actual_checksum=actual_crc
                )
        if status >= 300:
            raise self._error(operation, status, response_headers, content)
        try:
            parsed = parse_body(content)
        except (ValueError, binascii.Error) as exc:
            raise UnreadableResponse(operation=operation, reason=str(exc)) from exc
        if not isinstance(parsed, dict):
            raise UnreadableResponse(operation=operation, reason=f"not a JSON object: {content[:80]!r}")
        parsed["ResponseMetadata"] = {
            "RequestId": response_headers.get("x-amzn-requestid", ""),
            "HTTPStatusCode": status,
            "HTTPHeaders": {name.lower(): value for name, value in response_headers.items()},
            "RetryAttempts": 0,
        }
        return parsed

    def _error(self, operation: str, status: int, headers: Any, body: bytes) -> Exception:
        """The ClientError botocore's client raises for this error response."""
        operation_model = self.client.meta.service_model.operation_model(operation)
        response_dict = {"status_code": status, "headers": headers, "body": body}
        parsed = self._error_parser.parse(response_dict, operation_model.output_shape)
        code = parsed.get("Error", {}).get("Code")
        if code:  # modeled fields of the error (CancellationReasons, Item...), as botocore adds
            error_shape = operation_model.service_model.shape_for_error_code(code)
            if error_shape is not None:
                parsed.update(self._error_parser.parse(response_dict, error_shape))
        metadata = parsed.setdefault("ResponseMetadata", {})
        metadata["HTTPStatusCode"] = status
        metadata["HTTPHeaders"] = {name.lower(): value for name, value in headers.items()}
        metadata.setdefault("RetryAttempts", 0)
        error_class: type[Exception] = self.client.exceptions.from_code(code)
        return error_class(parsed, operation)
