"""Change tracking, conflicts, atomic updates and the Model helpers, beyond the spec's own
examples (those are in test_spec_crud.py and test_spec_atomic.py).

"Elsewhere" is a second Engine on the same tables: another client of the database. Every
outcome is checked on the stored item, read back with a plain consistent GetItem.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import stored

from flywheel import CheckFailed, Composite, Engine, Field, GlobalIndex, Model


class Post(Model):
    author = Field(hash_key=True)
    id = Field(range_key=True)
    text = Field()
    title = Field()
    likes = Field(data_type=int)
    tags = Field(data_type=set)
    doc = Field(data_type=dict)

    def display(self) -> str:
        return f"{self.author}/{self.id}"


class Counter(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)
    start = Field(data_type=int, default=0)
    label = Field()


class Scored(Model):
    """A composite of two counters: changing a part forces the conflict check (spec)."""

    id = Field(hash_key=True)
    likes = Field(data_type=int)
    replies = Field(data_type=int)
    score = Composite("likes", "replies", data_type=int, merge=lambda a, b: (a or 0) + (b or 0))


class Listed(Model):
    """Indexes that project only part of the item."""

    __metadata__ = {  # noqa: RUF012 - the spec's way of declaring model metadata
        "global_indexes": [
            GlobalIndex.keys("city-index", "city"),
            GlobalIndex.include("kind-index", "kind", includes=["title"]),
        ]
    }
    id = Field(hash_key=True)
    city = Field()
    kind = Field()
    title = Field()
    body = Field()
    views = Field(data_type=int)


MODELS = (Post, Counter, Scored, Listed)


@pytest.fixture
def calls(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The (operation, request) pairs sent through the engine's connection."""
    sent: list[dict[str, Any]] = []
    real_call = tables.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent.append({"op": operation, **request})
        return real_call(operation, request)

    monkeypatch.setattr(tables.dynamo, "call", recording_call)
    yield sent


# -- the conflict matrix ---------------------------------------------------------------------
def two_copies(tables: Engine, elsewhere: Engine, created: bool) -> tuple[Post, Post]:
    """Two clients' objects of one item: loaded from a stored item, or both brand new."""
    if created:
        return Post("a", "1"), Post("a", "1")
    tables.save(Post("a", "1", text="v0", title="t0"))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    assert mine is not None and theirs is not None
    return mine, theirs


@pytest.mark.parametrize("created", [False, True], ids=["loaded", "concurrent-create"])
@pytest.mark.parametrize("raise_on_conflict", [True, False], ids=["raise", "no-raise"])
def test_same_field(
    tables: Engine, elsewhere: Engine, created: bool, raise_on_conflict: bool
) -> None:
    mine, theirs = two_copies(tables, elsewhere, created)
    theirs.text = "theirs"
    elsewhere.sync(theirs, raise_on_conflict=raise_on_conflict)
    mine.text = "mine"
    if raise_on_conflict:
        with pytest.raises(CheckFailed):
            tables.sync(mine, raise_on_conflict=True)
        assert stored(tables, Post, author="a", id="1")["text"] == {"S": "theirs"}  # type: ignore[index]
        assert mine.text == "mine"  # the failed sync left the pending change in place
        tables.refresh(mine, consistent=True)  # what the docs advise: look again, decide
        assert mine.text == "theirs"
    else:
        tables.sync(mine, raise_on_conflict=False)
        assert mine.text == "mine"
        assert stored(tables, Post, author="a", id="1")["text"] == {"S": "mine"}  # type: ignore[index]


@pytest.mark.parametrize("created", [False, True], ids=["loaded", "concurrent-create"])
@pytest.mark.parametrize("raise_on_conflict", [True, False], ids=["raise", "no-raise"])
def test_different_fields_merge(
    tables: Engine, elsewhere: Engine, created: bool, raise_on_conflict: bool
) -> None:
    mine, theirs = two_copies(tables, elsewhere, created)
    theirs.text = "theirs"
    elsewhere.sync(theirs, raise_on_conflict=raise_on_conflict)
    mine.title = "mine"
    tables.sync(mine, raise_on_conflict=raise_on_conflict)
    assert (mine.text, mine.title) == ("theirs", "mine")  # each sees the other's change
    raw = stored(tables, Post, author="a", id="1")
    assert raw is not None and raw["text"] == {"S": "theirs"} and raw["title"] == {"S": "mine"}


def test_concurrent_create_with_an_equal_value_still_conflicts(
    tables: Engine, elsewhere: Engine
) -> None:
    # Equal is not enough: two read-modify-writes from one stale read write equal values.
    elsewhere.sync(Post("a", "1", text="same", likes=1))
    mine = Post("a", "1", text="same", title="mine")
    with pytest.raises(CheckFailed):
        tables.sync(mine, raise_on_conflict=True)
    assert "title" not in stored(tables, Post, author="a", id="1")  # type: ignore[operator]


def test_defaults_of_a_new_object_fill_in_and_never_overwrite(
    tables: Engine, elsewhere: Engine
) -> None:
    elsewhere.save(Counter("c", start=7))
    elsewhere.save(Counter("d", n=1))
    elsewhere.dynamo.call(  # an item written by another client, without 'start'
        "UpdateItem",
        {
            "TableName": Counter.meta_.ddb_tablename(tables.namespace),
            "Key": {"id": {"S": "d"}},
            "UpdateExpression": "REMOVE #s",
            "ExpressionAttributeNames": {"#s": "start"},
        },
    )
    for raise_on_conflict in (True, False):
        c, d = Counter("c"), Counter("d")
        assert c.start == 0 and d.start == 0  # the default
        tables.sync([c, d], raise_on_conflict=raise_on_conflict)
        assert (c.start, d.start, d.n) == (7, 0, 1)
    explicit = Counter("c", start=1)  # not the default: a real write, checked
    with pytest.raises(CheckFailed):
        tables.sync(explicit)


def test_safe_sync_of_a_removal_checks_the_old_value(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Post("a", "1", text="v0"))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    theirs.text = "theirs"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.text = None  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync()  # type: ignore[union-attr]
    assert stored(tables, Post, author="a", id="1")["text"] == {"S": "theirs"}  # type: ignore[index]


def test_in_place_change_to_a_document_is_checked(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Post("a", "1", doc={"n": 1}))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    theirs.doc["n"] = 2  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.doc["m"] = 1  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync()  # type: ignore[union-attr]
    mine.refresh()  # type: ignore[union-attr]
    mine.doc["m"] = 1  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]
    assert mine.doc == {"n": 2, "m": 1}  # type: ignore[union-attr]


# -- atomic updates --------------------------------------------------------------------------
@pytest.mark.parametrize("raise_on_conflict", [True, False], ids=["raise", "no-raise"])
def test_increments_from_two_clients_add_up(
    tables: Engine, elsewhere: Engine, raise_on_conflict: bool
) -> None:
    tables.save(Counter("c", n=1))
    mine = tables.get(Counter, id="c")
    theirs = elsewhere.get(Counter, id="c")
    theirs.incr_(n=10)  # type: ignore[union-attr]
    theirs.sync(raise_on_conflict=raise_on_conflict)  # type: ignore[union-attr]
    mine.incr_(n=100)  # type: ignore[union-attr]
    assert mine.n == 101  # type: ignore[union-attr]  # locally: what it saw, plus the delta
    mine.sync(raise_on_conflict=raise_on_conflict)  # type: ignore[union-attr]  # no check
    assert mine.n == 111  # type: ignore[union-attr]
    assert stored(tables, Counter, id="c")["n"] == {"N": "111"}  # type: ignore[index]


def test_increments_on_unsaved_objects_merge(tables: Engine, elsewhere: Engine) -> None:
    elsewhere.save(Counter("c", n=5, label="kept"))
    fresh = Counter("c")
    fresh.incr_(n=2, hits=1)  # a declared and an undeclared counter
    assert (fresh.n, fresh.hits) == (2, 1)  # type: ignore[attr-defined]
    tables.sync(fresh, raise_on_conflict=True)
    assert (fresh.n, fresh.hits, fresh.label) == (7, 1, "kept")  # type: ignore[attr-defined]
    # a default is not an assignment: incrementing a field that has one is fine
    other = Counter("d")
    other.incr_(start=3)
    tables.sync(other)
    assert other.start == 3 and stored(tables, Counter, id="d")["start"] == {"N": "3"}  # type: ignore[index]


def test_set_add_and_remove_from_two_clients_both_apply(
    tables: Engine, elsewhere: Engine
) -> None:
    tables.save(Post("a", "1", tags={"keep", "drop-mine", "drop-theirs"}))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    theirs.add_(tags="theirs")  # type: ignore[union-attr]
    theirs.remove_(tags="drop-theirs")  # type: ignore[union-attr]
    theirs.sync(raise_on_conflict=True)  # type: ignore[union-attr]
    mine.add_(tags={"mine", "also-mine"})  # type: ignore[union-attr]
    mine.sync(raise_on_conflict=True)  # type: ignore[union-attr]  # atomic: no conflict
    mine.remove_(tags="drop-mine")  # type: ignore[union-attr]
    mine.sync(raise_on_conflict=True)  # type: ignore[union-attr]
    expected = {"keep", "theirs", "mine", "also-mine"}
    assert mine.tags == expected  # type: ignore[union-attr]
    assert set(stored(tables, Post, author="a", id="1")["tags"]["SS"]) == expected  # type: ignore[index]


def test_add_and_remove_on_one_set_in_one_sync(
    tables: Engine, calls: list[dict[str, Any]]
) -> None:
    tables.save(Post("a", "1", tags={"x", "y"}, likes=1))
    post = tables.get(Post, author="a", id="1")
    assert post is not None
    post.add_(tags={"new", "y"})
    post.remove_(tags={"x", "absent"})
    post.text = "and a field"
    assert post.tags == {"y", "new"}
    del calls[:]
    post.sync()
    # one UpdateItem with everything but the removals, then one with the removals
    assert [c["op"] for c in calls] == ["UpdateItem", "UpdateItem"]
    assert "ADD" in calls[0]["UpdateExpression"] and "DELETE" not in calls[0]["UpdateExpression"]
    assert calls[1]["UpdateExpression"].startswith("DELETE")
    assert "ConditionExpression" not in calls[1]
    assert post.tags == {"y", "new"} and post.text == "and a field"
    raw = stored(tables, Post, author="a", id="1")
    assert raw is not None and set(raw["tags"]["SS"]) == {"y", "new"}
    # a failing check stops it before anything is written
    post.add_(tags="z")
    post.remove_(tags="y")
    del calls[:]
    with pytest.raises(CheckFailed):
        post.sync(constraints=[Post.likes > 5])
    assert [c["op"] for c in calls] == ["UpdateItem"]
    assert set(stored(tables, Post, author="a", id="1")["tags"]["SS"]) == {"y", "new"}  # type: ignore[index]
    assert post.tags == {"new", "z"}  # still pending
    post.sync()
    assert post.tags == {"new", "z"}


def test_removing_everything_added_elsewhere_leaves_an_empty_set(tables: Engine) -> None:
    post = Post("a", "1")
    post.add_(tags="a")
    post.remove_(tags="a")
    post.add_(tags="b")
    post.remove_(tags="b")
    assert post.tags == set()
    tables.sync(post)
    assert post.tags == set() and "tags" not in stored(tables, Post, author="a", id="1")  # type: ignore[operator]


def test_mixing_an_assignment_and_an_atomic_update_raises(tables: Engine) -> None:
    tables.save(Post("a", "1", likes=1, tags={"x"}))
    post = tables.get(Post, author="a", id="1")
    assert post is not None
    post.likes = 5
    with pytest.raises(ValueError, match=r"Post\.likes"):
        post.incr_(likes=1)
    assert post.likes == 5  # nothing changed
    post.sync()
    post.incr_(likes=1)
    with pytest.raises(ValueError, match=r"Post\.likes"):
        post.likes = 0
    with pytest.raises(ValueError, match=r"Post\.likes"):
        del post.likes
    with pytest.raises(ValueError, match=r"Post\.likes"):
        post.mark_dirty_("likes")
    post.likes = 6  # assigning the value it holds is not a change
    post.tags.add("in place")
    with pytest.raises(ValueError, match=r"Post\.tags"):
        post.add_(tags="y")
    post.tags.discard("in place")
    post.incr_(shares=1)  # an undeclared counter: an assignment is caught at sync
    post.shares = 10  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"Post\.shares"):
        post.sync()
    post.shares = 1  # type: ignore[attr-defined]  # what the increment makes: fine
    post.add_(tags="y")
    post.tags.add("in place after add_")
    with pytest.raises(ValueError, match=r"Post\.tags"):
        post.sync()  # refused before anything is written
    assert stored(tables, Post, author="a", id="1")["likes"] == {"N": "5"}  # type: ignore[index]
    post.tags.discard("in place after add_")
    post.sync()
    assert (post.likes, post.tags) == (6, {"x", "y"})
    post.mark_dirty_("likes")
    with pytest.raises(ValueError, match=r"Post\.likes"):
        post.incr_(likes=1)
    fresh = Post("b", "1", likes=3)  # an assignment in the constructor counts too
    with pytest.raises(ValueError, match=r"Post\.likes"):
        fresh.incr_(likes=1)


def test_atomic_updates_check_their_types() -> None:
    post = Post("a", "1", text="x")
    with pytest.raises(TypeError, match=r"Post\.text"):
        post.incr_(text=1)
    with pytest.raises(TypeError, match=r"Post\.likes"):
        post.incr_(likes="1")
    with pytest.raises(TypeError, match=r"Post\.likes"):
        post.add_(likes=1)
    with pytest.raises(TypeError, match=r"Post\.text"):
        post.remove_(text="x")
    with pytest.raises(AttributeError, match=r"Post\.author"):
        post.incr_(author=1)
    post.incr_(likes=1)
    with pytest.raises(TypeError, match=r"Post\.likes"):
        post.add_(likes={1})


def test_failed_constraints_leave_the_item_untouched(tables: Engine) -> None:
    tables.save(Post("a", "1", text="v0", likes=10, tags={"x"}))
    post = tables.get(Post, author="a", id="1")
    assert post is not None
    post.text = "v1"
    post.incr_(likes=-20)
    post.add_(tags="y")
    with pytest.raises(CheckFailed):
        post.sync(constraints=[Post.likes >= 20, Post.text == "v0"])
    assert stored(tables, Post, author="a", id="1") == {
        "author": {"S": "a"},
        "id": {"S": "1"},
        "text": {"S": "v0"},
        "likes": {"N": "10"},
        "tags": {"SS": ["x"]},
    }
    with pytest.raises(ValueError, match="raise_on_conflict"):
        post.sync(raise_on_conflict=False, constraints=[Post.likes >= 20])
    post.sync(constraints=[Post.likes >= 10, Post.tags.contains_("x")])
    assert (post.text, post.likes, post.tags) == ("v1", -10, {"x", "y"})


# -- composites and keys ---------------------------------------------------------------------
def test_changing_a_composite_part_forces_the_check(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Scored("s", likes=1, replies=1))
    mine = tables.get(Scored, id="s")
    theirs = elsewhere.get(Scored, id="s")
    theirs.replies = 5  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.likes = 2  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync(raise_on_conflict=False)  # type: ignore[union-attr]  # forced: the score moved
    mine.refresh()  # type: ignore[union-attr]
    assert mine.score == 6  # type: ignore[union-attr]
    mine.incr_(likes=1)  # type: ignore[union-attr]
    theirs.refresh()  # type: ignore[union-attr]
    theirs.incr_(likes=1)  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync(raise_on_conflict=False)  # type: ignore[union-attr]  # incremented part: forced too
    mine.refresh()  # type: ignore[union-attr]
    mine.incr_(likes=1)  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]
    assert (mine.likes, mine.score) == (3, 8)  # type: ignore[union-attr]
    assert stored(tables, Scored, id="s")["score"] == {"N": "8"}  # type: ignore[index]


def test_the_key_of_a_stored_item_cannot_change(tables: Engine) -> None:
    post = Post("a", "1", text="x")
    post.id = "2"  # not stored yet: fine
    tables.save(post)
    with pytest.raises(AttributeError, match=r"Post\.id"):
        post.id = "3"
    post.author = "a"  # the same value is no change
    assert post.pk_dict_ == {"author": {"S": "a"}, "id": {"S": "2"}}


# -- objects loaded from partial projections -----------------------------------------------
def test_safe_sync_of_an_object_from_a_keys_only_index(tables: Engine) -> None:
    tables.save(Listed("l1", city="Paris", kind="k", title="T", body="B", views=1))
    (partial,) = tables.query(Listed).filter(city="Paris").all()
    assert (partial.title, partial.body) == (None, None)  # not projected
    partial.body = "new body"
    partial.sync(raise_on_conflict=True)  # body was never seen: no 'absent' expectation
    assert (partial.title, partial.body, partial.views) == ("T", "new body", 1)  # loaded whole
    (partial,) = tables.query(Listed).filter(city="Paris").all()
    partial.delete(raise_on_conflict=True)  # checks only what it saw
    assert stored(tables, Listed, id="l1") is None


def test_safe_sync_of_an_object_from_an_include_index(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Listed("l1", city="Paris", kind="k", title="T", body="B"))
    (partial,) = tables.query(Listed).filter(kind="k").all()
    assert (partial.title, partial.body) == ("T", None)
    theirs = elsewhere.get(Listed, id="l1")
    theirs.title = "their title"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    partial.title = "my title"  # projected, and changed since: a conflict
    with pytest.raises(CheckFailed):
        partial.sync(raise_on_conflict=True)
    (partial,) = tables.query(Listed).filter(kind="k").all()
    partial.views = 3  # not projected: written without a check
    partial.sync(raise_on_conflict=True)
    assert (partial.title, partial.body, partial.views) == ("their title", "B", 3)


def test_safe_delete_checks_fields_seen_absent(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Post("a", "1", text="x"))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    theirs.title = "added"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.delete(raise_on_conflict=True)  # type: ignore[union-attr]
    never_loaded = Post("a", "1")
    tables.delete(never_loaded, raise_on_conflict=True)  # saw nothing: nothing to compare
    assert stored(tables, Post, author="a", id="1") is None


# -- save, refresh, get, delete ------------------------------------------------------------
def test_save_with_a_repeated_key_leaves_the_earlier_object_unsaved(tables: Engine, elsewhere: Engine) -> None:
    first, last = Post("a", "1", text="first"), Post("a", "1", text="last")
    tables.save([first, last, Post("a", "2")])
    assert stored(tables, Post, author="a", id="1")["text"] == {"S": "last"}  # type: ignore[index]
    assert last.persisted_ and last.cached_("text") == "last"
    assert not first.persisted_  # its values were never stored
    first.title = "t"
    with pytest.raises(CheckFailed):
        tables.sync(first)  # it never saw the stored item: a conflict, not a silent overwrite
    assert stored(tables, Post, author="a", id="1")["text"] == {"S": "last"}  # type: ignore[index]
    tables.refresh(first)
    first.title = "t"
    first.sync()
    assert (first.text, first.title) == ("last", "t")


def test_refresh_of_many_models_with_duplicates(tables: Engine, elsewhere: Engine) -> None:
    posts = [Post("a", str(i), likes=i) for i in range(30)]
    counters = [Counter(str(i), n=i) for i in range(5)]
    tables.save(posts + counters)
    theirs = elsewhere.scan(Post).all() + elsewhere.scan(Counter).all()
    for obj in theirs:
        if isinstance(obj, Post):
            obj.incr_(likes=100)
        else:
            obj.incr_(n=1000)
    elsewhere.sync(theirs)
    objs = posts[::-1] + counters + [posts[3]]
    tables.refresh(objs, consistent=True)
    assert [p.likes for p in posts] == [100 + i for i in range(30)]
    assert [c.n for c in counters] == [1000 + i for i in range(5)]


def test_get_and_delete_key_forms(tables: Engine) -> None:
    tables.save([Counter(str(i), n=i) for i in range(5)])
    assert [c.n for c in tables.get(Counter, ["3", {"id": "1"}, "3", "404"])] == [3, 1]
    assert tables.get(Counter, id="404") is None
    assert tables.delete_key(Counter, ["0", {"id": "1"}, "0"]) == 2
    assert tables.delete_keys(Counter, id="2") == 1
    assert sorted(c.id for c in tables.scan(Counter).all()) == ["3", "4"]
    with pytest.raises(ValueError, match="nope"):
        tables.get(Counter, [{"nope": "1"}])


def test_delete_batched_and_object_state(tables: Engine) -> None:
    counters = [Counter(str(i), n=i) for i in range(30)]
    tables.save(counters)
    tables.delete(counters + counters[:2])
    assert tables.scan(Counter).count() == 0
    assert not any(c.persisted_ for c in counters)
    counters[0].sync()  # no longer stored: writes it again as new
    assert stored(tables, Counter, id="0") is not None


# -- Model helpers ---------------------------------------------------------------------------
class Audited(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)

    def pre_save_(self, engine: Engine) -> None:
        self.log_ = getattr(self, "log_", []) + [("pre_save", engine is not None)]

    def post_save_(self) -> None:
        self.log_ = getattr(self, "log_", []) + [("post_save", self.persisted_)]

    def post_load_(self, engine: Engine | None) -> None:
        self.log_ = getattr(self, "log_", []) + [("post_load", self.n)]


def test_identity_equality_and_hashing() -> None:
    a1, a1_again, a2 = Post("a", "1", text="x"), Post("a", "1", text="y"), Post("a", "2")
    assert a1 == a1_again and hash(a1) == hash(a1_again)
    assert a1 != a2 and not (a1 == a2)  # noqa: SIM201 - __eq__ and __ne__ both under test
    assert len({a1, a1_again, a2}) == 2
    assert a1 != None and not (a1 == None)  # noqa: SIM201 - the comparison under test
    assert a1 not in [None] and a1 in [None, a1_again]
    assert Counter("a") != Audited("a")  # another model, same key
    assert (Post("a", "1").hk_, Post("a", "1").rk_, Counter("c").rk_) == ("a", "1", None)
    assert Counter("c").pk_dict_ == {"id": {"S": "c"}}
    with pytest.raises(ValueError, match=r"Counter\.id"):
        _ = Counter().pk_dict_


def test_helpers_track_what_was_stored(tables: Engine) -> None:
    post = Post("a", "1", text="x", extra=1, _private=2)
    assert not post.persisted_
    assert post.keys_() == [*Post.meta_.fields, "extra"]
    assert post.get_("text") == "x" and post.get_("extra") == 1
    assert post.get_("missing", "default") == "default" and post.get_("title") is None
    assert post.ddb_dump_() == {
        "author": {"S": "a"},
        "id": {"S": "1"},
        "text": {"S": "x"},
        "extra": {"N": "1"},
    }
    assert post.cached_("text") is None and post.cached_("text", "d") == "d"
    tables.save(post)
    assert post.persisted_
    post.text = "changed"
    assert (post.cached_("text"), post.text) == ("x", "changed")
    assert post.ddb_dump_cached_("text") == {"S": "x"} and post.ddb_dump_field_("text") == {"S": "changed"}
    post.sync()
    assert post.cached_("text") == "changed"
    post.delete()
    assert not post.persisted_


def test_mark_dirty_writes_an_unchanged_field(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Post("a", "1", text="mine"))
    mine = tables.get(Post, author="a", id="1")
    theirs = elsewhere.get(Post, author="a", id="1")
    theirs.text = "theirs"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]  # nothing changed: a refresh
    assert mine.text == "theirs"  # type: ignore[union-attr]
    theirs.refresh()  # type: ignore[union-attr]
    theirs.text = "theirs again"  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.text = "theirs"  # type: ignore[union-attr]  # what it already holds
    mine.mark_dirty_("text")  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        mine.sync()  # type: ignore[union-attr]  # written, so checked: it changed elsewhere
    mine.sync(raise_on_conflict=False)  # type: ignore[union-attr]
    assert stored(tables, Post, author="a", id="1")["text"] == {"S": "theirs"}  # type: ignore[index]


def test_hooks_run_around_every_write_and_load(tables: Engine) -> None:
    tables.register(Audited)
    tables.create_schema()
    obj = Audited("a", n=1)
    tables.save(obj)
    assert obj.log_ == [("pre_save", True), ("post_save", True)]
    obj.log_ = []
    obj.incr_(n=1)
    obj.sync()
    assert obj.log_ == [("pre_save", True), ("post_save", True), ("post_load", 2)]
    loaded = tables.get(Audited, id="a")
    assert loaded is not None and loaded.log_ == [("post_load", 2)]
    loaded.refresh()
    assert loaded.log_[-1] == ("post_load", 2)
    assert "log_" not in stored(tables, Audited, id="a")  # type: ignore[operator]


def test_object_methods_need_an_engine() -> None:
    post = Post("a", "1")
    for method in ("save", "sync", "refresh", "delete"):
        with pytest.raises(ValueError, match=rf"engine\.{method}\(obj\)"):
            getattr(post, method)()


def test_attributes_the_object_cannot_hold_survive_load_and_sync(tables: Engine) -> None:
    """Another client's attributes named like local ones ('_etag', 'owner_') or like the
    model's methods ('sync', 'display') are neither loaded over the object's own attributes
    nor removed by its sync."""
    foreign = {"_etag": {"S": "e"}, "owner_": {"S": "o"}, "sync": {"S": "x"},
               "__incrs__": {"S": "y"}, "display": {"S": "z"}, "meta_": {"S": "m"}}
    table = tables.tablename(Post)
    item = {"author": {"S": "a"}, "id": {"S": "1"}, "text": {"S": "t"}, "color": {"S": "red"}}
    tables.dynamo.call("PutItem", {"TableName": table, "Item": {**item, **foreign}})
    post = tables.get(Post, author="a", id="1")
    assert post.display() == "a/1" and post.color == "red"  # type: ignore[attr-defined]
    post.text = "changed"
    post.sync()  # a method still, and the pending state is the object's own
    post.color = None  # type: ignore[attr-defined]
    post.sync()
    after = stored(tables, Post, author="a", id="1")
    assert after is not None and "color" not in after and after["text"] == {"S": "changed"}
    assert {name: after[name] for name in foreign} == foreign
    tables.refresh(post)
    assert post.display() == "a/1"
