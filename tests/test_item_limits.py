"""The local item checks (item_limits.py): the cheap bound never lets through what the exact
count refuses, and the messages still come from the exact count.

No server: these are pure functions over AttributeValue dicts.
"""
from __future__ import annotations

import random
from typing import Any

import pytest

from flywheel.item_limits import (
    MAX_HASH_KEY_BYTES,
    MAX_ITEM_BYTES,
    MAX_NESTING_DEPTH,
    MAX_RANGE_KEY_BYTES,
    _check_exactly,
    _size_bound,
    _text_size,
    attribute_size,
    check_item,
)

TEXTS = ["a", "é", "字", "😀", "\ud800", "0", " "]


def random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(TEXTS) for _ in range(size))


def random_number(rng: random.Random) -> str:
    return rng.choice(["0", "-1", "1.5", "0.000120", "12345678901234567890", "1E+5", "-3.25e-7", "7"])


def random_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kind = rng.choice(["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "M", "L"] if depth < 3 else ["S", "N"])
    size = rng.choice([0, 1, 5, 200, 5000])
    if kind == "S":
        return {"S": random_text(rng, size)}
    if kind == "N":
        return {"N": random_number(rng)}
    if kind == "B":
        return {"B": bytes(size)}
    if kind == "SS":
        return {"SS": [random_text(rng, size) + str(i) for i in range(rng.randint(1, 4))]}
    if kind == "NS":
        return {"NS": [random_number(rng) for _ in range(rng.randint(1, 4))]}
    if kind == "BS":
        return {"BS": [bytes(size) + bytes([i]) for i in range(rng.randint(1, 3))]}
    if kind == "BOOL":
        return {"BOOL": True}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "M":
        return {"M": {random_text(rng, 3) + str(i): random_value(rng, depth + 1) for i in range(rng.randint(0, 3))}}
    return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}


def exact_size(item: dict[str, Any]) -> int:
    return sum(_text_size(name) + attribute_size(value) for name, value in item.items())


def outcome(check: Any, item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    try:
        check("Doc", item, keys, lambda name: "<value>")
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("seed", range(40))
def test_bound_is_never_below_the_exact_size(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        item = {"h": {"S": random_text(rng, rng.choice([1, 300, 700]))}}
        item.update({f"a{i}": random_value(rng) for i in range(rng.randint(0, 12))})
        assert _size_bound(item) >= exact_size(item)


@pytest.mark.parametrize("seed", range(40))
def test_check_item_refuses_exactly_what_the_exact_count_refuses(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(10):
        item: dict[str, Any] = {
            "h": {"S": random_text(rng, rng.choice([1, 500, 1030]))},
            "r": {"N": random_number(rng)} if rng.random() < 0.5 else {"S": random_text(rng, rng.choice([1, 260, 1100]))},
        }
        for i in range(rng.randint(0, 6)):
            item[f"a{i}"] = random_value(rng)
        # sometimes push the item to just under or over 400 KB
        if rng.random() < 0.4:
            room = MAX_ITEM_BYTES - exact_size(item) - 3
            item["fill"] = {"S": "x" * (room + rng.choice([-2, 0, 1, 5]))}
        keys = ("h", "r")
        assert outcome(check_item, item, keys) == outcome(_check_exactly, item, keys)


def test_messages_name_the_attribute() -> None:
    big = {"h": {"S": "k"}, "body": {"S": "é" * (MAX_ITEM_BYTES // 2)}}
    with pytest.raises(ValueError, match=r"Doc: the item is .* largest attribute is Doc\.body"):
        check_item("Doc", big, ["h"], lambda name: "<value>")
    long_key = {"h": {"S": "k" * (MAX_HASH_KEY_BYTES + 1)}}
    with pytest.raises(ValueError, match=r"Doc\.h: a partition \(hash\) key value is 2,049 bytes"):
        check_item("Doc", long_key, ["h"], lambda name: "<value>")
    long_range = {"h": {"S": "k"}, "r": {"S": "字" * (MAX_RANGE_KEY_BYTES // 3 + 1)}}
    with pytest.raises(ValueError, match=r"Doc\.r: a sort \(range\) key value"):
        check_item("Doc", long_range, ["h", "r"], lambda name: "<value>")


def test_depth_is_checked_on_the_fast_path() -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(MAX_NESTING_DEPTH + 1):
        value = {"M": {"x": value}}
    with pytest.raises(ValueError, match=r"Doc\.doc: a document nested more than 32"):
        check_item("Doc", {"h": {"S": "k"}, "doc": value}, ["h"], lambda name: "<value>")
    shallow: dict[str, Any] = {"S": "leaf"}
    for _ in range(MAX_NESTING_DEPTH - 1):
        shallow = {"L": [shallow]}
    check_item("Doc", {"h": {"S": "k"}, "doc": shallow}, ["h"], lambda name: "<value>")


def test_an_ordinary_item_passes() -> None:
    item = {
        "h": {"S": "user"}, "r": {"N": "12"}, "tags": {"SS": ["a", "b"]}, "n": {"NS": ["1", "2.5"]},
        "b": {"B": b"\x00\x01"}, "ok": {"BOOL": True}, "doc": {"M": {"k": {"L": [{"N": "1"}]}}},
    }
    check_item("Doc", item, ["h", "r"], lambda name: "<value>")
