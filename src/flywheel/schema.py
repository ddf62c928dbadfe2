"""A model's table schema: the checks made at class creation and the CreateTable request.

:class:`~flywheel.model_meta.ModelMetadata` reads ``__metadata__``; this module judges it
against DynamoDB's rules (so a bad declaration fails when the class is created, naming the
model and the field or index, rather than later as a ValidationException from the server)
and turns it into the requests that create the table and switch on its TTL.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .fields.indexes import (
    BILLING_MODES,
    INCLUDE,
    PAY_PER_REQUEST,
    PROVISIONED,
    key_schema,
    provisioned_throughput,
)

if TYPE_CHECKING:  # pragma: no cover
    from .fields import Field
    from .model_meta import ModelMetadata, Ordering

#: Every ``__metadata__`` key a model may declare; anything else is a typo.
METADATA_KEYS = frozenset(
    {"_name", "_abstract", "throughput", "global_indexes", "billing_mode", "ttl", "stream"}
)
STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
KEY_TYPES = ("S", "N", "B")
# DynamoDB's naming rules for tables and indexes.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
MIN_NAME_LENGTH = 3
MAX_NAME_LENGTH = 255
# "The total count of attributes provided in NonKeyAttributes, summed across all of the
# secondary indexes, must not exceed 100."
MAX_PROJECTED_ATTRIBUTES = 100


# -- checks at class creation -------------------------------------------------------------
def validate_declaration(meta: ModelMetadata) -> None:
    """Raise ValidationError for anything DynamoDB would refuse in this model's table."""
    _check_metadata_keys(meta)
    _check_name(meta, "table name (_name)", meta.name, allow_short=True)
    _check_throughput(meta, "throughput", meta.metadata.get("throughput"))
    if meta.billing_mode not in BILLING_MODES:
        raise meta._fail(
            f"billing_mode must be one of {list(BILLING_MODES)}, got {meta.billing_mode!r}"
        )
    if meta.stream_view_type is not None and meta.stream_view_type not in STREAM_VIEW_TYPES:
        raise meta._fail(
            f"stream must be one of {list(STREAM_VIEW_TYPES)} (or None), "
            f"got {meta.stream_view_type!r}"
        )
    _check_ttl(meta)
    projected = 0
    for ordering in meta.orderings:
        _check_ordering(meta, ordering)
        if ordering.index_name is not None and ordering.projection.kind == INCLUDE:
            projected += len(ordering.projection.includes)
    if projected > MAX_PROJECTED_ATTRIBUTES:
        raise meta._fail(
            f"its indexes project {projected} non-key attributes in all; DynamoDB allows at most "
            f"{MAX_PROJECTED_ATTRIBUTES}"
        )


def _check_metadata_keys(meta: ModelMetadata) -> None:
    unknown = sorted(set(meta.metadata) - METADATA_KEYS)
    if unknown:
        raise meta._fail(
            f"unknown __metadata__ key(s) {unknown}; the keys are {sorted(METADATA_KEYS)}"
        )


def _check_name(meta: ModelMetadata, what: str, name: Any, allow_short: bool = False) -> None:
    # A table name may be short on its own: the namespace prefix can lengthen it.
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise meta._fail(
            f"{what} {name!r} must be letters, digits, '_', '-' and '.' only (DynamoDB's rule)"
        )
    if len(name) > MAX_NAME_LENGTH or (not allow_short and len(name) < MIN_NAME_LENGTH):
        raise meta._fail(
            f"{what} {name!r} must be {MIN_NAME_LENGTH} to {MAX_NAME_LENGTH} characters long"
        )


def _check_throughput(meta: ModelMetadata, what: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise meta._fail(f"{what} must be a dict like {{'read': 5, 'write': 5}}, got {value!r}")
    unknown = sorted(set(value) - {"read", "write"})
    if unknown:
        raise meta._fail(f"{what} takes only 'read' and 'write', got {unknown}")
    for key, units in value.items():
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise meta._fail(f"{what} {key!r} must be an int >= 1, got {units!r}")


def _check_ttl(meta: ModelMetadata) -> None:
    name = meta.ttl_attribute
    if name is None:
        return
    field = meta.fields.get(name) if isinstance(name, str) else None
    if field is None:
        raise meta._fail(f"ttl names {name!r}, which is not a declared field")
    # DynamoDB expires items by a Number attribute holding epoch seconds; datetime and int
    # fields are stored that way.
    if field.ddb_data_type != "N":
        raise meta._fail(
            f"ttl field {name!r} is stored as {field.ddb_data_type}; the TTL attribute must be a "
            "number of epoch seconds (use data_type=datetime or int)"
        )


def _check_ordering(meta: ModelMetadata, ordering: Ordering) -> None:
    where = "the table" if ordering.index_name is None else f"{ordering.kind} {ordering.index_name!r}"
    if ordering.index_name is not None:
        _check_name(meta, f"{ordering.kind} name", ordering.index_name)
    for role, field in (("hash key", ordering.hash_key), ("range key", ordering.range_key)):
        if field is not None and field.ddb_data_type not in KEY_TYPES:
            raise meta._fail(
                f"field {field.name!r}, the {role} of {where}, is stored as "
                f"{field.ddb_data_type}; keys must be strings, numbers or binary (S, N or B)"
            )
    if ordering.range_key is not None and ordering.range_key is ordering.hash_key:
        raise meta._fail(f"{where} uses field {ordering.hash_key.name!r} as both hash and range key")
    for name in ordering.projection.includes:
        if not isinstance(name, str) or name not in meta.fields:
            raise meta._fail(f"{where} includes {name!r}, which is not a declared field")


# -- requests -----------------------------------------------------------------------------
def check_throughput_override(meta: ModelMetadata, override: Mapping[str, Any]) -> None:
    """ValueError unless the override holds only 'read', 'write' and global index names."""
    if not isinstance(override, Mapping):
        raise TypeError(
            f"{meta.model.__name__}: a throughput override must be a dict, got {override!r}"
        )
    gsi_names = {g.name for g in meta.global_indexes}
    for key, value in override.items():
        if key in ("read", "write"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{meta.model.__name__}: throughput {key!r} must be an int >= 1, got {value!r}"
                )
        elif key in gsi_names:
            if not isinstance(value, Mapping) or set(value) - {"read", "write"}:
                raise ValueError(
                    f"{meta.model.__name__}: throughput for global index {key!r} must be a dict "
                    f"with 'read' and/or 'write', got {value!r}"
                )
        else:
            raise ValueError(
                f"{meta.model.__name__}: throughput override names {key!r}, which is neither "
                f"'read', 'write' nor one of its global indexes {sorted(gsi_names)}"
            )


def table_throughput(
    meta: ModelMetadata, override: Mapping[str, Any] | None = None
) -> tuple[int, int]:
    """(read, write) for the table: the declared throughput, with an override taking over."""
    override = override or {}
    return (
        int(override.get("read", meta.throughput.get("read", 5))),
        int(override.get("write", meta.throughput.get("write", 5))),
    )


def attribute_definitions(meta: ModelMetadata, fields: list[Field] | None = None) -> list[dict[str, str]]:
    """``AttributeDefinitions`` for the key fields of the table and of every index."""
    if fields is None:
        fields = [
            field
            for ordering in meta.orderings
            for field in (ordering.hash_key, ordering.range_key)
            if field is not None
        ]
    types: dict[str, str] = {}
    for field in fields:
        types[field.name] = field.ddb_data_type
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def local_index_requests(meta: ModelMetadata) -> list[dict[str, Any]]:
    """The ``LocalSecondaryIndexes`` entries, in declaration order."""
    return [
        ordering.range_key.get_ddb_index()
        for ordering in meta.orderings
        if ordering.index_name is not None and not ordering.is_global and ordering.range_key
    ]


def create_table_request(
    meta: ModelMetadata, tablename: str, throughput: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The CreateTable request for a model's table.

    ``throughput`` overrides the declared values: ``{'read': 10, 'write': 2,
    'ts-index': {'read': 3, 'write': 1}}``. A PAY_PER_REQUEST table ignores it, since it has
    no provisioned throughput to set.
    """
    override = dict(throughput or {})
    check_throughput_override(meta, override)
    if not MIN_NAME_LENGTH <= len(tablename) <= MAX_NAME_LENGTH:
        raise ValueError(
            f"{meta.model.__name__}: table name {tablename!r} must be {MIN_NAME_LENGTH} to "
            f"{MAX_NAME_LENGTH} characters long (give the model a longer _name or a namespace)"
        )
    request: dict[str, Any] = {
        "TableName": tablename,
        "KeySchema": key_schema(
            meta.hash_key.name, meta.range_key.name if meta.range_key is not None else None
        ),
        "AttributeDefinitions": attribute_definitions(meta),
        "BillingMode": meta.billing_mode,
    }
    if meta.billing_mode == PROVISIONED:
        request["ProvisionedThroughput"] = provisioned_throughput(*table_throughput(meta, override))
    local = local_index_requests(meta)
    if local:
        request["LocalSecondaryIndexes"] = local
    if meta.global_indexes:
        request["GlobalSecondaryIndexes"] = [
            g.get_ddb_index(throughput=override.get(g.name), billing_mode=meta.billing_mode)
            for g in meta.global_indexes
        ]
    if meta.stream_view_type is not None:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": meta.stream_view_type,
        }
    return request


def ttl_request(meta: ModelMetadata, tablename: str) -> dict[str, Any] | None:
    """The UpdateTimeToLive request that enables the model's TTL, or None if it has none."""
    if meta.ttl_attribute is None:
        return None
    return {
        "TableName": tablename,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": meta.ttl_attribute},
    }


__all__ = [
    "METADATA_KEYS",
    "PAY_PER_REQUEST",
    "PROVISIONED",
    "STREAM_VIEW_TYPES",
    "attribute_definitions",
    "check_throughput_override",
    "create_table_request",
    "local_index_requests",
    "table_throughput",
    "ttl_request",
    "validate_declaration",
]
