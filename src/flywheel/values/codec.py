"""DynamoDB AttributeValues from Python values and back, without any field declaration.

The lowest part of the values layer (``flywheel.fields.types`` builds on it): the DynamoDB
type letters, :class:`Binary`, exact number formatting and parsing under DynamoDB's limits,
JSON text for dict/list fields, and the *natural* mapping used for undeclared attributes and
for values inside native documents (str→S, int/float/Decimal→N, bytes→B, bool→BOOL,
None→NULL, set→SS/NS/BS, dict→M, list→L). Pure functions, no I/O.

Dispatch is by exact type through dicts (with an isinstance fallback for subclasses): this
code runs for every attribute of every item.
"""
from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

STRING = 'S'
NUMBER = 'N'
BINARY = 'B'
STRING_SET = 'SS'
NUMBER_SET = 'NS'
BINARY_SET = 'BS'
MAP = 'M'
LIST = 'L'
BOOL = 'BOOL'
NULL = 'NULL'

AttributeValue = dict[str, Any]


class Binary:
    """Binary data as DynamoDB stores it; the raw bytes are in ``.value``."""

    __slots__ = ('value',)

    def __init__(self, value: bytes | bytearray | memoryview | str | Binary) -> None:
        self.value: bytes = to_bytes(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Binary):
            return self.value == other.value
        if isinstance(other, (bytes, bytearray)):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __bytes__(self) -> bytes:
        return self.value

    def __repr__(self) -> str:
        return f'Binary({self.value!r})'


def to_bytes(value: Any) -> bytes:
    """bytes from bytes, Binary, bytearray, memoryview, or str (UTF-8)."""
    if type(value) is bytes:
        return value
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, str):
        return value.encode('utf-8')
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f'expected bytes, got {type(value).__name__}: {describe(value)}')


def describe(value: Any, limit: int = 200) -> str:
    """repr() for error messages: bounded, and safe for ints too long to print."""
    try:
        text = repr(value)
    except ValueError:  # int beyond sys.get_int_max_str_digits()
        return f'<int of {value.bit_length()} bits>'
    return text if len(text) <= limit else text[:limit] + '...'


# -- numbers --------------------------------------------------------------------------------
# DynamoDB numbers: at most 38 significant digits, magnitude 1E-130 to 9.99...E+125, or 0.

_MAX_DIGITS = 38
_MAX_ADJUSTED_EXPONENT = 125
_MIN_ADJUSTED_EXPONENT = -130
_INT_FAST_LIMIT = 10 ** _MAX_DIGITS
_FLOAT_UPPER = 1e126  # the float nearest 10**126 has the text '1e+126': out of range too
_FLOAT_LOWER = 1e-130


def _out_of_range(value: Any) -> ValueError:
    return ValueError(f'{describe(value)} is outside the range of DynamoDB numbers '
                      '(1E-130 to 9.9999999999999999999999999999999999999E+125)')


def format_int(value: int) -> str:
    """The N text of an int; ValueError if DynamoDB cannot hold it."""
    if -_INT_FAST_LIMIT < value < _INT_FAST_LIMIT:
        return str(value)
    if value.bit_length() > 420:  # > 10**126: do not even build the text
        raise _out_of_range(value)
    digits = str(abs(value))
    if len(digits) - 1 > _MAX_ADJUSTED_EXPONENT:
        raise _out_of_range(value)
    if len(digits.rstrip('0')) > _MAX_DIGITS:
        raise _too_precise(value)
    return str(value)


def _too_precise(value: Any) -> ValueError:
    return ValueError(f'{describe(value)} has more than {_MAX_DIGITS} significant digits, '
                      'the most a DynamoDB number holds')


def format_float(value: float) -> str:
    """The shortest N text that reads back as the same float (0.1 -> '0.1')."""
    magnitude = abs(value)
    if magnitude < _FLOAT_UPPER and (magnitude >= _FLOAT_LOWER or magnitude == 0.0):
        return repr(value)
    raise _unstorable_float(value)


def check_float(value: float) -> None:
    """ValueError unless DynamoDB can store the float (format_float without the text)."""
    magnitude = abs(value)
    if not (magnitude < _FLOAT_UPPER and (magnitude >= _FLOAT_LOWER or magnitude == 0.0)):
        raise _unstorable_float(value)


def _unstorable_float(value: float) -> ValueError:
    if math.isfinite(value):
        return _out_of_range(value)
    return ValueError(f'{value!r} cannot be stored: DynamoDB has no NaN or infinity')


def format_decimal(value: Decimal) -> str:
    """The N text of a Decimal; ValueError for NaN, infinities, more than 38 significant
    digits, or a magnitude outside DynamoDB's range."""
    if not value.is_finite():
        raise ValueError(f'{value!r} cannot be stored: DynamoDB has no NaN or infinity')
    if not value:
        return '0'
    text = str(value)
    if len(text) <= _MAX_DIGITS and (
            _MIN_ADJUSTED_EXPONENT <= value.adjusted() <= _MAX_ADJUSTED_EXPONENT):
        return text  # the common case: too short a text to hold 39 digits
    digits = value.as_tuple().digits
    significant = len(digits)
    while digits[significant - 1] == 0:
        significant -= 1
    if significant > _MAX_DIGITS:
        raise _too_precise(value)
    if not _MIN_ADJUSTED_EXPONENT <= value.adjusted() <= _MAX_ADJUSTED_EXPONENT:
        raise _out_of_range(value)
    return text


_NUMBER_FORMATTERS: dict[type, Callable[[Any], str]] = {
    int: format_int, float: format_float, Decimal: format_decimal,
}


def format_number(value: Any) -> str:
    """The N text of an int, float or Decimal (a bool gives '1' / '0')."""
    formatter = _NUMBER_FORMATTERS.get(type(value))
    if formatter is not None:
        return formatter(value)
    if isinstance(value, int):
        return format_int(int(value))
    if isinstance(value, float):
        return format_float(float(value))
    if isinstance(value, Decimal):
        return format_decimal(value)
    raise TypeError(f'expected a number, got {type(value).__name__}: {describe(value)}')


def check_number(value: Any) -> None:
    """ValueError unless DynamoDB can store the number; TypeError if it is not one."""
    if type(value) is int:
        if -_INT_FAST_LIMIT < value < _INT_FAST_LIMIT:
            return
    elif type(value) is float:
        check_float(value)
        return
    format_number(value)


def unique_numbers(texts: set[str]) -> list[str]:
    """The N texts of a number set, one per value: DynamoDB refuses a set holding one number
    twice, and Python sets let through numbers it sees as different but DynamoDB does not
    (0.1 and Decimal('0.10'), 1e23 and 10**23)."""
    if len(texts) > 1:
        by_value = {Decimal(text): text for text in texts}
        if len(by_value) != len(texts):
            return list(by_value.values())
    return list(texts)


#: DynamoDB refuses these as the value of a key attribute (of the table or of an index)
EMPTY_KEY_VALUES = ({'S': ''}, {'B': b''})


def canonical_number(text: str) -> str:
    """The N text as DynamoDB gives it back: leading and trailing zeros trimmed, no exponent
    ('1.50' -> '1.5', '1.0' -> '1', '1E+2' -> '100')."""
    value = parse_decimal(text)
    return format(value.normalize(), 'f') if value else '0'


def parse_decimal(text: str) -> Decimal:
    """Decimal(text), raising ValueError (not decimal.InvalidOperation) for bad text."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f'{describe(text)} is not a number') from None


def load_number(text: str) -> int | float | Decimal:
    """A number from its N text, losing nothing: an int when integral, a float when a float
    reproduces the text exactly, otherwise a Decimal."""
    if '.' not in text and 'E' not in text and 'e' not in text:
        return int(text)  # (an exception would cost more than these scans)
    approximation = float(text)
    if not approximation.is_integer() and repr(approximation) == text:
        return approximation  # the common case: DynamoDB returns the text we wrote
    exact = parse_decimal(text)
    if exact == exact.to_integral_value():
        return int(exact)
    if math.isfinite(approximation) and Decimal(repr(approximation)) == exact:
        return approximation
    return exact


# -- JSON text (dict and list fields) -------------------------------------------------------


class _DecimalInside(Exception):
    """The fast encoder met a Decimal, which json cannot write as a number."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        raise _DecimalInside
    raise TypeError(f'{describe(value)} ({type(value).__name__}) cannot be stored as JSON')


_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(',', ':'), allow_nan=False,
                                 default=_json_default)
_encode_json_string: Callable[[str], str] = json.encoder.encode_basestring


def dump_json(value: Any) -> str:
    """Compact JSON text of a dict or list; a Decimal inside is written as a JSON number."""
    try:
        return _JSON_ENCODER.encode(value)
    except _DecimalInside:
        parts: list[str] = []
        _write_json(value, parts)
        return ''.join(parts)
    except ValueError as exc:  # NaN or infinity
        raise ValueError(f'{exc}: {describe(value)}') from None


def _write_json(value: Any, out: list[str]) -> None:
    # The slow path, taken only when a Decimal is inside: the C encoder cannot emit one.
    if isinstance(value, str):
        out.append(_encode_json_string(value))
    elif value is None or value is True or value is False:
        out.append('null' if value is None else 'true' if value else 'false')
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            raise ValueError(f'{value!r} cannot be stored as JSON')
        out.append(float.__repr__(value) if isinstance(value, float) else str(value))
    elif isinstance(value, dict):
        out.append('{')
        for position, (key, member) in enumerate(value.items()):
            if position:
                out.append(',')
            out.append(_encode_json_string(_json_key(key)))
            out.append(':')
            _write_json(member, out)
        out.append('}')
    elif isinstance(value, (list, tuple)):
        out.append('[')
        for position, member in enumerate(value):
            if position:
                out.append(',')
            _write_json(member, out)
        out.append(']')
    else:
        _json_default(value)


def _json_key(key: Any) -> str:
    # The same key conversions as json.dumps.
    if isinstance(key, str):
        return key
    if key is None or key is True or key is False:
        return 'null' if key is None else 'true' if key else 'false'
    if isinstance(key, (int, float)):
        return int.__repr__(key) if isinstance(key, int) else float.__repr__(key)
    raise TypeError(f'JSON keys must be str, int, float, bool or None, not {describe(key)}')


def _load_json_float(text: str) -> float | Decimal:
    approximation = float(text)
    if repr(approximation) == text:
        return approximation
    exact = parse_decimal(text)
    if math.isfinite(approximation) and Decimal(repr(approximation)) == exact:
        return approximation
    return exact  # a Decimal written with more precision than a float holds


_JSON_DECODER = json.JSONDecoder(parse_float=_load_json_float)


# orjson (optional) parses ~3x faster, but reads every fraction or exponent as a float and
# an int of 19+ digits as a float too; texts holding neither parse identically both ways
# (anything else orjson refuses, like NaN or a lone surrogate, goes to json as before).
# The test looks at the whole text, strings included, so it errs toward the exact path.
_NOT_PLAIN_NUMBERS = re.compile(r'[0-9](?:[.eE]|[0-9]{18})').search
_orjson_loads: Callable[[str], Any] | None = None
_OrjsonError: type[Exception] = ValueError
try:  # looked up by name so that type checking does not depend on orjson being installed
    _orjson: Any = importlib.import_module("orjson")
    _orjson_loads, _OrjsonError = _orjson.loads, _orjson.JSONDecodeError
except ImportError:  # pragma: no cover - depends on the environment
    pass


def load_json(text: str) -> Any:
    """The dict or list stored as JSON text (numbers keep their precision)."""
    if _orjson_loads is not None and not _NOT_PLAIN_NUMBERS(text):
        try:
            return _orjson_loads(text)
        except _OrjsonError:
            pass  # json decides, and words the error
    try:
        return _JSON_DECODER.decode(text)
    except ValueError as exc:
        raise ValueError(f'stored text is not JSON ({exc}): {describe(text)}') from None


# -- natural mapping ------------------------------------------------------------------------


def check_text(value: str) -> str:
    """``value`` if DynamoDB can store it: its text is UTF-8, so a lone surrogate
    ('\\ud800', from a bad decode) is refused here rather than by the server."""
    if not value.isascii():
        try:
            value.encode('utf-8')
        except UnicodeEncodeError as exc:
            raise ValueError(f'text cannot be stored as UTF-8 ({exc.reason} at position '
                             f'{exc.start}): {describe(value)}') from None
    return value


def _expect_str(value: Any) -> str:
    if isinstance(value, str):
        return check_text(value)
    raise TypeError(f'expected str, got {type(value).__name__}: {describe(value)}')


def _expect_set_number(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError(f'a set cannot hold bool members: {value!r}')
    return format_number(value)


def _expect_set_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        raise TypeError(f'a binary set cannot hold str members: {describe(value)}')
    return to_bytes(value)


# Per member type of an untyped set: its set tag and the formatter of one member.
_SET_MEMBER_FORMATS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    str: (STRING_SET, _expect_str),
    int: (NUMBER_SET, _expect_set_number),
    float: (NUMBER_SET, _expect_set_number),
    Decimal: (NUMBER_SET, _expect_set_number),
    bytes: (BINARY_SET, _expect_set_bytes),
    Binary: (BINARY_SET, _expect_set_bytes),
    bytearray: (BINARY_SET, _expect_set_bytes),
}


def dump_untyped_set(values: Iterable[Any]) -> AttributeValue | None:
    """SS, NS or BS by the type of the members (which must all be of one kind), or None for
    an empty set."""
    iterator = iter(values)
    try:
        first = next(iterator)
    except StopIteration:
        return None
    kind = _SET_MEMBER_FORMATS.get(type(first))
    if kind is None:
        for member_type, candidate in _SET_MEMBER_FORMATS.items():
            if isinstance(first, member_type) and not isinstance(first, bool):
                kind = candidate
                break
        else:
            raise TypeError(f'a set can hold str, numbers or bytes, not '
                            f'{type(first).__name__}: {describe(first)}')
    tag, formatter = kind
    try:
        members = {formatter(member) for member in values}
    except TypeError as exc:
        raise TypeError(f'set members must be all str, all numbers or all bytes ({exc}): '
                        f'{describe(values)}') from None
    return {tag: unique_numbers(members) if tag == NUMBER_SET else list(members)}


def _load_number_set(raw: Iterable[str]) -> set[Any]:
    return {load_number(text) for text in raw}


def _load_binary_set(raw: Iterable[Any]) -> set[Any]:
    return {to_bytes(member) for member in raw}


_UNTYPED_SET_LOADERS: dict[str, Callable[[Any], set[Any]]] = {
    STRING_SET: set, NUMBER_SET: _load_number_set, BINARY_SET: _load_binary_set,
}


def load_untyped_set(av: AttributeValue) -> set[Any] | None:
    """The set an SS/NS/BS attribute holds; None if the attribute is not a set."""
    for tag, raw in av.items():
        loader = _UNTYPED_SET_LOADERS.get(tag)
        return None if loader is None else loader(raw)
    return None


def _dump_map(value: Any) -> AttributeValue:
    return {MAP: {_expect_key(key): dump_natural_nonnull(member)
                  for key, member in value.items()}}


def _expect_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    raise TypeError(f'map keys must be str, not {type(key).__name__}: {describe(key)}')


def _dump_list(value: Any) -> AttributeValue:
    return {LIST: [dump_natural_nonnull(member) for member in value]}


def _dump_set_natural(value: Any) -> AttributeValue | None:
    return dump_untyped_set(value)


_NATURAL_DUMPERS: dict[type, Callable[[Any], AttributeValue | None]] = {
    str: lambda value: {STRING: check_text(value)},
    bool: lambda value: {BOOL: value},
    int: lambda value: {NUMBER: format_int(value)},
    float: lambda value: {NUMBER: format_float(value)},
    Decimal: lambda value: {NUMBER: format_decimal(value)},
    bytes: lambda value: {BINARY: value},
    bytearray: lambda value: {BINARY: bytes(value)},
    memoryview: lambda value: {BINARY: bytes(value)},
    Binary: lambda value: {BINARY: value.value},
    dict: _dump_map,
    list: _dump_list,
    tuple: _dump_list,
    set: _dump_set_natural,
    frozenset: _dump_set_natural,
    type(None): lambda value: {NULL: True},
}
# Subclasses (IntEnum, OrderedDict...) are looked up in this order: bool before int.
_NATURAL_FALLBACK_ORDER = (bool, str, int, float, Decimal, bytes, bytearray, memoryview,
                           Binary, dict, list, tuple, set, frozenset)


def _natural_dumper(value: Any) -> Callable[[Any], AttributeValue | None]:
    dumper = _NATURAL_DUMPERS.get(type(value))
    if dumper is not None:
        return dumper
    for base in _NATURAL_FALLBACK_ORDER:
        if isinstance(value, base):
            return _NATURAL_DUMPERS[base]
    raise TypeError(f'{describe(value)} ({type(value).__name__}) has no DynamoDB type: use '
                    'str, int, float, Decimal, bytes, bool, set, dict, list or None')


def dump_natural(value: Any) -> AttributeValue | None:
    """The natural AttributeValue of a value; None (no attribute) for None or an empty set."""
    if value is None:
        return None
    return _natural_dumper(value)(value)


def dump_natural_nonnull(value: Any) -> AttributeValue:
    """The natural AttributeValue of a value inside a document: None is NULL there, and an
    empty set, which DynamoDB cannot store, is an error."""
    av = _natural_dumper(value)(value)
    if av is None:
        raise ValueError('DynamoDB cannot store an empty set inside a map or list: '
                         f'{describe(value)}')
    return av


def _load_map(raw: dict[str, AttributeValue]) -> dict[str, Any]:
    return {key: load_natural(member) for key, member in raw.items()}


def _load_list(raw: list[AttributeValue]) -> list[Any]:
    return [load_natural(member) for member in raw]


_NATURAL_LOADERS: dict[str, Callable[[Any], Any]] = {
    STRING: str, NUMBER: load_number, BINARY: to_bytes, BOOL: bool,
    NULL: lambda raw: None, STRING_SET: set, NUMBER_SET: _load_number_set,
    BINARY_SET: _load_binary_set, MAP: _load_map, LIST: _load_list,
}


def load_natural(av: AttributeValue) -> Any:
    """The Python value of an AttributeValue, by its DynamoDB type (M and L recursively)."""
    for tag, raw in av.items():
        try:
            loader = _NATURAL_LOADERS[tag]
        except KeyError:
            raise ValueError(f'unknown DynamoDB type {tag!r} in {describe(av)}') from None
        return loader(raw)
    raise ValueError('an AttributeValue needs a type: {}')


# -- the "dynamo python value" level (TypeDefinition.ddb_dump / ddb_load) -------------------


def _encode_string(value: Any) -> AttributeValue:
    return {STRING: _expect_str(value)}


def _encode_string_set(values: Iterable[Any]) -> AttributeValue | None:
    members = {_expect_str(member) for member in values}
    return {STRING_SET: list(members)} if members else None


def _encode_number_set(values: Iterable[Any]) -> AttributeValue | None:
    members = {format_number(member) for member in values}
    return {NUMBER_SET: unique_numbers(members)} if members else None


def _encode_binary_set(values: Iterable[Any]) -> AttributeValue | None:
    members = {to_bytes(member) for member in values}
    return {BINARY_SET: list(members)} if members else None


# ddb_data_type -> encoder of the value ddb_dump returned.
wire_encoders: dict[str | None, Callable[[Any], AttributeValue | None]] = {
    STRING: _encode_string,
    NUMBER: lambda value: {NUMBER: format_number(value)},
    BINARY: lambda value: {BINARY: to_bytes(value)},
    STRING_SET: _encode_string_set,
    NUMBER_SET: _encode_number_set,
    BINARY_SET: _encode_binary_set,
    MAP: _dump_map,
    LIST: _dump_list,
    BOOL: lambda value: {BOOL: bool(value)},
    NULL: lambda value: {NULL: True},
}

# AttributeValue type -> the value ddb_load receives (N as Decimal, B as Binary).
wire_decoders: dict[str, Callable[[Any], Any]] = {
    STRING: str,
    NUMBER: Decimal,
    BINARY: Binary,
    STRING_SET: set,
    NUMBER_SET: lambda raw: {Decimal(text) for text in raw},
    BINARY_SET: lambda raw: {Binary(member) for member in raw},
    MAP: _load_map,
    LIST: _load_list,
    BOOL: bool,
    NULL: lambda raw: None,
}
