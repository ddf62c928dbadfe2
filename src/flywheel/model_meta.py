"""Model metadata and metaclass: the declared fields, keys, indexes and table schema."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import schema
from .expressions import make_constraint
from .fields import Composite, Field
from .fields.conditions import Condition
from .fields.indexes import ALL, PROVISIONED, GlobalIndex, Projection

if TYPE_CHECKING:  # pragma: no cover
    from .connection import DynamoDBConnection
    from .models import Model

DEFAULT_THROUGHPUT = {"read": 5, "write": 5}
MAX_LOCAL_INDEXES = 5
MAX_GLOBAL_INDEXES = 20


class ValidationError(Exception):
    """A model declaration is inconsistent."""


class AmbiguousIndexError(TypeError, ValueError):
    """Several indexes could serve a query; name one with ``.index(name)``."""


def merge_metadata(cls: type) -> dict[str, Any]:
    """Merge the ``__metadata__`` dicts of a class hierarchy.

    Keys that do not begin with '_' are inherited; keys that begin with '_' apply only to the
    class that declares them.
    """
    merged: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        for key, value in base.__dict__.get("__metadata__", {}).items():
            if not key.startswith("_"):
                merged[key] = value
    merged.update(cls.__dict__.get("__metadata__", {}))
    return merged


#: What DynamoDB accepts as a table name.
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")


def namespace_prefix(namespace: Sequence[str] | str | None) -> str:
    """'a-b-' for namespace ('a', 'b'), 'prod-' for 'prod', '' for none."""
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return namespace + "-"
    return "".join(f"{part}-" for part in namespace)


class Ordering:
    """A way the items of a table are ordered: the primary key, an LSI or a GSI."""

    def __init__(
        self,
        meta: ModelMetadata,
        hash_key: Field,
        range_key: Field | None = None,
        index_name: str | None = None,
        is_global: bool = False,
        projection: Projection | None = None,
    ) -> None:
        self.meta = meta
        self.hash_key = hash_key
        self.range_key = range_key
        self.index_name = index_name
        self.is_global = is_global
        self.projection = projection or Projection(ALL)

    @property
    def kind(self) -> str:
        if self.index_name is None:
            return "table"
        return "global index" if self.is_global else "local index"

    def describe(self) -> str:
        keys = self.hash_key.name + (f", {self.range_key.name}" if self.range_key else "")
        where = "the table" if self.index_name is None else f"{self.kind} {self.index_name!r}"
        return f"{where} ({keys})"

    def projected(self) -> set[str] | None:
        """Names of the attributes this ordering holds, or None for all of them."""
        if self.index_name is None or self.projection.kind == ALL:
            return None
        names = set(self.meta.key_names)
        names.add(self.hash_key.name)
        if self.range_key is not None:
            names.add(self.range_key.name)
        names.update(self.projection.includes)
        return names

    def query_kwargs(
        self, eq_fields: Mapping[str, Any], fields: Mapping[str, tuple[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Get the query and filter kwargs for querying against this index (or the table):
        the keyword arguments of the DynamoDB Query request, all but TableName.

        ``eq_fields`` maps field names to values (``==``), ``fields`` field names to
        ``(op, value)`` pairs, as :class:`~flywheel.fields.conditions.Condition` holds them.
        """
        from .query import Query

        model = self.meta.model
        constraints = [make_constraint(model.field(n), "eq", v) for n, v in eq_fields.items()]
        for name, (op, value) in (fields or {}).items():
            constraints.append(make_constraint(model.field(name), op, value))
        return Query.request_kwargs(model, Condition(constraints), self)

    def __repr__(self) -> str:
        return f"Ordering({self.describe()})"


class ModelMetadata:
    """Container for a model's metadata: fields, keys, indexes, throughput, table name."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        metadata = merge_metadata(model)
        self.metadata = metadata
        self.name: str = metadata.get("_name", model.__name__)
        # The base Model is abstract: it has no fields and no table.
        self.abstract_: bool = bool(metadata.get("_abstract", False)) or _is_base(model)
        # Read leniently here; schema.validate_declaration judges the values once the fields
        # are bound, so its errors can name them.
        declared_throughput = metadata.get("throughput")
        self.throughput: dict[str, int] = dict(DEFAULT_THROUGHPUT)
        if isinstance(declared_throughput, Mapping):
            self.throughput.update(declared_throughput)
        indexes = metadata.get("global_indexes") or []
        self.global_indexes: list[GlobalIndex] = (
            list(indexes) if isinstance(indexes, (list, tuple)) else [indexes]
        )
        #: 'PROVISIONED' (the default) or 'PAY_PER_REQUEST'
        self.billing_mode: str = metadata.get("billing_mode") or PROVISIONED
        #: the field whose epoch seconds expire an item (DynamoDB TTL), or None
        self.ttl_attribute: str | None = metadata.get("ttl") or None
        #: the view type of the table's stream ('NEW_AND_OLD_IMAGES'...), or None for no stream
        self.stream_view_type: str | None = metadata.get("stream") or None
        self.fields: dict[str, Field] = {}
        for klass in reversed(model.__mro__):
            for attr, value in klass.__dict__.items():
                if isinstance(value, Field):
                    self.fields[attr] = value
        self.hash_key: Field = None  # type: ignore[assignment]
        self.range_key: Field | None = None
        self.key_names: tuple[str, ...] = ()
        self.related_fields: dict[str, set[str]] = {}
        self.orderings: list[Ordering] = []
        self._key_parts: frozenset[str] = frozenset()
        self.composites: tuple[Composite, ...] = ()

    @property
    def abstract(self) -> bool:
        return self.abstract_

    def _fail(self, message: str) -> ValidationError:
        return ValidationError(f"{self.model.__name__}: {message}")

    def post_create(self) -> None:
        """Bind fields to the model and check that the declaration is consistent."""
        model = self.model
        for name, field in self.fields.items():
            # Inherited fields are shared with the parent; bind a per-model copy.
            if field.model is not None and field.model is not model:
                field = _copy_field(field)
                setattr(model, name, field)
                self.fields[name] = field
            field.name = name
            field.model = model
            if name.endswith("_") or name.startswith("__"):
                raise self._fail(
                    f"field name {name!r} collides with the model's own attributes "
                    "(names ending with '_' or beginning with '__' are reserved)"
                )
            for base in model.__mro__[1:]:
                inherited = base.__dict__.get(name)
                if inherited is not None and not isinstance(inherited, Field):
                    raise self._fail(
                        f"field name {name!r} would hide {base.__name__}.{name}; "
                        "choose another name"
                    )
        for field in self.fields.values():
            if isinstance(field, Composite):
                for sub in field.subfields:
                    if sub == field.name:
                        raise self._fail(f"composite field {field.name!r} cannot contain itself")
                    if sub not in self.fields:
                        raise self._fail(
                            f"composite field {field.name!r} names unknown field {sub!r}"
                        )
        for field in self.fields.values():
            if field.hash_key and field.range_key:
                raise self._fail(f"field {field.name!r} cannot be both the hash_key and the range_key")
        hash_keys = [f for f in self.fields.values() if f.hash_key]
        range_keys = [f for f in self.fields.values() if f.range_key]
        if self.abstract and not hash_keys:
            return
        if len(hash_keys) != 1:
            names = [f.name for f in hash_keys]
            raise self._fail(f"a model needs exactly one hash_key field, found {names or 'none'}")
        if len(range_keys) > 1:
            raise self._fail(f"at most one range_key field, found {[f.name for f in range_keys]}")
        self.hash_key = hash_keys[0]
        self.range_key = range_keys[0] if range_keys else None
        self.key_names = tuple(f.name for f in (self.hash_key, self.range_key) if f is not None)
        self._check_composite_cycles()
        # Every field a change reaches: the field itself and each composite built on it,
        # directly or through other composites.
        self.related_fields = {name: {name} for name in self.fields}
        for field in self.fields.values():
            if isinstance(field, Composite):
                for part in self.all_subfields(field):
                    self.related_fields[part].add(field.name)
        key_parts: set[str] = set()
        for key in (self.hash_key, self.range_key):
            if key is not None:
                key_parts.add(key.name)
                if isinstance(key, Composite):
                    key_parts |= self.all_subfields(key)
        self._key_parts = frozenset(key_parts)
        self.composites = tuple(f for f in self.fields.values() if isinstance(f, Composite))
        self._build_orderings()
        schema.validate_declaration(self)

    def leaves(self, field: Composite) -> set[str]:
        """The plain (not composite) fields a composite is computed from, at any depth."""
        leaves: set[str] = set()
        for name in field.subfields:
            sub = self.fields[name]
            leaves |= self.leaves(sub) if isinstance(sub, Composite) else {name}
        return leaves

    def all_subfields(self, field: Composite) -> set[str]:
        """Every field a composite is computed from: its subfields, theirs, and so on."""
        names: set[str] = set()
        for name in field.subfields:
            names.add(name)
            sub = self.fields[name]
            if isinstance(sub, Composite):
                names |= self.all_subfields(sub)
        return names

    def _check_composite_cycles(self) -> None:
        def visit(field: Composite, path: tuple[str, ...]) -> None:
            for name in field.subfields:
                if name in path:
                    raise self._fail(f"composite fields form a cycle: {' -> '.join(path + (name,))}")
                sub = self.fields[name]
                if isinstance(sub, Composite):
                    visit(sub, path + (name,))

        for field in self.fields.values():
            if isinstance(field, Composite):
                visit(field, (field.name,))

    def _build_orderings(self) -> None:
        self.orderings = [Ordering(self, self.hash_key, self.range_key)]
        local = [f for f in self.fields.values() if f.index is not None]
        index_names: set[str] = set()
        if local and self.range_key is None:
            raise self._fail(
                f"local index {local[0].index!r} on field {local[0].name!r} needs the table to "
                "have a range_key"
            )
        if len(local) > MAX_LOCAL_INDEXES:
            raise self._fail(
                f"DynamoDB allows at most {MAX_LOCAL_INDEXES} local indexes, found {len(local)}: "
                + ", ".join(f"{f.index!r} on field {f.name!r}" for f in local)
            )
        for field in local:
            if field.hash_key or field.range_key:
                raise self._fail(
                    f"field {field.name!r} is a table key and cannot carry local index "
                    f"{field.index!r}"
                )
            if field.index in index_names:
                raise self._fail(
                    f"index name {field.index!r} is used twice (again by field {field.name!r})"
                )
            index_names.add(str(field.index))
            self.orderings.append(
                Ordering(self, self.hash_key, field, field.index, False, field.projection)
            )
        if len(self.global_indexes) > MAX_GLOBAL_INDEXES:
            raise self._fail(
                f"DynamoDB allows at most {MAX_GLOBAL_INDEXES} global indexes, found "
                f"{len(self.global_indexes)}: {[getattr(g, 'name', g) for g in self.global_indexes]}"
            )
        for gindex in self.global_indexes:
            if not isinstance(gindex, GlobalIndex):
                raise self._fail(f"global_indexes must hold GlobalIndex objects, got {gindex!r}")
            if gindex.name in index_names:
                raise self._fail(
                    f"index name {gindex.name!r} is used twice (again by a global index)"
                )
            index_names.add(gindex.name)
            for role, name in (("hash key", gindex.hash_key), ("range key", gindex.range_key)):
                if name is not None and name not in self.fields:
                    raise self._fail(
                        f"global index {gindex.name!r} {role} {name!r} is not a declared field"
                    )
            hash_field = self.fields[gindex.hash_key]
            range_field = self.fields[gindex.range_key] if gindex.range_key else None
            self.orderings.append(
                Ordering(self, hash_field, range_field, gindex.name, True, gindex.projection)
            )

    # -- keys -----------------------------------------------------------------------------
    def is_key_part(self, name: str) -> bool:
        """True for the key fields and every subfield of a composite key."""
        return name in self._key_parts

    def hk(self, obj: Any = None, scope: Mapping[str, Any] | None = None) -> Any:
        """The hash key value of an object or a dict of field values."""
        return self.hash_key.resolve(obj, dict(scope) if scope is not None else None)

    def rk(self, obj: Any = None, scope: Mapping[str, Any] | None = None) -> Any:
        if self.range_key is None:
            return None
        return self.range_key.resolve(obj, dict(scope) if scope is not None else None)

    def pk_dict(
        self, obj: Any = None, scope: Mapping[str, Any] | None = None, ddb_dump: bool = False
    ) -> dict[str, Any]:
        """The primary key of an object or of a dict of field values (or of key subfields).

        With ``ddb_dump`` the values are AttributeValues, ready for a request.
        """
        key: dict[str, Any] = {}
        for field in (self.hash_key, self.range_key):
            if field is None:
                continue
            if scope is not None:
                value = self._key_value_from_scope(field, scope)
            else:
                value = field.resolve(obj)
            if value is None or value == "" or value == b"":
                raise ValueError(
                    f"{field.qualname}: the primary key needs a non-empty value, got {value!r}"
                )
            if ddb_dump:
                key[field.name] = field.ddb_dump_for_query(value)
            else:
                key[field.name] = value
        return key

    def _key_value_from_scope(self, field: Field, scope: Mapping[str, Any]) -> Any:
        if field.name in scope:
            return field.coerce(scope[field.name])
        if isinstance(field, Composite) and field.can_resolve(scope.keys()):
            return field.resolve(scope=dict(scope))
        raise ValueError(
            f"{field.qualname}: a key needs {self.describe_key_need(field, scope)}; "
            f"got {sorted(scope)}"
        )

    def describe_key_need(self, field: Field, given: Iterable[str] = ()) -> str:
        """What a key condition on ``field`` needs, for messages: "'uid'", or for a composite
        "'uid' or its parts ['type', 'id'] (missing ['id'])"."""
        if not isinstance(field, Composite):
            return repr(field.name)
        parts = list(dict.fromkeys(_declared_order(field, self.fields)))
        missing = list(dict.fromkeys(field.missing_parts(given)))
        text = f"{field.name!r} or its parts {parts}"
        return text + (f" (missing {missing})" if missing and len(missing) < len(parts) else "")

    def check_key_dict(self, scope: Mapping[str, Any]) -> None:
        """Unknown names in a key dict are an error (catches typos before any request)."""
        allowed = set(self.key_names) | set(self._key_parts)
        unknown = [name for name in scope if name not in allowed]
        if unknown:
            raise ValueError(
                f"{self.model.__name__}: unknown key field(s) {unknown} in {dict(scope)!r}; "
                f"the primary key is {list(self.key_names)}"
            )

    # -- index choice ---------------------------------------------------------------------
    def get_ordering_from_index(self, index: str | None) -> Ordering:
        for ordering in self.orderings:
            if ordering.index_name == index:
                return ordering
        names = [o.index_name for o in self.orderings if o.index_name]
        raise ValueError(f"{self.model.__name__} has no index {index!r}; it has {names}")

    def get_ordering_from_fields(
        self, eq_fields: Iterable[str], fields: Iterable[str]
    ) -> Ordering:
        """Pick the ordering (table, LSI or GSI) a query can use.

        ``eq_fields`` are the names constrained with '=', ``fields`` those constrained with a
        range operator. An ordering qualifies when its hash key is in ``eq_fields``; those whose
        range key is constrained are preferred, then the table itself.
        """
        eq = set(eq_fields)
        ranged = set(fields)
        candidates = [o for o in self.orderings if o.hash_key.name in eq]
        if not candidates:
            options = ", ".join(o.describe() for o in self.orderings)
            raise ValueError(
                f"{self.model.__name__}: a query needs an equality condition on the hash key of "
                f"the table or of an index; options: {options}. Constrained: {sorted(eq | ranged)}."
                + self._composite_hints(eq)
                + " Use engine.scan() to read without a key."
            )
        ranged_matches = [
            o
            for o in candidates
            if o.range_key is not None and (o.range_key.name in ranged or o.range_key.name in eq)
        ]
        # An equality on the range key is the strongest match (a point or a full key).
        full = [o for o in ranged_matches if o.range_key is not None and o.range_key.name in eq]
        for group in (full, ranged_matches, candidates):
            if not group:
                continue
            if len(group) == 1:
                return group[0]
            tables = [o for o in group if o.index_name is None]
            if tables:
                return tables[0]
            raise AmbiguousIndexError(
                f"{self.model.__name__}: the query could use "
                + " or ".join(o.describe() for o in group)
                + "; choose one with .index('name')"
            )
        raise AssertionError("unreachable")

    def _composite_hints(self, eq: set[str]) -> str:
        """For a query that gave some parts of a composite hash key: which are missing."""
        hints = []
        for ordering in self.orderings:
            key = ordering.hash_key
            if isinstance(key, Composite) and set(self.all_subfields(key)) & eq:
                hint = f" A key on {key.name!r} needs {self.describe_key_need(key, eq)}."
                if hint not in hints:
                    hints.append(hint)
        return "".join(hints)

    # -- schema ---------------------------------------------------------------------------
    def ddb_tablename(self, namespace: Sequence[str] | str | None = ()) -> str:
        """The DynamoDB table name: namespace parts joined with '-', then the model name.

        ValueError when DynamoDB would refuse the name (checked here, before any request).
        """
        name = namespace_prefix(namespace) + self.name
        if not _TABLE_NAME.fullmatch(name):
            raise ValueError(
                f"{self.model.__name__}: table name {name!r} (namespace {namespace!r}, model "
                f"name {self.name!r}) is not a valid DynamoDB table name: 3 to 255 of the "
                "characters a-z, A-Z, 0-9, '_', '-', '.'"
            )
        return name

    def create_request(
        self, tablename: str, throughput: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The CreateTable request for this model's table (see schema.create_table_request)."""
        return schema.create_table_request(self, tablename, throughput)

    def check_throughput(self, override: Mapping[str, Any]) -> None:
        """ValueError unless a throughput override fits: 'read', 'write', global index names."""
        schema.check_throughput_override(self, override)

    def enable_ttl(self, connection: DynamoDBConnection, tablename: str) -> bool:
        """Switch on the model's TTL for an ACTIVE table; False when the model declares none."""
        request = schema.ttl_request(self, tablename)
        if request is None:
            return False
        connection.call("UpdateTimeToLive", request)
        return True

    def create_dynamo_schema(
        self,
        connection: DynamoDBConnection,
        tablenames: Iterable[str] | None = None,
        test: bool = False,
        wait: bool = False,
        throughput: Mapping[str, Any] | None = None,
        namespace: Sequence[str] | str | None = (),
    ) -> str | None:
        """Create this model's table unless it exists; returns its name, or None.

        ``tablenames`` lists the tables known to exist (DescribeTable is asked otherwise).
        With ``test`` nothing is created. A model with a TTL waits for the table even without
        ``wait``, since DynamoDB sets a TTL only on an ACTIVE table.
        """
        if self.abstract:
            return None
        tablename = self.ddb_tablename(namespace)
        if tablenames is None:
            exists = connection.describe_table(tablename) is not None
        else:
            exists = tablename in set(tablenames)
        if exists:
            return None
        request = self.create_request(tablename, throughput)
        if not test:
            connection.create_table(request, wait=wait or self.ttl_attribute is not None)
            self.enable_ttl(connection, tablename)
        return tablename

    def delete_dynamo_schema(
        self,
        connection: DynamoDBConnection,
        tablenames: Iterable[str] | None = None,
        test: bool = False,
        wait: bool = False,
        namespace: Sequence[str] | str | None = (),
    ) -> str | None:
        """Drop this model's table if it exists; returns its name, or None."""
        if self.abstract:
            return None
        tablename = self.ddb_tablename(namespace)
        if tablenames is not None and tablename not in set(tablenames):
            return None
        if test:
            if tablenames is None and connection.describe_table(tablename) is None:
                return None
            return tablename
        return tablename if connection.delete_table(tablename, wait=wait) else None


def _declared_order(field: Composite, fields: Mapping[str, Field]) -> list[str]:
    """The leaves of a composite in the order merge sees them (depth first)."""
    names: list[str] = []
    for name in field.subfields:
        sub = fields[name]
        names.extend(_declared_order(sub, fields) if isinstance(sub, Composite) else [name])
    return names


def _copy_field(field: Field) -> Field:
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    clone.model = None
    return clone


def _is_base(cls: type) -> bool:
    """True for the base ``Model``: the one model class that derives from no other."""
    return not any(isinstance(base, ModelMetaclass) for base in cls.__bases__)


class ModelMetaclass(type):
    """Builds ``meta_`` for every model class (the base ``Model`` too, as an abstract model)
    and validates the declaration."""

    def __init__(cls, name: str, bases: tuple[type, ...], dct: dict[str, Any]) -> None:
        super().__init__(name, bases, dct)
        meta = ModelMetadata(cls)  # type: ignore[arg-type]
        cls.meta_ = meta
        meta.post_create()

    def __getattr__(cls, name: str) -> Any:
        """``Tweet.link`` for an undeclared attribute: a placeholder field for conditions.

        Only names that could be saved get one (not beginning or ending with '_'), and only
        on subclasses of ``Model``, so Python's own protocol lookups still find nothing.
        """
        if (
            name.startswith("_")
            or name.endswith("_")
            or "meta_" not in cls.__dict__
            or _is_base(cls)
        ):
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
        return cls.field(name)
