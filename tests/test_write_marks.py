"""Writer marks (flywheel.write_marks): which writes carry one, that objects never see them,
and that stale ones are cleared. What they are for — a retry after a lost answer that must
not count twice or be taken for a conflict — is tested through the fault proxy in
tests/test_faults.py."""
from __future__ import annotations

import time
from typing import Any

import pytest
from helpers import stored

from flywheel import Engine, Field, Model
from flywheel.write_marks import MARK_PREFIX, STALE_SECONDS, WriterMark, is_mark


class Counter(Model):
    __metadata__ = {"_name": "MarkCounter"}
    id = Field(hash_key=True)
    value = Field()
    hits = Field(data_type=int)


MODELS = [Counter]


def marks(engine: Engine, **key: Any) -> dict[str, Any]:
    item = stored(engine, Counter, marks=True, **key) or {}
    return {name: av for name, av in item.items() if is_mark(name)}


def mark_of(engine: Engine) -> str:
    return engine._mark.attribute


def test_only_writes_a_retry_could_not_repeat_carry_a_mark(tables: Engine) -> None:
    tables.save(Counter("plain", value="a"))
    assert marks(tables, id="plain") == {}  # a put is idempotent
    tables.save(Counter("new", value="a"), overwrite=False)
    assert list(marks(tables, id="new")) == [mark_of(tables)]  # conditional

    obj = tables.get(Counter, id="plain")
    obj.value = "b"
    obj.sync(raise_on_conflict=False)  # a SET: idempotent
    assert marks(tables, id="plain") == {}
    obj.value = "c"
    obj.sync(raise_on_conflict=True)  # conditional
    first = marks(tables, id="plain")
    assert list(first) == [mark_of(tables)]
    obj.incr_(hits=1)
    obj.sync(raise_on_conflict=False)  # an increment, even unconditional
    second = marks(tables, id="plain")
    assert list(second) == [mark_of(tables)] and second != first  # a fresh token each write


def test_marks_are_never_part_of_an_object(tables: Engine, elsewhere: Engine) -> None:
    obj = Counter("k", value="a")
    tables.save(obj, overwrite=False)
    theirs = elsewhere.get(Counter, id="k")
    theirs.incr_(hits=1)
    theirs.sync()
    assert set(marks(tables, id="k")) == {mark_of(tables), mark_of(elsewhere)}
    for loaded in (tables.get(Counter, id="k"), tables.scan(Counter).one(), theirs):
        assert not [name for name in vars(loaded) if is_mark(name)]
        assert not [name for name in vars(loaded)["__cache__"] if is_mark(name)]
    # a sync of a loaded object neither removes nor compares other writers' marks
    obj = tables.get(Counter, id="k")
    obj.value = "b"
    obj.sync(raise_on_conflict=False)
    assert set(marks(tables, id="k")) == {mark_of(tables), mark_of(elsewhere)}
    assert tables.get(Counter, id="k").hits == 1


def test_stale_marks_of_other_writers_are_removed(tables: Engine) -> None:
    table = tables.tablename(Counter)
    old = f"{int(time.time()) - STALE_SECONDS - 5:x}.0123456789abcdef"
    recent = f"{int(time.time()) - 5:x}.0123456789abcdef"
    item = {
        "id": {"S": "s"},
        f"{MARK_PREFIX}00000001": {"S": old},
        f"{MARK_PREFIX}00000002": {"S": recent},
        f"{MARK_PREFIX}00000003": {"S": "not a token"},  # unreadable: left alone
    }
    tables.dynamo.call("PutItem", {"TableName": table, "Item": item})
    obj = tables.get(Counter, id="s")
    obj.incr_(hits=1)
    obj.sync()
    assert set(marks(tables, id="s")) == {
        mark_of(tables), f"{MARK_PREFIX}00000002", f"{MARK_PREFIX}00000003"
    }


def test_each_process_writes_under_its_own_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    mark = WriterMark()
    here = mark.attribute
    assert is_mark(here) and mark.attribute == here
    monkeypatch.setattr("os.getpid", lambda: -2)  # as in a forked child
    assert mark.attribute != here and is_mark(mark.attribute)
