"""The Pacer through its public API: hypothesis properties, and a simulated rate-limited server.

Every test drives a :class:`~poststack_core.Pacer` with a clock of its own
(plain floats), so nothing here sleeps or reads the real time.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poststack_core import Pacer, Pacing, Response

from .helpers import NOW, response

WALL = NOW  # seconds since the epoch, for HTTP-date Retry-After


def ok(headers: Sequence[tuple[str, str]] = ()) -> Response:
    return response(202, {"id": "em_1"}, headers)


def limited(limit: int, remaining: int, reset: float) -> tuple[tuple[str, str], ...]:
    return (
        ("x-ratelimit-limit", str(limit)),
        ("x-ratelimit-remaining", str(remaining)),
        ("x-ratelimit-reset", f"{reset:.3f}"),
    )


def throttled(retry_after: str | None = None, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """The API's throttling 429: ``rate_limit_exceeded`` with a Retry-After."""
    extra = (("Retry-After", retry_after),) if retry_after is not None else ()
    body = {"error": "Too many requests", "code": "rate_limit_exceeded"}
    return response(429, body, (*headers, *extra))


def bare_429(headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A proxy's 429: no code, no Retry-After (ordinary throttling, spec section 3)."""
    return response(429, None, headers)


def quota() -> Response:
    return response(429, {"error": "Monthly limit", "code": "monthly_limit_exceeded"})


def book(pacer: Pacer, now: float) -> float:
    """Reserve at ``now``; the start time that was booked."""
    wait = pacer.reserve(now)
    assert math.isfinite(wait)
    assert wait >= 0
    return now + wait


# Non-decreasing instants: a monotonic clock read by successive callers.
instants = st.lists(st.floats(0, 0.5, allow_nan=False), min_size=1, max_size=80).map(
    lambda steps: [sum(steps[: i + 1]) for i in range(len(steps))]
)


# --- the policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_rate": 0}, ValueError),
        ({"max_rate": -1}, ValueError),
        ({"max_rate": math.inf}, ValueError),
        ({"max_rate": "20"}, TypeError),
        ({"max_rate": True}, TypeError),
        ({"window": 0}, ValueError),
        ({"max_wait": math.nan}, ValueError),
        ({"margin": -0.1}, ValueError),
        ({"margin": 0.9}, ValueError),
        ({"margin": None}, TypeError),
    ],
)
def test_a_bad_policy_is_refused_at_once(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Pacing(**kwargs)  # type: ignore[arg-type]


def test_the_pacer_needs_a_pacing() -> None:
    with pytest.raises(TypeError, match="must be a Pacing"):
        Pacer(20)  # type: ignore[arg-type]
    assert repr(Pacer(Pacing(max_rate=5))) == "<Pacer rate=5 per 1 s>"


# --- pacing to a rate ---------------------------------------------------------------------


@given(instants)
def test_without_a_limit_nothing_waits(times: list[float]) -> None:
    pacer = Pacer()
    for now in times:
        assert pacer.reserve(now) == 0
        pacer.observe(ok(), now, WALL)
    assert pacer.rate is None


@given(
    rate=st.floats(0.2, 60),
    window=st.sampled_from([0.5, 1.0, 2.0]),
    times=instants,
    per_instant=st.integers(1, 4),
)
def test_a_max_rate_is_never_exceeded_in_any_window(
    rate: float, window: float, times: list[float], per_instant: int
) -> None:
    pacer = Pacer(Pacing(max_rate=rate, window=window, margin=0))
    starts = [book(pacer, now) for now in times for _ in range(per_instant)]
    assert all(later >= earlier - 1e-9 for earlier, later in itertools.pairwise(starts))
    # No stretch of one window holds more than the rate allows (count per period).
    count = max(1, math.floor(rate))
    period = window * count / rate
    for i in range(count, len(starts)):
        assert starts[i] - starts[i - count] >= period - 1e-9


@given(rate=st.integers(1, 50), n=st.integers(1, 200), margin=st.sampled_from([0, 0.03, 0.2]))
def test_a_burst_of_the_limit_then_one_request_per_slot(rate: int, n: int, margin: float) -> None:
    pacer = Pacer(Pacing(max_rate=rate, margin=margin))
    starts = [book(pacer, 0.0) for _ in range(n)]
    gap = 1.0 * (1 + margin)
    assert starts == pytest.approx([(i // rate) * gap for i in range(n)])


def test_the_rate_is_the_smallest_of_the_ceiling_the_stated_limit_and_what_was_learnt() -> None:
    pacer = Pacer()
    pacer.observe(ok(limited(10, 9, 0.9)), 0.1, WALL)
    assert pacer.rate == 10
    pacer.observe(ok(limited(50, 49, 0.9)), 0.2, WALL)
    assert pacer.rate == 50  # the latest statement counts
    capped = Pacer(Pacing(max_rate=4))
    capped.observe(ok(limited(50, 49, 0.9)), 0.0, WALL)
    assert capped.rate == 4  # the caller's ceiling holds
    learning = Pacer()
    book(learning, 0.0)
    learning.observe(bare_429(), 0.0, WALL)
    assert learning.rate == pytest.approx(0.7)  # learnt from one request in the window
    learning.observe(ok(limited(10, 9, 0.9)), 0.1, WALL)
    assert learning.rate == 10  # the server states its limit, and no one else is on the key


def test_a_429_under_a_limit_we_fill_alone_widens_the_margin_only() -> None:
    pacer = Pacer(Pacing(max_rate=10))
    for _ in range(10):
        book(pacer, 0.0)
    pacer.observe(ok(limited(10, 0, 0.9)), 0.005, WALL)
    pacer.observe(throttled("0.5", limited(10, 0, 0.5)), 0.01, WALL)
    assert pacer.rate == 10  # the jitter's fault, not a smaller limit


# --- holds ----------------------------------------------------------------------------------


@given(
    seconds=st.floats(0, 300, allow_nan=False),
    later=st.lists(st.floats(0, 400), min_size=1, max_size=10),
    max_wait=st.sampled_from([1.0, 60.0]),
)
def test_retry_after_holds_every_later_request(
    seconds: float, later: list[float], max_wait: float
) -> None:
    pacer = Pacer(Pacing(max_wait=max_wait))
    pacer.observe(throttled(f"{seconds:.3f}"), 10.0, WALL)
    held = 10.0 + min(float(f"{seconds:.3f}"), max_wait)
    assert pacer.blocked_until() == pytest.approx(held)
    for now in sorted(10.0 + t for t in later):
        assert book(pacer, now) >= held - 1e-9


def test_an_http_date_retry_after_is_read_against_the_wall_clock() -> None:
    pacer = Pacer()
    # The wall clock says NOW; the date is 20 s later.
    from email.utils import formatdate

    pacer.observe(throttled(formatdate(WALL + 20, usegmt=True)), 5.0, WALL)
    assert pacer.blocked_until() == pytest.approx(25.0)


def test_a_503_with_retry_after_holds_too_and_a_bare_one_does_not() -> None:
    pacer = Pacer()
    pacer.observe(response(503, {"error": "busy"}), 1.0, WALL)
    assert pacer.blocked_until() == -math.inf
    pacer.observe(response(503, {"error": "busy"}, (("Retry-After", "3"),)), 1.0, WALL)
    assert pacer.blocked_until() == 4.0
    assert pacer.rate is None  # a 503 says nothing about the rate


def used_up(reset: float) -> tuple[tuple[str, str], ...]:
    return (("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", f"{reset:.3f}"))


@given(reset=st.floats(0, 50, allow_nan=False))
def test_no_request_starts_while_the_server_says_none_remain(reset: float) -> None:
    pacer = Pacer(Pacing(max_rate=100))
    pacer.observe(ok(used_up(reset)), 2.0, WALL)
    assert book(pacer, 2.0) >= 2.0 + float(f"{reset:.3f}")


def test_a_reset_given_as_a_timestamp_is_read_against_the_wall_clock() -> None:
    pacer = Pacer()
    pacer.observe(ok(used_up(WALL + 3)), 1.0, WALL)
    assert pacer.blocked_until() == pytest.approx(4.0)


def test_requests_of_others_the_server_counts_are_taken_into_the_log() -> None:
    # A fresh client on a key another process (or an earlier run) has just used:
    # the server counts 8 of 10 in its window, the oldest of them leaving in 0.4 s.
    pacer = Pacer()
    pacer.observe(ok(limited(10, 2, 0.4)), 0.0, WALL)
    starts = [book(pacer, 0.0) for _ in range(4)]
    # Two slots now, the next when the oldest leaves (plus the margin), the one after
    # when the rest leave: taken as made just now, for all the client knows.
    assert starts == pytest.approx([0.0, 0.0, 0.43, 1.03])
    assert pacer.rate == 10  # not full: no smaller share yet


def test_a_window_others_fill_with_us_makes_us_take_a_smaller_share() -> None:
    pacer = Pacer()
    pacer.observe(ok(limited(10, 5, 0.5)), 0.0, WALL)
    for _ in range(4):
        book(pacer, 0.0)
    pacer.observe(ok(limited(10, 0, 0.4)), 0.1, WALL)
    # 10 counted, 4 of them ours: the share drops to 70 % of our 4, and this
    # answer's success adds a little back (1/2.8).
    assert pacer.rate == pytest.approx(4 * 0.7 + 1 / 2.8)


def test_a_huge_stated_limit_keeps_the_log_small() -> None:
    pacer = Pacer()
    pacer.observe(ok(limited(10**6, 10**6 - 5000, 0.5)), 0.0, WALL)
    assert pacer.reserve(0.0) == 0.0  # a thousand others at most: no wait for a million


def test_a_throttled_answer_without_retry_after_waits_for_the_reset() -> None:
    pacer = Pacer()
    pacer.observe(bare_429(limited(10, 3, 0.5)), 1.0, WALL)
    assert pacer.blocked_until() == pytest.approx(1.5)
    # The API's own 429 without a Retry-After is a quota in disguise: no hold, no lesson.
    other = Pacer()
    other.observe(throttled(headers=limited(10, 3, 0.5)), 1.0, WALL)
    assert other.blocked_until() == -math.inf


@given(st.lists(st.floats(0, 100), min_size=1, max_size=20))
def test_a_quota_429_changes_nothing(times: list[float]) -> None:
    seen, fresh = Pacer(Pacing(max_rate=5)), Pacer(Pacing(max_rate=5))
    for now in sorted(times):
        seen.observe(quota(), now, WALL)
        assert seen.reserve(now) == fresh.reserve(now)
    assert seen.rate == fresh.rate == 5


GARBAGE = ["nan", "inf", "-inf", "-1", "1e400", "abc", "", " ", "0x10", "1,2"]


@given(
    limit=st.sampled_from(GARBAGE),
    remaining=st.sampled_from([*GARBAGE, "0"]),
    reset=st.sampled_from(GARBAGE),
    retry_after=st.sampled_from(GARBAGE),
)
def test_garbage_headers_count_as_absent(
    limit: str, remaining: str, reset: str, retry_after: str
) -> None:
    pacer = Pacer()
    headers = (
        ("x-ratelimit-limit", limit),
        ("x-ratelimit-remaining", remaining),
        ("x-ratelimit-reset", reset),
    )
    pacer.observe(ok(headers), 1.0, WALL)
    pacer.observe(throttled(retry_after, headers), 1.0, WALL)
    assert pacer.blocked_until() == -math.inf
    assert pacer.reserve(1.0) == 0.0 or pacer.rate is not None


# --- learning without a stated limit (AIMD) -------------------------------------------------


@given(sent=st.integers(1, 60), successes=st.integers(0, 300))
def test_429s_without_a_stated_limit_back_off_then_recover(sent: int, successes: int) -> None:
    pacer = Pacer()
    for _ in range(sent):
        book(pacer, 5.0)
    pacer.observe(bare_429(), 5.0, WALL)
    learnt = pacer.rate
    assert learnt == pytest.approx(max(0.1, sent * 0.7))
    pacer.observe(throttled("0"), 5.5, WALL)  # the same burst: one signal
    assert pacer.rate == learnt
    previous = learnt
    for _ in range(successes):
        pacer.observe(ok(), 6.0, WALL)
        rate = pacer.rate
        assert rate is not None
        assert previous < rate <= previous + 1 + 1e-9
        previous = rate
    pacer.observe(throttled("1"), 7.0, WALL)  # a window later: a new signal
    assert pacer.rate is not None
    assert pacer.rate <= previous * 0.7 + 1e-9
    assert pacer.rate >= 0.1


def test_the_margin_grows_with_throttling_and_shrinks_back() -> None:
    pacer = Pacer(Pacing(max_rate=10, margin=0.03))
    for _ in range(10):
        book(pacer, 0.0)
    pacer.observe(throttled("0", limited(10, 0, 0.0)), 0.0, WALL)
    pacer.observe(throttled("0", limited(10, 0, 0.0)), 0.5, WALL)  # the same burst
    starts = [book(pacer, 0.0) for _ in range(11)]
    grown = starts[10] - starts[0]
    assert grown == pytest.approx(1.07)  # 2 * 0.03 + 0.01, once
    for _ in range(5000):
        pacer.observe(ok(), 0.0, WALL)
    again = [book(pacer, 100.0) for _ in range(11)]
    assert again[10] - again[0] == pytest.approx(1.03)


# --- totality -------------------------------------------------------------------------------

headers_strategy = st.lists(
    st.tuples(
        st.sampled_from(
            ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"]
        ),
        st.one_of(
            st.sampled_from(GARBAGE), st.floats(0, 1e6).map(str), st.integers(0, 99).map(str)
        ),
    ),
    max_size=4,
)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 5, allow_nan=False),
            st.sampled_from([200, 202, 304, 400, 401, 408, 409, 422, 429, 500, 503]),
            headers_strategy,
            st.booleans(),
        ),
        max_size=40,
    ),
    st.one_of(st.none(), st.floats(0.1, 100)),
)
def test_any_sequence_of_answers_gives_finite_non_negative_waits(
    events: list[tuple[float, int, list[tuple[str, str]], bool]], max_rate: float | None
) -> None:
    pacer = Pacer(Pacing(max_rate=max_rate, max_wait=30))
    now = 0.0
    for step, status, headers, reserve in events:
        now += step
        if reserve:
            wait = pacer.reserve(now)
            assert math.isfinite(wait)
            assert wait >= 0
        pacer.observe(response(status, {"error": "x"}, headers), now, WALL)
        assert pacer.blocked_until() <= now + 30 + 1.0  # a hold never exceeds max_wait (+margin)
        rate = pacer.rate
        assert rate is None or (math.isfinite(rate) and rate > 0)


# --- against a simulated sliding-log server, as the sandbox's ----------------------------


def simulate(
    limit: int,
    workers: int,
    n: int,
    up: Sequence[float],
    down: float,
    clients: int = 1,
    before: Sequence[float] = (),
) -> tuple[float, int, int]:
    """Run ``n`` requests per client through ``workers`` workers and one Pacer per client.

    The server admits a request if fewer than ``limit`` were admitted in the
    second before it arrived (whichever client sent them), and answers with
    ``x-ratelimit-*`` (and a 429 with Retry-After otherwise), as the sandbox
    does. Request ``i`` takes ``up[i % len(up)]`` seconds to arrive, every
    answer ``down`` to come back. A 429 is retried after its Retry-After,
    through the pacer again (as the Call and the driver do). ``before`` are
    requests someone else made just before (a process that was killed).
    Returns (time of the last answer, 429s, requests).
    """
    pacers = [Pacer() for _ in range(clients)]
    admitted: deque[float] = deque(before)
    # (time, sequence number, client, when it was sent, the answer on its way back or None
    # while the request is on its way there)
    events: list[tuple[float, int, int, float, Response | None]] = []
    counter = iter(range(10**9))
    sent = requests = throttles = 0
    finished_at = 0.0

    def issue(now: float, client: int) -> None:
        nonlocal requests
        start = now + pacers[client].reserve(now)
        arrival = start + up[requests % len(up)]
        heapq.heappush(events, (arrival, next(counter), client, start, None))
        requests += 1

    waiting = [n] * clients
    for client in range(clients):
        for _ in range(min(workers, n)):
            waiting[client] -= 1
            issue(0.0, client)
    while events:
        at, _, client, started, answer = heapq.heappop(events)
        if answer is None:  # a request arrives at the server
            while admitted and admitted[0] <= at - 1.0:
                admitted.popleft()
            allowed = len(admitted) < limit
            if allowed:
                admitted.append(at)
            reset = math.ceil((admitted[0] + 1.0 - at) * 1000) / 1000
            headers = limited(limit, limit - len(admitted), reset)
            reply = ok(headers) if allowed else throttled(f"{reset:.3f}", headers)
            heapq.heappush(events, (at + down, next(counter), client, started, reply))
            continue
        pacers[client].observe(answer, at, WALL + at, started)
        finished_at = at
        if answer.status == 429:
            throttles += 1
            issue(at + float(answer.header("retry-after") or 0), client)
            continue
        sent += 1
        if waiting[client]:
            waiting[client] -= 1
            issue(at, client)
    assert sent == n * clients
    return finished_at, throttles, requests


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(2, 40),
    n=st.integers(1, 400),
    latency=st.floats(0.001, 0.05),
    jitter=st.floats(0, 0.02),
    seed=st.lists(st.floats(0, 1), min_size=1, max_size=16),
)
def test_a_run_at_the_limit_meets_no_429_and_takes_about_the_ideal_time(
    limit: int, n: int, latency: float, jitter: float, seed: list[float]
) -> None:
    # The margin (3 % of a second) covers any jitter below it: no 429 at all. As many
    # workers as the limit keep it busy: a round trip is far shorter than a window.
    up = [latency + jitter * x for x in seed]
    elapsed, throttles, requests = simulate(limit, limit, n, up, latency)
    assert throttles == 0
    assert requests == n
    # The limit allows request i no earlier than floor(i / limit) seconds in; the pacer
    # loses its margin per window, and the last request's round trip.
    windows = (n - 1) // limit
    assert elapsed <= windows * 1.03 + 2 * latency + jitter + 1e-6
    assert elapsed >= windows * 1.0  # and it is never faster than the limit


def test_more_workers_than_the_limit_meet_429s_only_at_the_start() -> None:
    # 30 at once before any answer says the limit is 10: 20 429s, then none.
    elapsed, throttles, requests = simulate(10, 30, 200, [0.01], 0.01)
    assert throttles == 20
    assert requests == 220
    # The first window is spent on the storm; then 200 requests at 10 a window.
    assert elapsed <= 1 + 20 * 1.07 + 0.1


@pytest.mark.parametrize("clients", [2, 3])
def test_processes_sharing_a_key_neither_collapse_nor_starve(clients: int) -> None:
    # Each pacer sees the others' requests in the server's counts and takes a smaller
    # share when they fill the window together. It cannot count them exactly (it gives
    # its own requests the benefit of the doubt), so some 429s remain: processes that
    # share a key do better with Pacing(max_rate=limit / processes) each.
    elapsed, throttles, requests = simulate(20, 4, 1000, [0.005], 0.005, clients)
    assert throttles / requests < 0.15
    ideal = clients * 1000 / 20
    assert elapsed < 1.8 * ideal


def test_a_rerun_right_after_a_killed_run_meets_no_429() -> None:
    # The killed process sent 15 requests in the last second; the rerun's first
    # answers tell the pacer so.
    killed = [-0.5 + i * 0.02 for i in range(15)]
    elapsed, throttles, requests = simulate(20, 4, 100, [0.005], 0.005, before=killed)
    # Of the four sent together first, the answers cannot tell which were counted:
    # at most that burst's worth of 429s, then none.
    assert throttles <= 3
    assert requests == 100 + throttles
    assert elapsed < 100 / 20 + 1.5


def test_the_gap_grows_with_the_squeeze_the_server_reports() -> None:
    pacer = Pacer(Pacing(max_rate=2))
    first, second = book(pacer, 0.0), book(pacer, 0.6)
    assert (first, second) == (0.0, 0.6)
    # The server saw the second 0.53 s after the first (its oldest, leaving in 0.47 s),
    # not 0.6: a squeeze of 0.07 s, which the gap now covers one and a half times.
    pacer.observe(ok(limited(2, 0, 0.47)), 0.61, WALL, second)
    assert book(pacer, 0.61) == pytest.approx(1 + 1.5 * 0.07)
    # A squeeze below the margin changes nothing.
    calm = Pacer(Pacing(max_rate=2))
    book(calm, 0.0), book(calm, 0.6)
    calm.observe(ok(limited(2, 0, 0.41)), 0.61, WALL, 0.6)
    assert book(calm, 0.61) == pytest.approx(1.03)
