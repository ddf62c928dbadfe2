"""The benchmark's data: one item shape, declared for flywheel and for PynamoDB.

An item has 20 attributes of mixed types (strings, ints, floats, Decimals, a string set, a
number set, a datetime and a JSON dict). Each mapper stores them in its own format (flywheel
a datetime as epoch seconds, PynamoDB as text), so each contestant is served the bytes its
own mapper wrote: :func:`flywheel_items` and :func:`pynamodb_items` give the same logical
items in the two formats (botocore and boto3 read flywheel's).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pynamodb import attributes as pa
from pynamodb.models import Model as PynamoModel

from flywheel import Field, Model, set_

HASH_KEY = "p"  # every item lives in one partition, so a Query returns them all
ACCESS_KEY, SECRET_KEY = "bench", "bench-secret"


class BenchItem(Model):
    """The item as a flywheel model."""

    __metadata__ = {"_name": "bench"}
    pk = Field(hash_key=True)
    sk = Field(range_key=True)
    s1 = Field()
    s2 = Field()
    s3 = Field()
    s4 = Field()
    s5 = Field()
    i1 = Field(data_type=int)
    i2 = Field(data_type=int)
    i3 = Field(data_type=int)
    i4 = Field(data_type=int)
    f1 = Field(data_type=float)
    f2 = Field(data_type=float)
    f3 = Field(data_type=float)
    d1 = Field(data_type=Decimal)
    d2 = Field(data_type=Decimal)
    tags = Field(data_type=set_(str))
    nums = Field(data_type=set_(int))
    created = Field(data_type=datetime)
    meta = Field(data_type=dict)


def pynamodb_model(table: str, host: str | None) -> type[PynamoModel]:
    """The item as a PynamoDB model of ``table`` on ``host`` (a new class per endpoint)."""

    class PItem(PynamoModel):
        class Meta:
            pass

        pk = pa.UnicodeAttribute(hash_key=True)
        sk = pa.UnicodeAttribute(range_key=True)
        s1 = pa.UnicodeAttribute(null=True)
        s2 = pa.UnicodeAttribute(null=True)
        s3 = pa.UnicodeAttribute(null=True)
        s4 = pa.UnicodeAttribute(null=True)
        s5 = pa.UnicodeAttribute(null=True)
        i1 = pa.NumberAttribute(null=True)
        i2 = pa.NumberAttribute(null=True)
        i3 = pa.NumberAttribute(null=True)
        i4 = pa.NumberAttribute(null=True)
        f1 = pa.NumberAttribute(null=True)
        f2 = pa.NumberAttribute(null=True)
        f3 = pa.NumberAttribute(null=True)
        d1 = pa.NumberAttribute(null=True)
        d2 = pa.NumberAttribute(null=True)
        tags = pa.UnicodeSetAttribute(null=True)
        nums = pa.NumberSetAttribute(null=True)
        created = pa.UTCDateTimeAttribute(null=True)
        meta = pa.JSONAttribute(null=True)

    meta: Any = PItem.Meta
    meta.table_name = table
    meta.region = "us-east-1"
    meta.host = host
    meta.aws_access_key_id = ACCESS_KEY
    meta.aws_secret_access_key = SECRET_KEY
    meta.max_retry_attempts = 0
    return PItem


def logical_items(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` items as plain Python values (deterministic)."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    items = []
    for n in range(count):
        items.append(
            {
                "pk": HASH_KEY,
                "sk": f"item-{n:07d}",
                "s1": rng.choice(words) * 2,
                "s2": f"user{rng.randrange(10**6)}@example.com",
                "s3": " ".join(rng.choices(words, k=6)),
                "s4": rng.choice(words).upper(),
                "s5": f"{rng.randrange(10**9):09d}",
                "i1": rng.randrange(10**3),
                "i2": rng.randrange(10**6),
                "i3": rng.randrange(-(10**9), 10**9),
                "i4": rng.randrange(2),
                "f1": round(rng.uniform(-100, 100), 3),
                "f2": rng.random(),
                "f3": round(rng.uniform(0, 10**6), 2),
                "d1": Decimal(rng.randrange(10**8)) / 100,
                "d2": Decimal(f"{rng.randrange(10**12)}.{rng.randrange(10**6):06d}"),
                "tags": set(rng.sample(words, 3)),
                "nums": set(rng.sample(range(1000), 4)),
                "created": (start + timedelta(seconds=rng.randrange(10**7))).replace(tzinfo=None),
                "meta": {"source": rng.choice(words), "version": rng.randrange(10), "ok": True},
            }
        )
    return items


def flywheel_objects(items: list[dict[str, Any]]) -> list[BenchItem]:
    return [BenchItem(**item) for item in items]


def flywheel_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items as DynamoDB JSON, as flywheel writes them."""
    return [obj.ddb_dump_() for obj in flywheel_objects(items)]


def pynamodb_objects(model: type[PynamoModel], items: list[dict[str, Any]]) -> list[PynamoModel]:
    objects = []
    for item in items:
        values = dict(item)
        values["created"] = values["created"].replace(tzinfo=timezone.utc)
        values["d1"] = float(values["d1"])  # PynamoDB numbers are JSON floats
        values["d2"] = float(values["d2"])
        objects.append(model(**values))
    return objects


def pynamodb_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items as DynamoDB JSON, as PynamoDB writes them."""
    model = pynamodb_model("pbench", None)
    return [obj.serialize() for obj in pynamodb_objects(model, items)]
