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

import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from .connection.batches import (
    WRITE_BATCH_SIZE,
    Item,
    KeyIdentity,
    WriteStream,
    _write_attributes,
    key_identity,
)
from .exceptions import BatchWriteError
from .models import _add_numbers, load_value
from .sync_plan import SetDelta

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .models import Model

__all__ = ["BatchWriter"]

Write = tuple["Model", str, dict[str, Any]]  # (object, table, PutRequest / DeleteRequest)


class BatchWriter:
    """Batched puts (``save``, always overwriting) and deletes of model objects.

    Writes to one key land in the order given (the last one wins); writes to different keys
    may land in any order. An object whose write DynamoDB confirmed is marked saved
    (``post_save_`` runs) or, after a delete, no longer stored, in a call after the
    confirmation comes back (the writer looks once every 25 writes, when a key waits for its
    own batch, and at the end); an ``incr_``/``add_``/``remove_`` made since it was given
    stays pending. When one key is given again before its earlier write was sent, only the later
    write is sent, and the object of the earlier one is left as it was (not marked saved:
    the item holds the later one).

    If a batch fails after its retries, nothing more is sent to any table, the batches in
    flight are waited for, and :class:`~flywheel.exceptions.BatchWriteError` is raised, from
    the call that noticed it (a later ``save``/``delete``, within 25, or leaving the block):
    ``unprocessed`` lists the requests not written, and every object not confirmed keeps its
    changes. ``written`` lists the confirmed requests of a writer made with
    ``keep_written=True`` (the engine's ``save(list)`` and ``delete(list)``); a streaming
    writer only counts them, in the message. An error raised by ``post_save_`` (the object
    is saved all the same) is raised at the end of the call, once every object given to it
    is queued and every confirmed object is marked.

    One writer may be shared by threads (its calls take turns). A ``KeyboardInterrupt`` or
    ``SystemExit`` (in the block or in one of the writer's calls) stops it: the batches in
    flight are waited for and their objects marked, nothing more is sent. A writer whose
    ``with`` block has ended, or that stopped, refuses further use.
    """

    def __init__(self, engine: Engine, keep_written: bool = False) -> None:
        self.engine = engine
        self.keep_written = keep_written
        self.streams: dict[str, WriteStream] = {}
        #: why the writer sends nothing more: the error it raised, an interruption, the end
        #: of its block
        self.failure: BatchWriteError | None = None
        self.halted = False
        self.closed = False
        #: (request, object) of the writes DynamoDB confirmed, for the objects to be marked
        #: in the caller's thread
        self._confirmed: deque[tuple[dict[str, Any], Model]] = deque()
        self._hook_error: Exception | None = None
        self._unpolled = 0  # writes queued since the streams were last polled
        self._lock = threading.RLock()

    def save(self, items: Model | Iterable[Model]) -> None:
        """Queue whole items to be stored, overwriting what their keys hold."""
        from .engine import _each_model

        for obj in _each_model(items, "save"):
            self._check()
            table, item = self.engine._whole_item(obj)
            with self._lock:
                self._call(self._add, obj, table, {"PutRequest": {"Item": item}})
        self._raise_hook_error()

    def delete(self, items: Model | Iterable[Model]) -> None:
        """Queue the deletion of the items of these objects (whatever they hold now)."""
        from .engine import _each_model

        for obj in _each_model(items, "delete"):
            self._check()
            table, request = delete_request(self.engine, obj)
            with self._lock:
                self._call(self._add, obj, table, request)
        self._raise_hook_error()

    def send_all(self, writes: Sequence[Write]) -> None:
        """Write ``(object, table, request)`` triples prepared beforehand, and wait; a key
        given twice is written once, the last write winning (the earlier object is left as
        it was). If the writer stops, the error lists every request not written."""
        with self._lock:
            self._call(self._send_all, writes)
        self._raise_hook_error()

    def flush(self) -> None:
        """Send everything queued and wait until DynamoDB has confirmed it."""
        with self._lock:
            self._call(self._flush)
        self._raise_hook_error()

    def __enter__(self) -> BatchWriter:
        self._check()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            try:
                if self.failure is not None or self.halted or self.closed:
                    return  # already told to the caller
                if error is not None and not isinstance(error, Exception):
                    self._halt()  # KeyboardInterrupt, SystemExit: send nothing more
                    return
                # what was queued before an error in the block was accepted: it is written
                # (if that fails, the BatchWriteError is raised, with the block's error as
                # its context)
                self._call(self._flush)
                if error is None:
                    self._raise_hook_error()
                elif self._hook_error is not None and hasattr(error, "add_note"):
                    error.add_note(f"while the batch writer finished, post_save_ raised {self._hook_error!r}")
            finally:
                self.closed = True

    def __del__(self) -> None:
        if self.failure is None and not self.halted:
            left = sum(len(stream.unconfirmed) for stream in self.streams.values())
            if left:
                warnings.warn(
                    f"a batch writer was dropped with {left} writes not sent: use it in a "
                    "`with` block or call flush()",
                    ResourceWarning,
                    stacklevel=2,
                )

    # -- under the lock ---------------------------------------------------------------------
    def _call(self, action: Any, *args: Any) -> None:
        """Run ``action``, then mark the objects confirmed meanwhile, even if it raised; an
        interruption stops the writer."""
        self._check()
        try:
            try:
                action(*args)
            finally:
                self._mark_confirmed()
        except BaseException as exc:
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
                self._halt()
            raise

    def _add(
        self, obj: Model, table: str, request: dict[str, Any], rest: Iterable[dict[str, Any]] = ()
    ) -> None:
        """Queue one write; if some stream has stopped, raise its error, counting this
        request (when it was not queued) and ``rest`` as not sent."""
        queued = self._queue(obj, table, request)
        if not queued or self._stopped():
            self._stop(table, [*([] if queued else [request]), *rest])

    def _send_all(self, writes: Sequence[Write]) -> None:
        latest: dict[tuple[str, KeyIdentity], Write] = {}
        for write in writes:
            obj, table, request = write
            identity = key_identity(_write_attributes(request, table), obj.meta_.key_names, table)
            latest.pop((table, identity), None)  # the last write moves to its position
            latest[table, identity] = write
        unique = list(latest.values())
        for position, (obj, table, request) in enumerate(unique):
            # what follows, read only if the writer stops (no copy per write)
            rest = (r for _, _, r in islice(unique, position + 1, None))
            self._add(obj, table, request, rest)
        self._flush()

    def _queue(self, obj: Model, table: str, request: dict[str, Any]) -> bool:
        """Queue one write; False (not queued) if some stream has stopped."""
        streams = self.streams
        self._unpolled += 1
        if self._unpolled >= WRITE_BATCH_SIZE:  # once a batch: a poll costs more than a write
            self._unpolled = 0
            # Let the batch threads have the GIL: one waiting to send a batch or to read an
            # answer would otherwise wait up to sys.getswitchinterval() (5 ms) while this
            # thread dumps items, leaving the server idle (measured: ~20% more items/s).
            time.sleep(0)
            for each in streams.values():
                each.poll()  # settle what came back, and notice a failure early
        if self._stopped():
            return False
        stream = streams.get(table)
        if stream is None:
            confirmed = self._confirmed
            stream = streams[table] = WriteStream(
                self.engine._connection(), table, obj.meta_.key_names,
                # not a method of the writer: no cycle, so a writer dropped with writes
                # unsent is freed (and warns) at once
                lambda request, written: confirmed.append((request, written)),
                self.keep_written,
            )
        return stream.add(request, obj)

    def _stopped(self) -> bool:
        return any(stream.stopped for stream in self.streams.values())

    def _flush(self) -> None:
        """Send everything, until the post_save_ hooks of what was confirmed queue no more."""
        while True:
            for table, stream in list(self.streams.items()):
                if not stream.stopped:
                    stream.window.run()
                if stream.stopped:
                    self._stop(table, [])
            self._mark_confirmed()
            if not any(stream.unconfirmed for stream in self.streams.values()):
                return

    def _stop(self, table: str, not_sent: list[dict[str, Any]]) -> NoReturn:
        """Some stream stopped: stop every stream, and raise the error of the first that
        stopped (``table``'s if none had), counting every request not written."""
        streams = self.streams
        failed = next((s for s in streams.values() if s.stopped), streams[table])
        try:
            failed.flush(not_sent, [s for s in streams.values() if s is not failed])
        except BatchWriteError as error:
            self.failure = error
            raise
        raise AssertionError(f"the stream of {failed.table!r} stopped without an error")

    def _halt(self) -> None:
        """Send nothing more: wait for the batches in flight, and mark what they wrote."""
        self.halted = True
        for stream in self.streams.values():
            stream.unsent()
        try:
            self._mark_confirmed()
        except BaseException:  # a hook interrupted again: the first interruption is raised
            pass

    def _check(self) -> None:
        if self.failure is not None:
            raise RuntimeError(
                f"this batch writer stopped at an error and sends nothing more: {self.failure}"
            )
        if self.halted:
            raise RuntimeError(
                "this batch writer stopped at an interruption (KeyboardInterrupt or "
                "SystemExit) and sends nothing more"
            )
        if self.closed:
            raise RuntimeError(
                "this batch writer's `with` block has ended; start another with "
                "engine.batch_write()"
            )

    def _mark_confirmed(self) -> None:
        """Mark every object whose write was confirmed, keeping the first error a
        ``post_save_`` hook raises for the end of the call."""
        from .engine import _forget_stored

        confirmed, engine = self._confirmed, self.engine
        while confirmed:
            request, obj = confirmed.popleft()
            put = request.get("PutRequest")
            if put is None:
                _forget_stored(obj)
                continue
            error = engine._saved(obj, put["Item"], _pending_after(obj, put["Item"]))
            if error is not None and self._hook_error is None:
                self._hook_error = error

    def _raise_hook_error(self) -> None:
        error, self._hook_error = self._hook_error, None
        if error is not None:
            raise error


def _pending_after(obj: Model, item: Item) -> tuple[dict[str, Any], set[str]] | None:
    """What ``obj`` still has to sync once ``item`` (dumped from it earlier) is stored: the
    difference between its values now and the item's, for every attribute with a pending
    ``incr_``/``add_``/``remove_`` (made after it was given: the item holds the ones from
    before), and its ``mark_dirty_`` names. None when nothing is pending.

    Worked out from the values, not from what was pending when the object was given, so it
    holds however often the object was given, synced or refreshed in between."""
    state = obj.__dict__
    incrs, dirty = state["__incrs__"], state["__dirty__"]
    if not incrs and not dirty:
        return None
    later: dict[str, Any] = {}
    for name, delta in incrs.items():
        av = item.get(name)
        stored = None if av is None else load_value(obj, name, av)
        local = state.get(name)
        if isinstance(delta, SetDelta):
            have, want = set(stored or ()), set(local or ())
            rest = SetDelta()
            rest.additions, rest.removals = want - have, have - want
            if rest.additions or rest.removals:
                later[name] = rest
            continue
        base = 0 if stored is None else stored
        remaining = _add_numbers(local, -base)
        if remaining != 0:
            later[name] = remaining
            # keep "local value = stored value + pending" exact (floats may be off by an ulp)
            state[name] = _add_numbers(base, remaining)
    return later, set(dirty)


def delete_request(engine: Engine, obj: Model) -> tuple[str, dict[str, Any]]:
    return engine.tablename(type(obj)), {"DeleteRequest": {"Key": obj.pk_dict_}}
