"""Migration: compare a model with its live table and plan the changes DynamoDB can make online.

``Engine.update_schema`` builds a :class:`SchemaPlan` for every registered model:
:attr:`SchemaPlan.changes` are what can be applied to a live table (create the table or a
missing global index, change throughput or billing mode, enable TTL or a stream), in the order
they must be applied; :attr:`SchemaPlan.mismatches` are differences that cannot be fixed in
place (a changed key schema or local index, a global index whose keys or projection changed)
or that would destroy something (an index or TTL the model no longer declares), which are
reported and left alone.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import schema
from .exceptions import DynamoDBError
from .fields.indexes import PROVISIONED, key_schema, provisioned_throughput

if TYPE_CHECKING:  # pragma: no cover
    from .connection import DynamoDBConnection
    from .model_meta import ModelMetadata

LOG = logging.getLogger("flywheel")

# What a SchemaChange does.
CREATE_TABLE = "create_table"
CREATE_INDEX = "create_index"
UPDATE_BILLING_MODE = "update_billing_mode"
UPDATE_THROUGHPUT = "update_throughput"
UPDATE_INDEX_THROUGHPUT = "update_index_throughput"
ENABLE_TTL = "enable_ttl"
ENABLE_STREAM = "enable_stream"

# What a SchemaMismatch is about.
KEY_SCHEMA = "key_schema"
LOCAL_INDEX = "local_index"
GLOBAL_INDEX = "global_index"
UNDECLARED_INDEX = "undeclared_index"
TTL = "ttl"
STREAM = "stream"


@dataclass(frozen=True)
class SchemaChange:
    """One request that brings a live table closer to its model."""

    model: str
    table: str
    action: str  # CREATE_TABLE, CREATE_INDEX, UPDATE_THROUGHPUT...
    description: str
    operation: str  # 'CreateTable', 'UpdateTable' or 'UpdateTimeToLive'
    request: dict[str, Any]
    index: str | None = None

    def __str__(self) -> str:
        return f"{self.table}: {self.description}"


@dataclass(frozen=True)
class SchemaMismatch:
    """A difference between a model and its live table that update_schema does not fix."""

    model: str
    table: str
    kind: str  # KEY_SCHEMA, LOCAL_INDEX, GLOBAL_INDEX, UNDECLARED_INDEX, TTL or STREAM
    description: str
    index: str | None = None

    def __str__(self) -> str:
        return f"{self.table}: {self.description}"


@dataclass
class SchemaPlan:
    """What ``update_schema`` would do (``applied`` False) or did (``applied`` True)."""

    changes: list[SchemaChange] = field(default_factory=list)
    mismatches: list[SchemaMismatch] = field(default_factory=list)
    applied: bool = False

    @property
    def in_sync(self) -> bool:
        """True when the tables already match their models: nothing to do, nothing wrong."""
        return not self.changes and not self.mismatches

    def report(self) -> str:
        """A readable account of the changes and of the mismatches left alone."""
        if self.in_sync:
            return "The tables match their models."
        lines = []
        if self.changes:
            lines.append("Applied:" if self.applied else "Would apply:")
            lines.extend(f"  - {change}" for change in self.changes)
        if self.mismatches:
            lines.append("Cannot apply (change these by hand, or change the model):")
            lines.extend(f"  - {mismatch}" for mismatch in self.mismatches)
        return "\n".join(lines)

    __str__ = report


# -- planning ---------------------------------------------------------------------------------
def plan_table(
    meta: ModelMetadata,
    tablename: str,
    description: Mapping[str, Any] | None,
    ttl_description: Mapping[str, Any] | None,
    throughput: Mapping[str, Any] | None = None,
) -> tuple[list[SchemaChange], list[SchemaMismatch]]:
    """The changes and mismatches between a model and its table's DescribeTable answer.

    ``description`` is None when the table does not exist; ``ttl_description`` is
    DescribeTimeToLive's ``TimeToLiveDescription`` (None when the server cannot tell).
    """
    planner = _TablePlanner(meta, tablename, throughput)
    if description is None:
        planner.plan_new_table()
    else:
        planner.plan_existing(description, ttl_description)
    return planner.changes, planner.mismatches


class _TablePlanner:
    def __init__(
        self, meta: ModelMetadata, tablename: str, throughput: Mapping[str, Any] | None
    ) -> None:
        self.meta = meta
        self.model = meta.name
        self.table = tablename
        self.override = dict(throughput or {})
        schema.check_throughput_override(meta, self.override)
        self.changes: list[SchemaChange] = []
        self.mismatches: list[SchemaMismatch] = []

    def change(self, action: str, description: str, operation: str, request: dict[str, Any],
               index: str | None = None) -> None:
        self.changes.append(
            SchemaChange(self.model, self.table, action, description, operation, request, index)
        )

    def mismatch(self, kind: str, description: str, index: str | None = None) -> None:
        self.mismatches.append(SchemaMismatch(self.model, self.table, kind, description, index))

    # -- a table that does not exist yet --------------------------------------------------
    def plan_new_table(self) -> None:
        request = schema.create_table_request(self.meta, self.table, self.override)
        self.change(CREATE_TABLE, "create the table", "CreateTable", request)
        self.plan_ttl(None)

    # -- a live table ---------------------------------------------------------------------
    def plan_existing(
        self, description: Mapping[str, Any], ttl_description: Mapping[str, Any] | None
    ) -> None:
        self.plan_keys(description)
        self.plan_local_indexes(description)
        live_mode = (description.get("BillingModeSummary") or {}).get("BillingMode", PROVISIONED)
        live_indexes = {
            index["IndexName"]: index for index in description.get("GlobalSecondaryIndexes") or ()
        }
        if live_mode != self.meta.billing_mode:
            self.plan_billing_mode(live_mode, live_indexes)
        elif live_mode == PROVISIONED:
            self.plan_table_throughput(description)
        self.plan_global_indexes(live_indexes, billing_changed=live_mode != self.meta.billing_mode)
        self.plan_stream(description)
        self.plan_ttl(ttl_description)

    def plan_keys(self, description: Mapping[str, Any]) -> None:
        meta = self.meta
        wanted = _keys(key_schema(meta.hash_key.name, meta.range_key.name if meta.range_key else None))
        live = _keys(description.get("KeySchema") or ())
        if wanted != live:
            self.mismatch(
                KEY_SCHEMA,
                f"the table's key is {_show_keys(live)} but the model's is {_show_keys(wanted)}; "
                "a key cannot change: create a new table and copy the items",
            )
            return
        # Some servers drop definitions they no longer need; judge only those described.
        live_types = {
            d["AttributeName"]: d["AttributeType"] for d in description.get("AttributeDefinitions") or ()
        }
        for key in (meta.hash_key, meta.range_key):
            if key is None or key.name not in live_types:
                continue
            if live_types[key.name] != key.ddb_data_type:
                self.mismatch(
                    KEY_SCHEMA,
                    f"key field {key.name!r} is stored as {live_types[key.name]} in the table but "
                    f"declared as {key.ddb_data_type}; a key cannot change type",
                )

    def plan_local_indexes(self, description: Mapping[str, Any]) -> None:
        wanted = {i["IndexName"]: i for i in schema.local_index_requests(self.meta)}
        live = {i["IndexName"]: i for i in description.get("LocalSecondaryIndexes") or ()}
        why = "local indexes are fixed when a table is created: create a new table and copy the items"
        for name, index in wanted.items():
            if name not in live:
                self.mismatch(LOCAL_INDEX, f"local index {name!r} is missing; {why}", name)
            elif not _same_index(index, live[name]):
                self.mismatch(
                    LOCAL_INDEX,
                    f"local index {name!r} differs: table has {_show_index(live[name])}, model "
                    f"declares {_show_index(index)}; {why}",
                    name,
                )
        for name in live.keys() - wanted.keys():
            self.mismatch(
                UNDECLARED_INDEX, f"local index {name!r} is not declared by the model", name
            )

    def plan_billing_mode(self, live_mode: str, live_indexes: Mapping[str, Any]) -> None:
        request: dict[str, Any] = {"TableName": self.table, "BillingMode": self.meta.billing_mode}
        if self.meta.billing_mode == PROVISIONED:
            # Leaving on-demand: the table and every existing index need a throughput.
            request["ProvisionedThroughput"] = provisioned_throughput(
                *schema.table_throughput(self.meta, self.override)
            )
            declared = {g.name: g for g in self.meta.global_indexes}
            updates = []
            for name in live_indexes:
                gindex = declared.get(name)
                units = gindex.throughput_for(self.override.get(name)) if gindex else (5, 5)
                updates.append(
                    {"Update": {"IndexName": name, "ProvisionedThroughput": provisioned_throughput(*units)}}
                )
            if updates:
                request["GlobalSecondaryIndexUpdates"] = updates
        self.change(
            UPDATE_BILLING_MODE,
            f"change billing mode from {live_mode} to {self.meta.billing_mode}",
            "UpdateTable",
            request,
        )

    def plan_table_throughput(self, description: Mapping[str, Any]) -> None:
        live = _throughput(description)
        wanted = schema.table_throughput(self.meta, self.override)
        if live != wanted:
            self.change(
                UPDATE_THROUGHPUT,
                f"change throughput from read {live[0]}, write {live[1]} to read {wanted[0]}, "
                f"write {wanted[1]}",
                "UpdateTable",
                {"TableName": self.table, "ProvisionedThroughput": provisioned_throughput(*wanted)},
            )

    def plan_global_indexes(self, live_indexes: Mapping[str, Any], billing_changed: bool) -> None:
        meta = self.meta
        fields = meta.fields
        for gindex in meta.global_indexes:
            wanted = gindex.get_ddb_index(
                throughput=self.override.get(gindex.name), billing_mode=meta.billing_mode
            )
            live = live_indexes.get(gindex.name)
            if live is None:
                keys = [fields[gindex.hash_key]] + ([fields[gindex.range_key]] if gindex.range_key else [])
                self.change(
                    CREATE_INDEX,
                    f"create global index {gindex.name!r} ({_show_index(wanted)})",
                    "UpdateTable",
                    {
                        "TableName": self.table,
                        "AttributeDefinitions": schema.attribute_definitions(meta, keys),
                        "GlobalSecondaryIndexUpdates": [{"Create": wanted}],
                    },
                    gindex.name,
                )
            elif not _same_index(wanted, live):
                self.mismatch(
                    GLOBAL_INDEX,
                    f"global index {gindex.name!r} differs: table has {_show_index(live)}, model "
                    f"declares {_show_index(wanted)}; delete the index (UpdateTable) and run "
                    "update_schema again to create it anew",
                    gindex.name,
                )
            elif meta.billing_mode == PROVISIONED and not billing_changed:
                live_units = _throughput(live)
                units = gindex.throughput_for(self.override.get(gindex.name))
                if live_units != units:
                    self.change(
                        UPDATE_INDEX_THROUGHPUT,
                        f"change throughput of global index {gindex.name!r} from read "
                        f"{live_units[0]}, write {live_units[1]} to read {units[0]}, write {units[1]}",
                        "UpdateTable",
                        {
                            "TableName": self.table,
                            "GlobalSecondaryIndexUpdates": [
                                {"Update": {"IndexName": gindex.name,
                                            "ProvisionedThroughput": provisioned_throughput(*units)}}
                            ],
                        },
                        gindex.name,
                    )
        declared = {g.name for g in meta.global_indexes}
        for name in live_indexes.keys() - declared:
            self.mismatch(
                UNDECLARED_INDEX,
                f"global index {name!r} is not declared by the model; left in place (delete it "
                "with UpdateTable if it is no longer needed)",
                name,
            )

    def plan_stream(self, description: Mapping[str, Any]) -> None:
        spec = description.get("StreamSpecification") or {}
        live = spec.get("StreamViewType") if spec.get("StreamEnabled") else None
        wanted = self.meta.stream_view_type
        if live == wanted:
            return
        if live is None:
            self.change(
                ENABLE_STREAM,
                f"enable a {wanted} stream",
                "UpdateTable",
                {
                    "TableName": self.table,
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": wanted},
                },
            )
        elif wanted is None:
            self.mismatch(STREAM, f"the table has a {live} stream the model does not declare; left on")
        else:
            self.mismatch(
                STREAM,
                f"the table's stream is {live} but the model declares {wanted}; disable the "
                "stream first (its readers lose their place), then run update_schema again",
            )

    def plan_ttl(self, ttl_description: Mapping[str, Any] | None) -> None:
        wanted = self.meta.ttl_attribute
        status = (ttl_description or {}).get("TimeToLiveStatus", "DISABLED")
        live = (ttl_description or {}).get("AttributeName") if status in ("ENABLED", "ENABLING") else None
        if live == wanted:
            return
        if live is None:
            request = schema.ttl_request(self.meta, self.table)
            assert request is not None
            self.change(ENABLE_TTL, f"enable TTL on attribute {wanted!r}", "UpdateTimeToLive", request)
        elif wanted is None:
            self.mismatch(TTL, f"the table expires items by {live!r}, which the model does not declare; left on")
        else:
            self.mismatch(
                TTL,
                f"the table expires items by {live!r} but the model declares {wanted!r}; DynamoDB "
                "changes TTL only by disabling it first (then waits up to an hour)",
            )


def describe_ttl(connection: DynamoDBConnection, tablename: str) -> dict[str, Any] | None:
    """DescribeTimeToLive's ``TimeToLiveDescription``, or None where the server has no TTL."""
    try:
        response = connection.call("DescribeTimeToLive", {"TableName": tablename})
    except DynamoDBError as exc:
        if exc.code in ("UnknownOperationException", "ResourceNotFoundException"):
            return None
        raise
    ttl: dict[str, Any] = response.get("TimeToLiveDescription") or {}
    return ttl


# -- applying ---------------------------------------------------------------------------------
def apply_plan(connection: DynamoDBConnection, plan: SchemaPlan) -> None:
    """Make the plan's changes in order; log the mismatches it leaves."""
    for change in plan.changes:
        apply_change(connection, change)
    plan.applied = True
    for mismatch in plan.mismatches:
        LOG.warning("update_schema left a mismatch: %s", mismatch)


def apply_change(connection: DynamoDBConnection, change: SchemaChange) -> None:
    """Make one change and wait until the table (and its indexes) are ACTIVE again."""
    LOG.info("update_schema: %s", change)
    if change.operation == "CreateTable":
        connection.create_table(change.request, wait=True)
    elif change.operation == "UpdateTable":
        described = connection.update_table(change.request, wait=True)
        if change.action == CREATE_INDEX:
            names = {i.get("IndexName") for i in described.get("GlobalSecondaryIndexes") or ()}
            if change.index not in names:
                # Some local servers accept the request and build nothing; say so now rather
                # than let queries on the index fail later.
                raise DynamoDBError(
                    "IndexNotCreated",
                    f"the server accepted creating global index {change.index!r} but the table "
                    "does not have it",
                    operation="UpdateTable",
                    table=change.table,
                )
    elif change.operation == "UpdateTimeToLive":
        connection.call("UpdateTimeToLive", change.request)
    else:  # pragma: no cover - the planner makes no other operations
        raise ValueError(f"unknown schema operation {change.operation!r}")


# -- comparing descriptions -------------------------------------------------------------------
def _keys(schema_list: Any) -> tuple[tuple[str, str], ...]:
    return tuple((k["AttributeName"], k["KeyType"]) for k in schema_list)


def _show_keys(keys: tuple[tuple[str, str], ...]) -> str:
    return "(" + ", ".join(f"{name} {kind}" for name, kind in keys) + ")"


def _projection(index: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    projection = index.get("Projection") or {}
    return (
        projection.get("ProjectionType", "ALL"),
        tuple(sorted(projection.get("NonKeyAttributes") or ())),
    )


def _same_index(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    return _keys(wanted["KeySchema"]) == _keys(live.get("KeySchema") or ()) and _projection(
        wanted
    ) == _projection(live)


def _show_index(index: Mapping[str, Any]) -> str:
    kind, includes = _projection(index)
    shown = f"keys {_show_keys(_keys(index.get('KeySchema') or ()))}, projection {kind}"
    return shown + (f" {list(includes)}" if includes else "")


def _throughput(description: Mapping[str, Any]) -> tuple[int, int]:
    units = description.get("ProvisionedThroughput") or {}
    return int(units.get("ReadCapacityUnits", 0)), int(units.get("WriteCapacityUnits", 0))
