from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import parse_http_date, parse_retry_after

from .helpers import NOW


def http_date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 60 ", 60.0),
        ("61", 61.0),
        ("120", 120.0),
        ("99999999999", 99999999999.0),
    ],
)
def test_delta_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "-1",
        "-0.5",
        "1e35",
        "1E3",
        "0x10",
        "+5",
        "5s",
        "soon",
        "1.",
        ".5",
        "1" * 400,  # overflows to inf
        "Mon, 06 Nov 1994 08:49:37 GMT",  # 6 Nov 1994 was a Sunday: a bad weekday
        "Sun, 06 Nov 100000 08:49:37 GMT",
        "Sun, 31 Feb 2026 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun 06 Nov 1994 08:49:37 GMT",
    ],
)
def test_unusable_values(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_imf_fixdate_in_the_future_is_the_difference() -> None:
    assert parse_retry_after(http_date(NOW + 30), NOW) == pytest.approx(30.0)


def test_date_in_the_past_asks_for_no_wait() -> None:
    assert parse_retry_after(http_date(NOW - 3600), NOW) == 0.0


def test_obsolete_date_forms() -> None:
    # RFC 9110 5.6.7 asks recipients to accept both obsolete forms.
    imf = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", NOW)
    assert imf == 784111777.0
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", NOW) == imf
    assert parse_http_date("Sun Nov  6 08:49:37 1994", NOW) == imf


def test_two_digit_years_are_read_near_now() -> None:
    now_2026 = datetime(2026, 11, 27, tzinfo=timezone.utc).timestamp()
    moment = parse_http_date("Friday, 27-Nov-26 12:00:00 GMT", now_2026)
    assert moment is not None
    assert datetime.fromtimestamp(moment, timezone.utc).year == 2026
    old = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now_2026)
    assert old is not None
    assert datetime.fromtimestamp(old, timezone.utc).year == 1994


@given(st.integers(min_value=0, max_value=10**9))
def test_any_delta_round_trips(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == float(seconds)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_any_date_is_its_distance_from_now(offset: int) -> None:
    assert parse_retry_after(http_date(NOW + offset), NOW) == max(0.0, float(offset))


@given(st.text())
def test_never_raises_and_never_negative_or_infinite(value: str) -> None:
    wait = parse_retry_after(value, NOW)
    assert wait is None or 0.0 <= wait < float("inf")
