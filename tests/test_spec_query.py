"""Spec 1.3 (Table Queries, Shorthand, Table Scans), the index declarations they rely on (1.2.3)
and the Query / Scan API reference, reproduced against the local server, with the CONTRACT
rules on reading and querying.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from flywheel import Composite, Engine, Field, GlobalIndex, Model
from flywheel.fields.conditions import Condition
from flywheel.query import Query, Scan

BASE = datetime(2014, 1, 1)


class Tweet(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime).all_index("ts-index")
    retweets = Field(data_type=int).keys_index("rt-index")
    likes = Field(data_type=int).include_index("like-index", ["text"])
    text = Field()
    tags = Field(data_type=set)


class GTweet(Model):
    __metadata__ = {
        "global_indexes": [
            GlobalIndex.all("ts-index", "city", "ts").throughput(read=10, write=2),
            GlobalIndex.keys("rt-index", "city", "retweets").throughput(read=10, write=2),
            GlobalIndex.include("like-index", "city", "likes", includes=["text"]).throughput(
                read=10, write=2
            ),
            GlobalIndex("author-index", "author"),  # no range key, projects everything
        ],
    }
    userid = Field(hash_key=True)
    city = Field()
    id = Field(range_key=True)
    ts = Field(data_type=datetime)
    retweets = Field(data_type=int)
    likes = Field(data_type=int)
    text = Field()
    author = Field()


class SocialMediaItem(Model):
    userid = Field(hash_key=True)
    type = Field()
    id = Field()
    uid = Composite("type", "id", range_key=True)


class Blob(Model):
    """Big items, to make queries and scans span several 1 MB pages."""

    owner = Field(hash_key=True)
    seq = Field(data_type=int, range_key=True)
    payload = Field()
    wanted = Field(data_type=bool)


MODELS = (Tweet, GTweet, SocialMediaItem, Blob)


@pytest.fixture
def requests(tables: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The Query/Scan requests sent through the engine's connection."""
    sent: list[dict[str, Any]] = []
    real_call = tables.dynamo.call

    def recording_call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation in ("Query", "Scan"):
            sent.append(dict(request))
        return real_call(operation, request)

    monkeypatch.setattr(tables.dynamo, "call", recording_call)
    yield sent


@pytest.fixture
def tweets(tables: Engine) -> list[Tweet]:
    """20 tweets of abc123 (ids 000..019; ts runs backwards; retweets = i; likes = 100 - i)
    and one of someone else."""
    objs = [
        Tweet(
            "abc123",
            f"{i:03d}",
            ts=BASE - timedelta(days=i),
            retweets=i,
            likes=100 - i,
            text=f"tweet {i}",
            tags={"even" if i % 2 == 0 else "odd", f"n{i}"},
        )
        for i in range(20)
    ]
    objs.append(Tweet("other", "000", ts=BASE, retweets=1000, text="not abc123"))
    for i, tweet in enumerate(objs[:20]):
        if i % 5 == 0:
            tweet.link = f"http://link/{i}"
    tables.save(objs)
    return objs


def ids(results: list[Any]) -> list[str]:
    return [r.id for r in results]


# -- 1.3 Table Queries -----------------------------------------------------------------------
def test_fetch_all_tweets_of_a_user(tables: Engine, tweets: list[Tweet]) -> None:
    results = tables.query(Tweet).filter(Tweet.userid == "abc123").all()
    assert ids(results) == [f"{i:03d}" for i in range(20)]
    assert results[3].text == "tweet 3" and results[3].ts == BASE - timedelta(days=3)


def test_gen_terminator(tables: Engine, tweets: list[Tweet]) -> None:
    # Count how many retweets a user has in total
    retweets = 0
    all_tweets = tables.query(Tweet).filter(Tweet.userid == "abc123").gen()
    assert isinstance(all_tweets, Iterator)
    for tweet in all_tweets:
        retweets += tweet.retweets
    assert retweets == sum(range(20))


def test_first_one_count_limit(tables: Engine, tweets: list[Tweet]) -> None:
    query = tables.query(Tweet).filter(Tweet.userid == "abc123")
    assert query.first().id == "000"
    assert tables.query(Tweet).filter(Tweet.userid == "nobody").first() is None
    assert tables.query(Tweet).filter(userid="abc123", id="004").one().text == "tweet 4"
    with pytest.raises(ValueError):
        tables.query(Tweet).filter(Tweet.userid == "abc123").one()
    with pytest.raises(ValueError):
        tables.query(Tweet).filter(Tweet.userid == "nobody").one()
    # Get the number of tweets made by user abc123
    num = tables.query(Tweet).filter(Tweet.userid == "abc123").count()
    assert num == 20
    assert ids(tables.query(Tweet).filter(Tweet.userid == "abc123").limit(3).all()) == [
        "000",
        "001",
        "002",
    ]
    assert tables.query(Tweet).filter(Tweet.userid == "abc123").limit(3).count() == 3
    assert tables.query(Tweet).filter(Tweet.userid == "abc123").limit(0).all() == []


def test_every_range_operator_on_the_range_key(tables: Engine, tweets: list[Tweet]) -> None:
    def query(*conditions: Any) -> list[str]:
        return ids(tables(Tweet).filter(Tweet.userid == "abc123", *conditions).all())

    assert query(Tweet.id == "003") == ["003"]
    assert query(Tweet.id < "002") == ["000", "001"]
    assert query(Tweet.id <= "002") == ["000", "001", "002"]
    assert query(Tweet.id > "017") == ["018", "019"]
    assert query(Tweet.id >= "017") == ["017", "018", "019"]
    assert query(Tweet.id.between_("005", "007")) == ["005", "006", "007"]
    assert query(Tweet.id.betwixt_("005", "006")) == ["005", "006"]
    assert query(Tweet.id.beginswith_("01")) == [f"{i:03d}" for i in range(10, 20)]
    # DynamoDB takes one condition on a key in a query, and none in its filter
    with pytest.raises(ValueError, match=r"Tweet\.id.*between_"):
        query(Tweet.id >= "010", Tweet.id < "012")
    with pytest.raises(ValueError, match=r"Tweet\.id"):
        query(Tweet.id != "010")
    with pytest.raises(ValueError, match=r"Tweet\.userid"):
        query(Tweet.userid == "other")


def test_local_index_chosen_from_a_range_condition(
    tables: Engine, tweets: list[Tweet], requests: list[dict[str, Any]]
) -> None:
    earlyts = BASE - timedelta(days=17)
    # You may also use inequality filters on range keys and secondary indexes
    results = tables(Tweet).filter(Tweet.ts <= earlyts, userid="abc123").all()
    assert requests[-1]["IndexName"] == "ts-index"
    assert ids(results) == ["019", "018", "017"]  # in ts order
    # KEYS_ONLY index: the results hold the keys and the indexed field
    results = tables(Tweet).filter(Tweet.userid == "abc123", Tweet.retweets >= 18).all()
    assert requests[-1]["IndexName"] == "rt-index"
    assert ids(results) == ["018", "019"]
    assert results[0].retweets == 18 and results[0].text is None and results[0].ts is None
    results[0].refresh()  # loads the whole item from the table
    assert results[0].text == "tweet 18" and results[0].ts == BASE - timedelta(days=18)
    # INCLUDE index: keys, the indexed field and the included ones
    results = tables(Tweet).filter(Tweet.userid == "abc123", Tweet.likes < 83).all()
    assert requests[-1]["IndexName"] == "like-index"
    assert ids(results) == ["019", "018"]
    assert results[0].text == "tweet 19" and results[0].retweets is None
    # an equality on the range key of an index counts too
    assert ids(tables(Tweet).filter(userid="abc123", retweets=7).all()) == ["007"]
    assert requests[-1]["IndexName"] == "rt-index"


def test_index_chosen_explicitly(
    tables: Engine, tweets: list[Tweet], requests: list[dict[str, Any]]
) -> None:
    # sorted by a particular index when only querying the hash key
    results = tables(Tweet).filter(userid="abc123").index("ts-index").all()
    assert requests[-1]["IndexName"] == "ts-index"
    assert ids(results) == [f"{i:03d}" for i in reversed(range(20))]
    # the range condition on another field becomes a filter
    results = tables(Tweet).filter(Tweet.userid == "abc123", Tweet.retweets < 2).index(
        "ts-index"
    ).all()
    assert ids(results) == ["001", "000"]
    assert "retweets" in requests[-1]["ExpressionAttributeNames"].values()
    with pytest.raises(ValueError, match="no-such-index"):
        tables(Tweet).filter(userid="abc123").index("no-such-index")


def test_ambiguous_index_names_the_candidates(tables: Engine, tweets: list[Tweet]) -> None:
    with pytest.raises(ValueError, match="ts-index") as caught:
        tables(Tweet).filter(
            Tweet.userid == "abc123", Tweet.ts < BASE, Tweet.retweets > 3
        ).all()
    assert "rt-index" in str(caught.value) and ".index(" in str(caught.value)
    assert isinstance(caught.value, TypeError)  # the API reference's name for it
    results = tables(Tweet).filter(
        Tweet.userid == "abc123", Tweet.ts < BASE, Tweet.retweets > 17
    ).index("ts-index").all()
    assert ids(results) == ["019", "018"]


def test_query_needs_the_hash_key(tables: Engine, tweets: list[Tweet]) -> None:
    with pytest.raises(ValueError, match="hash key") as caught:
        tables(Tweet).filter(Tweet.id == "001").all()
    assert "userid" in str(caught.value) and "scan" in str(caught.value)
    with pytest.raises(ValueError, match="userid"):
        tables(Tweet).filter(Tweet.userid > "a").all()
    with pytest.raises(ValueError, match="userid"):
        tables(Tweet).all()


def test_global_indexes(tables: Engine, requests: list[dict[str, Any]]) -> None:
    tables.save(
        [
            GTweet(
                userid=f"u{i % 3}",
                id=f"{i:02d}",
                city="Paris" if i < 6 else "Oslo",
                ts=BASE + timedelta(hours=i),
                retweets=i,
                likes=10 * i,
                text=f"t{i}",
                author="Pope" if i == 4 else "someone",
            )
            for i in range(10)
        ]
    )
    results = tables(GTweet).filter(GTweet.city == "Paris", GTweet.ts > BASE + timedelta(hours=3)).all()
    assert requests[-1]["IndexName"] == "ts-index"
    assert ids(results) == ["04", "05"] and results[0].text == "t4"
    results = tables(GTweet).filter(city="Oslo", retweets=8).all()
    assert requests[-1]["IndexName"] == "rt-index"
    assert ids(results) == ["08"] and results[0].text is None and results[0].userid == "u2"
    results[0].refresh()
    assert results[0].text == "t8"
    results = tables(GTweet).filter(GTweet.city == "Oslo", GTweet.likes <= 70).all()
    assert requests[-1]["IndexName"] == "like-index"
    assert [(r.id, r.text, r.ts) for r in results] == [("06", "t6", None), ("07", "t7", None)]
    # a global index without a range key (changelog 0.1.3)
    results = tables(GTweet).filter(author="Pope").all()
    assert requests[-1]["IndexName"] == "author-index"
    assert ids(results) == ["04"] and results[0].likes == 40
    assert tables(GTweet).filter(author="someone").count() == 9
    # three global indexes share the hash key 'city': ambiguous without a range condition
    with pytest.raises(ValueError, match="like-index"):
        tables(GTweet).filter(city="Oslo").all()
    assert len(tables(GTweet).filter(city="Oslo").index("ts-index").all()) == 4
    # the table's own key still works, and picks the table
    assert ids(tables(GTweet).filter(userid="u1").all()) == ["01", "04", "07"]
    assert "IndexName" not in requests[-1]
    with pytest.raises(ValueError, match="consistent"):
        tables(GTweet).filter(author="Pope").all(consistent=True)
    with pytest.raises(ValueError, match="consistent"):
        tables.scan(GTweet).index("author-index").all(consistent=True)
    assert len(tables.scan(GTweet).index("author-index").all()) == 10


def test_desc_and_consistent(
    tables: Engine, tweets: list[Tweet], requests: list[dict[str, Any]]
) -> None:
    query = tables(Tweet).filter(userid="abc123")
    assert ids(query.all(desc=True))[:3] == ["019", "018", "017"]
    assert query.first(desc=True).id == "019"
    assert ids(list(query.gen(desc=True)))[-1] == "000"
    assert len(query.all(consistent=True)) == 20
    assert requests[-1]["ConsistentRead"] is True
    assert tables(Tweet).filter(Tweet.userid == "abc123", Tweet.ts < BASE).first(
        consistent=True
    ).id == "019"
    assert requests[-1]["ConsistentRead"] is True and requests[-1]["IndexName"] == "ts-index"


def test_attributes_return_decoded_dicts(tables: Engine, tweets: list[Tweet]) -> None:
    query = tables(Tweet).filter(userid="abc123", id="003")
    result = query.one(attributes=["ts", "retweets", "tags", "text"])
    assert result == {
        "ts": BASE - timedelta(days=3),
        "retweets": 3,
        "tags": {"odd", "n3"},
        "text": "tweet 3",
    }
    assert type(result["ts"]) is datetime
    linked = tables(Tweet).filter(userid="abc123", id="005").first(attributes=["link", "id"])
    assert linked == {"link": "http://link/5", "id": "005"}
    rows = tables(Tweet).filter(userid="abc123").all(attributes=["retweets"])
    assert rows[:2] == [{"retweets": 0}, {"retweets": 1}]
    rows = list(tables.scan(Tweet).filter(Tweet.retweets == 1000).gen(attributes=["ts"]))
    assert rows == [{"ts": BASE}]


def test_non_key_filters_on_queries_take_every_operator(
    tables: Engine, tweets: list[Tweet]
) -> None:
    def query(*conditions: Any, **kwargs: Any) -> list[str]:
        found = tables(Tweet).filter(Tweet.userid == "abc123", *conditions).all(**kwargs)
        return ids(found)

    assert query(Tweet.text == "tweet 4") == ["004"]
    assert len(query(Tweet.text != "tweet 4")) == 19
    assert query(Tweet.text.beginswith_("tweet 1"), Tweet.text < "tweet 11") == ["001", "010"]
    assert query(Tweet.text.in_({"tweet 2", "tweet 3", "nope"})) == ["002", "003"]
    assert query(Tweet.tags.contains_("n7")) == ["007"]
    assert query(Tweet.text.contains_("t 1"), Tweet.tags.ncontains_("odd")) == [
        f"{i:03d}" for i in range(10, 20, 2)
    ]
    assert query(Tweet.field("link") != None) == ["000", "005", "010", "015"]
    assert len(query(Tweet.field("link") == None)) == 16
    assert query(Tweet.text == None) == []
    assert query(Tweet.field("link").contains_("/1")) == ["010", "015"]
    assert query(Tweet.text.between_("tweet 17", "tweet 2")) == ["002", "017", "018", "019"]
    assert query(Tweet.text > "tweet 8") == ["009"]
    assert query(Tweet.text >= "tweet 8") == ["008", "009"]
    assert query(Tweet.text <= "tweet 0") == ["000"]
    # filter_or joins the non-key conditions with OR; the key condition always applies
    assert query(Tweet.text == "tweet 1", Tweet.text == "tweet 2", filter_or=True) == [
        "001",
        "002",
    ]
    assert (
        tables(Tweet)
        .filter(Tweet.userid == "abc123", Tweet.id < "005")
        .filter(Tweet.text == "tweet 1")
        .filter(Tweet.text == "tweet 9")
        .count(filter_or=True)
        == 1
    )
    assert tables(Tweet).filter(userid="abc123").filter(Tweet.retweets > 15).count() == 4


def test_query_delete(tables: Engine, tweets: list[Tweet]) -> None:
    tables(Tweet).filter(Tweet.userid == "abc123", Tweet.id < "005").delete()
    assert tables(Tweet).filter(userid="abc123").count() == 15
    tables(Tweet).filter(Tweet.userid == "abc123", Tweet.text == "tweet 7").delete()
    assert tables(Tweet).filter(userid="abc123").count() == 14
    tables(Tweet).filter(Tweet.userid == "abc123", Tweet.text.in_({"tweet 8", "tweet 9"})).delete(
        filter_or=True
    )
    assert tables(Tweet).filter(userid="abc123").count() == 12
    tables(Tweet).filter(userid="abc123").delete()
    assert tables(Tweet).filter(userid="abc123").count() == 0
    assert tables.scan(Tweet).count() == 1


def test_composite_range_key_queried_by_its_parts(tables: Engine) -> None:
    tables.save(
        [
            SocialMediaItem(userid="abc123", type="facebook", id="12345", text="fb"),
            SocialMediaItem(userid="abc123", type="twitter", id="12345", text="tw"),
        ]
    )
    fb_post = tables.query(SocialMediaItem).filter(
        userid="abc123", type="facebook", id="12345"
    ).first()
    assert fb_post.uid == "facebook:12345" and fb_post.text == "fb"
    assert tables.get(SocialMediaItem, userid="abc123", type="twitter", id="12345").text == "tw"


# -- paging -----------------------------------------------------------------------------------
def test_results_span_several_pages(tables: Engine, requests: list[dict[str, Any]]) -> None:
    payload = "x" * 4000
    wanted = {5, 300, 301, 560}
    tables.save(
        [Blob("me", seq=i, payload=payload, wanted=i in wanted) for i in range(600)]
    )  # about 2.4 MB: three pages or more
    query = tables(Blob).filter(owner="me")
    assert query.count() == 600
    assert len(requests) >= 3  # the data really spans several 1 MB pages
    assert tables(Blob).filter(owner="me").filter(Blob.wanted == True).count() == 4
    sparse = tables(Blob).filter(Blob.owner == "me", Blob.wanted == True)
    assert [b.seq for b in sparse.limit(3).all()] == [5, 300, 301]
    late = tables(Blob).filter(Blob.owner == "me", Blob.seq > 10, Blob.wanted == True)
    assert late.first().seq == 300
    assert late.first(desc=True).seq == 560
    assert tables.scan(Blob).count() == 600
    assert [b.seq for b in tables.scan(Blob).filter(Blob.wanted == True).limit(4).all()] == sorted(
        wanted
    )
    assert tables.scan(Blob).filter(Blob.seq >= 300).count() == 300
    assert sum(1 for _ in tables(Blob).filter(owner="me").gen(attributes=["seq"])) == 600


# -- 1.3.1 Shorthand ------------------------------------------------------------------------
def test_shorthand(tables: Engine, tweets: list[Tweet]) -> None:
    earlyts = BASE - timedelta(days=18)
    # Long form query
    long_form = tables.query(Tweet).filter(Tweet.userid == "abc123").all()
    # Abbreviated query
    short_form = tables(Tweet).filter(Tweet.userid == "abc123").all()
    assert ids(long_form) == ids(short_form) and len(short_form) == 20
    assert isinstance(tables(Tweet), Query) and not isinstance(tables(Tweet), Scan)
    assert isinstance(tables.scan(Tweet), Scan)
    direct = Query(tables, Tweet)
    assert direct.tablename == Tweet.meta_.ddb_tablename(tables.namespace)
    assert direct.dynamo is tables.dynamo
    assert direct.filter(userid="abc123").count() == 20
    # Abbreviated filter
    assert ids(tables(Tweet).filter(userid="abc123").all()) == ids(long_form)
    assert tables(Tweet).filter(userid="abc123", id="012").first().retweets == 12
    # Multiple filters in same statement
    assert ids(tables(Tweet).filter(Tweet.ts <= earlyts, userid="abc123").all()) == ["019", "018"]
    # Undeclared attributes by keyword
    assert ids(tables(Tweet).filter(userid="abc123", link="http://link/10").all()) == ["010"]


# -- 1.3.2 Table Scans ----------------------------------------------------------------------
def test_scans(tables: Engine, tweets: list[Tweet]) -> None:
    # Fetch all tweets ever
    alltweets = tables.scan(Tweet).gen()
    assert len(list(alltweets)) == 21
    # Fetch all tweets that tag awscloud
    tweets[3].tags.add("awscloud")
    tweets[3].sync()
    tagged = tables.scan(Tweet).filter(Tweet.tags.contains_("awscloud")).all()
    assert ids(tagged) == ["003"]
    # Fetch all tweets with annoying, predictable text
    annoying = set(["first post", "hey guys", "LOOK AT MY CAT"])
    tweets[4].text = "hey guys"
    tweets[4].sync()
    first = tables.scan(Tweet).filter(Tweet.text.in_(annoying)).all()
    assert ids(first) == ["004"]
    # Fetch all tweets with a link (an undeclared field)
    linked = tables.scan(Tweet).filter(Tweet.field("link") != None).all()
    assert sorted(ids(linked)) == ["000", "005", "010", "015"]
    unlinked = tables.scan(Tweet).filter(Tweet.field("link") == None).count()
    assert unlinked == 17
    assert tables.scan(Tweet).filter(Tweet.field("link").contains_("k/1")).count() == 2
    assert tables.scan(Tweet).filter(Tweet.field("link").in_(["http://link/5"])).count() == 1
    assert tables.scan(Tweet).filter(Tweet.text == None).count() == 0
    assert tables.scan(Tweet).filter(Tweet.text != None).count() == 21
    assert tables.scan(Tweet).filter(Tweet.tags.ncontains_("odd")).count() == 11
    # keyword filters and filter_or on scans
    assert ids(tables.scan(Tweet).filter(text="not abc123").all()) == ["000"]
    assert tables.scan(Tweet).filter(Tweet.retweets == 1, Tweet.retweets == 2).count(
        filter_or=True
    ) == 2
    assert len(tables.scan(Tweet).limit(5).all()) == 5


def test_scan_options(tables: Engine, tweets: list[Tweet], requests: list[dict[str, Any]]) -> None:
    # the API reference's argument order: Scan.gen(attributes=None, desc=False, ...)
    rows = list(tables.scan(Tweet).filter(Tweet.retweets == 1000).gen(["text"]))
    assert rows == [{"text": "not abc123"}]
    assert tables.scan(Tweet).filter(Tweet.retweets == 1000).all(attributes=["id"]) == [
        {"id": "000"}
    ]
    with pytest.raises(ValueError, match="desc"):
        tables.scan(Tweet).all(desc=True)
    assert len(tables.scan(Tweet).all(consistent=True)) == 21
    assert requests[-1]["ConsistentRead"] is True
    keys_only = tables.scan(Tweet).index("rt-index").all()
    assert requests[-1]["IndexName"] == "rt-index"
    assert len(keys_only) == 21 and all(t.text is None for t in keys_only)
    assert tables.scan(Tweet).index("ts-index").filter(Tweet.retweets < 3).count() == 3
    with pytest.raises(ValueError, match="nope"):
        tables.scan(Tweet).index("nope")
    tables.scan(Tweet).filter(Tweet.retweets >= 10).delete()
    assert tables.scan(Tweet).count() == 10


# -- the API reference: Condition.query_kwargs / scan_kwargs, Ordering.query_kwargs ---------
def test_request_kwargs_are_what_a_query_or_scan_sends(
    tables: Engine, tweets: list[Tweet], requests: list[dict[str, Any]]
) -> None:
    def send(operation: str, kwargs: dict[str, Any]) -> list[str]:
        request = {"TableName": tables.tablename(Tweet), **kwargs}
        return sorted(item["id"]["S"] for item in tables.dynamo.call(operation, request)["Items"])

    table_key = (Tweet.userid == "abc123") & (Tweet.id < "003") & (Tweet.text != "tweet 1")
    on_index = (Tweet.userid == "abc123") & (Tweet.retweets > 16)
    cases: list[tuple[Any, str, Any]] = [
        (table_key, "Query", ["000", "002"]),
        (on_index, "Query", ["017", "018", "019"]),
        (on_index & Condition.construct_index("rt-index"), "Query", ["017", "018", "019"]),
    ]
    for condition, operation, expected in cases:
        kwargs = condition.query_kwargs(Tweet)
        assert "TableName" not in kwargs
        tables(Tweet).filter(condition).all()
        assert {"TableName": tables.tablename(Tweet), **kwargs} == requests[-1]
        assert send(operation, kwargs) == expected
    assert on_index.query_kwargs(Tweet)["IndexName"] == "rt-index"
    assert "IndexName" not in table_key.query_kwargs(Tweet)
    with pytest.raises(ValueError, match="hash key"):
        (Tweet.text == "x").query_kwargs(Tweet)
    # a scan: every constraint a filter; the model is the one the fields belong to
    scan = (Tweet.retweets > 17) & (Tweet.field("link") == None)
    tables.scan(Tweet).filter(scan).all()
    assert {"TableName": tables.tablename(Tweet), **scan.scan_kwargs()} == requests[-1]
    assert scan.scan_kwargs(Tweet) == scan.scan_kwargs()
    assert send("Scan", scan.scan_kwargs()) == ["000", "018", "019"]  # "other" too
    assert "IndexName" not in scan.scan_kwargs()
    assert Condition.construct_index("rt-index").scan_kwargs(Tweet) == {"IndexName": "rt-index"}
    with pytest.raises(ValueError, match="scan_kwargs"):
        Condition().scan_kwargs()
    # an ordering: the query against it, whichever index the fields would choose
    table = Tweet.meta_.get_ordering_from_index(None)
    kwargs = table.query_kwargs({"userid": "abc123"}, {"retweets": ("gt", 16)})
    assert "IndexName" not in kwargs and "FilterExpression" in kwargs
    assert send("Query", kwargs) == ["017", "018", "019"]
    index = Tweet.meta_.get_ordering_from_index("rt-index")
    kwargs = index.query_kwargs({"userid": "abc123"}, {"retweets": ("between", (2, 3))})
    assert kwargs["IndexName"] == "rt-index" and "FilterExpression" not in kwargs
    assert send("Query", kwargs) == ["002", "003"]
    assert index.query_kwargs({"userid": "abc123"}, {}) == Condition.construct(
        Tweet.userid, "eq", "abc123"
    ).query_kwargs(Tweet) | {"IndexName": "rt-index"}
