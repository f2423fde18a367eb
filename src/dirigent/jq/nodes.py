"""The compiled shape of a template: a tree of nodes building the result from the query values.

Evaluation runs every query of a template first (in the order they appear), giving one value each;
then the root node builds the result, each node taking its values by index. Nodes never run jq
themselves.

Parts without any `jq(` are stored as JSON bytes and rebuilt with `orjson.loads` on every
evaluation: results are always fresh objects that callers may change, and about three times cheaper
to make than a recursive copy (0.4 µs for a small map).
"""

from __future__ import annotations

from typing import Protocol

import orjson

from dirigent.jq.encoding import interpolate
from dirigent.types import JSON


class Node(Protocol):
    def build(self, values: list[JSON]) -> JSON:
        """The value of this part of the template, given the value of each query (by index)."""
        ...


class Constant:
    """A scalar without jq (string, number, boolean, null): immutable, returned as it is."""

    __slots__ = ("value",)

    def __init__(self, value: JSON) -> None:
        self.value = value

    def build(self, values: list[JSON]) -> JSON:
        return self.value


class StaticJSON:
    """A map or list without jq, rebuilt from its JSON bytes each time."""

    __slots__ = ("encoded",)

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded

    def build(self, values: list[JSON]) -> JSON:
        return orjson.loads(self.encoded)


class StaticCopy:
    """A map or list without jq that orjson cannot encode (integers over 64 bits): copied."""

    __slots__ = ("value",)

    def __init__(self, value: JSON) -> None:
        self.value = value

    def build(self, values: list[JSON]) -> JSON:
        return copy_json(self.value)


class Exact:
    """A string that is exactly `jq(Q)`: Q's value, of any JSON type."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def build(self, values: list[JSON]) -> JSON:
        return values[self.index]


class Interpolation:
    """A string with text around its queries: `head`, then each query's value and the text after."""

    __slots__ = ("head", "tail")

    def __init__(self, texts: tuple[str, ...], indexes: tuple[int, ...]) -> None:
        self.head = texts[0]
        self.tail = tuple(zip(indexes, texts[1:], strict=True))

    def build(self, values: list[JSON]) -> JSON:
        pieces = [self.head]
        for index, text in self.tail:
            pieces.append(interpolate(values[index]))
            pieces.append(text)
        return "".join(pieces).strip()


class MapNode:
    """A map with jq somewhere in its values; keys are plain strings."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[str, Node], ...]) -> None:
        self.items = items

    def build(self, values: list[JSON]) -> JSON:
        return {key: node.build(values) for key, node in self.items}


class ListNode:
    """A list with jq somewhere in its elements."""

    __slots__ = ("elements",)

    def __init__(self, elements: tuple[Node, ...]) -> None:
        self.elements = elements

    def build(self, values: list[JSON]) -> JSON:
        return [node.build(values) for node in self.elements]


def copy_json(value: JSON) -> JSON:
    """A deep copy of a JSON value made of plain dicts, lists and scalars."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    return value
