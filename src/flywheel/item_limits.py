"""DynamoDB's limits on one item, checked before a request is sent.

DynamoDB refuses an item over 400 KB, a partition key over 2048 bytes, a sort key over 1024
bytes and a document (M / L) nested more than 32 levels deep. It says so with a bare
``ValidationException`` that names neither the model nor the attribute; checking here first
gives an error naming both, and sends nothing. Sizes are counted in bytes as DynamoDB counts
them (UTF-8 for names and strings: 'é' is two bytes), following "Item sizes and formats" in
the DynamoDB developer guide. The count is a lower bound where the guide is approximate
(numbers), so an item this module passes may still be refused by the server, never the
reverse.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "MAX_HASH_KEY_BYTES",
    "MAX_ITEM_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_RANGE_KEY_BYTES",
    "attribute_size",
    "check_item",
    "check_key",
]

MAX_ITEM_BYTES = 400 * 1024
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
MAX_NESTING_DEPTH = 32

Item = dict[str, dict[str, Any]]


def _number_size(text: str) -> int:
    # "approximately 1 byte per two significant digits, plus 1 byte"
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return (len(digits) + 1) // 2 + 1


def _text_size(value: str) -> int:
    # ASCII is by far the common case; len() of it is its UTF-8 size, without encoding
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def attribute_size(value: dict[str, Any], depth: int = 1) -> int:
    """The bytes DynamoDB counts for one AttributeValue (without its name).

    Raises ValueError (without naming the attribute; :func:`check_item` adds that) for a
    document nested deeper than :data:`MAX_NESTING_DEPTH`.
    """
    ((kind, raw),) = value.items()
    if kind == "S":
        return _text_size(raw)
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_text_size(member) for member in raw)
    if kind == "NS":
        return sum(_number_size(member) for member in raw)
    if kind == "BS":
        return sum(len(member) for member in raw)
    if depth > MAX_NESTING_DEPTH:
        raise ValueError(f"a document nested more than {MAX_NESTING_DEPTH} levels deep")
    if kind == "M":
        return 3 + sum(
            1 + _text_size(name) + attribute_size(member, depth + 1) for name, member in raw.items()
        )
    if kind == "L":
        return 3 + sum(1 + attribute_size(member, depth + 1) for member in raw)
    return 0  # an unknown type: the server judges it


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _size_bound(item: Item) -> int:
    """An upper bound of the item's size, exact but for numbers; one pass, no calls for the
    common S / N values. Raises ValueError for a document nested too deeply."""
    total = 0
    for name, value in item.items():
        total += len(name) if name.isascii() else _text_size(name)
        raw = value.get("S")
        if raw is not None:
            total += len(raw) if raw.isascii() else _text_size(raw)  # isascii is O(1)
            continue
        raw = value.get("N")
        if raw is not None:
            total += (len(raw) + 1) // 2 + 1  # at least _number_size: digits <= characters
            continue
        raw = value.get("SS")
        if raw is not None:
            total += sum(map(len, raw)) if all(map(str.isascii, raw)) else sum(map(_text_size, raw))
            continue
        raw = value.get("NS")
        if raw is not None:
            # the sum of (len + 1) // 2 + 1 over the members is at most this
            total += sum(map(len, raw)) // 2 + 2 * len(raw)
            continue
        total += attribute_size(value)
    return total


def check_item(
    owner: str, item: Item, key_names: Sequence[str], value_of: Callable[[str], Any]
) -> None:
    """Refuse an item DynamoDB would refuse for its size, key sizes or nesting.

    ``owner`` names the model (``'Doc'``), ``value_of`` gives the Python value an attribute
    was dumped from (for the message). Raises ValueError naming the model, the
    attribute and its value.
    """
    # Runs for every item written: a cheap bound first, the exact count (and the message
    # naming the attribute) only when the bound reaches a limit.
    try:
        bound = _size_bound(item)
    except (ValueError, TypeError, AttributeError):  # too deep, or not AttributeValues
        bound = MAX_ITEM_BYTES + 1
    if bound <= MAX_ITEM_BYTES:
        if bound <= MAX_RANGE_KEY_BYTES:
            return  # no key can be larger than the whole item
        for position, name in enumerate(key_names):
            limit = MAX_HASH_KEY_BYTES if position == 0 else MAX_RANGE_KEY_BYTES
            key = item.get(name)
            if key is not None and attribute_size(key) > limit:
                break
        else:
            return
    _check_exactly(owner, item, key_names, value_of)


def _check_exactly(
    owner: str, item: Item, key_names: Sequence[str], value_of: Callable[[str], Any]
) -> None:
    total = 0
    sizes: dict[str, int] = {}
    for name, value in item.items():
        try:
            size = attribute_size(value)
        except ValueError as exc:
            raise ValueError(
                f"{owner}.{name}: {exc}; DynamoDB nests documents at most "
                f"{MAX_NESTING_DEPTH} levels deep (value {_preview(value_of(name))})"
            ) from None
        sizes[name] = size
        total += _text_size(name) + size
    for position, name in enumerate(key_names):
        limit = MAX_HASH_KEY_BYTES if position == 0 else MAX_RANGE_KEY_BYTES
        if sizes.get(name, 0) > limit:
            role = "partition (hash)" if position == 0 else "sort (range)"
            raise ValueError(
                f"{owner}.{name}: a {role} key value is {sizes[name]:,} bytes, over DynamoDB's "
                f"limit of {limit:,} (value {_preview(value_of(name))})"
            )
    if total > MAX_ITEM_BYTES:
        largest = max(sizes, key=sizes.__getitem__)
        raise ValueError(
            f"{owner}: the item is {total:,} bytes, over DynamoDB's 400 KB limit "
            f"({MAX_ITEM_BYTES:,} bytes, counted in UTF-8); its largest attribute is "
            f"{owner}.{largest} ({sizes[largest]:,} bytes, value {_preview(value_of(largest))})"
        )


def check_key(
    owner: str, key: Item, key_names: Sequence[str], value_of: Callable[[str], Any]
) -> None:
    """Refuse a key whose parts are over DynamoDB's key size limits (see check_item)."""
    check_item(owner, key, key_names, value_of)
