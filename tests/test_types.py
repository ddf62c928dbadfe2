"""Unit tests of the values layer (flywheel.fields.types): no server needed."""
from __future__ import annotations

import math
import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from flywheel.fields import types
from flywheel.fields.types import (
    BINARY,
    BINARY_SET,
    BOOL,
    LIST,
    MAP,
    NULL,
    NUMBER,
    NUMBER_SET,
    STRING,
    STRING_SET,
    Binary,
    BinaryType,
    BoolNativeType,
    BoolType,
    DateTimeType,
    DateType,
    DecimalType,
    DictType,
    FloatType,
    IntType,
    ListNativeType,
    ListType,
    MapType,
    NullType,
    NumberType,
    SetType,
    StringType,
    TypeDefinition,
    dump_natural,
    load_natural,
    load_number,
    load_type,
    natural_type,
    natural_type_of,
    register_type,
    set_,
)


def normalized(av: Any) -> Any:
    """An AttributeValue with set members sorted, so that dumps compare exactly."""
    if isinstance(av, dict):
        return {key: sorted(value) if key in ('SS', 'NS', 'BS') else normalized(value)
                for key, value in av.items()}
    if isinstance(av, list):
        return [normalized(member) for member in av]
    return av


def test_constants() -> None:
    assert (STRING, NUMBER, BINARY) == ('S', 'N', 'B')
    assert (STRING_SET, NUMBER_SET, BINARY_SET) == ('SS', 'NS', 'BS')
    assert (MAP, LIST, BOOL, NULL) == ('M', 'L', 'BOOL', 'NULL')


def test_binary() -> None:
    assert Binary(b'ab').value == b'ab'
    assert Binary('é').value == 'é'.encode()
    assert bytes(Binary(b'\x00\xff')) == b'\x00\xff'
    assert Binary(b'ab') == Binary(b'ab') == b'ab'
    assert Binary(b'ab') != Binary(b'ac')
    assert hash(Binary(b'ab')) == hash(b'ab')
    assert len({Binary(b'ab'), Binary(b'ab')}) == 1
    assert repr(Binary(b'ab')) == "Binary(b'ab')"
    with pytest.raises(TypeError):
        Binary(12)  # type: ignore[arg-type]


# -- the storage table of CONTRACT.md: exact wire form, and the way back ----------------------

EPOCH_2013 = 1356998400  # 2013-01-01T00:00:00Z

ROUND_TRIPS = [
    (str, 'hello', {'S': 'hello'}),
    (str, '', {'S': ''}),
    (STRING, 'ünïcode', {'S': 'ünïcode'}),
    (bytes, b'\x00\xffdata', {'B': b'\x00\xffdata'}),
    (BINARY, b'', {'B': b''}),
    (int, 12, {'N': '12'}),
    (int, -7, {'N': '-7'}),
    (int, 10**37 + 1, {'N': str(10**37 + 1)}),
    (int, 99999999999999999999999999999999999999, {'N': '9' * 38}),
    (int, 10**100, {'N': str(10**100)}),  # one significant digit: DynamoDB holds it
    (float, 0.1, {'N': '0.1'}),
    (float, 1.5, {'N': '1.5'}),
    (float, -2.0, {'N': '-2.0'}),
    (float, 1e-05, {'N': '1e-05'}),
    (float, 1.2345678901234567e+100, {'N': '1.2345678901234567e+100'}),
    (Decimal, Decimal('3.14159265358979323846264338327950288'),
     {'N': '3.14159265358979323846264338327950288'}),
    (Decimal, Decimal('-0.5'), {'N': '-0.5'}),
    (NUMBER, 5, {'N': '5'}),
    (NUMBER, 0.1, {'N': '0.1'}),
    (NUMBER, Decimal('0.1000000000000000000001'), {'N': '0.1000000000000000000001'}),
    (bool, True, {'N': '1'}),
    (bool, False, {'N': '0'}),
    (datetime, datetime(2013, 1, 1, 10, 0, 0, 123456), {'N': '1357034400.123456'}),
    (datetime, datetime(2013, 1, 1), {'N': str(EPOCH_2013)}),
    (datetime, datetime(2013, 1, 1, 0, 0, 0, 500000), {'N': f'{EPOCH_2013}.5'}),
    (datetime, datetime(1969, 12, 31, 23, 59, 59, 500000), {'N': '-0.5'}),
    (datetime, datetime(1900, 1, 1, 0, 0, 0, 1), {'N': '-2208988799.999999'}),
    (datetime, datetime(9999, 12, 31, 23, 59, 59, 999999), {'N': '253402300799.999999'}),
    (date, date(2013, 1, 1), {'N': str(EPOCH_2013)}),
    (date, date(1969, 12, 31), {'N': '-86400'}),
    (dict, {'a': 1, 'b': [1, 2.5, None, True], 'c': 'é'},
     {'S': '{"a":1,"b":[1,2.5,null,true],"c":"é"}'}),
    (dict, {}, {'S': '{}'}),
    (list, [1, 'two', {'three': 3.0}], {'S': '[1,"two",{"three":3.0}]'}),
    (set, {'a', 'b'}, {'SS': ['a', 'b']}),
    (set, {1, 2.5, Decimal('0.1000000000000000000001')},
     {'NS': ['1', '2.5', '0.1000000000000000000001']}),
    (set, {b'a', b'b'}, {'BS': [b'a', b'b']}),
    (set_(int), {1, 2}, {'NS': ['1', '2']}),
    (set_(str), {'x'}, {'SS': ['x']}),
    (set_(bytes), {b'x'}, {'BS': [b'x']}),
    (set_(date), {date(2013, 1, 1), date(2013, 1, 2)},
     {'NS': [str(EPOCH_2013), str(EPOCH_2013 + 86400)]}),
    (frozenset([datetime]), {datetime(2013, 1, 1, 10, 0, 0, 123456)},
     {'NS': ['1357034400.123456']}),
    (STRING_SET, {'a'}, {'SS': ['a']}),
    (NUMBER_SET, {1, 0.5}, {'NS': ['0.5', '1']}),
    (BINARY_SET, {b'z'}, {'BS': [b'z']}),
    (MAP, {'s': 'x', 'n': 1, 'f': 0.5, 'b': b'y', 'bool': False, 'none': None,
           'ss': {'a'}, 'l': [1, {'deep': [None]}], 'm': {}},
     {'M': {'s': {'S': 'x'}, 'n': {'N': '1'}, 'f': {'N': '0.5'}, 'b': {'B': b'y'},
            'bool': {'BOOL': False}, 'none': {'NULL': True}, 'ss': {'SS': ['a']},
            'l': {'L': [{'N': '1'}, {'M': {'deep': {'L': [{'NULL': True}]}}}]},
            'm': {'M': {}}}}),
    (LIST, [1, 'a', [True]], {'L': [{'N': '1'}, {'S': 'a'}, {'L': [{'BOOL': True}]}]}),
    (LIST, [], {'L': []}),
    (BOOL, True, {'BOOL': True}),
]


@pytest.mark.parametrize('data_type, value, wire', ROUND_TRIPS)
def test_round_trip(data_type: Any, value: Any, wire: dict[str, Any]) -> None:
    type_ = load_type(data_type)
    assert type_.coerce(value, False) == value
    dumped = type_.dump_attribute(value)
    assert normalized(dumped) == normalized(wire)
    loaded = type_.load_attribute(dumped)  # type: ignore[arg-type]
    assert loaded == value
    assert type(loaded) is type(value)
    if isinstance(value, (set, dict, list)):
        members = value.values() if isinstance(value, dict) else value
        loaded_members = loaded.values() if isinstance(loaded, dict) else loaded
        assert sorted(map(repr, map(type, members))) == sorted(map(repr, map(type, loaded_members)))


@pytest.mark.parametrize('data_type, value, wire', [
    case for case in ROUND_TRIPS if load_type(case[0]).ddb_data_type in ('S', 'N', 'B', 'NS', 'SS', 'BS')
    and not (isinstance(case[2], dict) and set(case[2]) & {'SS', 'NS', 'BS'}
             and load_type(case[0]).item_type is None)  # type: ignore[attr-defined]
])
def test_spec_level_agrees_with_fast_path(data_type: Any, value: Any, wire: Any) -> None:
    """TypeDefinition's generic path (ddb_dump + encoder, decoder + ddb_load), which custom
    types use, gives the same results as each built-in's direct code."""
    type_ = load_type(data_type)
    assert normalized(TypeDefinition.dump_attribute(type_, value)) == normalized(wire)
    loaded = TypeDefinition.load_attribute(type_, wire)
    assert loaded == value
    assert type(loaded) is type(value)


def test_none_is_no_attribute() -> None:
    for data_type in (str, bytes, int, float, Decimal, NUMBER, bool, datetime, date, dict, list,
                      set, set_(int), MAP, LIST, BOOL, NULL):
        assert load_type(data_type).dump_attribute(None) is None


def test_empty_set_is_no_attribute_and_absent_set_loads_empty() -> None:
    for data_type in (set, set_(int), STRING_SET, frozenset([date])):
        type_ = load_type(data_type)
        assert type_.dump_attribute(set()) is None
        assert type_.load_missing() == set()
        assert type_.load_attribute({'NULL': True}) == set()
    assert load_type(str).load_missing() is None


def test_aware_datetime_is_converted_to_utc_and_loads_naive() -> None:
    aware = datetime(2013, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    type_ = DateTimeType()
    assert type_.dump_attribute(aware) == {'N': '1357034400.123456'}
    assert type_.load_attribute({'N': '1357034400.123456'}) == datetime(2013, 1, 1, 10, 0, 0, 123456)
    utc = datetime(2013, 1, 1, 10, tzinfo=timezone.utc)
    assert type_.dump_attribute(utc) == {'N': '1357034400'}


def test_datetime_is_exact_to_the_microsecond() -> None:
    type_ = DateTimeType()
    start = datetime(2286, 11, 20, 17, 46, 39, 999999)  # where float seconds lose microseconds
    for step in range(0, 2000, 7):
        value = start + timedelta(microseconds=step)
        assert type_.load_attribute(type_.dump_attribute(value)) == value  # type: ignore[arg-type]


def test_datetime_reads_other_number_forms() -> None:
    type_ = DateTimeType()
    assert type_.load_attribute({'N': '1.3570344001234567E+9'}) == datetime(2013, 1, 1, 10, 0, 0, 123457)
    assert type_.load_attribute({'N': '1357034400.1234564'}) == datetime(2013, 1, 1, 10, 0, 0, 123456)
    assert type_.load_attribute({'N': '-1.5'}) == datetime(1969, 12, 31, 23, 59, 58, 500000)


def test_float_is_stored_as_shortest_round_trip_text() -> None:
    type_ = FloatType()
    for value in (0.1, 0.2 + 0.1, 1 / 3, 5e-324 * 1e194, 123456789.123, -0.0, 1e125):
        wire = type_.dump_attribute(value)
        assert wire == {'N': repr(value)}
        assert type_.load_attribute(wire) == value


# -- numbers: DynamoDB's limits ------------------------------------------------------------


@pytest.mark.parametrize('value', [float('nan'), float('inf'), float('-inf'), Decimal('NaN'),
                                   Decimal('Infinity'), Decimal('-Infinity')])
@pytest.mark.parametrize('data_type', [NUMBER, float, Decimal])
def test_nan_and_infinity_are_refused(data_type: Any, value: Any) -> None:
    type_ = load_type(data_type)
    if isinstance(value, type_.data_type if isinstance(type_.data_type, type) else (float, Decimal)):
        with pytest.raises(ValueError, match='(?i)nan|inf'):
            type_.coerce(value, False)
        with pytest.raises(ValueError, match='(?i)nan|inf'):
            type_.dump_attribute(value)
    with pytest.raises(ValueError):
        dump_natural(value)


@pytest.mark.parametrize('value', [
    Decimal('1234567890123456789012345678901234567.89'),  # 39 significant digits
    Decimal('1.00000000000000000000000000000000000001'),
    10**38 + 1,
    Decimal('1E+126'),
    Decimal('-1E+126'),
    Decimal('1E-131'),
    10**126,
    -(10**126),
    1e126,
    1e-131,
    -1e-200,
    pytest.param(10**5000, id='10**5000'),  # too long even for repr()
])
def test_numbers_outside_dynamodb_limits_are_refused(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        NumberType().coerce(value, False)
    message = str(info.value)
    assert ('significant digits' in message) or ('range' in message)
    if not isinstance(value, int) or value.bit_length() < 1000:
        assert repr(value)[:30] in message
    with pytest.raises(ValueError):
        NumberType().dump_attribute(value)
    with pytest.raises(ValueError):
        dump_natural(value)


@pytest.mark.parametrize('value', [
    Decimal(12345678901234567890123456789012345678),
    Decimal(1234567890123456789012345678901234567800000),  # trailing zeros are not significant
    Decimal('9.9999999999999999999999999999999999999E+125'),
    Decimal('-9.9999999999999999999999999999999999999E+125'),
    Decimal('1E-130'),
    Decimal('1.0000000000000000000000000000000000000000000'),
    Decimal('0E-200'),
    10**125,
    1e-130,
    math.nextafter(1e126, 0),
])
def test_numbers_at_dynamodb_limits_are_accepted(value: Any) -> None:
    type_ = NumberType()
    wire = type_.dump_attribute(type_.coerce(value, False))
    assert wire is not None
    loaded = type_.load_attribute(wire)
    stored = Decimal(wire['N'])
    assert Decimal(repr(loaded)) == stored if isinstance(loaded, float) else loaded == stored
    assert stored == (Decimal(repr(value)) if isinstance(value, float) else value)


@pytest.mark.parametrize('text, expected', [
    ('12', 12),
    ('-0', 0),
    ('1E+2', 100),
    ('1.0', 1),
    ('123456789012345678901234567890123456789', 123456789012345678901234567890123456789),
    ('0.1', 0.1),
    ('1.5', 1.5),
    ('1E-130', 1e-130),
    ('0.00001', 1e-05),
    ('0.10000000000000001', Decimal('0.10000000000000001')),  # a float would read it as 0.1
    ('3.14159265358979323846264338327950288', Decimal('3.14159265358979323846264338327950288')),
])
def test_load_number_loses_nothing(text: str, expected: Any) -> None:
    loaded = load_number(text)
    assert loaded == expected
    assert type(loaded) is type(expected)
    assert NumberType().load_attribute({'N': text}) == expected


def test_int_field_reads_exponent_forms() -> None:
    assert IntType().load_attribute({'N': '1E+2'}) == 100
    assert type(IntType().load_attribute({'N': '1E+2'})) is int
    assert IntType().load_attribute({'N': '1.5'}) == 1.5  # not truncated: nothing is lost


# -- coercion -------------------------------------------------------------------------------


def test_float_and_decimal_fields_take_ints_exactly() -> None:
    assert FloatType().coerce(3, False) == 3.0 and type(FloatType().coerce(3, False)) is float
    assert DecimalType().coerce(3, False) == Decimal(3)
    with pytest.raises(ValueError):
        FloatType().coerce(2**60 + 1, False)  # a float cannot hold it exactly


def test_wrong_types_raise_type_error() -> None:
    cases: list[tuple[TypeDefinition, Any]] = [
        (StringType(), 12), (BinaryType(), 12), (IntType(), '12'), (IntType(), 1.0),
        (IntType(), True), (FloatType(), True), (DecimalType(), False), (NumberType(), True),
        (NumberType(), '1'), (BoolType(), 1), (DateTimeType(), date(2013, 1, 1)),
        (DateType(), datetime(2013, 1, 1)), (DictType(), [1]), (ListType(), {}),
        (SetType(), ['a']), (MapType(), []), (ListNativeType(), {}), (BoolNativeType(), 0),
        (NullType(), 1),
    ]
    for type_, value in cases:
        with pytest.raises(TypeError) as info:
            type_.coerce(value, False)
        assert repr(value) in str(info.value), (type_, value)


def test_int_coercion() -> None:
    type_ = IntType()
    assert type_.coerce('123', True) == 123
    assert type_.coerce(2.0, True) == 2
    assert type(type_.coerce(Decimal('2.000'), True)) is int
    assert type_.coerce('1E+3', True) == 1000
    assert type_.coerce(True, True) == 1
    for lossy in (1.8, Decimal('1.5'), '1.5', 1e-5):
        with pytest.raises(ValueError, match='data loss') as info:
            type_.coerce(lossy, True)
        assert f'convert {lossy!r} to int' in str(info.value)  # the value given, not parsed
    with pytest.raises(TypeError):
        type_.coerce(1.8, False)
    with pytest.raises(ValueError):
        type_.coerce('abc', True)
    with pytest.raises(ValueError):
        type_.coerce(float('nan'), True)


def test_a_field_error_shows_the_value_once() -> None:
    from flywheel import Field, Model

    class Strict(Model):
        h = Field(hash_key=True)
        n = Field(data_type=int)
        c = Field(data_type=int, coerce=True)
        s = Field(data_type=set_(int))

    expected: list[tuple[str, Any, str]] = [
        ('n', '1', "Strict.n: expected int, got str: '1'"),
        ('c', '1.8', "Strict.c: refusing to convert '1.8' to int: results in data loss"),
        ('c', Decimal('1.8'),
         "Strict.c: refusing to convert Decimal('1.8') to int: results in data loss"),
        # a message about a part of the value gets the whole value as well
        ('s', {'a'}, "Strict.s: set member: expected int, got str: 'a' (value {'a'})"),
    ]
    for name, value, message in expected:
        with pytest.raises((TypeError, ValueError)) as info:
            setattr(Strict('x'), name, value)
        assert str(info.value) == message


def test_string_and_bytes_auto_coercion() -> None:
    assert StringType().coerce(b'caf\xc3\xa9', False) == 'café'
    assert StringType().coerce(Binary(b'x'), False) == 'x'
    assert StringType().coerce(12, True) == '12'
    assert BinaryType().coerce('café', False) == b'caf\xc3\xa9'
    assert BinaryType().coerce(bytearray(b'ab'), False) == b'ab'
    assert type(BinaryType().coerce(Binary(b'ab'), False)) is bytes
    with pytest.raises(ValueError):
        StringType().coerce(b'\xff', False)


def test_float_decimal_number_bool_coercion() -> None:
    assert FloatType().coerce(3, True) == 3.0
    assert type(FloatType().coerce(3, True)) is float
    assert FloatType().coerce('0.1', True) == 0.1
    assert FloatType().coerce(Decimal('0.5'), True) == 0.5
    with pytest.raises(ValueError, match='data loss'):
        FloatType().coerce(2**60 + 1, True)
    with pytest.raises(ValueError, match='data loss'):
        FloatType().coerce(Decimal('0.1000000000000000000001'), True)
    assert DecimalType().coerce(0.1, True) == Decimal('0.1')
    assert DecimalType().coerce(5, True) == Decimal(5)
    assert DecimalType().coerce('1.25', True) == Decimal('1.25')
    with pytest.raises(ValueError):
        DecimalType().coerce('1' * 39, True)
    assert NumberType().coerce('1.50', True) == 1.5
    assert NumberType().coerce('7', True) == 7
    assert NumberType().coerce(True, True) == 1
    assert BoolType().coerce(0, True) is False
    assert BoolType().coerce(2, True) is True
    # a string converts by its word, never by its truth ('false' is a true string)
    for word, truth in [('false', False), ('FALSE', False), (' no ', False), ('0', False),
                        ('off', False), (b'false', False), ('True', True), ('yes', True),
                        ('1', True), ('on', True)]:
        assert BoolType().coerce(word, True) is truth, word
        assert BoolNativeType().coerce(word, True) is truth, word
    for bad in ['x', '', 'nope', '2']:
        with pytest.raises(ValueError, match='true/false'):
            BoolType().coerce(bad, True)
        with pytest.raises(ValueError, match='true/false'):
            BoolNativeType().coerce(bad, True)
    with pytest.raises(TypeError, match='expected bool'):
        BoolType().coerce('true', False)


def test_date_and_datetime_coercion() -> None:
    assert DateTimeType().coerce(date(2013, 1, 2), True) == datetime(2013, 1, 2)
    assert DateTimeType().coerce('2013-01-01T10:00:00.123456', True) == datetime(
        2013, 1, 1, 10, 0, 0, 123456)
    assert DateTimeType().coerce(1357034400.123456, True) == datetime(2013, 1, 1, 10, 0, 0, 123456)
    assert DateType().coerce(datetime(2013, 1, 2), True) == date(2013, 1, 2)
    assert type(DateType().coerce(datetime(2013, 1, 2), True)) is date
    assert DateType().coerce('2013-01-02', True) == date(2013, 1, 2)
    assert DateType().coerce(EPOCH_2013, True) == date(2013, 1, 1)
    with pytest.raises(ValueError, match='data loss'):
        DateType().coerce(datetime(2013, 1, 2, 10), True)


def test_dict_and_list_coercion() -> None:
    assert DictType().coerce([('a', 1)], True) == {'a': 1}
    assert ListType().coerce((1, 2), True) == [1, 2]
    assert ListNativeType().coerce((1, 2), False) == [1, 2]


# -- JSON documents -------------------------------------------------------------------------


def test_decimal_inside_json_is_a_number_and_keeps_its_precision() -> None:
    value = {'exact': Decimal('0.1000000000000000000001'), 'plain': Decimal('2.5'),
             'nested': [Decimal('1E+2'), 'é', None, True, 1.5, 3]}
    wire = DictType().dump_attribute(value)
    assert wire == {'S': '{"exact":0.1000000000000000000001,"plain":2.5,'
                         '"nested":[1E+2,"é",null,true,1.5,3]}'}
    loaded = DictType().load_attribute(wire)
    assert loaded == value
    assert type(loaded['exact']) is Decimal


def test_json_refuses_what_it_cannot_store() -> None:
    with pytest.raises(ValueError):
        DictType().dump_attribute({'x': float('nan')})
    with pytest.raises(ValueError):
        DictType().dump_attribute({'x': Decimal('NaN')})
    with pytest.raises(TypeError, match='datetime'):
        DictType().dump_attribute({'x': datetime(2013, 1, 1)})
    with pytest.raises(ValueError, match='not JSON'):
        DictType().load_attribute({'S': 'not json'})


def test_lenient_loading_of_other_clients_attributes() -> None:
    assert DictType().load_attribute({'M': {'a': {'N': '1'}}}) == {'a': 1}
    assert ListType().load_attribute({'L': [{'S': 'a'}]}) == ['a']
    assert BoolType().load_attribute({'BOOL': True}) is True
    assert BoolType().load_attribute({'BOOL': False}) is False
    assert BoolNativeType().load_attribute({'N': '1'}) is True
    assert MapType().load_attribute({'S': '{"a": 1}'}) == {'a': 1}
    assert ListNativeType().load_attribute({'S': '[1]'}) == [1]
    assert IntType().load_attribute({'S': '12'}) == 12
    assert StringType().load_attribute({'N': '12'}) == '12'
    assert set_(int)().load_attribute({'L': [{'N': '1'}]}) == {1}
    assert SetType().load_attribute({'L': [{'S': 'a'}]}) == {'a'}
    assert StringType().load_attribute({'NULL': True}) is None


# -- sets -----------------------------------------------------------------------------------


def test_typed_sets_check_their_members() -> None:
    type_ = load_type(set_(int))
    with pytest.raises(TypeError, match="'a'"):
        type_.coerce({'a'}, False)
    assert type_.coerce({'1', 2}, True) == {1, 2}
    with pytest.raises(ValueError):
        type_.coerce({1.5}, True)
    assert load_type(set_(bytes)).coerce({'a'}, False) == {b'a'}  # auto-encoding applies
    with pytest.raises(TypeError):
        load_type(set_(date)).coerce({datetime(2013, 1, 1)}, False)


def test_set_coercion_keeps_the_callers_object() -> None:
    value = {1, 2}
    assert load_type(set_(int)).coerce(value, False) is value
    assert SetType().coerce(value, False) is value
    converted = SetType().coerce(frozenset([1]), False)
    assert converted == {1} and type(converted) is set
    assert SetType().coerce([1, 1], True) == {1}


def test_untyped_set_members_must_be_of_one_kind() -> None:
    with pytest.raises(TypeError):
        SetType().dump_attribute({'a', 1})
    with pytest.raises(TypeError):
        SetType().dump_attribute({(1, 2)})
    with pytest.raises(TypeError):
        SetType().dump_attribute({True})


def test_set_members_equal_on_the_wire_are_sent_once() -> None:
    # Python sees these as different numbers; DynamoDB refuses a set holding them both.
    for members in ({0.1, Decimal('0.1')}, {0.1, Decimal('0.10')}, {1e23, 10**23}):
        assert len(members) == 2
        for type_ in (SetType(), load_type(NUMBER_SET)):
            wire = type_.dump_attribute(members)
            assert wire is not None and len(wire['NS']) == 1
        assert len(dump_natural(members)['NS']) == 1  # type: ignore[index]
    assert len(SetType().dump_attribute({1, 2, 3})['NS']) == 3  # type: ignore[index]


def test_set_type_resolution() -> None:
    assert set_(int) is set_(int)
    assert load_type(set_(date)) == load_type(frozenset([date])) == SetType(date)
    assert load_type(set[int]) == SetType(int)
    assert load_type(set) == SetType() == load_type(frozenset)
    assert load_type(STRING_SET).item_type == StringType()  # type: ignore[attr-defined]
    assert load_type(NUMBER_SET).item_type == NumberType()  # type: ignore[attr-defined]
    assert load_type(BINARY_SET).item_type == BinaryType()  # type: ignore[attr-defined]
    assert load_type(set_(date)).ddb_data_type == 'NS'
    assert load_type(set_(str)).ddb_data_type == 'SS'
    assert load_type(set_(bytes)).ddb_data_type == 'BS'
    for not_a_member in (dict, list, set, MAP, LIST, BOOL, NULL):
        with pytest.raises(TypeError):
            set_(not_a_member)
    with pytest.raises(TypeError):
        load_type(frozenset([int, str]))


def test_set_inner_attribute_for_contains() -> None:
    assert load_type(set_(int)).dump_inner_attribute(5) == {'N': '5'}
    assert load_type(set_(date)).dump_inner_attribute(date(2013, 1, 1)) == {'N': str(EPOCH_2013)}
    assert SetType().dump_inner_attribute('a') == {'S': 'a'}
    assert load_type(set_(date)).ddb_dump_inner(date(2013, 1, 1)) == EPOCH_2013
    assert StringType().dump_inner_attribute('sub') == {'S': 'sub'}


# -- custom types: the spec's PickleType ----------------------------------------------------


class PickleType(TypeDefinition):
    """The spec's example, as written there."""

    data_type = pickle  # name you use to reference this type
    aliases = ['pickle']  # alternate names that reference this type
    ddb_data_type = BINARY  # data type of the field in dynamo

    def coerce(self, value: Any, force: bool) -> Any:
        # Perform no type checking because we can pickle ANYTHING
        return value

    def ddb_dump(self, value: Any) -> Any:
        # Pickle and convert to a Binary object
        return Binary(pickle.dumps(value))

    def ddb_load(self, value: Any) -> Any:
        # Convert from a Binary object and unpickle
        return pickle.loads(value.value)


class BytesPickleType(TypeDefinition):
    """The same, returning bytes from ddb_dump."""

    data_type = 'bytes-pickle'
    ddb_data_type = BINARY

    def ddb_dump(self, value: Any) -> Any:
        return pickle.dumps(value)

    def ddb_load(self, value: Any) -> Any:
        return pickle.loads(value.value)


def test_pickle_type() -> None:
    value = {'any': ('python', object.__name__, 1.5)}
    type_ = PickleType()
    wire = type_.dump_attribute(value)
    assert wire == {'B': pickle.dumps(value)}
    assert type(wire['B']) is bytes
    assert type_.load_attribute(wire) == value
    assert type_.dump_attribute(None) is None
    assert load_type(type_) is type_
    assert isinstance(load_type(PickleType), PickleType)
    assert BytesPickleType().load_attribute(BytesPickleType().dump_attribute(value)) == value  # type: ignore[arg-type]
    assert 'beginswith' in PickleType.allowed_filters  # derived from its BINARY storage


def test_register_type() -> None:
    with pytest.raises(TypeError, match='pickle'):
        load_type('pickle')
    assert register_type(PickleType) is PickleType
    try:
        assert isinstance(load_type('pickle'), PickleType)
        assert isinstance(load_type(pickle), PickleType)
        pickled_set = load_type(set_('pickle'))
        assert pickled_set.ddb_data_type == 'BS'
        wire = pickled_set.dump_attribute({(1, 2), 'x'})
        assert pickled_set.load_attribute(wire) == {(1, 2), 'x'}  # type: ignore[arg-type]
    finally:
        del types._REGISTRY['pickle'], types._REGISTRY[pickle]
    with pytest.raises(TypeError):
        register_type(int)  # type: ignore[arg-type]


def test_register_type_without_sets() -> None:
    class Shout(TypeDefinition):
        data_type = 'shout'
        ddb_data_type = STRING

        def ddb_dump(self, value: Any) -> Any:
            return value.upper()

    register_type(Shout, allow_in_set=False)
    try:
        assert load_type('shout').dump_attribute('hi') == {'S': 'HI'}
        assert load_type('shout').load_attribute({'S': 'HI'}) == 'HI'
        with pytest.raises(TypeError):
            set_('shout')
    finally:
        del types._REGISTRY['shout']


# -- resolving data_type --------------------------------------------------------------------


@pytest.mark.parametrize('data_type, expected', [
    (str, StringType), (STRING, StringType), (bytes, BinaryType), (BINARY, BinaryType),
    (Binary, BinaryType), (int, IntType), (float, FloatType), (Decimal, DecimalType),
    (NUMBER, NumberType), (bool, BoolType), (datetime, DateTimeType), (date, DateType),
    (dict, DictType), (list, ListType), (set, SetType), (frozenset, SetType),
    (MAP, MapType), (LIST, ListNativeType), (BOOL, BoolNativeType), (NULL, NullType),
    (STRING_SET, SetType), (NUMBER_SET, SetType), (BINARY_SET, SetType),
    (IntType, IntType), (IntType(), IntType),
])
def test_load_type(data_type: Any, expected: type) -> None:
    assert type(load_type(data_type)) is expected or isinstance(load_type(data_type), expected)


@pytest.mark.parametrize('unknown', ['nope', object, 12, [int], tuple, complex])
def test_unknown_data_type(unknown: Any) -> None:
    with pytest.raises(TypeError) as info:
        load_type(unknown)
    assert repr(unknown) in str(info.value)


def test_type_attributes() -> None:
    assert StringType.ddb_data_type == 'S' and IntType.ddb_data_type == 'N'
    assert DictType.ddb_data_type == 'S' and DictType.mutable and ListType.mutable
    assert SetType.mutable and MapType.mutable and not IntType.mutable
    assert BinaryType.aliases == [Binary, 'B'] and StringType.aliases == ['S']
    assert NumberType.data_type == 'N'


def test_allowed_filters() -> None:
    comparisons = {'lt', 'lte', 'gt', 'gte', 'between'}
    everyone = {'eq', 'ne', 'in', 'null', 'not_null'}
    type_: TypeDefinition
    for type_ in (StringType(), BinaryType()):
        assert {'beginswith', 'contains'} | comparisons | everyone <= type_.allowed_filters
    for type_ in (IntType(), FloatType(), DecimalType(), NumberType(), DateTimeType(),
                  DateType()):
        assert comparisons | everyone <= type_.allowed_filters
        assert 'beginswith' not in type_.allowed_filters
    for type_ in (SetType(), load_type(set_(int)), ListNativeType()):
        assert {'contains', 'ncontains'} | everyone <= type_.allowed_filters
        assert not comparisons & type_.allowed_filters
    for type_ in (DictType(), ListType(), MapType(), BoolType(), BoolNativeType()):
        assert everyone <= type_.allowed_filters
        assert not (comparisons | {'beginswith', 'contains'}) & type_.allowed_filters


# -- undeclared attributes: the natural mapping ---------------------------------------------

NATURAL = [
    ('text', {'S': 'text'}),
    ('', {'S': ''}),
    (12, {'N': '12'}),
    (0.1, {'N': '0.1'}),
    (Decimal('0.1000000000000000000001'), {'N': '0.1000000000000000000001'}),
    (b'\x00', {'B': b'\x00'}),
    (True, {'BOOL': True}),
    (False, {'BOOL': False}),
    ({'a', 'b'}, {'SS': ['a', 'b']}),
    ({1, 2}, {'NS': ['1', '2']}),
    ({b'a'}, {'BS': [b'a']}),
    ({'k': [1, 'x', None, {'deep': {2.5}}]},
     {'M': {'k': {'L': [{'N': '1'}, {'S': 'x'}, {'NULL': True}, {'M': {'deep': {'NS': ['2.5']}}}]}}}),
    ([], {'L': []}),
    ({}, {'M': {}}),
]


@pytest.mark.parametrize('value, wire', NATURAL)
def test_natural_round_trip(value: Any, wire: dict[str, Any]) -> None:
    assert normalized(dump_natural(value)) == normalized(wire)
    loaded = load_natural(wire)
    assert loaded == value
    assert type(loaded) is type(value)
    assert natural_type().load_attribute(natural_type().dump_attribute(value)) == value  # type: ignore[arg-type]


def test_natural_edge_cases() -> None:
    assert dump_natural(None) is None
    assert dump_natural(set()) is None
    assert dump_natural(frozenset({'a'})) == {'SS': ['a']}
    assert load_natural({'SS': ['a']}) == {'a'}
    assert dump_natural((1, 'a')) == {'L': [{'N': '1'}, {'S': 'a'}]}
    assert dump_natural(Binary(b'x')) == {'B': b'x'}
    assert load_natural({'N': '1E+2'}) == 100
    assert load_natural({'NULL': True}) is None
    with pytest.raises(ValueError, match='empty set'):
        dump_natural({'tags': set()})
    with pytest.raises(TypeError):
        dump_natural({1: 'non-str key'})
    with pytest.raises(TypeError, match='datetime'):
        dump_natural(datetime(2013, 1, 1))
    with pytest.raises(ValueError):
        load_natural({'XX': 'unknown type'})


def test_natural_type_of() -> None:
    assert isinstance(natural_type_of('a'), StringType)
    assert isinstance(natural_type_of(1), NumberType)
    assert isinstance(natural_type_of(True), BoolNativeType)
    assert isinstance(natural_type_of({'a'}), SetType)
    assert isinstance(natural_type_of({}), MapType)
    assert isinstance(natural_type_of([]), ListNativeType)
    assert isinstance(natural_type_of(b''), BinaryType)
    with pytest.raises(TypeError):
        natural_type_of(object())
    assert load_type(natural_type()) is natural_type()


def test_type_equality_and_repr() -> None:
    assert IntType() == IntType() and hash(IntType()) == hash(IntType())
    assert IntType() != FloatType()
    assert SetType(int) == SetType(type_class=IntType) == load_type(set_(int))
    assert SetType(int) != SetType(str)
    assert repr(SetType(date)) == 'SetType(DateType())'
    assert repr(StringType()) == 'StringType()'


def test_aware_datetime_outside_the_utc_range_is_a_value_error() -> None:
    # datetime(1, 1, 1) at UTC+1 is in year 0 in UTC: storable as a number, never loadable,
    # so it is refused on assignment with a ValueError (not an OverflowError).
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2)))
    for value in (early, late):
        with pytest.raises(ValueError, match='outside the range of datetime'):
            DateTimeType().coerce(value, False)
        with pytest.raises(ValueError, match='outside the range of datetime'):
            DateTimeType().coerce(value.isoformat(), True)
    with pytest.raises(ValueError):
        DateType().coerce(early, True)
    # At the edges, but inside once converted: fine, and exact to the microsecond.
    edge = datetime(1, 1, 1, 0, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-1)))
    dumped = DateTimeType().dump_attribute(DateTimeType().coerce(edge, False))
    assert dumped == {'N': '-62135589600.000001'}
    assert DateTimeType().load_attribute(dumped) == datetime(1, 1, 1, 1, 59, 59, 999999)


def test_text_that_is_not_utf8_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        StringType().coerce("bad \ud800 half", False)
    with pytest.raises(ValueError, match="UTF-8"):
        dump_natural("bad \ud800 half")
    with pytest.raises(ValueError, match="UTF-8"):
        dump_natural({"bad \ud800"})
    assert StringType().coerce("héllo ✓", False) == "héllo ✓"
