"""``engine.batch_write()``: save and delete many objects in batches, sent as they are given.

    with engine.batch_write() as batch:
        for row in rows:
            batch.save(Tweet(row['user'], row['id'], text=row['text']))

Each object is checked and dumped when it is given (a bad one raises there, naming the model,
field and value, before anything of it is sent); full batches of 25 go out at once, up to the
connection's ``batch_concurrency`` at a time, while the caller prepares the next objects. So a
load of a million items never holds more than a few batches, and preparing items overlaps
with writing them. Leaving the ``with`` block sends the rest and waits for it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .connection.batches import WriteStream
from .exceptions import BatchWriteError

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .models import Model

__all__ = ["BatchWriter"]


class BatchWriter:
    """Batched puts (``save``, always overwriting) and deletes of model objects.

    Writes to one key land in the order given (the last one wins); writes to different keys
    may land in any order. An object DynamoDB confirmed is marked saved (``post_save_`` runs,
    nothing pending) or, after a delete, no longer stored, as soon as the confirmation is
    seen. If a batch fails after its retries, nothing more is sent, the batches in flight are
    waited for, and :class:`~flywheel.exceptions.BatchWriteError` is raised (from the call
    that noticed it, or when leaving the block): ``unprocessed`` lists the requests not
    written, and every object not confirmed keeps its changes. ``written`` lists the
    confirmed requests of a writer made with ``keep_written=True`` (the engine's
    ``save(list)`` and ``delete(list)``); a streaming writer only counts them, in the message.
    """

    def __init__(self, engine: Engine, keep_written: bool = False) -> None:
        self.engine = engine
        self.keep_written = keep_written
        self.streams: dict[str, WriteStream] = {}
        self.failure: BatchWriteError | None = None

    def save(self, items: Model | Iterable[Model]) -> None:
        """Queue whole items to be stored, overwriting what their keys hold."""
        from .engine import _as_list, _models

        for obj in _models(_as_list(items), "save"):
            table, item = self.engine._whole_item(obj)
            self._add(obj, table, {"PutRequest": {"Item": item}})

    def delete(self, items: Model | Iterable[Model]) -> None:
        """Queue the deletion of the items of these objects (whatever they hold now)."""
        from .engine import _as_list, _models

        for obj in _models(_as_list(items), "delete"):
            self._add(obj, *delete_request(self.engine, obj))

    def send_all(self, writes: Sequence[tuple[Model, str, dict[str, Any]]]) -> None:
        """Write ``(object, table, request)`` triples prepared beforehand, and wait; if the
        writer stops, the error lists every request not written, given or not."""
        for position, (obj, table, request) in enumerate(writes):
            self._add(obj, table, request, writes[position + 1 :])
        self.flush()

    def flush(self) -> None:
        """Send everything queued and wait until DynamoDB has confirmed it."""
        self._check()
        for stream in self.streams.values():
            try:
                stream.flush()
            except BatchWriteError as error:
                self._fail(stream, error)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.failure is not None:
            return  # already raised to the caller
        if error is None or isinstance(error, Exception):
            # what was queued before an error in the block was accepted: it is written
            self.flush()
        else:  # KeyboardInterrupt, SystemExit: send nothing more
            for stream in self.streams.values():
                stream.unsent()

    def _add(
        self,
        obj: Model,
        table: str,
        request: dict[str, Any],
        rest: Sequence[tuple[Model, str, dict[str, Any]]] = (),
    ) -> None:
        self._check()
        stream = self.streams.get(table)
        if stream is None:
            stream = self.streams[table] = WriteStream(
                self.engine._connection(), table, type(obj).meta_.key_names,
                self._written, self.keep_written,
            )
        if not stream.add(request, obj):
            try:
                stream.flush(not_sent=[request, *(r for _, _, r in rest)])
            except BatchWriteError as error:
                self._fail(stream, error)

    def _written(self, request: dict[str, Any], owners: list[Model]) -> None:
        """DynamoDB confirmed ``request``, which stands for the writes of ``owners``."""
        from .engine import _forget_stored

        put = request.get("PutRequest")
        for obj in owners:
            if put is None:
                _forget_stored(obj)
            else:
                self.engine._saved(obj, put["Item"])

    def _fail(self, failed: WriteStream, error: BatchWriteError) -> None:
        """Stop every stream; raise ``error``, counting the other tables' writes not sent."""
        for stream in self.streams.values():
            if stream is not failed:
                error.unprocessed.extend(stream.unsent())
        self.failure = error
        raise error

    def _check(self) -> None:
        if self.failure is not None:
            raise RuntimeError(
                f"this batch writer stopped at an error and sends nothing more: {self.failure}"
            )


def delete_request(engine: Engine, obj: Model) -> tuple[str, dict[str, Any]]:
    return engine.tablename(type(obj)), {"DeleteRequest": {"Key": obj.pk_dict_}}
