"""The value layer's fast paths give exactly what the general paths give (no server).

Each fast path (orjson for JSON text, C loops for set members, whole-second datetimes, int
number sets without the Decimal pass) is checked against the code it short-cuts.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from flywheel import Field, Model, set_
from flywheel.fields.types import load_type
from flywheel.values import codec
from flywheel.values.scalars import (
    DateTimeType,
    _datetime_from_micros,
    _micros_from_number,
)

JSON_TEXTS = [
    '{"source":"charlie","version":4,"ok":true}',
    '{"a":1.5,"b":"x"}',
    '{"a":1.10}',
    '[1e5, 1E-3, 2.5e+300]',
    '[12345678901234567890123, -9223372036854775809, 9223372036854775807]',
    '{"a":NaN,"b":Infinity}',
    '{"a":1,"a":2}',
    '["\\ud800", "\\u00e9", "字"]',
    '{"nested":{"l":[{"k":null}],"t":false}}',
    '  [1, 2] ',
    '"v1.2 has a digit then a dot only inside a string"',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_load_json_matches_the_decimal_preserving_parser(text: str) -> None:
    expected = codec._JSON_DECODER.decode(text)
    loaded = codec.load_json(text)
    assert json.dumps(loaded, default=str, sort_keys=True) == json.dumps(expected, default=str, sort_keys=True)
    assert repr(loaded) == repr(expected)  # same types too: int, float or Decimal


@pytest.mark.parametrize("text", ['{"a":', '[1,]', "", "{'a': 1}"])
def test_load_json_errors_are_the_json_errors(text: str) -> None:
    with pytest.raises(ValueError, match="stored text is not JSON"):
        codec.load_json(text)


@pytest.mark.parametrize(
    ("member_type", "raw", "expected"),
    [
        (int, ["1", "22", "-3"], {1, 22, -3}),
        (int, ["1", "1E+2", "2.5"], {1, 100, 2.5}),  # another client's texts
        (float, ["0.5", "1e3"], {0.5, 1000.0}),
        (Decimal, ["0.10", "3"], {Decimal("0.10"), Decimal(3)}),
        (str, ["a", "b"], {"a", "b"}),
        (bytes, [b"a", b"b"], {b"a", b"b"}),
    ],
)
def test_set_members_load_like_one_at_a_time(member_type: Any, raw: list[Any], expected: set[Any]) -> None:
    set_type = load_type(set_(member_type))
    item_type = set_type.item_type  # type: ignore[attr-defined]
    loaded = set_type.load_attribute({set_type.ddb_data_type: raw})
    assert loaded == expected == {item_type.load_scalar(member) for member in raw}


def test_int_sets_skip_the_decimal_pass_only_when_every_member_is_an_int() -> None:
    set_type = load_type(set_(int))
    assert sorted(set_type.dump_attribute({3, 1, 2})["NS"]) == ["1", "2", "3"]  # type: ignore[index]
    # a float slipped in by an in-place change: the texts are still made unique by value
    mixed = {1, 10**23, 1e23}
    dumped = set_type.dump_attribute(mixed)["NS"]  # type: ignore[index]
    assert len({Decimal(text) for text in dumped}) == len(dumped)


@pytest.mark.parametrize("text", ["0", "1", "1704848727", "99999999999", "0001704848727"])
def test_whole_second_datetimes_match_the_general_path(text: str) -> None:
    expected = _datetime_from_micros(_micros_from_number(text))
    assert DateTimeType().load_attribute({"N": text}) == expected
    assert isinstance(expected, datetime) and expected.tzinfo is None


def test_non_ascii_digits_are_not_a_datetime() -> None:
    with pytest.raises(ValueError):
        DateTimeType().load_attribute({"N": "²"})


class Plain(Model):
    id = Field(hash_key=True)
    text = Field()
    count = Field(data_type=int)
    ratio = Field(data_type=float)
    price = Field(data_type=Decimal)


STORED = [
    {"S": "x"}, {"S": ""}, {"N": "12"}, {"N": "-0"}, {"N": "1E+2"}, {"N": "1.50"},
    {"N": "12345678901234567890123456789012345678"}, {"BOOL": True}, {"NULL": True},
    {"SS": ["a"]}, {"B": b"\x00"},
]


@pytest.mark.parametrize("av", STORED, ids=repr)
@pytest.mark.parametrize("name", ["text", "count", "ratio", "price"])
def test_loading_plain_strings_and_numbers_without_the_loader_gives_what_the_loader_gives(
    name: str, av: dict[str, Any]
) -> None:
    """Models load S and N values of str, int, float and Decimal fields inline
    (TypeDefinition.direct_load); every value, including ones stored by another type, must
    come out exactly as the field type's own load_attribute makes it, or fail the same way."""
    field_type = Plain.meta_.fields[name].type
    try:
        expected: Any = field_type.load_attribute(av)
    except Exception as exc:  # noqa: BLE001 - the same failure is what is expected
        with pytest.raises(type(exc)):
            Plain.ddb_load_(None, {"id": {"S": "k"}, name: av})
        return
    loaded = getattr(Plain.ddb_load_(None, {"id": {"S": "k"}, name: av}), name)
    assert type(loaded) is type(expected) and repr(loaded) == repr(expected)
