"""Small helpers shared by the test modules (imported as ``from helpers import ...``)."""
from __future__ import annotations

from typing import Any

from flywheel import Engine, Model


def stored(engine: Engine, model: type[Model], **key: Any) -> dict[str, Any] | None:
    """The stored item in DynamoDB JSON, read consistently with a plain GetItem."""
    request = {
        "TableName": model.meta_.ddb_tablename(engine.namespace),
        "Key": model.meta_.pk_dict(scope=key, ddb_dump=True),
        "ConsistentRead": True,
    }
    return engine.dynamo.call("GetItem", request).get("Item")
