"""Rate limits and the monthly quota: the limiter is exact (hypothesis); the SDK against both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poststack import PostStack, PostStackError
from poststack.testing import Sandbox
from poststack.testing._limits import RateLimiter

EMAIL = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}


NS = 1_000_000_000


class FakeClock:
    """Monotonic nanoseconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


# --- the limiter, as a pure value ---------------------------------------------------------

# Gaps between requests in nanoseconds: bursts (0), and anything up to half a second.
gaps = st.lists(
    st.one_of(st.just(0), st.integers(min_value=1, max_value=NS // 2)), min_size=1, max_size=200
)


@settings(max_examples=300, deadline=None)
@given(limit=st.integers(min_value=1, max_value=12), gaps=gaps)
def test_no_one_second_window_ever_holds_more_than_the_limit(limit: int, gaps: list[int]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, clock=clock)
    accepted: list[int] = []
    for gap in gaps:
        clock.now += gap
        in_window = [t for t in accepted if t > clock.now - NS]
        decision = limiter.take("key")
        # Admitted exactly when fewer than `limit` were admitted in the second before.
        assert decision.allowed == (len(in_window) < limit)
        if decision.allowed:
            accepted.append(clock.now)
            in_window.append(clock.now)
        assert decision.remaining == limit - len(in_window)
        assert decision.reset_ns == min(in_window) + NS - clock.now
        assert 0 < decision.reset_ns <= NS
    for t in accepted:
        assert sum(1 for u in accepted if t - NS < u <= t) <= limit


@settings(max_examples=300, deadline=None)
@given(limit=st.integers(min_value=1, max_value=8), gaps=gaps)
def test_waiting_retry_after_is_enough_and_no_less_would_do(limit: int, gaps: list[int]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, clock=clock)
    for gap in gaps:
        clock.now += gap
        refused_at = clock.now
        decision = limiter.take("key")
        if decision.allowed:
            continue
        header = dict(decision.headers())["retry-after"]
        wait_ns = round(float(header) * 1000) * 1_000_000
        assert 0 <= wait_ns - decision.reset_ns < 1_000_000  # rounded up to the millisecond
        # A moment too early is still refused (and a refusal takes no slot) ...
        clock.now = refused_at + decision.reset_ns - 1
        assert not limiter.take("key").allowed
        # ... and a client that waits exactly what Retry-After said is admitted.
        clock.now = refused_at + wait_ns
        assert limiter.take("key").allowed


def test_keys_are_limited_separately() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    assert limiter.take("b").allowed


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "5"])
def test_a_limit_is_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        RateLimiter(bad)  # type: ignore[arg-type]


# --- over HTTP, and the SDK against it -------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    """A limit of 3 per second whose clock stands still: the counts never depend on speed."""
    with Sandbox(rate_limit=3) as sb:
        assert sb._limiter is not None
        sb._limiter._clock = FakeClock()
        yield sb


def test_headers_count_down_and_the_429_says_how_long(limited: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {limited.api_key}"}
    with httpx.Client(base_url=limited.base_url, headers=headers) as client:
        answers = [client.get("/emails") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["x-ratelimit-limit"] == "3" for a in answers)
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limit_exceeded"
    wait = float(refused.headers["retry-after"])
    assert 0 < wait <= 1.0
    assert refused.headers["x-ratelimit-reset"] == refused.headers["retry-after"]
    assert float(answers[0].headers["x-ratelimit-reset"]) <= 1.0


def test_the_inbox_and_unauthenticated_calls_are_not_limited(limited: Sandbox) -> None:
    for _ in range(10):
        assert httpx.get(f"{limited.base_url}/_sandbox/messages").status_code == 200
        assert httpx.get(f"{limited.base_url}/emails").status_code == 401


def test_each_key_has_its_own_budget(limited: Sandbox) -> None:
    with PostStack(api_key=limited.api_key, base_url=limited.base_url, max_retries=0) as ps:
        minted = ps.api_keys.create({"name": "other", "permission": "sending_access"})["key"]
        ps.emails.list()
        ps.emails.list()
        with pytest.raises(PostStackError) as info:
            ps.emails.list()
        assert info.value.status_code == 429
    with PostStack(api_key=minted, base_url=limited.base_url, max_retries=0) as other:
        assert other.emails.list()["pagination"]["total"] == 0


def test_the_sdk_waits_out_the_limit_and_sends_once() -> None:
    # Real time here, as the SDK really sleeps: one request a second, three sends.
    with (
        Sandbox(rate_limit=1) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        ids = [ps.emails.send(EMAIL)["id"] for _ in range(3)]
        assert len(set(ids)) == 3
        assert len(sb.outbox) == 3  # throttled sends were retried, never doubled
        keys = [r.idempotency_key for r in sb.requests]
    assert len(keys) > 3  # some attempts were refused and retried ...
    assert len(set(keys)) == 3  # ... with the same Idempotency-Key each time


def test_without_retries_the_sdk_raises_with_retry_after(limited: Sandbox) -> None:
    with PostStack(api_key=limited.api_key, base_url=limited.base_url, max_retries=0) as ps:
        for _ in range(3):
            ps.emails.send(EMAIL)
        with pytest.raises(PostStackError) as info:
            ps.emails.send(EMAIL)
    error = info.value
    assert (error.status_code, error.code) == (429, "rate_limit_exceeded")
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 1.0
    assert error.headers["x-ratelimit-remaining"] == "0"


# --- the monthly quota -----------------------------------------------------------------------

JAN = datetime(2030, 1, 20, tzinfo=timezone.utc)


def test_the_monthly_quota_is_the_apis_quota_429() -> None:
    with (
        Sandbox(monthly_quota=3, start_time=JAN) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        ps.emails.send(EMAIL)
        ps.emails.send(EMAIL)
        with pytest.raises(PostStackError) as info:
            ps.emails.batch({"emails": [EMAIL, EMAIL]})  # would make 4: all refused
        error = info.value
        assert (error.status_code, error.code) == (429, "monthly_limit_exceeded")
        assert error.retry_after is None
        assert "2030-02-01T00:00:00.000Z" in error.error
        assert len(sb.requests) == 3  # a quota is never retried
        ps.emails.send(EMAIL)  # the third fits
        with pytest.raises(PostStackError):
            ps.emails.send(EMAIL)
        assert len(sb.outbox) == 3
        sb.advance(12 * 86400)  # into February: a new month, a new quota
        assert ps.emails.batch({"emails": [EMAIL, EMAIL, EMAIL]})["data"][2]["id"]


def test_clearing_the_inbox_resets_the_quota() -> None:
    with Sandbox(monthly_quota=1) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.emails.send(EMAIL)
        sb.clear()
        assert ps.emails.send(EMAIL)["id"]


def test_the_quota_survives_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "q.db"
    with (
        Sandbox(db=db, monthly_quota=1) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        ps.emails.send(EMAIL)
    with (
        Sandbox(db=db, monthly_quota=1) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        with pytest.raises(PostStackError) as info:
            ps.emails.send(EMAIL)
        assert info.value.code == "monthly_limit_exceeded"
