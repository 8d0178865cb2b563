"""Parsing ``Retry-After``: delta-seconds or an HTTP-date, nothing else.

Not ``email.utils.parsedate_to_datetime``: the standard parsers accept things
a server never meant (exponents, ``nan``, impossible weekdays, any year),
which must fall back to ordinary backoff rather than become a zero or
infinite wait; and ``email.utils`` imports ``socket`` into the sans-IO core.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_INF = float("inf")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# RFC 9110 section 5.6.7: IMF-fixdate, and the two obsolete forms a recipient must accept.
_IMF_FIXDATE = (
    r"(?P<wd>[A-Za-z]{3}), (?P<d>[0-9]{2}) (?P<mon>[A-Za-z]{3}) (?P<y>[0-9]{4}) "
    r"(?P<H>[0-9]{2}):(?P<M>[0-9]{2}):(?P<S>[0-9]{2}) GMT"
)
_RFC850 = (
    r"(?P<wd>[A-Za-z]{6,9}), (?P<d>[0-9]{2})-(?P<mon>[A-Za-z]{3})-(?P<y>[0-9]{2}) "
    r"(?P<H>[0-9]{2}):(?P<M>[0-9]{2}):(?P<S>[0-9]{2}) GMT"
)
_ASCTIME = (
    r"(?P<wd>[A-Za-z]{3}) (?P<mon>[A-Za-z]{3}) (?P<d>[ 0-9][0-9]) "
    r"(?P<H>[0-9]{2}):(?P<M>[0-9]{2}):(?P<S>[0-9]{2}) (?P<y>[0-9]{4})"
)
# Compiled on first use (re caches them): most programs never see an HTTP-date.
_DATE_PATTERNS = (
    (_IMF_FIXDATE, _WEEKDAYS),
    (_RFC850, _LONG_WEEKDAYS),
    (_ASCTIME, _WEEKDAYS),
)


def _is_delta(value: str) -> bool:
    """``[0-9]+(\\.[0-9]+)?``, checked without a regex."""
    whole, dot, fraction = value.partition(".")
    return _digits(whole) and (not dot or _digits(fraction))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_http_date(value: str, now: float) -> float | None:
    """Seconds since the epoch for an HTTP-date, or None if it is not a real one.

    ``now`` (seconds since the epoch) resolves two-digit RFC 850 years, which
    RFC 9110 reads as within 50 years of the present.
    """
    value = value.strip()
    for pattern, weekdays in _DATE_PATTERNS:
        m = re.fullmatch(pattern, value)
        if m is None:
            continue
        if m["mon"] not in _MONTHS or m["wd"] not in weekdays:
            return None
        year = int(m["y"])
        if weekdays is _LONG_WEEKDAYS:
            this_year = datetime.fromtimestamp(now, timezone.utc).year
            year += this_year - this_year % 100
            if year > this_year + 50:
                year -= 100
        try:
            moment = datetime(
                year,
                _MONTHS.index(m["mon"]) + 1,
                int(m["d"]),
                int(m["H"]),
                int(m["M"]),
                # A leap second is a real instant; the API may send one.
                min(int(m["S"]), 59),
                tzinfo=timezone.utc,
            )
        except ValueError:
            return None
        if moment.weekday() != weekdays.index(m["wd"]):
            return None
        return moment.timestamp()
    return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """The wait a ``Retry-After`` value asks for, in seconds, or None if unusable.

    Delta-seconds may carry a fraction (the API sends ``1.5``). A date in the
    past asks for no wait at all. Anything else (``nan``, ``inf``, ``-1``,
    ``1e35``, a wrong weekday, an empty value) is unusable.
    """
    if value is None:
        return None
    value = value.strip()
    if _is_delta(value):
        seconds = float(value)
        # Hundreds of digits overflow to inf: no wait that long is meant.
        return seconds if seconds != _INF else None
    moment = parse_http_date(value, now)
    if moment is None:
        return None
    return max(0.0, moment - now)
