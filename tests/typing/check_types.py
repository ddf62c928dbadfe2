"""What a type checker infers from flywheel's declarations; checked by mypy (its files include
tests/typing, see pyproject.toml), never run. ``assert_type`` fails the mypy leg when an
inferred type differs from the one written here; a ``# type: ignore[...]`` line proves mypy
rejects what it should (``warn_unused_ignores`` fails the leg if it stops rejecting it).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from typing_extensions import assert_type

from flywheel import NUMBER, Composite, Engine, Field, Model, set_
from flywheel.fields.conditions import Condition
from flywheel.query import Query


class Tweet(Model):
    userid = Field(hash_key=True)
    id = Field(range_key=True)
    ts = Field(data_type=datetime, index="ts-index")
    day = Field(data_type=date)
    retweets = Field(data_type=int)
    ratio = Field(data_type=float)
    price = Field(data_type=Decimal)
    flag = Field(data_type=bool)
    blob = Field(data_type=bytes)
    data = Field(data_type=dict)
    items = Field(data_type=list)
    tags = Field(data_type=set)
    by_name = Field(data_type=NUMBER)  # a name: the checker cannot know, so Any ...
    score: Field[int] = Field(data_type=NUMBER)  # ... unless annotated
    ids = Field(data_type=set_(int))
    user_day = Composite("userid", "day")
    total: Composite[int] = Composite("retweets", "retweets", data_type=NUMBER, merge=lambda a, b: a + b)


def check_instance_attributes(tweet: Tweet) -> None:
    assert_type(tweet.userid, str)
    assert_type(tweet.ts, datetime)
    assert_type(tweet.day, date)
    assert_type(tweet.retweets, int)
    assert_type(tweet.ratio, float)
    assert_type(tweet.price, Decimal)
    assert_type(tweet.flag, bool)
    assert_type(tweet.blob, bytes)
    assert_type(tweet.data, dict[Any, Any])
    assert_type(tweet.items, list[Any])
    assert_type(tweet.tags, set[Any])
    assert_type(tweet.by_name, Any)
    assert_type(tweet.score, int)
    assert_type(tweet.ids, Any)
    assert_type(tweet.user_day, str)
    assert_type(tweet.total, int)


def check_class_attributes() -> None:
    assert_type(Tweet.ts, Field[datetime])
    assert_type(Tweet.user_day, Composite[str])
    assert_type(Tweet.ts > datetime(2024, 1, 1), Condition)
    assert_type(Tweet.userid == "a", Condition)
    assert_type(Tweet.tags.contains_("x"), Condition)


def check_engine(engine: Engine) -> None:
    assert_type(engine.query(Tweet), Query[Tweet])
    assert_type(engine.query(Tweet).filter(Tweet.userid == "a"), Query[Tweet])


def check_mistakes_are_caught(tweet: Tweet) -> None:
    tweet.retweets.upper()  # type: ignore[attr-defined]
    length: int = tweet.ts  # type: ignore[assignment]
    del length
