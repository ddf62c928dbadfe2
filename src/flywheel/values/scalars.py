"""The built-in scalar field types: str, bytes, int, float, Decimal, any number, bool,
datetime and date. Each overrides the AttributeValue level with direct code (no detour
through ``ddb_dump``): this runs for every attribute of every item."""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .base import EQUALITY_FILTERS, TypeDefinition, data_loss, wrong_type
from .codec import (
    BINARY,
    NUMBER,
    STRING,
    AttributeValue,
    Binary,
    check_float,
    check_number,
    check_text,
    describe,
    format_decimal,
    format_float,
    format_int,
    format_number,
    load_number,
    parse_decimal,
    to_bytes,
)


class StringType(TypeDefinition):
    """Strings, stored as S. The default type of fields; decodes bytes (UTF-8) automatically."""

    data_type = str
    aliases = [STRING]
    ddb_data_type = STRING
    direct_load = ('S', None)

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, (bytes, bytearray, memoryview, Binary)):
            return to_bytes(value).decode('utf-8')
        if force:
            return check_text(str(value))
        raise wrong_type(value, 'str')

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'S': value}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return av['S']
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return value

    def load_scalar(self, raw: Any) -> Any:
        return raw

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        return set(raw)


class BinaryType(TypeDefinition):
    """Binary data (bytes), stored as B; encodes str to UTF-8 automatically."""

    data_type = bytes
    aliases = [Binary, BINARY]
    ddb_data_type = BINARY

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (str, bytearray, memoryview, Binary)):
            return to_bytes(value)
        if force and hasattr(value, '__bytes__'):
            return bytes(value)
        raise wrong_type(value, 'bytes')

    def ddb_load(self, value: Any) -> Any:
        return to_bytes(value)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'B': value}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return av['B']
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return value

    def load_scalar(self, raw: Any) -> Any:
        return raw

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        return set(raw)


_INT_FAST_LIMIT = 10 ** 38  # ints strictly inside need no range check


def _exact_int(value: Any) -> int:
    """An int equal to ``value`` (a float, Decimal or numeric string), or ValueError."""
    number: Any = value  # what is checked; messages name the value given
    if isinstance(value, str):
        try:
            whole = int(value)
        except ValueError:
            number = parse_decimal(value)
        else:
            format_int(whole)  # out of DynamoDB's range: ValueError
            return whole
    if isinstance(number, float):
        check_float(number)  # NaN, infinities and out-of-range values fail here
        if number.is_integer():
            return int(number)
    elif isinstance(number, Decimal):
        format_decimal(number)
        if number == number.to_integral_value():
            return int(number)
    else:
        raise wrong_type(value, 'int')
    raise data_loss(value, 'int')


def _load_int_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        # '1E+2' and the like; a non-integral number (written by another client) loads as
        # the number it is rather than being truncated.
        return load_number(text)


class IntType(TypeDefinition):
    """Integers (any size DynamoDB holds: 38 significant digits), stored as N."""

    data_type = int
    ddb_data_type = NUMBER
    distinct_number_texts = True  # format_int is one-to-one
    direct_load = ('N', int)

    def coerce(self, value: Any, force: bool) -> Any:
        if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
            if not -_INT_FAST_LIMIT < value < _INT_FAST_LIMIT:
                format_int(value)  # more than 38 digits: may be out of DynamoDB's range
            return value
        if not force:
            raise wrong_type(value, 'int')
        if isinstance(value, bool):
            return int(value)
        return _exact_int(value)

    def ddb_load(self, value: Any) -> Any:
        return _load_int_text(str(value))

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'N': format_int(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            text = av['N']
        except KeyError:
            return self._load_foreign(av)
        try:
            return int(text)
        except ValueError:
            return load_number(text)

    def dump_scalar(self, value: Any) -> Any:
        return format_int(value)

    def load_scalar(self, raw: Any) -> Any:
        return _load_int_text(raw)

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        try:
            return set(map(int, raw))
        except ValueError:  # '1E+2' or a fraction written by another client
            return {_load_int_text(member) for member in raw}


class FloatType(TypeDefinition):
    """Floats, stored as N in the shortest text that reads back as the same float."""

    data_type = float
    ddb_data_type = NUMBER
    direct_load = ('N', float)

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, float):
            check_float(value)
            return value
        # An int is a number a float field can hold (PEP 484's numeric tower) when it converts
        # exactly; bool is not a number here.
        if not force and (isinstance(value, bool) or not isinstance(value, int)):
            raise wrong_type(value, 'float')
        if isinstance(value, str):
            number: Any = parse_decimal(value)
        elif isinstance(value, (int, Decimal)):
            number = value
        else:
            raise wrong_type(value, 'float')
        converted = float(number)
        if not math.isfinite(converted) or Decimal(repr(converted)) != number:
            raise data_loss(value, 'float')
        check_float(converted)
        return converted

    def ddb_load(self, value: Any) -> Any:
        return float(value)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'N': format_float(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return float(av['N'])
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return format_float(value)

    def load_scalar(self, raw: Any) -> Any:
        return float(raw)

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        return set(map(float, raw))


class DecimalType(TypeDefinition):
    """Decimals (up to 38 significant digits), stored as N; exact."""

    data_type = Decimal
    ddb_data_type = NUMBER
    direct_load = ('N', Decimal)

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, Decimal):
            format_decimal(value)
            return value
        if isinstance(value, bool) or not (force or isinstance(value, int)):
            raise wrong_type(value, 'Decimal')
        if isinstance(value, int):
            converted = Decimal(value)
        elif isinstance(value, float):
            check_float(value)
            converted = Decimal(repr(value))
        elif isinstance(value, str):
            converted = parse_decimal(value)
        else:
            raise wrong_type(value, 'Decimal')
        format_decimal(converted)
        return converted

    def ddb_load(self, value: Any) -> Any:
        return Decimal(value)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'N': format_decimal(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return Decimal(av['N'])
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return format_decimal(value)

    def load_scalar(self, raw: Any) -> Any:
        return Decimal(raw)

    def load_scalar_set(self, raw: Iterable[Any]) -> set[Any]:
        return set(map(Decimal, raw))


class NumberType(TypeDefinition):
    """Any number (int, float or Decimal, not bool), stored as N; loads as int when
    integral, as float when a float reproduces the stored text, otherwise as Decimal."""

    data_type = NUMBER
    ddb_data_type = NUMBER

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            check_number(value)
            return value
        if not force:
            raise wrong_type(value, 'a number (int, float or Decimal)')
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str):
            number = load_number(format_decimal(parse_decimal(value)))
            return number
        raise wrong_type(value, 'a number (int, float or Decimal)')

    def ddb_load(self, value: Any) -> Any:
        return load_number(str(value))

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'N': format_number(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return load_number(av['N'])
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return format_number(value)

    def load_scalar(self, raw: Any) -> Any:
        return load_number(raw)


def _is_zero_text(text: str) -> bool:
    return text == '0' or (text != '1' and parse_decimal(text) == 0)


_BOOL_WORDS = {
    'true': True, 't': True, 'yes': True, 'y': True, 'on': True, '1': True,
    'false': False, 'f': False, 'no': False, 'n': False, 'off': False, '0': False,
}


def coerce_bool(value: Any, force: bool) -> bool:
    """A bool field's value: a bool; with ``coerce=True`` also a number (its truth) or a
    word ('true'/'false', 'yes'/'no', 'on'/'off', '1'/'0', any case), never the truth of a
    string, which would make 'false' True."""
    if isinstance(value, bool):
        return value
    if not force:
        raise wrong_type(value, 'bool')
    if isinstance(value, (str, bytes)):
        word = value.decode(errors='replace') if isinstance(value, bytes) else value
        truth = _BOOL_WORDS.get(word.strip().lower())
        if truth is None:
            raise ValueError(
                f"expected bool, got {describe(value)}: only true/false, yes/no, on/off, 1/0 "
                "convert to a bool"
            )
        return truth
    return bool(value)


class BoolType(TypeDefinition):
    """Booleans, stored as N 1 / 0 (a native BOOL attribute also loads)."""

    data_type = bool
    ddb_data_type = NUMBER
    allowed_filters = EQUALITY_FILTERS

    def coerce(self, value: Any, force: bool) -> Any:
        return coerce_bool(value, force)

    def ddb_dump(self, value: Any) -> Any:
        return 1 if value else 0

    def ddb_load(self, value: Any) -> Any:
        return bool(value)

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        if value is None:
            return None
        return {'N': '1'} if value else {'N': '0'}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            return not _is_zero_text(av['N'])
        except KeyError:
            return self._load_foreign(av)

    def dump_scalar(self, value: Any) -> Any:
        return '1' if value else '0'

    def load_scalar(self, raw: Any) -> Any:
        return not _is_zero_text(raw)


_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MICROS = 1_000_000


def _datetime_to_micros(value: datetime) -> int:
    delta = value.replace(tzinfo=None) - _EPOCH
    if value.tzinfo is not None:
        # Subtract the offset from the timedelta, not the datetime: an aware value near
        # year 1 or 9999 would overflow datetime's range on the way to UTC.
        delta -= value.utcoffset() or timedelta(0)
    return (delta.days * 86400 + delta.seconds) * _MICROS + delta.microseconds


def _check_utc_convertible(value: datetime) -> None:
    """ValueError if an aware datetime falls outside datetime's range once in UTC (it could
    be stored, but never loaded back)."""
    if value.tzinfo is not None and value.utcoffset():
        _datetime_from_micros(_datetime_to_micros(value))


def _format_datetime(value: datetime) -> str:
    # Integer arithmetic only: a float cannot hold epoch seconds to the microsecond.
    if value.tzinfo is None:
        delta = value - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
        if seconds >= 0:
            fraction = delta.microseconds
            return f'{seconds}.{fraction:06d}'.rstrip('0') if fraction else str(seconds)
    micros = _datetime_to_micros(value)
    seconds, fraction = divmod(abs(micros), _MICROS)
    sign = '-' if micros < 0 else ''
    if fraction:
        return f'{sign}{seconds}.{fraction:06d}'.rstrip('0')
    return f'{sign}{seconds}'


def _micros_from_number(value: Any) -> int:
    number = parse_decimal(value) if isinstance(value, str) else Decimal(
        repr(value) if isinstance(value, float) else value)
    return int(number.scaleb(6).to_integral_value())


def _datetime_from_micros(micros: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError(f'{micros / _MICROS} seconds since the epoch is outside the range of '
                         'datetime (years 1 to 9999 UTC)') from None


def _datetime_from_text(text: str) -> datetime:
    if len(text) < 12 and text.isascii() and text.isdigit():
        # whole seconds after the epoch (what naive datetimes without microseconds store):
        # 11 digits stay below year 5138, so no overflow
        return _EPOCH + timedelta(0, int(text))
    whole, _, fraction = text.partition('.')
    if len(fraction) <= 6:  # at most microseconds: exact, no rounding needed
        try:
            seconds = int(whole)
            micros = int(fraction.ljust(6, '0')) if fraction else 0
        except ValueError:
            pass  # exponent forms ('1.3E+9'): the general path below
        else:
            if whole.startswith('-'):
                micros = -micros
            try:
                return _EPOCH + timedelta(0, seconds, micros)
            except OverflowError:
                pass  # the general path raises the ValueError
    return _datetime_from_micros(_micros_from_number(text))


class DateTimeType(TypeDefinition):
    """Datetimes, stored as N: UTC epoch seconds with microseconds. A naive value is taken
    as UTC, an aware one converted to UTC; loads as a naive UTC datetime."""

    data_type = datetime
    ddb_data_type = NUMBER

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, datetime):
            _check_utc_convertible(value)
            return value
        if not force:
            raise wrong_type(value, 'datetime')
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                _check_utc_convertible(parsed)
                return parsed
        if isinstance(value, (int, float, Decimal, str)) and not isinstance(value, bool):
            return _datetime_from_micros(_micros_from_number(value))
        raise wrong_type(value, 'datetime')

    def ddb_dump(self, value: Any) -> Any:
        return Decimal(_format_datetime(value))

    def ddb_load(self, value: Any) -> Any:
        return _datetime_from_text(repr(value) if isinstance(value, float) else str(value))

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        return None if value is None else {'N': _format_datetime(value)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            text = av['N']
        except KeyError:
            return self._load_foreign(av)
        return _datetime_from_text(text)

    def dump_scalar(self, value: Any) -> Any:
        return _format_datetime(value)

    def load_scalar(self, raw: Any) -> Any:
        return _datetime_from_text(raw)


def _date_from_text(text: str) -> date:
    try:
        seconds = int(text)
    except ValueError:
        seconds = math.floor(parse_decimal(text))
    return date.fromordinal(_EPOCH_ORDINAL + seconds // 86400)


class DateType(TypeDefinition):
    """Dates, stored as N: the epoch seconds of UTC midnight; loads as a date."""

    data_type = date
    ddb_data_type = NUMBER

    def coerce(self, value: Any, force: bool) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if not force:
            raise wrong_type(value, 'date')
        if isinstance(value, datetime):
            micros = _datetime_to_micros(value)
        elif isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                micros = _micros_from_number(value)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            micros = _micros_from_number(value)
        else:
            raise wrong_type(value, 'date')
        if micros % (86400 * _MICROS):
            raise data_loss(value, 'date')
        return _datetime_from_micros(micros).date()

    def ddb_dump(self, value: Any) -> Any:
        return (value.toordinal() - _EPOCH_ORDINAL) * 86400

    def ddb_load(self, value: Any) -> Any:
        return _date_from_text(str(value))

    def dump_attribute(self, value: Any) -> AttributeValue | None:
        if value is None:
            return None
        return {'N': str((value.toordinal() - _EPOCH_ORDINAL) * 86400)}

    def load_attribute(self, av: AttributeValue) -> Any:
        try:
            text = av['N']
        except KeyError:
            return self._load_foreign(av)
        return _date_from_text(text)

    def dump_scalar(self, value: Any) -> Any:
        return str((value.toordinal() - _EPOCH_ORDINAL) * 86400)

    def load_scalar(self, raw: Any) -> Any:
        return _date_from_text(raw)

