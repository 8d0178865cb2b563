"""The Sandbox object itself: secrets out of reprs, watch(), the request log, the key window."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from poststack import PostStack
from poststack.testing import Sandbox

EMAIL = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox("sk_test_do_not_show_me") as sandbox:
        yield sandbox


def test_no_key_in_any_repr(sb: Sandbox) -> None:
    with PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.emails.send(EMAIL)
    shown = " ".join(repr(x) for x in (sb, sb.requests[0], sb.outbox[0], sb._backend.settings))
    assert "do_not_show_me" not in shown
    assert "<redacted>" in repr(sb.requests[0])


def test_watch_follows_arrivals_updates_and_clears(sb: Sandbox) -> None:
    seen: list[tuple[str, str | None]] = []
    done = threading.Event()

    changes = sb.watch(timeout=10)  # watching from here on, before the thread even starts

    def follow() -> None:
        with changes:
            for change, email in changes:
                seen.append((change, email.status if email is not None else None))
                if change == "clear":
                    break
        done.set()

    thread = threading.Thread(target=follow)
    thread.start()
    with PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.emails.send(EMAIL)
    sb.clear_inbox()
    assert done.wait(10)
    thread.join(10)
    assert seen[-1] == ("clear", None)
    assert ("message", "queued") in seen
    assert ("update", "delivered") in seen


def test_watch_ends_after_a_quiet_timeout_and_stops_listening(sb: Sandbox) -> None:
    before = len(sb._store.email_listeners)
    assert list(sb.watch(timeout=0.01)) == []
    assert len(sb._store.email_listeners) == before


def test_the_request_log_can_be_bounded() -> None:
    with Sandbox(request_log=2) as sb:
        for _ in range(5):
            httpx.get(f"{sb.base_url}/emails", headers={"Authorization": f"Bearer {sb.api_key}"})
        assert len(sb.requests) == 2


def test_idempotency_keys_are_kept_24_hours() -> None:
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        first = ps.emails.send(EMAIL, idempotency_key="k")["id"]
        sb.advance(24 * 3600 - 1)
        assert ps.emails.send(EMAIL, idempotency_key="k")["id"] == first
        sb.advance(2)
        assert ps.emails.send(EMAIL, idempotency_key="k")["id"] != first  # a new email
        assert len(sb.outbox) == 2
