"""The Engine: saves, syncs, deletes, gets and queries models through one connection.

    engine = Engine(namespace=['prod'])
    engine.connect_to_region('us-east-1')
    engine.register(Tweet)
    engine.create_schema()
    engine.save(Tweet('u1', '1', text='hi'))
    engine.query(Tweet).filter(Tweet.userid == 'u1').all()
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence, TypeVar, overload

from .connection import DynamoDBConnection
from .batch_writer import BatchWriter, delete_request
from .connection.batches import key_identity
from .exceptions import CheckFailed, DynamoDBError
from .item_limits import check_item, check_key
from .expressions import Placeholders, attribute_absent
from .fields.conditions import Condition
from .query import Query, Scan
from .schema_update import SchemaPlan, apply_plan, describe_ttl, plan_table
from .write_marks import WriterMark, stale_marks

if TYPE_CHECKING:  # pragma: no cover
    from .models import Model

__all__ = ["Engine"]

M = TypeVar("M", bound="Model")
Item = dict[str, dict[str, Any]]

CONFLICT_MODES = ("update", "overwrite", "raise")


class Engine:
    """Saves, loads and queries models.

    ``default_conflict`` sets what save/sync/delete do when not told:

    ============  ===============  =======================  =========================
    value         save             sync                     delete
    ============  ===============  =======================  =========================
    'update'      overwrite=True   raise_on_conflict=True   raise_on_conflict=False
    'overwrite'   overwrite=True   raise_on_conflict=False  raise_on_conflict=False
    'raise'       overwrite=False  raise_on_conflict=True   raise_on_conflict=True
    ============  ===============  =======================  =========================

    One engine may be shared by many threads: it keeps no per-call state, and its
    connection's botocore client is thread-safe. Model objects are not: give each thread
    its own.
    """

    def __init__(
        self,
        dynamo: DynamoDBConnection | None = None,
        namespace: Sequence[str] | str = (),
        default_conflict: str = "update",
    ) -> None:
        self.dynamo: DynamoDBConnection = dynamo  # type: ignore[assignment]
        self.namespace = namespace
        self.models: dict[str, type[Model]] = {}
        self._default_conflict = "update"
        self.default_conflict = default_conflict
        self._mark = WriterMark()

    # -- configuration --------------------------------------------------------------------
    @property
    def default_conflict(self) -> str:
        """'update', 'overwrite' or 'raise' (see the class docstring)."""
        return self._default_conflict

    @default_conflict.setter
    def default_conflict(self, value: str) -> None:
        if value not in CONFLICT_MODES:
            raise ValueError(
                f"default_conflict must be one of {list(CONFLICT_MODES)}, got {value!r}"
            )
        self._default_conflict = value

    def connect(self, connection: DynamoDBConnection) -> None:
        """Use an existing DynamoDBConnection."""
        self.dynamo = connection

    def connect_to_region(
        self,
        region: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> None:
        """Connect to DynamoDB in an AWS region."""
        self.dynamo = DynamoDBConnection.connect_to_region(
            region, access_key=access_key, secret_key=secret_key, session=session, **kwargs
        )

    def connect_to_host(
        self,
        host: str = "localhost",
        port: int = 8000,
        is_secure: bool = False,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        **kwargs: Any,
    ) -> None:
        """Connect to a DynamoDB-compatible server (local servers, tests)."""
        self.dynamo = DynamoDBConnection.connect_to_host(
            host=host,
            port=port,
            is_secure=is_secure,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            **kwargs,
        )

    def _connection(self) -> DynamoDBConnection:
        if self.dynamo is None:
            raise ValueError(
                "the engine is not connected; call engine.connect_to_region(...), "
                "engine.connect_to_host(...) or engine.connect(connection) first"
            )
        return self.dynamo

    # -- schema ---------------------------------------------------------------------------
    def register(self, *models: type["Model"]) -> None:
        """Register models so create_schema/delete_schema manage their tables."""
        for model in models:
            meta = getattr(model, "meta_", None)
            if meta is None:
                raise TypeError(f"register() takes Model subclasses, got {model!r}")
            existing = self.models.get(meta.name)
            if existing is not None and existing is not model:
                raise ValueError(
                    f"two models share the table name {meta.name!r}: {existing!r} and {model!r}"
                )
            self.models[meta.name] = model

    def tablename(self, model: type["Model"]) -> str:
        return model.meta_.ddb_tablename(self.namespace)

    def _throughput_overrides(
        self, throughput: Mapping[str, Any] | None, caller: str
    ) -> dict[str, Any]:
        overrides = dict(throughput or {})
        unknown = [name for name in overrides if name not in self.models]
        if unknown:
            raise ValueError(
                f"{caller} throughput names unknown model(s) {unknown}; registered: "
                f"{sorted(self.models)}"
            )
        for name, override in overrides.items():
            self.models[name].meta_.check_throughput(override)
        return overrides

    def create_schema(
        self, test: bool = False, throughput: Mapping[str, Any] | None = None
    ) -> list[str]:
        """Create the missing tables of the registered models; returns the names created.

        ``throughput`` overrides are keyed by model name:
        ``{'Tweet': {'read': 10, 'write': 2, 'ts-index': {'read': 3, 'write': 1}}}``.
        With ``test`` nothing is created (a dry run). Otherwise this returns once every new
        table and its indexes are ACTIVE, with its TTL (if declared) switched on.
        """
        overrides = self._throughput_overrides(throughput, "create_schema")
        connection = self._connection()
        existing = set(connection.list_tables())
        # Every request is built (and every override checked) before any table is created.
        requests = [
            (model.meta_, model.meta_.create_request(self.tablename(model), overrides.get(name)))
            for name, model in self.models.items()
            if not model.meta_.abstract and self.tablename(model) not in existing
        ]
        if not test:
            # Create them all, then wait: the servers build tables in parallel.
            for _meta, request in requests:
                connection.create_table(request, wait=False)
            for meta, request in requests:
                connection.wait_until_active(request["TableName"])
                meta.enable_ttl(connection, request["TableName"])
        return [request["TableName"] for _meta, request in requests]

    def delete_schema(self, test: bool = False) -> list[str]:
        """Drop the tables of the registered models; returns the names deleted.

        With ``test`` nothing is deleted (a dry run); otherwise this returns once they are gone.
        """
        connection = self._connection()
        existing = connection.list_tables()
        deleted = []
        for model in self.models.values():
            table = model.meta_.delete_dynamo_schema(
                connection, tablenames=existing, test=test, wait=False, namespace=self.namespace
            )
            if table is not None:
                deleted.append(table)
        if not test:
            for table in deleted:
                connection.wait_until_gone(table)
        return deleted

    def get_schema(self) -> list[dict[str, Any]]:
        """The CreateTable requests of the registered models' tables."""
        return [
            model.meta_.create_request(self.tablename(model))
            for model in self.models.values()
            if not model.meta_.abstract
        ]

    def update_schema(
        self, test: bool = False, throughput: Mapping[str, Any] | None = None
    ) -> SchemaPlan:
        """Bring the live tables in line with the registered models, as far as DynamoDB can.

        Compares each model with its table (DescribeTable, DescribeTimeToLive) and plans what
        can be changed online: create a missing table or global index, change throughput or
        billing mode, enable TTL or a stream. With ``test`` the plan is only returned;
        otherwise its changes are applied in order, each waited for until the table is ACTIVE.
        Differences that cannot be changed in place (key schema, local indexes, an index's
        keys or projection) or that would delete something are left alone and listed in
        ``plan.mismatches``; ``print(plan)`` gives a readable report. ``throughput`` is as for
        :meth:`create_schema`.
        """
        overrides = self._throughput_overrides(throughput, "update_schema")
        connection = self._connection()
        plan = SchemaPlan()
        for name, model in self.models.items():
            meta = model.meta_
            if meta.abstract:
                continue
            table = self.tablename(model)
            description = connection.describe_table(table)
            ttl = describe_ttl(connection, table) if description is not None else None
            changes, mismatches = plan_table(meta, table, description, ttl, overrides.get(name))
            plan.changes.extend(changes)
            plan.mismatches.extend(mismatches)
        if not test:
            apply_plan(connection, plan)
        return plan

    # -- queries --------------------------------------------------------------------------
    def query(self, model: type[M]) -> Query[M]:
        """Start a query on a model's table."""
        return Query(self, model)

    def __call__(self, model: type[M]) -> Query[M]:
        return self.query(model)

    def scan(self, model: type[M]) -> Scan[M]:
        """Start a scan of a model's table."""
        return Scan(self, model)

    # -- reads ----------------------------------------------------------------------------
    def _key_of(self, model: type["Model"], pkey: Any) -> Item:
        meta = model.meta_
        if not isinstance(pkey, Mapping):
            if meta.range_key is not None:
                raise TypeError(
                    f"{model.__name__} has a range key: give keys as dicts like "
                    f"{dict.fromkeys(meta.key_names, '...')}, not {pkey!r}"
                )
            pkey = {meta.hash_key.name: pkey}
        meta.check_key_dict(pkey)
        key = meta.pk_dict(scope=pkey, ddb_dump=True)
        check_key(model.__name__, key, meta.key_names, pkey.get)
        return key

    @overload
    def get(
        self, model: type[M], pkeys: None = None, consistent: bool = False, **kwargs: Any
    ) -> M | None: ...

    @overload
    def get(
        self, model: type[M], pkeys: Iterable[Any], consistent: bool = False, **kwargs: Any
    ) -> list[M]: ...

    def get(
        self,
        model: type[M],
        pkeys: Iterable[Any] | None = None,
        consistent: bool = False,
        **kwargs: Any,
    ) -> M | list[M] | None:
        """Fetch items by primary key.

        ``get(Tweet, userid='a', id='1')`` returns the item or None;
        ``get(Tweet, [key1, key2])`` returns the found items in the order of the keys given.
        """
        connection = self._connection()
        table = self.tablename(model)
        if pkeys is None:
            key = self._key_of(model, kwargs)
            request: dict[str, Any] = {"TableName": table, "Key": key}
            if consistent:
                request["ConsistentRead"] = True
            item = connection.call("GetItem", request).get("Item")
            return None if item is None else model.ddb_load_(self, item, copy=False)  # type: ignore[return-value]
        if kwargs:
            raise TypeError("get() takes either a list of keys or keyword key fields, not both")
        if isinstance(pkeys, (str, bytes, Mapping)):
            raise TypeError(
                f"get(model, pkeys) takes a list of keys, got {pkeys!r}; for one item use "
                "keyword arguments"
            )
        keys = [self._key_of(model, pkey) for pkey in pkeys]
        items = connection.batch_get(
            table, keys, model.meta_.key_names, consistent=consistent
        )
        names = model.meta_.key_names
        by_key = {key_identity(item, names, table): item for item in items}
        results: list[M] = []
        seen = set()
        for key in keys:
            identity = key_identity(key, names, table)
            if identity in seen:
                continue
            seen.add(identity)
            found = by_key.get(identity)
            if found is not None:
                results.append(model.ddb_load_(self, found, copy=False))  # type: ignore[arg-type]
        return results

    def refresh(self, items: "Model | Iterable[Model]", consistent: bool = False) -> None:
        """Overwrite the objects' data with the stored items, matched by key.

        An object whose item no longer exists keeps its values and stops being persisted_.
        """
        objs = _models(items, "refresh")
        connection = self._connection()
        by_model: dict[type[Model], list[Model]] = {}
        for obj in objs:
            by_model.setdefault(type(obj), []).append(obj)
        for model, group in by_model.items():
            table = self.tablename(model)
            names = model.meta_.key_names
            keys = [obj.pk_dict_ for obj in group]
            if len(group) == 1:
                request: dict[str, Any] = {"TableName": table, "Key": keys[0]}
                if consistent:
                    request["ConsistentRead"] = True
                item = connection.call("GetItem", request).get("Item")
                found = {} if item is None else {key_identity(keys[0], names, table): item}
            else:
                items_found = connection.batch_get(
                    table, keys, model.meta_.key_names, consistent=consistent
                )
                found = {key_identity(i, names, table): i for i in items_found}
            for obj, key in zip(group, keys):
                item = found.get(key_identity(key, names, table))
                if item is not None:
                    self._loaded(obj, item)
                else:
                    # Gone from the table: keep the values, but no longer claim it is stored,
                    # so a later sync writes every field as new.
                    _forget_stored(obj)
                    obj.__dict__["__engine__"] = self

    def _loaded(self, obj: "Model", item: Item, hooks: bool = True) -> None:
        """The object now holds the whole stored item ``item``, nothing pending; then
        post_load_ runs (unless ``hooks`` is false: the caller runs it)."""
        obj.set_item_(item)
        state = obj.__dict__
        state["__incrs__"] = {}
        state["__dirty__"] = set()
        state["__seen__"] = None
        state["__engine__"] = self
        if hooks:
            obj.post_load_(self)

    # -- writes ---------------------------------------------------------------------------
    def save(self, items: "Model | Iterable[Model]", overwrite: bool | None = None) -> None:
        """Save whole items; without overwrite, CheckFailed if an item's key exists.

        Every object is checked and dumped before anything is sent, so a bad one leaves
        nothing written. With overwrite, several items go out in concurrent batches of 25
        (see :meth:`batch_write`, which streams instead).
        """
        objs = _models(items, "save")
        if overwrite is None:
            overwrite = self.default_conflict in ("update", "overwrite")
        self._connection()  # not connected: fail before any hook runs
        prepared = []
        for obj in objs:
            table, item = self._whole_item(obj, marked=not overwrite)
            prepared.append((obj, table, item))
        if overwrite and len(prepared) > 1:
            writes = [(obj, table, {"PutRequest": {"Item": item}}) for obj, table, item in prepared]
            BatchWriter(self, keep_written=True).send_all(writes)
            return
        # One conditional PutItem each (a batch cannot carry conditions): items before one
        # whose key exists stay written.
        mark = self._mark.attribute
        hook_error = None
        for position, (obj, table, sent) in enumerate(prepared):
            request: dict[str, Any] = {"TableName": table, "Item": sent}
            token = None
            if not overwrite:
                token = sent[mark]["S"]
                ph = Placeholders()
                request["ConditionExpression"] = attribute_absent(
                    type(obj).meta_.hash_key.name, ph
                )
                ph.apply(request)
            self._write("PutItem", request, obj, token, _progress(position, len(prepared)))
            stored = sent if token is None else {k: v for k, v in sent.items() if k != mark}
            error = self._saved(obj, stored)
            hook_error = hook_error or error
        if hook_error is not None:
            raise hook_error

    def batch_write(self) -> BatchWriter:
        """A context manager that saves (overwriting) and deletes objects in batches, each
        checked when given and sent as soon as 25 are queued; see
        :class:`~flywheel.batch_writer.BatchWriter`::

            with engine.batch_write() as batch:
                for row in rows:
                    batch.save(Tweet(**row))
        """
        self._connection()
        return BatchWriter(self)

    def _whole_item(self, obj: "Model", marked: bool = False) -> tuple[str, Item]:
        """Run the save hooks and checks of ``obj``: its table and the item to put.

        ``marked`` puts this engine's writer mark in the item, which tells a retried
        conditional put that lands on its own lost attempt from someone else's item.
        """
        obj.pre_save_(self)
        obj.validate_()
        meta = obj.meta_
        meta.pk_dict(obj)  # a key that is missing or empty raises here, naming its field
        item = obj.ddb_dump_()
        if marked:
            item = self._marked(item)
        check_item(type(obj).__name__, item, meta.key_names, obj.get_)
        return self.tablename(type(obj)), item

    def _marked(self, item: Item) -> Item:
        """``item`` carrying this engine's writer mark, set to a fresh token."""
        return {**item, self._mark.attribute: {"S": self._mark.new_token()}}

    def _write(
        self,
        operation: str,
        request: dict[str, Any],
        obj: "Model",
        token: str | None = None,
        progress: str = "",
    ) -> dict[str, Any]:
        """Send one write of ``obj``; a failed condition names the object it was for (and
        ``progress``: what became of the others of the call).

        ``token`` is what the write sets this engine's writer mark to (see
        :mod:`flywheel.write_marks`). When an attempt got no answer and the write then
        fails, the item is read back: if it holds the token (or is gone, for a delete), the
        write landed and is reported as done.
        """
        key_names = type(obj).meta_.key_names
        key = request.get("Key") or {name: request["Item"][name] for name in key_names}
        if token is None:
            return self._send_write(operation, request, obj, key, None, progress)
        table = request["TableName"]
        with self._mark.lock(table, key_identity(key, key_names, table)):
            response = self._send_write(operation, request, obj, key, token, progress)
        stored = response.get("Attributes")
        if stored:
            self._remove_stale_marks(table, key, stored)
        return response

    def _send_write(
        self,
        operation: str,
        request: dict[str, Any],
        obj: "Model",
        key: Item,
        token: str | None,
        progress: str,
    ) -> dict[str, Any]:
        try:
            return self._connection().call(operation, request)
        except DynamoDBError as exc:
            # a write that may have landed unheard: find out, where the item can tell
            if exc.unanswered_attempts and (token is not None or operation == "DeleteItem"):
                landed = self._landed(operation, request["TableName"], key, token)
                if landed is not None:
                    return landed
            if not isinstance(exc, CheckFailed):
                raise
            raise CheckFailed(
                exc.code,
                f"{obj!r} was not written{progress}: {exc.message}",
                status=exc.status,
                operation=exc.operation,
                response=exc.response,
            ) from exc

    def _landed(
        self, operation: str, table: str, key: Item, token: str | None
    ) -> dict[str, Any] | None:
        """The response to give for a write whose answer was lost, if the stored item (read
        consistently) shows that it landed: it holds the write's token in this engine's
        writer mark, or is gone after a delete. None if it did not, or cannot be read."""
        read = {"TableName": table, "Key": key, "ConsistentRead": True}
        try:
            stored = self._connection().call("GetItem", read).get("Item")
        except DynamoDBError:
            return None  # the caller raises the write's own error
        if operation == "DeleteItem":
            return {} if stored is None else None
        if stored is not None and stored.get(self._mark.attribute) == {"S": token}:
            return {"Attributes": stored}
        return None

    def _remove_stale_marks(self, table: str, key: Item, stored: Item) -> None:
        """Remove other writers' marks too old to matter, if each still holds what was seen
        (best effort: a failure leaves them for a later write)."""
        stale = stale_marks(stored, self._mark.attribute)
        if not stale:
            return
        update, condition, ph = WriterMark.cleanup_request(stale)
        request = {"TableName": table, "Key": key, "UpdateExpression": update}
        request["ConditionExpression"] = condition
        try:
            self._connection().call("UpdateItem", ph.apply(request))
        except DynamoDBError:
            pass

    def _saved(
        self,
        obj: "Model",
        item: Item,
        pending: "tuple[dict[str, Any], set[str]] | None" = None,
    ) -> Exception | None:
        """The stored item is now exactly ``item``, nothing pending (or only ``pending``:
        the incr_/add_/remove_ and mark_dirty_ made since the item was dumped); then
        post_save_ runs. What post_save_ raised is returned, for the caller to raise once
        its other objects are done: the object is saved all the same."""
        state = obj.__dict__
        state["__cache__"] = item
        state["__incrs__"], state["__dirty__"] = pending or ({}, set())
        state["__seen__"] = None
        state["__engine__"] = self
        try:
            obj.post_save_()
        except Exception as exc:
            return exc
        return None

    def sync(
        self,
        items: "Model | Iterable[Model]",
        raise_on_conflict: bool | None = None,
        consistent: bool = False,
        constraints: "Iterable[Condition] | None" = None,
    ) -> None:
        """Write what changed on each item, then load the stored item into it.

        One UpdateItem per item sends only what changed: SET for changed fields, REMOVE for
        fields now None or empty, ADD / DELETE for ``incr_``, ``add_`` and ``remove_``; the
        item it returns is loaded, so the object matches the database. An object with
        nothing to write is refreshed (``consistent`` applies to that read). A set given
        both ``add_`` and ``remove_`` takes a second UpdateItem for the removals, sent only
        once the first succeeded (DynamoDB takes one action per attribute in an update).

        With ``raise_on_conflict`` every written field must still hold the value the object
        last saw (or be absent if it saw it absent) and every ``constraints`` condition must
        hold, else :class:`~flywheel.CheckFailed` is raised, nothing of that item is written
        and the object keeps its pending changes. Increments and set changes are atomic and
        need no check. Items are written in order: items before a failing one stay written.
        """
        objs = _models(items, "sync")
        by_default = raise_on_conflict is None
        if raise_on_conflict is None:
            raise_on_conflict = self.default_conflict in ("update", "raise")
        constraints = list(constraints) if constraints is not None else None
        for condition in constraints or ():
            if not isinstance(condition, Condition):
                raise TypeError(
                    "sync(constraints=...) takes conditions built from fields, like "
                    f"[Tweet.retweets < 10], not {condition!r}"
                )
        if constraints and not raise_on_conflict:
            why = f" (this engine's default_conflict={self.default_conflict!r} turns it off)" if by_default else ""
            raise ValueError(f"sync(constraints=...) needs raise_on_conflict=True{why}")
        connection = self._connection()
        plans = []
        # Every plan is made (and every check= run) before anything is written.
        for obj in objs:
            obj.pre_save_(self)
            obj.validate_()
            plan = obj.sync_plan_(raise_on_conflict, constraints, self._mark.attribute)
            # the whole item as it will be stored (for an object loaded whole)
            item = obj.ddb_dump_()
            if plan.token is not None:
                item = self._marked(item)
            check_item(type(obj).__name__, item, obj.meta_.key_names, obj.get_)
            plans.append((obj, plan))
        hook_error: Exception | None = None
        for position, (obj, plan) in enumerate(plans):
            if plan.request is None:
                try:
                    self.refresh(obj, consistent=consistent)
                except DynamoDBError:
                    raise
                except Exception as exc:  # post_load_: the object is loaded all the same
                    hook_error = hook_error or exc
                continue
            table = self.tablename(type(obj))
            request = {**plan.request, "TableName": table}
            response = self._write(
                "UpdateItem", request, obj, plan.token, _progress(position, len(plans))
            )
            if plan.deferred_removals:
                # The first update landed: load it, then send the removals on their own. If
                # that fails, the object is left holding the stored item with the removals
                # still pending, so a later sync() finishes the job.
                self._loaded(obj, response.get("Attributes") or {}, hooks=False)
                obj.remove_(**plan.deferred_removals)
                follow_up = obj.sync_plan_(False).request
                assert follow_up is not None  # it holds the DELETE of every removal
                response = connection.call("UpdateItem", {**follow_up, "TableName": table})
            self._loaded(obj, response.get("Attributes") or {}, hooks=False)
            # the object is saved and loaded whatever its hooks raise: the first error is
            # raised once every object of the call is done
            for hook in (obj.post_save_, partial(obj.post_load_, self)):
                try:
                    hook()
                except Exception as exc:
                    hook_error = hook_error or exc
        if hook_error is not None:
            raise hook_error

    def delete(
        self, items: "Model | Iterable[Model]", raise_on_conflict: bool | None = None
    ) -> None:
        """Delete items; with raise_on_conflict, only if unchanged since they were read."""
        objs = _models(items, "delete")
        if raise_on_conflict is None:
            raise_on_conflict = self.default_conflict == "raise"
        if raise_on_conflict or len(objs) == 1:
            for position, obj in enumerate(objs):
                request: dict[str, Any] = {
                    "TableName": self.tablename(type(obj)),
                    "Key": obj.pk_dict_,
                }
                if raise_on_conflict:
                    ph = Placeholders()
                    condition = obj.delete_condition_(ph)
                    if condition:
                        request["ConditionExpression"] = condition
                    ph.apply(request)
                self._write("DeleteItem", request, obj, None, _progress(position, len(objs)))
                _forget_stored(obj)
            return
        writes = [(obj, *delete_request(self, obj)) for obj in objs]
        BatchWriter(self, keep_written=True).send_all(writes)

    def delete_key(
        self, model: type["Model"], pkeys: Iterable[Any] | None = None, **kwargs: Any
    ) -> int:
        """Delete items by primary key; returns the number of distinct keys given."""
        if pkeys is None:
            keys = [self._key_of(model, kwargs)]
        else:
            if kwargs:
                raise TypeError("delete_key() takes a list of keys or keyword key fields, not both")
            if isinstance(pkeys, (str, bytes, Mapping)):
                raise TypeError(f"delete_key(model, pkeys) takes a list of keys, got {pkeys!r}")
            keys = [self._key_of(model, pkey) for pkey in pkeys]
        table = self.tablename(model)
        distinct = {key_identity(key, model.meta_.key_names, table): key for key in keys}
        if not distinct:
            return 0
        connection = self._connection()
        if len(distinct) == 1:
            connection.call("DeleteItem", {"TableName": table, "Key": next(iter(distinct.values()))})
        else:
            connection.batch_write(
                table,
                [{"DeleteRequest": {"Key": key}} for key in distinct.values()],
                model.meta_.key_names,
            )
        return len(distinct)

    delete_keys = delete_key


def _progress(position: int, total: int) -> str:
    """What became of the other objects of a call that writes them one at a time, in order,
    when the one at ``position`` fails ('' when it was the only one)."""
    if total == 1:
        return ""
    return f" ({position} of the {total} before it done, {total - position - 1} after it not sent)"


def _each_model(items: Any, caller: str) -> Iterator["Model"]:
    """The objects of ``items`` (one object, or any iterable of them), each checked to be a
    model object (not a class, key or dict) as it comes."""
    from .models import Model  # models imports the engine's layer below; import on use

    if isinstance(items, (Model, str, bytes, Mapping)) or not isinstance(items, Iterable):
        items = (items,)
    for obj in items:
        if not isinstance(obj, Model):
            raise TypeError(f"{caller}() takes model objects, got {obj!r} ({type(obj).__name__})")
        yield obj


def _models(items: Any, caller: str) -> list["Model"]:
    return list(_each_model(items, caller))


def _forget_stored(obj: "Model") -> None:
    """The item is gone: the object is as if never stored (a later sync writes it anew)."""
    obj.__dict__["__cache__"] = None
    obj.__dict__["__seen__"] = None

