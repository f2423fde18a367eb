"""Matching events against definitions: type, glob filters on attributes and extensions, correlation."""

from __future__ import annotations

import pytest

from dirigent.events import EventFilter, correlation_key, parse_event

EVENT = parse_event(
    {
        "specversion": "1.0",
        "id": "1",
        "source": "https://example.com/shop/eu",
        "type": "order",
        "subject": "order-7",
        "region": "eu-west-1",
        "priority": 3,
        "urgent": True,
    }
)


@pytest.mark.parametrize(
    ("context", "matches"),
    [
        ({}, True),
        ({"source": "https://example.com/shop/eu"}, True),
        ({"source": "https://example.com/*"}, True),
        ({"source": "*/shop/*"}, True),
        ({"source": "example.com"}, False),  # globs are anchored: the whole value
        ({"subject": "order-*", "region": "eu-*"}, True),
        ({"subject": "order-*", "region": "us-*"}, False),
        ({"Region": "eu-west-1"}, True),  # keys are lower-cased
        ({"priority": "3"}, True),  # non-string extensions compare as JSON text
        ({"urgent": "true"}, True),
        ({"missing": "*"}, False),  # a missing attribute does not match, not even '*'
        ({"subject": "order-?"}, False),  # only * is a wildcard
    ],
)
def test_filters_are_globs_on_attributes(context: dict[str, str], matches: bool) -> None:
    assert EventFilter.of("order", context).matches(EVENT) is matches


def test_type_must_be_equal() -> None:
    assert not EventFilter.of("ord*", {}).matches(EVENT)
    assert not EventFilter.of("Order", {}).matches(EVENT)


def test_filters_round_trip() -> None:
    found = EventFilter.of("order", {"Subject": "x*"})
    assert EventFilter.from_json(found.to_json()) == found


def test_correlation_key() -> None:
    assert correlation_key(EVENT, []) == "[]"
    assert correlation_key(EVENT, ["subject", "Region"]) == '["order-7","eu-west-1"]'
    assert correlation_key(EVENT, ["subject", "nothing"]) is None
