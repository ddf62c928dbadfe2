"""Turning botocore's failures into flywheel exceptions, and the retry policy for them.

botocore's own retries are switched off (see ``clients.py``) so that this is the one place
that decides what is worth another attempt and how long to wait before it.
"""
from __future__ import annotations

import random
from http import HTTPStatus
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ChecksumError,
    ClientError,
    HTTPClientError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..exceptions import (
    CheckFailed,
    ConnectionFailure,
    DynamoDBError,
    ThroughputException,
)

#: Codes meaning "too fast, slow down": retried, and ThroughputException when retries run out.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
    }
)

#: Codes of transient server-side failures (their HTTP status is 5xx too, but a proxy may
#: rewrite the status, so the code alone is enough).
SERVER_ERROR_CODES = frozenset(
    {"InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)

class UnreadableResponse(BotoCoreError):  # type: ignore[misc]  # botocore is untyped
    """A success answer whose body is not a JSON object (cut short or garbled on the way,
    with a CRC32 that matches what arrived): as good as no answer."""

    fmt = "the {operation} answer could not be read: {reason}"


#: Failures where no (intact) answer arrived: refused, reset, timed out, a body whose
#: CRC32 does not match what DynamoDB sent, or one that is not a JSON object. The request may or may not have been applied;
#: DynamoDB's writes are idempotent per key, so sending it again is what every AWS SDK does.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    BotoConnectionError,
    HTTPClientError,
    ChecksumError,
    UnreadableResponse,
)

# 2 ** 62 * any sane base is far past any cap; stops float overflow for absurd attempt counts.
_MAX_EXPONENT = 62


def translate_error(
    exc: BaseException, operation: str, table: str | None = None
) -> tuple[DynamoDBError, bool]:
    """Return the flywheel exception for a botocore failure, and whether to retry it.

    Every failure becomes a :class:`DynamoDBError` that keeps the service's code, message and
    HTTP status, so callers above the wire layer never need to know botocore.
    """
    if isinstance(exc, ClientError):
        return _translate_client_error(exc, operation, table)
    if isinstance(exc, TRANSPORT_ERRORS):
        return (
            ConnectionFailure(type(exc).__name__, str(exc), operation=operation, table=table),
            True,
        )
    if isinstance(exc, BotoCoreError):
        # Local failures: invalid parameters, missing credentials or region. Retrying
        # cannot help; keep botocore's class name as the code so the cause stays visible.
        error = DynamoDBError(type(exc).__name__, str(exc), operation=operation, table=table)
        return error, False
    raise TypeError(f"not a botocore failure: {exc!r}")  # pragma: no cover - caller's bug


def _translate_client_error(
    exc: ClientError, operation: str, table: str | None
) -> tuple[DynamoDBError, bool]:
    response = exc.response
    error = response.get("Error") or {}
    code = str(error.get("Code") or "Unknown")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    message = str(error.get("Message") or error.get("message") or "") or _no_message(status)
    details = {"status": status, "operation": operation, "response": response, "table": table}
    if code == "ConditionalCheckFailedException":
        return CheckFailed(code, message, **details), False
    if code in THROTTLING_CODES:
        return ThroughputException(code, message, **details), True
    retry = code in SERVER_ERROR_CODES or (isinstance(status, int) and status >= 500)
    return DynamoDBError(code, message, **details), retry


def _no_message(status: Any) -> str:
    """What to say of an error response that carried no message (a proxy's or a local
    server's bare 413, 502...)."""
    try:
        phrase = HTTPStatus(status).phrase
    except (ValueError, TypeError):
        phrase = "no message"
    too_large = " (the request was too large for the server)" if status == 413 else ""
    return f"HTTP {status} {phrase}{too_large}, with no error message"


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to sleep before retry number ``attempt`` (1 for the first retry).

    Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(n-1))],
    which spreads competing clients out instead of having them retry in lockstep.
    """
    ceiling: float = min(cap, base * 2 ** min(attempt - 1, _MAX_EXPONENT))
    return random.random() * ceiling
