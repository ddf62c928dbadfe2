"""Spec 1.4.5 (atomic increment, atomic add/remove, sync-if-constraints) and 1.4.6 (default
conflict behaviour) reproduced against the local server, with the CONTRACT rules on them.

"Elsewhere" means a second Engine on the same tables: another client of the database.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from helpers import stored

from flywheel import CheckFailed, Engine, Field, Model


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


# -- Atomic increment ----------------------------------------------------------------------
def test_incr_changes_the_local_value_at_once(tables: Engine) -> None:
    tweet = Tweet("u", "1", retweets=4)
    tables.save(tweet)
    # Increment the number of retweets by 1
    tweet.incr_(retweets=1)
    assert tweet.retweets == 5
    tweet.incr_(retweets=2)
    assert tweet.retweets == 7
    tweet.sync()
    assert tweet.retweets == 7
    assert stored(tables, Tweet, userid="u", id="1")["retweets"] == {"N": "7"}  # type: ignore[index]


def test_increments_from_two_clients_add_up(tables: Engine, elsewhere: Engine) -> None:
    tables.save(Tweet("u", "1", retweets=10))
    mine = tables.get(Tweet, userid="u", id="1")
    theirs = elsewhere.get(Tweet, userid="u", id="1")
    mine.incr_(retweets=1)  # type: ignore[union-attr]
    theirs.incr_(retweets=5)  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.sync()  # type: ignore[union-attr]  # no conflict: the increment is atomic
    assert mine.retweets == 16  # type: ignore[union-attr]
    mine.incr_(retweets=-6, views=2)  # type: ignore[union-attr]  # undeclared counts too
    mine.sync()  # type: ignore[union-attr]
    theirs.refresh()  # type: ignore[union-attr]
    assert (theirs.retweets, theirs.views) == (10, 2)  # type: ignore[union-attr]


def test_incr_on_an_unsaved_object_merges_with_the_stored_value(tables: Engine) -> None:
    tables.save(Item("counter", n=40, text="kept"))
    fresh = Item("counter")
    fresh.incr_(n=2)
    assert fresh.n == 2  # nothing seen stored yet: 0 + 2
    tables.sync(fresh)
    assert (fresh.n, fresh.text) == (42, "kept")
    brand_new = Item("new")
    brand_new.incr_(n=3)
    tables.sync(brand_new)
    assert tables.get(Item, id="new").n == 3  # type: ignore[union-attr]


def test_incr_starts_from_the_stored_value_last_seen(tables: Engine) -> None:
    item = Item("a", n=1)
    tables.save(item)
    item.n = 10
    with pytest.raises(ValueError, match=r"Item\.n"):
        item.incr_(n=1)  # an assignment and an increment cannot share one sync
    item.refresh()
    item.incr_(n=1)
    assert item.n == 2  # the stored value as last seen, plus the delta
    item.sync()
    assert item.n == 2 and tables.get(Item, id="a").n == 2  # type: ignore[union-attr]
    item.incr_(n=5)
    with pytest.raises(ValueError, match=r"Item\.n"):
        item.n = 100
    assert item.n == 7
    item.sync()
    assert tables.get(Item, id="a").n == 7  # type: ignore[union-attr]


def test_incr_rejects_non_numbers(tables: Engine) -> None:
    tweet = Tweet("u", "1", text="x")
    with pytest.raises(TypeError, match="text"):
        tweet.incr_(text=1)
    with pytest.raises(TypeError, match="retweets"):
        tweet.incr_(retweets="1")
    with pytest.raises(AttributeError, match="id"):
        tweet.incr_(id=1)


# -- Atomic add/remove ---------------------------------------------------------------------
def test_add_and_remove_set_members(tables: Engine, elsewhere: Engine) -> None:
    tweet = Tweet("u", "1", tags={"awscloud"})
    tables.save(tweet)
    other = elsewhere.get(Tweet, userid="u", id="1")
    # Add two users to the set of tagged users
    tweet.add_(tags=set(["stevearc", "dsa"]))
    assert tweet.tags == {"awscloud", "stevearc", "dsa"}
    other.add_(tags="theirs")  # type: ignore[union-attr]
    other.sync()  # type: ignore[union-attr]
    tweet.sync()
    assert tweet.tags == {"awscloud", "stevearc", "dsa", "theirs"}
    # And to delete:
    tweet.remove_(tags="stevearc")
    tweet.sync()
    tweet.remove_(tags={"awscloud", "theirs", "absent"})
    assert tweet.tags == {"dsa"}
    tweet.sync()
    assert stored(tables, Tweet, userid="u", id="1")["tags"] == {"SS": ["dsa"]}  # type: ignore[index]
    tweet.remove_(tags="dsa")
    tweet.sync()
    assert tweet.tags == set()
    assert "tags" not in stored(tables, Tweet, userid="u", id="1")  # type: ignore[operator]


def test_add_to_an_unsaved_object_and_undeclared_sets(tables: Engine) -> None:
    tables.save(Tweet("u", "1", tags={"old"}, nums={1}))
    fresh = Tweet("u", "1")
    fresh.add_(tags="new", nums={2, 3})
    tables.sync(fresh)
    assert fresh.tags == {"old", "new"} and fresh.nums == {1, 2, 3}
    with pytest.raises(TypeError, match="text"):
        fresh.add_(text="not a set")


# -- Sync-if-constraints -------------------------------------------------------------------
def test_sync_with_constraints(tables: Engine) -> None:
    tables.save(Account(username="dsa", moneys=300))
    account = tables.get(Account, username="dsa")
    assert account is not None
    account.incr_(moneys=-200)
    # atomically remove $200 from DSA's account, iff there is at least $200 to remove.
    account.sync(constraints=[Account.moneys >= 200])
    assert account.moneys == 100
    account.incr_(moneys=-200)
    with pytest.raises(CheckFailed):
        account.sync(constraints=[Account.moneys >= 200])
    assert stored(tables, Account, username="dsa")["moneys"] == {"N": "100"}  # type: ignore[index]
    account.refresh()
    assert account.moneys == 100
    # a constraint also works with nothing else to write
    account.sync(constraints=[Account.moneys == 100])
    with pytest.raises(CheckFailed):
        account.sync(constraints=[Account.moneys > 100])


def test_constraints_need_raise_on_conflict(tables: Engine) -> None:
    account = Account(username="dsa", moneys=1)
    tables.save(account)
    account.incr_(moneys=1)
    with pytest.raises(ValueError, match="raise_on_conflict"):
        account.sync(raise_on_conflict=False, constraints=[Account.moneys >= 0])
    tables.default_conflict = "overwrite"
    with pytest.raises(ValueError, match="default_conflict='overwrite' turns it off"):
        tables.sync(account, constraints=[Account.moneys >= 0])
    assert stored(tables, Account, username="dsa")["moneys"] == {"N": "1"}  # type: ignore[index]


# -- 1.4.6 Default conflict behaviour ------------------------------------------------------
def conflict_outcomes(engine: Engine, elsewhere: Engine) -> dict[str, str]:
    """What save, sync and delete do under the engine's default_conflict."""
    outcomes = {}
    engine.save(Item("s", n=1))
    try:
        engine.save(Item("s", n=2))
        outcomes["save"] = "overwrite"
    except CheckFailed:
        outcomes["save"] = "raise"
    mine = engine.get(Item, id="s")
    theirs = elsewhere.get(Item, id="s")
    theirs.n = 50  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.n = 60  # type: ignore[union-attr]
    try:
        mine.sync()  # type: ignore[union-attr]
        outcomes["sync"] = "overwrite"
    except CheckFailed:
        outcomes["sync"] = "raise"
    mine = engine.get(Item, id="s")
    theirs = elsewhere.get(Item, id="s")
    theirs.n = 70  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    try:
        mine.delete()  # type: ignore[union-attr]
        outcomes["delete"] = "unchecked"
    except CheckFailed:
        outcomes["delete"] = "raise"
    engine.delete_key(Item, id="s")
    return outcomes


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("update", {"save": "overwrite", "sync": "raise", "delete": "unchecked"}),
        ("overwrite", {"save": "overwrite", "sync": "overwrite", "delete": "unchecked"}),
        ("raise", {"save": "raise", "sync": "raise", "delete": "raise"}),
    ],
)
def test_default_conflict_table(
    tables: Engine, elsewhere: Engine, mode: str, expected: dict[str, str]
) -> None:
    tables.default_conflict = mode
    assert tables.default_conflict == mode
    assert conflict_outcomes(tables, elsewhere) == expected
    by_constructor = Engine(dynamo=tables.dynamo, namespace=tables.namespace, default_conflict=mode)
    assert conflict_outcomes(by_constructor, elsewhere) == expected


def test_default_conflict_is_validated(tables: Engine) -> None:
    assert Engine().default_conflict == "update"
    with pytest.raises(ValueError, match="default_conflict"):
        Engine(default_conflict="merge")
    with pytest.raises(ValueError, match="default_conflict"):
        tables.default_conflict = "sometimes"
    assert tables.default_conflict == "update"


def test_explicit_arguments_override_default_conflict(tables: Engine, elsewhere: Engine) -> None:
    tables.default_conflict = "raise"
    tables.save(Item("a", n=1))
    tables.save(Item("a", n=2), overwrite=True)
    mine = tables.get(Item, id="a")
    theirs = elsewhere.get(Item, id="a")
    theirs.n = 3  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.n = 4  # type: ignore[union-attr]
    mine.sync(raise_on_conflict=False)  # type: ignore[union-attr]
    theirs.refresh()  # type: ignore[union-attr]
    theirs.n = 5  # type: ignore[union-attr]
    theirs.sync()  # type: ignore[union-attr]
    mine.delete(raise_on_conflict=False)  # type: ignore[union-attr]
    assert tables.get(Item, id="a") is None
