"""Small helpers shared by the test modules (imported as ``from helpers import ...``)."""
from __future__ import annotations

from typing import Any

from flywheel import Engine, Model
from flywheel.write_marks import strip_marks


def stored(
    engine: Engine, model: type[Model], marks: bool = False, **key: Any
) -> dict[str, Any] | None:
    """The stored item in DynamoDB JSON, read consistently with a plain GetItem; without the
    writer marks (flywheel's ``__flywheel_w_*`` attributes) unless ``marks``."""
    request = {
        "TableName": model.meta_.ddb_tablename(engine.namespace),
        "Key": model.meta_.pk_dict(scope=key, ddb_dump=True),
        "ConsistentRead": True,
    }
    item = engine.dynamo.call("GetItem", request).get("Item")
    return item if item is None or marks else strip_marks(item)
