"""Spec 1.4 (CRUD: save, refresh, get, delete, sync, safe sync) and the Engine and Model API
reference, reproduced against the local server, with the CONTRACT rules on reading and
writing. Atomic changes, constraints and default_conflict are in test_spec_atomic.py.

"Elsewhere" means a second Engine on the same tables: another client of the database.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from helpers import stored

from flywheel import CheckFailed, ConditionalCheckFailedException, Engine, Field, Model
from flywheel.models import SetDelta


class Tweet(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime, index="ts-index")
    text = Field()
    author = Field()
    retweets = Field(data_type=int)
    tags = Field(data_type=set)
    data = Field(data_type=dict)
    history = Field(data_type=list)


class Item(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)
    text = Field()


class Account(Model):
    username = Field(hash_key=True)
    moneys = Field(data_type=int)


MODELS = (Tweet, Item, Account)


@pytest.fixture
def calls(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The operations sent through the engine's connection, in order."""
    sent: list[str] = []
    real_call = tables.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent.append(operation)
        return real_call(operation, request)

    monkeypatch.setattr(tables.dynamo, "call", recording_call)
    yield sent


# -- 1.4.1 Save ----------------------------------------------------------------------------
def test_save_then_overwrite(tables: Engine) -> None:
    tweet = Tweet("abc123", "1", text="first", link="http://x")
    tables.save(tweet)
    tweet.text = "Let's replace the whole item"
    tweet.save(overwrite=True)
    raw = stored(tables, Tweet, userid="abc123", id="1")
    assert raw is not None and raw["text"] == {"S": "Let's replace the whole item"}


def test_save_replaces_the_entire_item(tables: Engine) -> None:
    tables.save(Tweet("u", "1", text="old", author="me", link="http://x"))
    tables.save(Tweet("u", "1", text="new"))  # default_conflict 'update': overwrite
    raw = stored(tables, Tweet, userid="u", id="1")
    assert raw is not None
    assert set(raw) == {"userid", "id", "text"} and raw["text"] == {"S": "new"}


def test_save_without_overwrite_raises_when_the_key_exists(tables: Engine) -> None:
    tables.save(Item("a", n=1))
    with pytest.raises(CheckFailed):
        tables.save(Item("a", n=2), overwrite=False)
    with pytest.raises(ConditionalCheckFailedException):
        tables.save([Item("b", n=2), Item("a", n=3)], overwrite=False)
    assert tables.get(Item, id="a").n == 1  # type: ignore[union-attr]
    tables.save(Item("c", n=1), overwrite=False)
    assert tables.get(Item, id="c") is not None


def test_a_failed_write_in_a_sequence_says_what_became_of_the_others(tables: Engine) -> None:
    tables.save(Item("p1", n=1))
    with pytest.raises(CheckFailed, match=r"Item\(id='p1'\) was not written "
                       r"\(1 of the 3 before it done, 1 after it not sent\)"):
        tables.save([Item("p0"), Item("p1"), Item("p2")], overwrite=False)
    assert [tables.get(Item, id=k) is not None for k in ("p0", "p1", "p2")] == [True, True, False]


def test_batched_save_with_a_key_repeated_keeps_the_last(tables: Engine) -> None:
    items = [Item(str(i), n=i) for i in range(60)]
    items += [Item("7", n=700), Item("30", n=3000)]
    tables.save(items)  # the engine docs: save(list) batches
    assert tables.scan(Item).count() == 60
    assert tables.get(Item, id="7").n == 700  # type: ignore[union-attr]
    assert tables.get(Item, id="30").n == 3000  # type: ignore[union-attr]
    item1, item2 = Item("x1"), Item("x2")
    tables.save(item1)
    item1.foobar = "baz"
    tables.save([item1, item2], overwrite=True)
    assert stored(tables, Item, id="x1")["foobar"] == {"S": "baz"}  # type: ignore[index]


def test_save_makes_the_object_persisted(tables: Engine) -> None:
    item = Item("a", n=1)
    assert not item.persisted_
    tables.save(item)
    assert item.persisted_
    item.n = 2
    item.sync()
    assert tables.get(Item, id="a").n == 2  # type: ignore[union-attr]


# -- 1.4.2 Refresh / 1.4.3 Get -------------------------------------------------------------
def test_refresh_clobbers_local_data(tables: Engine, elsewhere: Engine) -> None:
    tweet = Tweet("u", "1", text="mine", author="me")
    tables.save(tweet)
    other = elsewhere.get(Tweet, userid="u", id="1")
    assert other is not None
    other.text = "theirs"
    other.sync()
    tweet.author = "local change"
    tweet.refresh(consistent=True)
    assert (tweet.text, tweet.author) == ("theirs", "me")


def test_refresh_many_lands_each_item_on_its_own_object(tables: Engine, elsewhere: Engine) -> None:
    tables.save([Tweet("u", f"{i:02d}", retweets=i) for i in range(30)])
    objs = tables.get(Tweet, [{"userid": "u", "id": f"{i:02d}"} for i in range(30)])
    assert len(objs) == 30
    theirs = elsewhere.query(Tweet).filter(userid="u").all()
    for obj in theirs:
        obj.retweets = 1000 + int(obj.id)
        obj.text = f"edited {obj.id}"
    elsewhere.save(theirs)
    random.Random(7).shuffle(objs)
    tables.refresh(objs, consistent=True)
    for obj in objs:
        assert obj.retweets == 1000 + int(obj.id)
        assert obj.text == f"edited {obj.id}"


def test_get_one(tables: Engine) -> None:
    tables.save(Tweet("abc123", "1", text="hi"))
    my_tweet = tables.get(Tweet, userid="abc123", id="1")
    assert my_tweet is not None and my_tweet.text == "hi"
    assert tables.get(Tweet, userid="abc123", id="2") is None
    assert tables.get(Tweet, consistent=True, userid="abc123", id="1") == my_tweet


def test_get_many_in_the_order_given(tables: Engine) -> None:
    tables.save([Tweet("abc123", str(i), text=f"t{i}") for i in range(1, 4)])
    key1 = {"userid": "abc123", "id": "1"}
    key2 = {"userid": "abc123", "id": "2"}
    key3 = {"userid": "abc123", "id": "3"}
    some_tweets = tables.get(Tweet, [key3, key1, key2])
    assert [t.id for t in some_tweets] == ["3", "1", "2"]
    missing = {"userid": "abc123", "id": "404"}
    found = tables.get(Tweet, [key2, missing, key1, key2], consistent=True)
    assert [t.text for t in found] == ["t2", "t1"]  # missing skipped, duplicate once
    assert tables.get(Tweet, []) == []


def test_get_hash_only_model_with_plain_values(tables: Engine) -> None:
    tables.save([Item(key, n=i) for i, key in enumerate(["abc", "def", "123", "456"])])
    items = tables.get(Item, ["abc", "def", "123", "456", "nope"])
    assert [i.n for i in items] == [0, 1, 2, 3]
    with pytest.raises(TypeError):
        tables.get(Tweet, ["abc"])


# -- 1.4.4 Delete --------------------------------------------------------------------------
def test_delete_a_queried_item(tables: Engine) -> None:
    tables.save(Tweet("abc123", "123", text="bye"))
    tweet = tables.query(Tweet).filter(userid="abc123", id="123").first()
    tweet.delete()
    assert stored(tables, Tweet, userid="abc123", id="123") is None
    assert not tweet.persisted_


def test_delete_with_and_without_raise_on_conflict(tables: Engine, elsewhere: Engine) -> None:
    tables.save([Tweet("u", "1", text="a", tags={"x", "y"}), Tweet("u", "2", text="b")])
    one, two = tables.get(Tweet, [{"userid": "u", "id": "1"}, {"userid": "u", "id": "2"}])
    changed = elsewhere.get(Tweet, userid="u", id="1")
    changed.text = "changed"  # type: ignore[union-attr]
    changed.sync()  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        one.delete(raise_on_conflict=True)
    assert stored(tables, Tweet, userid="u", id="1") is not None
    two.delete(raise_on_conflict=True)  # unchanged: deleted
    assert stored(tables, Tweet, userid="u", id="2") is None
    one.delete()  # default_conflict 'update': no check
    assert stored(tables, Tweet, userid="u", id="1") is None


def test_delete_many(tables: Engine) -> None:
    items = [Item(str(i)) for i in range(40)]
    tables.save(items)
    tables.delete(items[:30])
    assert tables.scan(Item).count() == 10
    tables.delete(items[30:], raise_on_conflict=True)
    assert tables.scan(Item).count() == 0


def test_delete_key(tables: Engine) -> None:
    tables.save([Tweet("abc123", str(i)) for i in range(1, 6)])
    assert tables.delete_key(Tweet, userid="abc123", id="1") == 1
    key1 = {"userid": "abc123", "id": "2"}
    key2 = {"userid": "abc123", "id": "3"}
    key3 = {"userid": "abc123", "id": "4"}
    assert tables.delete_key(Tweet, [key1, key2, key3, key1]) == 3
    assert [t.id for t in tables(Tweet).filter(userid="abc123").all()] == ["5"]
    assert tables.delete_keys(Tweet, userid="abc123", id="5") == 1
    tables.save([Item(k) for k in ("abc", "def", "123", "456", "keep")])
    assert tables.delete_key(Item, ["abc", "def", "123", "456"]) == 4
    assert tables.delete_keys(Item, ["keep", "never-existed"]) == 2
    assert tables.scan(Item).count() == 0
    assert tables.delete_key(Item, []) == 0
    with pytest.raises(TypeError):
        tables.delete_key(Tweet, ["abc"])


# -- 1.4.5 Sync ----------------------------------------------------------------------------
def test_sync_creates_then_updates_just_one_field(tables: Engine) -> None:
    tweet = Tweet("u", "1", text="draft", author="me")
    tables.sync(tweet)
    assert tweet.persisted_
    tweet.text = "Update just this field"
    tweet.sync()
    raw = stored(tables, Tweet, userid="u", id="1")
    assert raw is not None
    assert raw["text"] == {"S": "Update just this field"} and raw["author"] == {"S": "me"}


@pytest.mark.parametrize("model, key", [(Tweet, {"userid": "u", "id": "1"}), (Item, {"id": "i"})])
def test_sync_of_a_new_object_with_no_changes_creates_it(
    tables: Engine, model: type[Model], key: dict[str, str]
) -> None:
    obj = model(**key)
    tables.sync(obj)
    assert stored(tables, model, **key) == model.meta_.pk_dict(scope=key, ddb_dump=True)
    assert obj.persisted_


def test_sync_of_a_new_object_merges_with_the_stored_item(tables: Engine) -> None:
    tables.save(Tweet("u", "1", text="stored", retweets=3))
    fresh = Tweet("u", "1", author="new author")
    tables.sync(fresh)
    assert (fresh.text, fresh.retweets, fresh.author) == ("stored", 3, "new author")
    clash = Tweet("u", "1", text="different")
    with pytest.raises(CheckFailed):
        tables.sync(clash)  # text exists and this object never saw it


def test_sync_of_an_unchanged_object_is_a_refresh(
    tables: Engine, elsewhere: Engine, calls: list[str]
) -> None:
    tables.save(Tweet("u", "1", text="v1"))
    tweet = tables.get(Tweet, userid="u", id="1")
    other = elsewhere.get(Tweet, userid="u", id="1")
    other.text = "v2"  # type: ignore[union-attr]
    other.new_attribute = 1  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    del calls[:]
    tweet.sync()  # type: ignore[union-attr]
    assert calls == ["GetItem"]
    assert tweet.text == "v2" and tweet.new_attribute == 1  # type: ignore[union-attr]


def test_concurrent_syncs_of_different_fields_merge(tables: Engine) -> None:
    tables.save(Tweet("abc123", "1234", text="hi"))
    tweet = tables.query(Tweet).filter(userid="abc123", id="1234").first()
    tweet2 = tables.query(Tweet).filter(userid="abc123", id="1234").first()
    tweet.author = "The Pope"
    tweet.sync()
    tweet2.text = "Mo' money mo' problems"
    tweet2.sync()  # it works!
    assert tweet2.author == "The Pope"
    raw = stored(tables, Tweet, userid="abc123", id="1234")
    assert raw is not None and raw["author"] == {"S": "The Pope"}
    assert raw["text"] == {"S": "Mo' money mo' problems"}


def test_safe_sync_of_the_same_field_raises(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Tweet("u", "1", text="v1", tags={"a", "b"}))
    tweet = tables.get(Tweet, userid="u", id="1")
    other = elsewhere.get(Tweet, userid="u", id="1")
    other.text = "theirs"  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.text = "mine"  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        tweet.sync(raise_on_conflict=True)  # type: ignore[union-attr]
    with pytest.raises(CheckFailed):
        tweet.sync()  # type: ignore[union-attr]  # default_conflict 'update' raises
    assert stored(tables, Tweet, userid="u", id="1")["text"] == {"S": "theirs"}  # type: ignore[index]
    tweet.sync(raise_on_conflict=False)  # type: ignore[union-attr]
    assert stored(tables, Tweet, userid="u", id="1")["text"] == {"S": "mine"}  # type: ignore[index]
    # an unchanged set compares equal whatever order the server lists it in
    tweet.author = "me"  # type: ignore[union-attr]
    tweet.tags.add("c")  # type: ignore[union-attr]
    tweet.sync(raise_on_conflict=True)  # type: ignore[union-attr]
    assert tweet.tags == {"a", "b", "c"}  # type: ignore[union-attr]


def test_in_place_changes_to_mutable_fields_are_synced(tables: Engine) -> None:
    tweet = Tweet("u", "1", tags={"x"}, data={"a": {"b": [1]}}, history=[1])
    tables.save(tweet)
    tweet.tags.add("awscloud")
    tweet.data["a"]["b"].append(2)
    tweet.history.append(2)
    tweet.sync()
    loaded = tables.get(Tweet, userid="u", id="1")
    assert loaded is not None
    assert loaded.tags == {"x", "awscloud"}
    assert loaded.data == {"a": {"b": [1, 2]}}
    assert loaded.history == [1, 2]


def test_in_place_changes_to_undeclared_documents_are_synced(tables: Engine) -> None:
    # Undeclared dicts and lists are native M / L documents; without a conflict check,
    # because dynalite cannot compare documents (see the next test).
    tweet = Tweet("u", "1", links=["l1"], meta={"a": {"b": 1}})
    tables.save(tweet)
    tweet.links.append("l2")
    tweet.meta["a"]["c"] = 2
    tweet.sync(raise_on_conflict=False)
    loaded = tables.get(Tweet, userid="u", id="1")
    assert loaded is not None
    assert loaded.links == ["l1", "l2"] and loaded.meta == {"a": {"b": 1, "c": 2}}


@pytest.mark.requires("document_equality")
def test_safe_sync_of_undeclared_documents(tables: Engine, elsewhere: Engine) -> None:
    tweet = Tweet("u", "1", links=["l1"], meta={"a": {"b": 1}})
    tables.save(tweet)
    tweet.links.append("l2")
    tweet.meta["a"]["c"] = 2
    tweet.sync()
    other = elsewhere.get(Tweet, userid="u", id="1")
    other.links.append("theirs")  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.links.append("mine")
    with pytest.raises(CheckFailed):
        tweet.sync()
    tweet.refresh()
    tweet.delete(raise_on_conflict=True)
    assert stored(tables, Tweet, userid="u", id="1") is None


def test_after_sync_and_refresh_the_object_matches_the_stored_item(
    tables: Engine, elsewhere: Engine
) -> None:
    tables.save(Tweet("u", "1", text="t", tags={"a"}, retweets=1, link="l", extra=2))
    tweet = tables.get(Tweet, userid="u", id="1")
    other = elsewhere.get(Tweet, userid="u", id="1")
    other.text = None  # type: ignore[union-attr]
    other.tags = set()  # type: ignore[union-attr]
    del other.link  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.refresh()  # type: ignore[union-attr]
    assert tweet.text is None and tweet.tags == set()  # type: ignore[union-attr]
    assert not hasattr(tweet, "link") and tweet.get_("link") is None  # type: ignore[union-attr]
    assert tweet.extra == 2  # type: ignore[union-attr]
    other.retweets = None  # type: ignore[union-attr]
    del other.extra  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.author = "me"  # type: ignore[union-attr]
    tweet.sync()  # type: ignore[union-attr]
    assert tweet.retweets is None and not hasattr(tweet, "extra")  # type: ignore[union-attr]
    assert tweet.keys_() == list(Tweet.meta_.fields)  # type: ignore[union-attr]


# -- Model API reference -------------------------------------------------------------------
class Hooked(Model):
    id = Field(hash_key=True)
    n = Field(data_type=int)
    seen = Field(data_type=list)

    def pre_save_(self, engine: Engine) -> None:
        self.seen = (self.seen or []) + ["pre_save"]

    def post_save_(self) -> None:
        self.events_ = getattr(self, "events_", []) + ["post_save"]

    def post_load_(self, engine: Engine | None) -> None:
        self.events_ = getattr(self, "events_", []) + ["post_load"]


def test_model_helpers(tables: Engine) -> None:
    tweet = Tweet("u", "1", text="hi", retweets=2, link="l")
    assert (tweet.hk_, tweet.rk_) == ("u", "1")
    assert tweet.pk_dict_ == {"userid": {"S": "u"}, "id": {"S": "1"}}
    assert tweet.get_("link") == "l" and tweet.get_("text") == "hi"
    assert tweet.get_("missing", "default") == "default"
    assert "link" in tweet.keys_() and "text" in tweet.keys_()
    assert tweet.ddb_dump_field_("retweets") == {"N": "2"}
    assert tweet.ddb_dump_()["link"] == {"S": "l"}
    assert tweet.cached_("text") is None and tweet.construct_ddb_expects_() == {}
    tables.save(tweet)
    tweet.text = "changed"
    assert tweet.cached_("text") == "hi" and tweet.ddb_dump_cached_("text") == {"S": "hi"}
    assert tweet.construct_ddb_expects_(["text", "author"]) == {"text": {"S": "hi"}, "author": None}
    tweet.mutate_("ADD", tags={"a", "b"})
    tweet.remove_(tags="c")  # add_ and remove_ before one sync: two updates (docs/crud.md)
    assert tweet.tags == {"a", "b"}
    tweet.sync()
    tweet.mutate_("DELETE", tags="b")
    assert tweet.tags == {"a"}
    tweet.sync()
    assert stored(tables, Tweet, userid="u", id="1")["tags"] == {"SS": ["a"]}  # type: ignore[index]
    # mark_dirty_ writes a field even when it looks unchanged
    other = Engine(dynamo=tables.dynamo, namespace=tables.namespace).get(Tweet, userid="u", id="1")
    other.author = "them"  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.refresh()
    tweet.author = "them"  # the value it already holds
    tweet.mark_dirty_("author")
    tweet.sync()
    assert tweet.author == "them"


def test_loading_context_manager(tables: Engine) -> None:
    tables.save(Tweet("u", "1", text="stored"))
    obj = Tweet.__new__(Tweet)
    with obj.loading_(tables):
        obj.set_ddb_val_("userid", {"S": "u"})
        obj.set_ddb_val_("id", {"S": "1"})
        obj.set_ddb_val_("text", {"S": "stored"})
    assert obj.persisted_ and obj.text == "stored"
    obj.author = "me"
    obj.sync()  # only the change is written, checked against the loaded values
    raw = stored(tables, Tweet, userid="u", id="1")
    assert raw is not None and raw["author"] == {"S": "me"} and raw["text"] == {"S": "stored"}


def test_hooks(tables: Engine) -> None:
    tables.register(Hooked)
    tables.create_schema()
    obj = Hooked("a", n=1)
    tables.save(obj)
    assert obj.seen == ["pre_save"] and obj.events_ == ["post_save"]
    loaded = tables.get(Hooked, id="a")
    assert loaded is not None and loaded.events_ == ["post_load"]
    assert loaded.seen == ["pre_save"]
    loaded.n = 2
    loaded.sync()
    assert loaded.seen == ["pre_save", "pre_save"]
    assert loaded.events_[-2:] == ["post_save", "post_load"]


def test_refresh_of_an_item_deleted_elsewhere(tables: Engine, elsewhere: Engine) -> None:
    items = [Item("a", n=1), Item("b", n=2)]
    tables.save(items)
    elsewhere.delete_key(Item, id="a")
    tables.refresh(items, consistent=True)
    assert not items[0].persisted_ and items[0].n == 1
    assert items[1].persisted_
    items[0].sync()  # writes it again, every field as new
    assert stored(tables, Item, id="a") == {"id": {"S": "a"}, "n": {"N": "1"}}


def test_set_delta() -> None:
    delta = SetDelta()
    delta.add("ADD", {"a", "b"})
    delta.add("DELETE", "c")
    assert delta.merge({"c", "d"}) == {"a", "b", "d"}
    assert delta.merge(None) == {"a", "b"}
    delta.add("DELETE", "a")
    assert delta.merge(set()) == {"b"}
    with pytest.raises(ValueError, match="PUT"):
        delta.add("PUT", "x")
