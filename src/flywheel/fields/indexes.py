"""Index declarations: projections shared by local and global indexes, and GlobalIndex."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

ALL = "ALL"
KEYS_ONLY = "KEYS_ONLY"
INCLUDE = "INCLUDE"


class Projection:
    """Which attributes an index holds: ALL, KEYS_ONLY, or INCLUDE some named ones."""

    __slots__ = ("kind", "includes")

    def __init__(self, kind: str = ALL, includes: Iterable[str] | None = None) -> None:
        if kind not in (ALL, KEYS_ONLY, INCLUDE):
            raise ValueError(f"Unknown projection type {kind!r}")
        self.kind = kind
        self.includes = tuple(includes or ())
        if kind == INCLUDE and not self.includes:
            raise ValueError("An INCLUDE projection needs at least one attribute to include")

    def ddb(self) -> dict[str, Any]:
        projection: dict[str, Any] = {"ProjectionType": self.kind}
        if self.kind == INCLUDE:
            projection["NonKeyAttributes"] = list(self.includes)
        return projection

    def __repr__(self) -> str:
        if self.kind == INCLUDE:
            return f"Projection(INCLUDE, {list(self.includes)!r})"
        return f"Projection({self.kind})"


class GlobalIndex:
    """A global secondary index: its own hash key, optional range key and throughput.

    ``GlobalIndex(name, hash_key, range_key=None)`` projects ALL attributes, as do
    ``GlobalIndex.all(...)``; ``.keys(...)`` and ``.include(..., includes=[...])`` project less.
    """

    def __init__(
        self,
        name: str,
        hash_key: str,
        range_key: str | None = None,
        projection: Projection | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"A global index needs a name, got {name!r}")
        self.name = name
        self.hash_key = hash_key
        self.range_key = range_key
        self.projection = projection or Projection(ALL)
        self.read_throughput = 5
        self.write_throughput = 5

    @classmethod
    def all(cls, name: str, hash_key: str, range_key: str | None = None) -> "GlobalIndex":
        """Project all attributes into the index."""
        return cls(name, hash_key, range_key, Projection(ALL))

    @classmethod
    def keys(cls, name: str, hash_key: str, range_key: str | None = None) -> "GlobalIndex":
        """Project only the key attributes into the index."""
        return cls(name, hash_key, range_key, Projection(KEYS_ONLY))

    @classmethod
    def include(
        cls,
        name: str,
        hash_key: str,
        range_key: str | None = None,
        includes: Iterable[str] | None = None,
    ) -> "GlobalIndex":
        """Project the key attributes and the ``includes`` into the index."""
        return cls(name, hash_key, range_key, Projection(INCLUDE, includes))

    def throughput(self, read: int = 5, write: int = 5) -> "GlobalIndex":
        """Set the provisioned throughput of the index; returns the index so it chains."""
        self.read_throughput = int(read)
        self.write_throughput = int(write)
        return self

    def get_ddb_index(
        self, key_schema_attr: Any = None, throughput: Mapping[str, int] | None = None
    ) -> dict[str, Any]:
        """The GlobalSecondaryIndexes entry of a CreateTable request."""
        keys = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key is not None:
            keys.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        read = self.read_throughput
        write = self.write_throughput
        if throughput:
            read = int(throughput.get("read", read))
            write = int(throughput.get("write", write))
        return {
            "IndexName": self.name,
            "KeySchema": keys,
            "Projection": self.projection.ddb(),
            "ProvisionedThroughput": {"ReadCapacityUnits": read, "WriteCapacityUnits": write},
        }

    def __repr__(self) -> str:
        rng = f", {self.range_key!r}" if self.range_key else ""
        return f"GlobalIndex({self.name!r}, {self.hash_key!r}{rng}, {self.projection!r})"
