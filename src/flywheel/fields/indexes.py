"""Index declarations: projections shared by local and global indexes, and GlobalIndex.

Local indexes are declared on a Field (``Field(index='ts-index')``, ``.keys_index(...)``);
global ones with :class:`GlobalIndex` in ``__metadata__['global_indexes']``. Whether the names
they mention are fields of the model is checked when the model class is created
(:mod:`flywheel.model_meta`), because only then is the model known.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ALL = "ALL"
KEYS_ONLY = "KEYS_ONLY"
INCLUDE = "INCLUDE"
PROJECTION_TYPES = (ALL, KEYS_ONLY, INCLUDE)

PROVISIONED = "PROVISIONED"
PAY_PER_REQUEST = "PAY_PER_REQUEST"
BILLING_MODES = (PROVISIONED, PAY_PER_REQUEST)

DEFAULT_READ = 5
DEFAULT_WRITE = 5


class Projection:
    """Which attributes an index holds: ALL, KEYS_ONLY, or INCLUDE some named ones."""

    __slots__ = ("includes", "kind")

    def __init__(self, kind: str = ALL, includes: Iterable[str] | None = None) -> None:
        if kind not in PROJECTION_TYPES:
            raise ValueError(f"Unknown projection type {kind!r}; use one of {PROJECTION_TYPES}")
        if isinstance(includes, str):
            # A lone string would otherwise be read as its characters.
            raise TypeError(f"includes must be a list of attribute names, not the string {includes!r}")
        self.kind = kind
        self.includes = tuple(includes or ())
        if kind == INCLUDE and not self.includes:
            raise ValueError("An INCLUDE projection needs at least one attribute to include")
        if kind != INCLUDE and self.includes:
            raise ValueError(f"A {kind} projection takes no included attributes")

    def ddb(self) -> dict[str, Any]:
        """The ``Projection`` of a CreateTable index entry."""
        projection: dict[str, Any] = {"ProjectionType": self.kind}
        if self.kind == INCLUDE:
            projection["NonKeyAttributes"] = list(self.includes)
        return projection

    def matches(self, described: Mapping[str, Any]) -> bool:
        """True when a DescribeTable ``Projection`` is this projection (include order aside)."""
        if described.get("ProjectionType", ALL) != self.kind:
            return False
        return sorted(described.get("NonKeyAttributes") or ()) == sorted(self.includes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Projection):
            return NotImplemented
        return self.kind == other.kind and sorted(self.includes) == sorted(other.includes)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.includes))))

    def __repr__(self) -> str:
        if self.kind == INCLUDE:
            return f"Projection(INCLUDE, {list(self.includes)!r})"
        return f"Projection({self.kind})"


def key_schema(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    """A ``KeySchema`` list: the hash key, then the range key if any."""
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def provisioned_throughput(read: int, write: int) -> dict[str, int]:
    """A ``ProvisionedThroughput`` dict."""
    return {"ReadCapacityUnits": int(read), "WriteCapacityUnits": int(write)}


class GlobalIndex:
    """A global secondary index: its own hash key, optional range key and throughput.

    ``GlobalIndex(name, hash_key, range_key=None)`` projects ALL attributes, as do
    ``GlobalIndex.all(...)``; ``.keys(...)`` and ``.include(..., includes=[...])`` project less.
    The index's provisioned throughput (default read 5, write 5) is given either as
    ``throughput={'read': 10, 'write': 2}`` or by ``.throughput(read, write)``, which returns
    the index, so it chains. On a PAY_PER_REQUEST table the throughput is not used.
    """

    def __init__(
        self,
        name: str,
        hash_key: str,
        range_key: str | None = None,
        throughput: Mapping[str, int] | None = None,
        projection: Projection | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"A global index needs a name, got {name!r}")
        if not hash_key or not isinstance(hash_key, str):
            raise ValueError(f"Global index {name!r} needs a hash key field name, got {hash_key!r}")
        if range_key is not None and not isinstance(range_key, str):
            raise ValueError(f"Global index {name!r}: range_key must be a field name, got {range_key!r}")
        self.name = name
        self.hash_key = hash_key
        self.range_key = range_key
        self.projection = projection or Projection(ALL)
        self.read_throughput = DEFAULT_READ
        self.write_throughput = DEFAULT_WRITE
        if throughput is not None:
            if not isinstance(throughput, Mapping) or not set(throughput) <= {"read", "write"}:
                raise ValueError(
                    f"Global index {name!r}: throughput must be a dict with 'read' and 'write', "
                    f"got {throughput!r}"
                )
            self.throughput(**throughput)

    @classmethod
    def all(cls, name: str, hash_key: str, range_key: str | None = None) -> GlobalIndex:
        """Project all attributes into the index."""
        return cls(name, hash_key, range_key, projection=Projection(ALL))

    @classmethod
    def keys(cls, name: str, hash_key: str, range_key: str | None = None) -> GlobalIndex:
        """Project only the key attributes into the index."""
        return cls(name, hash_key, range_key, projection=Projection(KEYS_ONLY))

    @classmethod
    def include(
        cls,
        name: str,
        hash_key: str,
        range_key: str | None = None,
        includes: Iterable[str] | None = None,
    ) -> GlobalIndex:
        """Project the key attributes and the ``includes`` into the index."""
        return cls(name, hash_key, range_key, projection=Projection(INCLUDE, includes))

    def throughput(self, read: int = DEFAULT_READ, write: int = DEFAULT_WRITE) -> GlobalIndex:
        """Set the provisioned throughput of the index; returns the index so it chains."""
        for label, value in (("read", read), ("write", write)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"Global index {self.name!r}: {label} throughput must be an int >= 1, "
                    f"got {value!r}"
                )
        self.read_throughput = read
        self.write_throughput = write
        return self

    def throughput_for(self, override: Mapping[str, Any] | None = None) -> tuple[int, int]:
        """(read, write): the declared throughput, with an override's entries taking over."""
        override = override or {}
        return (
            int(override.get("read", self.read_throughput)),
            int(override.get("write", self.write_throughput)),
        )

    def get_ddb_index(
        self,
        key_schema_attr: Any = None,
        throughput: Mapping[str, int] | None = None,
        billing_mode: str = PROVISIONED,
    ) -> dict[str, Any]:
        """The GlobalSecondaryIndexes entry of a CreateTable request.

        ``key_schema_attr`` is accepted for the spec's signature and not needed. A
        PAY_PER_REQUEST table's indexes carry no ProvisionedThroughput (DynamoDB rejects it).
        """
        index: dict[str, Any] = {
            "IndexName": self.name,
            "KeySchema": key_schema(self.hash_key, self.range_key),
            "Projection": self.projection.ddb(),
        }
        if billing_mode == PROVISIONED:
            index["ProvisionedThroughput"] = provisioned_throughput(*self.throughput_for(throughput))
        return index

    def __repr__(self) -> str:
        rng = f", {self.range_key!r}" if self.range_key else ""
        return f"GlobalIndex({self.name!r}, {self.hash_key!r}{rng}, {self.projection!r})"
