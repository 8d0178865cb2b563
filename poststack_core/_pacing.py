"""Pacing: how long before the next request of a client may start.

Theory of operation
-------------------
A :class:`Pacer` is the sans-IO half of a client-wide rate limiter. It owns no
clock, no lock and no sleep: a driver asks it before every attempt and tells
it what every response said::

    wait = pacer.reserve(now)                      # sleep this long, then send
    pacer.observe(response, now, wall, started)    # what the answer says

``now`` and ``started`` (when the answered request went out) are a monotonic
clock in seconds; ``wall`` is seconds since the epoch, read only for an
HTTP-date ``Retry-After`` and an epoch ``x-ratelimit-reset``. All requests of
one client go through one Pacer, so the requests in flight at once share one
budget. (A blocking client's threads take a lock around both calls; the lock
is the façade's.)

The rate it paces to, in requests per ``window`` seconds, is the smallest of
``Pacing.max_rate`` (the caller's ceiling), ``x-ratelimit-limit`` (once a
response states it) and a rate learnt from 429s. Without a stated limit it
learns by AIMD, as TCP does: a throttling 429 drops the rate to 70 % of what
went out in the last window (once per window), each success adds back about
one request per window.

Starts are booked in a sliding log: a request starts no earlier than the
``limit``-th latest start plus one period plus a safety margin, which is the
rule a sliding-log or token-bucket server enforces. So a run bursts up to the
limit at once, then sends one request whenever a slot comes free.

The log also holds the requests of others that the server counts: each
answer's ``x-ratelimit-remaining`` says how many the server counted when the
request arrived, and what it counted beyond all our own starts of the window
before ``started`` (a margin wider, and those since: arrival need not follow
the order of sending) were others' (another process on the same key, a run
killed a moment ago). They are taken into the log (the first as old as the
oldest the server counts, leaving at ``x-ratelimit-reset``; the rest as made
just now, for all we know), and corrected by every later answer. When others
and we fill the window together, we take a smaller share (AIMD again), until
a whole window passes with no one else on the key.

Holds: nothing starts before a retryable error's ``Retry-After`` has passed
(a bare 429 without one waits for ``x-ratelimit-reset``), nor, while no limit
is stated, before ``x-ratelimit-reset`` once ``x-ratelimit-remaining`` is 0.
No hold is longer than ``Pacing.max_wait``. 429s the retry policy calls
quotas say nothing about the rate and change nothing.

The margin covers the jitter between when a request starts here and when the
server counts it: it starts at ``Pacing.margin`` of a period, doubles with a
burst of throttling 429s while we alone use the key (one burst per window
counts once), and shrinks back slowly with successes. The answers measure
that jitter too: with no one else on the key, ``x-ratelimit-reset`` says how
long before this request the server saw the oldest one it counts, our own
log how long before it we sent that one; when the server saw them closer
together (a "squeeze"), the gap between windows grows to 1.5 times the
largest squeeze lately measured, before a 429 says so.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from ._messages import Response
from ._parse import error_from_response
from ._retry_policy import DEFAULT_POLICY, RetryPolicy

# A throttling 429 (without a stated limit) leaves this share of the rate just sent.
_DECREASE = 0.7
# The learnt rate never falls below this many requests per window.
_MIN_RATE = 0.1
# The margin, as a share of a period: how far 429s may push it, and how fast successes
# bring it back to the policy's own value.
_MAX_MARGIN = 0.5
_MARGIN_DECAY = 0.995
# At most this many requests of others are taken into the log from one answer.
_MAX_OTHERS = 1000
# The gap between windows is at least this many times the largest squeeze measured, which
# fades by this much with every answer.
_SQUEEZE_FACTOR = 1.5
_SQUEEZE_DECAY = 0.995
_MAX_SQUEEZE = 0.1
# A start booked for t and a clock read at t may differ in their last bits.
_EPSILON = 1e-6
# An x-ratelimit-reset above this is a Unix timestamp (seconds), not a number of seconds.
_EPOCH_THRESHOLD = 1e9


def _positive(value: object, name: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How a client paces its requests: an immutable policy, shared by every request.

    ``max_rate`` is a ceiling of your own, in requests per ``window`` seconds
    (your plan's limit, or a share of it): the client never goes faster, even
    before the API says anything. Without it the client follows what the API
    says (``x-ratelimit-*``, ``Retry-After``) and learns from 429s. ``window``
    is the period the API's ``x-ratelimit-limit`` counts over (one second).
    ``margin`` is the safety gap added to each period, as a share of it, for
    the jitter between sending and arriving. ``max_wait`` bounds any single
    hold a header asks for, so a wild header cannot stall a client for hours.
    """

    max_rate: float | None = None
    window: float = 1.0
    margin: float = 0.03
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        _positive(self.max_rate, "max_rate", allow_none=True)
        _positive(self.window, "window")
        _positive(self.max_wait, "max_wait")
        margin = self.margin
        if isinstance(margin, bool) or not isinstance(margin, (int, float)):
            raise TypeError(f"margin must be a number, got {type(margin).__name__}")
        if not 0 <= margin <= _MAX_MARGIN:
            raise ValueError(f"margin must be between 0 and {_MAX_MARGIN}, got {margin!r}")


def _header_number(response: Response, name: str) -> float | None:
    """A finite, non-negative number from a header, or None (absent or garbage)."""
    raw = response.header(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _shape(rate: float, window: float) -> tuple[int, float]:
    """A rate as (count, period): ``count`` requests per ``period`` seconds, count >= 1."""
    if rate >= 1:
        count = math.floor(rate)
        return count, window * count / rate
    return 1, window / rate


class Pacer:
    """The shared state of one client's pacing (see the module's theory of operation).

    ``retry`` is the client's retry policy: it says which 429s are quotas
    (which say nothing about the rate) and reads ``Retry-After``.
    """

    __slots__ = (
        "_blocked_until",
        "_decreased_at",
        "_learnt",
        "_margin",
        "_others",
        "_others_at",
        "_squeeze",
        "_starts",
        "_stated",
        "_widened_at",
        "policy",
        "retry",
    )

    def __init__(self, policy: Pacing | None = None, retry: RetryPolicy = DEFAULT_POLICY) -> None:
        if policy is None:
            policy = Pacing()
        if not isinstance(policy, Pacing):
            raise TypeError(f"pacing must be a Pacing, got {type(policy).__name__}")
        self.policy = policy
        self.retry = retry
        self._stated: float | None = None  # x-ratelimit-limit
        self._learnt: float | None = None  # from 429s, and from others on the key
        self._margin = policy.margin  # a share of one period
        self._squeeze = 0.0  # how much closer than sent the server has seen our requests
        self._blocked_until = -math.inf
        self._decreased_at = -math.inf
        self._widened_at = -math.inf
        self._others_at = -math.inf  # when the server last surely counted others' requests
        self._starts: deque[float] = deque()  # our booked starts, ascending
        self._others: deque[float] = deque()  # others' requests the server counts, ascending

    def __repr__(self) -> str:
        return f"<Pacer rate={self.rate!r} per {self.policy.window:g} s>"

    @property
    def rate(self) -> float | None:
        """The rate it paces to now, in requests per window; None while unlimited."""
        known = [r for r in (self.policy.max_rate, self._stated, self._learnt) if r is not None]
        return min(known) if known else None

    def blocked_until(self) -> float:
        """The monotonic time before which no request starts (``-inf`` when not held)."""
        return self._blocked_until

    def reserve(self, now: float) -> float:
        """Book the next request's start: the seconds to wait before sending it (>= 0)."""
        starts = self._starts
        start = max(now, self._blocked_until)
        rate = self.rate
        horizon = self.policy.window
        if rate is not None:
            count, period = _shape(rate, self.policy.window)
            gap = period + max(period * self._margin, _SQUEEZE_FACTOR * self._squeeze)
            latest = self._latest(count)
            if latest is not None:
                start = max(start, latest + gap)
            horizon = max(gap, horizon)
        if starts:
            # Slots go out in order, so the log stays sorted.
            start = max(start, starts[-1])
        starts.append(start)
        # A start older than the horizon can no longer hold anything back.
        for log in (starts, self._others):
            while log and log[0] <= now - horizon:
                log.popleft()
        return start - now

    def _latest(self, count: int) -> float | None:
        """The ``count``-th latest start, ours and others' together (None: fewer than that)."""
        if len(self._starts) + len(self._others) < count:
            return None
        ours, others = reversed(self._starts), reversed(self._others)
        a, b = next(ours, None), next(others, None)
        for _ in range(count - 1):
            if b is None or (a is not None and a >= b):
                a = next(ours, None)
            else:
                b = next(others, None)
        return max(x for x in (a, b) if x is not None)

    def observe(
        self, response: Response, now: float, wall: float, started: float | None = None
    ) -> None:
        """Learn from one response: its ``x-ratelimit-*`` headers, a 429, a ``Retry-After``.

        ``started`` is when its request was sent (monotonic): the server's count
        in the answer then is compared with our own starts up to that moment.
        """
        status = response.status
        limit = _header_number(response, "x-ratelimit-limit")
        reset = _header_number(response, "x-ratelimit-reset")
        if reset is not None and reset > _EPOCH_THRESHOLD:
            reset = max(0.0, reset - wall)
        if limit is not None and limit >= 1:
            self._stated = limit
        remaining = _header_number(response, "x-ratelimit-remaining")
        if reset is not None and remaining is not None:
            if self._stated is not None:
                self._account(
                    self._stated - remaining, now, reset, now if started is None else started
                )
            elif remaining == 0:
                # Used up, and no idea how many the window holds: wait for the next slot.
                self._hold(now, reset)
        if 200 <= status < 300:
            self._succeeded()
            return
        if status < 400:
            return
        error = error_from_response(response, wall, policy=self.retry)
        if error.is_quota or not error.retryable:
            return
        wait = error.retry_after
        if wait is None and status == 429:
            wait = reset
        if wait is not None:
            self._hold(now, wait)
        if status == 429:
            self._throttled(now)

    def _account(self, used: float, now: float, reset: float, started: float) -> None:
        """Keep as many of others' requests in the log as the server's count implies.

        Others (another process on the same key, a run killed a moment ago)
        made what the server counted, when this request arrived, beyond our
        own starts of the window before it. The first of them is taken to be as
        old as the oldest the server counts (it leaves at ``now + reset``),
        the rest as made just now: the least a shared window can be trusted
        with. The next answer corrects the count either way.
        """
        window = self.policy.window
        others = self._others
        while others and others[0] <= now - window:
            others.popleft()
        # Ours in the server's count: those sent in the window before this one (and a
        # margin more: one may have taken longer to arrive) and, as arrival need not
        # follow the order of sending, those sent since.
        ours = self._sent_between(started - window * (1 + self._margin), now)
        if used <= ours:
            self._measure_squeeze(used, reset, started)
        # Bounded: a limit of thousands a second needs no log that precise (a 429 will tell).
        target = min(_MAX_OTHERS, max(0, math.ceil(used) - ours))
        while len(others) > target:
            others.pop()  # the server counts fewer now: the newest go first
        if len(others) < target:
            if not others:
                others.append(max(now - window, now + min(reset, window) - window))
            others.extend([now] * (target - len(others)))
        if used > ours:
            # More than all of ours: surely someone else's. Used up together, take a
            # smaller share before a 429 says so.
            self._others_at = now
            if used >= (self._stated or math.inf):
                self._decrease(now)
        elif now - self._others_at >= window:
            # A whole window with no one else on the key: the stated limit is ours again.
            self._learnt = None

    def _measure_squeeze(self, used: float, reset: float, started: float) -> None:
        """Learn how much closer together the server saw our requests than we sent them.

        With no one else on the key, the oldest request the server counts is
        our ``used``-th latest start up to this one, and ``window - reset`` is
        how long before this one the server saw it. What the gap shrank by on
        the way (one request waited longer to be counted than another) is what
        the margin must cover: before a 429 says so.
        """
        count = math.ceil(used)
        if self._others or count < 2:
            return
        window = self.policy.window
        ours = [s for s in self._starts if started - 2 * window < s <= started + _EPSILON]
        if len(ours) < count:
            return
        # At most a tenth of a window: a wrong guess (someone else's request taken for
        # ours) costs little.
        squeeze = min((started - ours[-count]) - (window - reset), _MAX_SQUEEZE * window)
        self._squeeze = max(self._squeeze * _SQUEEZE_DECAY, squeeze, 0.0)

    def _sent_in_window(self, now: float) -> int:
        """Our own starts in the window before ``now``."""
        return self._sent_between(now - self.policy.window, now)

    def _sent_between(self, since: float, until: float) -> int:
        until += _EPSILON
        return sum(1 for start in self._starts if since < start <= until)

    def _hold(self, now: float, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, now + min(seconds, self.policy.max_wait))

    def _succeeded(self) -> None:
        self._margin = max(self.policy.margin, self._margin * _MARGIN_DECAY)
        learnt = self._learnt
        if learnt is not None:
            # About one more request per window of successes.
            self._learnt = learnt + 1 / max(learnt, 1.0)

    def _throttled(self, now: float) -> None:
        window = self.policy.window
        # One burst of 429s (the answers to requests in flight together) is one signal.
        if now - self._widened_at >= window:
            self._widened_at = now
            self._margin = min(_MAX_MARGIN, 2 * self._margin + 0.01)
        if self._stated is not None and now - self._others_at >= window:
            # We alone use the stated limit: the jitter's; the wider margin is the answer.
            return
        self._decrease(now)

    def _decrease(self, now: float) -> None:
        """No stated limit, or others share the key: take a smaller share (AIMD)."""
        if now - self._decreased_at < self.policy.window:
            return
        self._decreased_at = now
        sent = self._sent_in_window(now)
        rate = self.rate
        base = float(max(sent, 1)) if rate is None else min(rate, max(sent, 1))
        self._learnt = max(_MIN_RATE, base * _DECREASE)
