"""Exceptions raised by flywheel.

Errors that come from DynamoDB are all :class:`DynamoDBError` subclasses and keep the
service's error ``code`` and ``message``; errors flywheel can judge locally are plain
``TypeError`` / ``ValueError`` (see CONTRACT.md), and inconsistent model declarations raise
:class:`flywheel.model_meta.ValidationError`.
"""
from __future__ import annotations

from typing import Any, Sequence


def restate(exc: Exception, message: str) -> Exception:
    """A TypeError or ValueError (as ``exc`` is one or the other) carrying ``message``.

    Used to add the model and field to an error raised while converting a value: building
    ``type(exc)(message)`` would fail for error classes whose constructor takes other
    arguments (UnicodeDecodeError, json.JSONDecodeError...). Raise it ``from exc`` so the
    original stays in the traceback.
    """
    return TypeError(message) if isinstance(exc, TypeError) else ValueError(message)


class DynamoDBError(Exception):
    """An error answered by DynamoDB (or a failure to reach it).

    ``code`` is the service's error code (``'ValidationException'``,
    ``'ResourceNotFoundException'``...), ``message`` its message, ``status`` the HTTP status
    (None when no response arrived), ``operation`` the API operation that failed and
    ``table`` the table it addressed, when there was one. ``unanswered_attempts`` counts the
    earlier attempts of the same request that got no answer (a dropped connection, a timeout,
    a 5xx): any of them may have been applied before this error.
    """

    unanswered_attempts: int = 0

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        operation: str | None = None,
        response: dict[str, Any] | None = None,
        table: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.response = response
        self.table = table
        # DynamoDB's messages rarely name the table ("Requested resource not found").
        on_table = f" on {table!r}" if table else ""
        where = f" ({operation}{on_table})" if operation else (f" ({table!r})" if table else "")
        super().__init__(f"{code}{where}: {message}")


class CheckFailed(DynamoDBError):
    """A conditional write failed: the item was not in the state the request required."""


#: dynamo3's name for the same error; the two are the same class.
ConditionalCheckFailedException = CheckFailed


class ThroughputException(DynamoDBError):
    """DynamoDB kept throttling the request after every retry."""


class ConnectionFailure(DynamoDBError):
    """The server could not be reached, or the connection dropped, after every retry."""


class BatchWriteError(DynamoDBError):
    """A batch write gave up with items still unprocessed.

    ``written`` lists the write requests (``{'PutRequest': ...}`` / ``{'DeleteRequest': ...}``)
    that DynamoDB confirmed; ``unprocessed`` the others, which were **not** written — except
    that a batch whose answer was lost (``unanswered_attempts``) may have landed: sending
    those requests again is safe, as batch puts and deletes are idempotent.
    """

    def __init__(
        self,
        message: str,
        unprocessed: Sequence[dict[str, Any]],
        *,
        code: str = "UnprocessedItems",
        written: Sequence[dict[str, Any]] = (),
        **kwargs: Any,
    ) -> None:
        # ``code`` is the service's code when a request of the batch failed outright
        # (``'ValidationException'``...); ``'UnprocessedItems'`` when retries ran out.
        super().__init__(code, message, **kwargs)
        self.unprocessed = list(unprocessed)
        self.written = list(written)


class BatchGetError(DynamoDBError):
    """A batch get gave up with keys still unprocessed; ``unprocessed`` lists those keys."""

    def __init__(
        self,
        message: str,
        unprocessed: Sequence[dict[str, Any]],
        *,
        code: str = "UnprocessedKeys",
        **kwargs: Any,
    ) -> None:
        super().__init__(code, message, **kwargs)
        self.unprocessed = list(unprocessed)


class TableWaitTimeout(DynamoDBError):
    """A table (or one of its indexes) did not reach the awaited state in time."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__("TableWaitTimeout", message, **kwargs)


__all__ = [
    "restate",
    "DynamoDBError",
    "CheckFailed",
    "ConditionalCheckFailedException",
    "ThroughputException",
    "ConnectionFailure",
    "BatchWriteError",
    "BatchGetError",
    "TableWaitTimeout",
]
