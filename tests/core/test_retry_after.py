from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .helpers import NOW, retry_after


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
    assert retry_after(value, NOW) == expected


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
    assert retry_after(value, NOW) is None


def test_imf_fixdate_in_the_future_is_the_difference() -> None:
    assert retry_after(http_date(NOW + 30), NOW) == pytest.approx(30.0)


def test_date_in_the_past_asks_for_no_wait() -> None:
    assert retry_after(http_date(NOW - 3600), NOW) == 0.0


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        # RFC 9110 5.6.7 asks recipients to accept both obsolete forms.
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ],
)
def test_every_date_form(value: str) -> None:
    moment = 784111777.0  # 1994-11-06T08:49:37Z
    assert retry_after(value, now=moment - 12.5) == 12.5


def test_two_digit_years_are_read_near_now() -> None:
    now_2026 = datetime(2026, 11, 27, tzinfo=timezone.utc).timestamp()
    # Noon of that day, not of 1926 (which would be no wait at all).
    assert retry_after("Friday, 27-Nov-26 12:00:00 GMT", now_2026) == 12 * 3600
    # 1994, in the past (not 2094, decades away).
    assert retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now_2026) == 0.0


@given(st.integers(min_value=0, max_value=10**9))
def test_any_delta_round_trips(seconds: int) -> None:
    assert retry_after(str(seconds), NOW) == float(seconds)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_any_date_is_its_distance_from_now(offset: int) -> None:
    assert retry_after(http_date(NOW + offset), NOW) == max(0.0, float(offset))


@given(st.text())
def test_never_raises_and_never_negative_or_infinite(value: str) -> None:
    wait = retry_after(value, NOW)
    assert wait is None or 0.0 <= wait < float("inf")
