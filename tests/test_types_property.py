"""Property-based round trips (hypothesis): every data type, sets of every scalar type,
undeclared attributes and nested native documents go through the test server and come back
as the same values of the same Python types.

"The same Python type" follows CONTRACT where a DynamoDB number has no type of its own
(NUMBER fields, number sets, undeclared numbers, numbers inside documents): it loads as int
when integral, as float when a float reproduces it exactly, otherwise as Decimal —
:func:`natural_number` is that rule written independently of flywheel's code.

Items are saved and read in batches to keep the server round trips few; the example counts
are modest so the suite stays fast on moto (FLYWHEEL_HYPOTHESIS_EXAMPLES raises them).
"""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flywheel import BOOL, LIST, MAP, NUMBER, NUMBER_SET, Field, Model, set_
from flywheel.fields.types import dump_natural, load_natural

SERVER_EXAMPLES = int(os.environ.get("FLYWHEEL_HYPOTHESIS_EXAMPLES", "40"))

server_settings = settings(
    max_examples=SERVER_EXAMPLES,
    deadline=None,
    database=None,  # leave no .hypothesis/ directory in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
pure_settings = settings(max_examples=200, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
binaries = st.binary(max_size=12)
# Any int DynamoDB holds: up to 38 digits, or fewer significant digits up to 10**125.
ints = st.one_of(
    st.integers(-(10**38) + 1, 10**38 - 1),
    st.builds(lambda base, power: base * 10**power, st.integers(-(10**6), 10**6),
              st.integers(0, 119)),
)
# Finite floats inside DynamoDB's range (1E-130 .. 9.99E+125); tinier magnitudes become 0.
floats = st.floats(min_value=-1e125, max_value=1e125, allow_nan=False,
                   allow_subnormal=False).map(lambda value: 0.0 if abs(value) < 1e-130 else value)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    """Up to 38 significant digits, with an exponent anywhere in DynamoDB's range."""
    digits = draw(st.lists(st.integers(0, 9), min_size=0, max_size=37))
    digits.insert(0, draw(st.integers(1, 9)))
    adjusted = draw(st.integers(-130, 125))
    sign = draw(st.integers(0, 1))
    return Decimal((sign, tuple(digits), adjusted - len(digits) + 1))


numbers = st.one_of(ints, floats, decimals())
offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59),
                        max_value=timedelta(hours=23, minutes=59))
datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.none() | st.builds(timezone, offsets),
)
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
# Sets DynamoDB holds natively: non-empty, of one kind (one numeric kind, so that Python and
# DynamoDB agree on which members are equal).
natural_sets = st.one_of(
    st.sets(texts, min_size=1, max_size=4),
    st.sets(binaries, min_size=1, max_size=4),
    st.sets(ints, min_size=1, max_size=4),
    st.sets(floats, min_size=1, max_size=4),
    st.sets(decimals(), min_size=1, max_size=4),
)
natural_scalars = st.one_of(texts, binaries, st.booleans(), numbers, natural_sets)
# Map keys are never empty here: moto 5.2.5 mangles an M holding the key '' (dynalite and
# DynamoDB keep it), and that is moto's bug, not one these tests should keep finding.
map_keys = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
documents = st.recursive(
    natural_scalars | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(map_keys, inner, max_size=3),
    max_leaves=10,
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def typed_sets(members: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.sets(members, max_size=4)  # may be empty: stored as no attribute


# -- the oracle ---------------------------------------------------------------------------------


def natural_number(value: Any) -> int | float | Decimal:
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if exact == exact.to_integral_value():
        return int(exact)
    if Decimal(repr(float(exact))) == exact:
        return float(exact)
    return exact


def expected_natural(value: Any) -> Any:
    """What an undeclared value (or a value inside a native document) loads back as."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (int, float, Decimal)):
        return natural_number(value)
    if isinstance(value, (set, frozenset)):
        return {expected_natural(member) for member in value}
    if isinstance(value, dict):
        return {key: expected_natural(member) for key, member in value.items()}
    return [expected_natural(member) for member in value]


def utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def typed(value: Any) -> Any:
    """A comparable form of a value that also records the Python type of every part."""
    if isinstance(value, dict):
        return ("dict", {key: typed(member) for key, member in value.items()})
    if isinstance(value, list):
        return ("list", [typed(member) for member in value])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, frozenset(typed(member) for member in value))
    return (type(value).__name__, value)


# -- every declared type ------------------------------------------------------------------------


class Every(Model):
    id = Field(hash_key=True)
    text = Field()
    data = Field(data_type=bytes)
    whole = Field(data_type=int)
    real = Field(data_type=float)
    exact = Field(data_type=Decimal)
    number = Field(data_type=NUMBER)
    flag = Field(data_type=bool)
    moment = Field(data_type=datetime)
    day = Field(data_type=date)
    doc = Field(data_type=dict)
    seq = Field(data_type=list)
    native_map = Field(data_type=MAP)
    native_list = Field(data_type=LIST)
    native_bool = Field(data_type=BOOL)
    texts = Field(data_type=set_(str))
    blobs = Field(data_type=set_(bytes))
    wholes = Field(data_type=set_(int))
    reals = Field(data_type=set_(float))
    exacts = Field(data_type=set_(Decimal))
    anynums = Field(data_type=NUMBER_SET)
    flags = Field(data_type=set_(bool))
    moments = Field(data_type=frozenset([datetime]))
    days = Field(data_type=set_(date))
    untyped = Field(data_type=set)


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": texts, "data": binaries, "whole": ints, "real": floats, "exact": decimals(),
    "number": numbers, "flag": st.booleans(), "moment": datetimes, "day": st.dates(),
    "doc": st.dictionaries(texts, json_values, max_size=3),
    "seq": st.lists(json_values, max_size=3),
    "native_map": st.dictionaries(map_keys, documents, max_size=3),
    "native_list": st.lists(documents, max_size=3),
    "native_bool": st.booleans(),
    "texts": typed_sets(texts), "blobs": typed_sets(binaries), "wholes": typed_sets(ints),
    "reals": typed_sets(floats), "exacts": typed_sets(decimals()),
    "anynums": typed_sets(ints) | typed_sets(floats) | typed_sets(decimals()),
    "flags": typed_sets(st.booleans()), "moments": typed_sets(datetimes),
    "days": typed_sets(st.dates()),
    "untyped": st.just(set()) | natural_sets,
}
every_item = st.fixed_dictionaries({}, optional={
    name: optional(strategy) for name, strategy in FIELD_VALUES.items()})


def expected_value(name: str, value: Any) -> Any:
    """What field ``name`` loads back after storing ``value``."""
    field = Every.meta_.fields[name]
    if value is None:
        return set() if field.is_set else None
    if name in ("number", "anynums", "untyped", "native_map", "native_list"):
        return expected_natural(value)
    if name == "moment":
        return utc_naive(value)
    if name == "moments":
        return {utc_naive(member) for member in value}
    return value


def test_the_strategies_cover_every_field() -> None:
    assert set(FIELD_VALUES) == set(Every.meta_.fields) - {"id"}


@server_settings
@given(batch=st.lists(every_item, min_size=1, max_size=4))
def test_every_declared_type_round_trips(engine: Any, batch: list[dict[str, Any]]) -> None:
    engine.register(Every)
    engine.create_schema()  # once per test: later examples find the table there
    prefix = uuid.uuid4().hex
    objs = [Every(f"{prefix}-{number}", **values) for number, values in enumerate(batch)]
    engine.save(objs)
    loaded = engine.get(Every, [{"id": obj.id} for obj in objs], consistent=True)
    assert [obj.id for obj in loaded] == [obj.id for obj in objs]
    for values, got in zip(batch, loaded):
        for name in FIELD_VALUES:
            expected = expected_value(name, values.get(name))
            assert typed(getattr(got, name)) == typed(expected), name


# -- undeclared attributes --------------------------------------------------------------------


class Loose(Model):
    id = Field(hash_key=True)


attribute_names = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(
    lambda name: name != "id")
undeclared = st.dictionaries(attribute_names, natural_scalars | documents.filter(
    lambda value: value is not None), min_size=1, max_size=4)


@server_settings
@given(batch=st.lists(undeclared, min_size=1, max_size=4))
def test_undeclared_attributes_round_trip(engine: Any, batch: list[dict[str, Any]]) -> None:
    engine.register(Loose)
    engine.create_schema()
    prefix = uuid.uuid4().hex
    objs = [Loose(f"{prefix}-{number}", **values) for number, values in enumerate(batch)]
    engine.save(objs)
    loaded = engine.get(Loose, [{"id": obj.id} for obj in objs], consistent=True)
    for values, got in zip(batch, loaded):
        held = {name: value for name, value in vars(got).items()
                if not name.startswith("_") and not name.endswith("_") and name != "id"}
        assert typed(held) == typed(expected_natural(values))


# -- the same properties without a server (many more examples, cheap) -------------------------


@pure_settings
@given(item=every_item)
def test_every_declared_type_round_trips_through_attribute_values(item: dict[str, Any]) -> None:
    for name, value in item.items():
        field = Every.meta_.fields[name]
        coerced = field.coerce(value)
        av = field.ddb_dump(coerced)
        got = field.ddb_load(av) if av is not None else (set() if field.is_set else None)
        assert typed(got) == typed(expected_value(name, value)), name


@pure_settings
@given(value=natural_scalars | documents)
def test_natural_values_round_trip_through_attribute_values(value: Any) -> None:
    av = dump_natural(value)
    if value is None:
        assert av is None
        return
    assert av is not None
    assert typed(load_natural(av)) == typed(expected_natural(value))


@pure_settings
@given(value=datetimes)
def test_datetime_text_is_exact_utc_epoch_seconds(value: datetime) -> None:
    field = Every.meta_.fields["moment"]
    text = field.ddb_dump(value)["N"]  # type: ignore[index]
    delta = utc_naive(value) - datetime(1970, 1, 1)
    expected = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    assert Decimal(text) == expected
    assert field.ddb_load({"N": text}) == utc_naive(value)


@pytest.mark.parametrize("name", sorted(FIELD_VALUES))
def test_absent_attribute_loads_as_the_empty_value(name: str) -> None:
    field = Every.meta_.fields[name]
    obj = Every.ddb_load_(None, {"id": {"S": "k"}})
    assert getattr(obj, name) == (set() if field.is_set else None)
