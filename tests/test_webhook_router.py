"""WebhookRouter and the event stores: verification first, dispatch, exactly-once handling."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from poststack.webhooks import (
    DELIVERY_HEADER,
    Claim,
    Event,
    MemoryEventStore,
    WebhookRouter,
)
from tests.webhook_helpers import signed_request

SECRET = "whsec_router"


def delivery(
    type: str = "email.delivered", event_id: str | None = "evt_1", **data: Any
) -> tuple[bytes, dict[str, str]]:
    payload: dict[str, Any] = {"type": type, "data": {"email_id": "em_1", **data}}
    if event_id is not None:
        payload["id"] = event_id
    return signed_request(payload, SECRET)


@pytest.fixture
def router() -> WebhookRouter:
    return WebhookRouter(secret=SECRET)


# -- verification comes first --


def test_refusals(router: WebhookRouter) -> None:
    seen: list[Event] = []
    router.catch_all(seen.append)
    body, headers = delivery()
    cases = [
        (body, {}, 401, "Missing X-PostStack-Signature header"),
        (body, {"X-PostStack-Signature": "sha256=" + "0" * 64}, 401, "Invalid webhook signature"),
        (body + b" ", headers, 401, "Invalid webhook signature"),
        (b"[1]", signed_request({}, SECRET)[1], 401, "Invalid webhook signature"),
    ]
    for raw, sent, status, detail in cases:
        answer = router.handle(raw, sent)
        assert (answer.status, answer.body, answer.event) == (status, {"detail": detail}, None)
    not_an_object = b"[1, 2]"
    answer = router.handle(not_an_object, {"x-poststack-signature": _sign(not_an_object)})
    assert (answer.status, answer.body) == (400, {"detail": "Webhook body is not a JSON object"})
    assert seen == []
    assert router.store is not None
    assert len(router.store) == 0  # type: ignore[arg-type]  # nothing unsigned is remembered


def _sign(body: bytes, secret: str = SECRET) -> str:
    from poststack.webhooks import sign

    return sign(body, secret)


def test_a_body_over_the_limit_is_refused_before_verifying() -> None:
    small = WebhookRouter(secret=SECRET, max_body_size=10)
    body, headers = delivery()
    answer = small.handle(body, headers)
    assert (answer.status, answer.body) == (413, {"detail": "Webhook body too large"})
    with pytest.raises(ValueError, match="at least 1 byte"):
        WebhookRouter(secret=SECRET, max_body_size=0)
    with pytest.raises(TypeError, match="raw request bytes"):
        small.handle("{}", headers)  # type: ignore[arg-type]


def test_refusals_are_logged_without_the_secret(
    router: WebhookRouter, caplog: pytest.LogCaptureFixture
) -> None:
    body, _ = delivery()
    with caplog.at_level(logging.WARNING, logger="poststack.webhooks"):
        router.handle(body, {"X-PostStack-Signature": "sha256=00"})
    assert "signature does not match" in caplog.text
    assert SECRET not in caplog.text


def test_secrets_per_call_from_the_environment_and_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str | None] = []
    router = WebhookRouter()
    router.catch_all(lambda event: seen.append(event["id"]))
    body, headers = delivery()
    monkeypatch.delenv("POSTSTACK_WEBHOOK_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="POSTSTACK_WEBHOOK_SECRET"):
        router.handle(body, headers)
    monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", f"whsec_new, {SECRET}")
    assert router.handle(body, headers).status == 200
    assert router.handle(body, headers, secret="whsec_other").status == 401
    assert router.handle(delivery(event_id="evt_2")[0], headers).status == 401  # other body
    body3, headers3 = delivery(event_id="evt_3")
    assert router.handle(body3, headers3, secret=["whsec_x", SECRET]).status == 200
    assert seen == ["evt_1", "evt_3"]
    with pytest.raises(ValueError, match="non-empty str"):
        WebhookRouter(secret="")


# -- dispatch --


def test_handlers_by_type_in_order_and_the_catch_all(router: WebhookRouter) -> None:
    calls: list[tuple[str, str]] = []

    @router.on("email.bounced", "email.soft_bounced")
    def first(event: Event) -> None:
        calls.append(("first", event["type"]))

    @router.on("email.bounced")
    def second(event: Event) -> None:
        calls.append(("second", event["type"]))

    @router.on("contact.created")
    def contact(event: Event) -> None:
        assert event["type"] == "unknown"
        calls.append(("contact", str(event["name"])))

    @router.catch_all
    def rest(event: Event) -> None:
        calls.append(("rest", event["type"]))

    for n, kind in enumerate(
        ["email.bounced", "email.soft_bounced", "contact.created", "email.sent", "domain.verified"]
    ):
        answer = router.handle(*delivery(kind, f"evt_{n}"))
        assert (answer.status, answer.body, answer.duplicate) == (200, {"received": True}, False)
        assert answer.event is not None
    assert calls == [
        ("first", "email.bounced"),
        ("second", "email.bounced"),
        ("first", "email.soft_bounced"),
        ("contact", "contact.created"),
        ("rest", "email.sent"),
        ("rest", "unknown"),
    ]
    assert first.__name__ == "first"  # the decorators hand the function back


def test_an_event_nobody_handles_is_acknowledged(router: WebhookRouter) -> None:
    # Answering anything but 2xx would make PostStack retry it for a day.
    assert router.handle(*delivery()).status == 200


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (("email.bounce",), "not an email event type"),
        (("Email.Bounced",), "not an event type"),
        (("bounced",), "not an event type"),
        ((5,), "not an event type"),
        ((), "at least one event type"),
    ],
)
def test_registering_a_name_that_can_never_fire_fails(
    router: WebhookRouter, names: tuple[Any, ...], error: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        router.on(*names)


def test_a_handler_must_be_callable(router: WebhookRouter) -> None:
    with pytest.raises(TypeError, match="callable"):
        router.on("email.sent")("not a function")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        router.catch_all(None)  # type: ignore[type-var]


def test_async_handlers_from_sync_code(router: WebhookRouter) -> None:
    seen: list[str] = []

    @router.on("email.delivered")
    async def delivered(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append("async")

    @router.on("email.delivered")
    def also(event: Event) -> None:
        seen.append("sync")

    assert router.handle(*delivery()).status == 200
    assert seen == ["async", "sync"]


def test_an_async_handler_cannot_run_from_sync_code_inside_a_loop(router: WebhookRouter) -> None:
    @router.on("email.delivered")
    async def delivered(event: Event) -> None:
        raise AssertionError("never runs")

    async def main() -> None:
        with pytest.raises(RuntimeError, match="handle_async"):
            router.handle(*delivery())

    asyncio.run(main())  # and no "coroutine was never awaited" warning (an error here)
    assert router.store is not None
    assert router.store.claim("event:evt_1") is Claim.NEW  # released: a retry will run


def test_handle_async_under_asyncio_with_run_sync(router: WebhookRouter) -> None:
    seen: list[str] = []
    offloaded: list[str] = []

    @router.on("email.delivered")
    async def on_loop(event: Event) -> None:
        seen.append("async")

    @router.on("email.delivered")
    def blocking(event: Event) -> None:
        seen.append(f"sync in {threading.current_thread().name}")

    async def run_sync(call: Any) -> object:
        offloaded.append("offloaded")
        return await asyncio.to_thread(call)

    async def main() -> int:
        answer = await router.handle_async(*delivery(), run_sync=run_sync)
        return answer.status

    assert asyncio.run(main()) == 200
    assert seen[0] == "async"
    assert seen[1].startswith("sync in ")
    assert seen[1] != f"sync in {threading.current_thread().name}"
    assert offloaded == ["offloaded"]


def test_handle_async_under_trio(router: WebhookRouter) -> None:
    seen: list[str] = []

    @router.on("email.delivered")
    async def delivered(event: Event) -> None:
        await trio.lowlevel.checkpoint()
        seen.append(str(event["email_id"]))

    @router.catch_all
    def other(event: Event) -> None:
        seen.append("other")

    async def main() -> list[int]:
        first = await router.handle_async(*delivery())
        again = await router.handle_async(*delivery())
        other_event = await router.handle_async(*delivery("email.sent", "evt_2"))
        return [first.status, again.status, int(again.duplicate), other_event.status]

    assert trio.run(main) == [200, 200, 1, 200]
    assert seen == ["em_1", "other"]


# -- redeliveries --


def test_a_redelivery_runs_no_handler(router: WebhookRouter) -> None:
    calls: list[str | None] = []
    router.on("email.delivered")(lambda event: calls.append(event["id"]))
    first = router.handle(*delivery())
    again = router.handle(*delivery())
    assert (first.status, first.duplicate) == (200, False)
    assert (again.status, again.duplicate) == (200, True)
    assert again.body == {"received": True, "duplicate": True}
    assert again.event is not None
    assert again.event["id"] == "evt_1"
    assert calls == ["evt_1"]
    assert router.handle(*delivery(event_id="evt_2")).duplicate is False
    assert calls == ["evt_1", "evt_2"]


def test_a_failed_handler_lets_the_next_delivery_run_it(router: WebhookRouter) -> None:
    attempts: list[int] = []

    @router.on("email.delivered")
    def flaky(event: Event) -> None:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        router.handle(*delivery())
    assert router.handle(*delivery()).duplicate is False
    assert router.handle(*delivery()).duplicate is True
    assert attempts == [0, 1]


def test_an_event_being_handled_is_answered_409_and_never_lost(router: WebhookRouter) -> None:
    entered, release = threading.Event(), threading.Event()
    handled: list[str] = []

    @router.on("email.delivered")
    def slow(event: Event) -> None:
        entered.set()
        assert release.wait(10)
        handled.append("done")

    outcome: list[int] = []
    first = threading.Thread(target=lambda: outcome.append(router.handle(*delivery()).status))
    first.start()
    assert entered.wait(10)
    busy = router.handle(*delivery())
    assert (busy.status, busy.body["detail"]) == (
        409,
        "This event is being handled; deliver it again later",
    )
    release.set()
    first.join(10)
    assert outcome == [200]
    assert router.handle(*delivery()).duplicate is True
    assert handled == ["done"]


def test_without_an_event_id_the_delivery_header_is_the_key(router: WebhookRouter) -> None:
    calls: list[int] = []
    router.catch_all(lambda event: calls.append(1))
    body, headers = delivery(event_id=None)
    router.handle(body, {**headers, DELIVERY_HEADER: "17"})
    assert router.handle(body, {**headers, "x-poststack-delivery": "17"}).duplicate is True
    assert router.handle(body, {**headers, DELIVERY_HEADER: "18"}).duplicate is False
    # Neither an event id nor a delivery id: nothing tells two deliveries apart.
    router.handle(body, headers)
    router.handle(body, headers)
    assert len(calls) == 4


def test_a_store_must_be_one() -> None:
    with pytest.raises(TypeError, match="claim, finish and release"):
        WebhookRouter(secret=SECRET, store={})  # type: ignore[arg-type]


def test_de_duplication_can_be_turned_off() -> None:
    router = WebhookRouter(secret=SECRET, store=None)
    calls: list[int] = []
    router.catch_all(lambda event: calls.append(1))
    router.handle(*delivery())
    assert router.handle(*delivery()).duplicate is False
    assert calls == [1, 1]


def test_a_store_of_your_own() -> None:
    class Recording:
        def __init__(self) -> None:
            self.log: list[tuple[str, str]] = []

        def claim(self, key: str) -> Claim:
            self.log.append(("claim", key))
            return Claim.NEW

        def finish(self, key: str) -> None:
            self.log.append(("finish", key))

        def release(self, key: str) -> None:
            self.log.append(("release", key))

    store = Recording()
    router = WebhookRouter(secret=SECRET, store=store)

    @router.on("email.bounced")
    def boom(event: Event) -> None:
        raise KeyError("x")

    router.handle(*delivery())
    with pytest.raises(KeyError):
        router.handle(*delivery("email.bounced", "evt_b"))
    assert store.log == [
        ("claim", "event:evt_1"),
        ("finish", "event:evt_1"),
        ("claim", "event:evt_b"),
        ("release", "event:evt_b"),
    ]


# -- MemoryEventStore --


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_lease_runs_out(clock: FakeClock) -> None:
    store = MemoryEventStore(lease=300, keep=3600, clock=clock)
    assert store.claim("a") is Claim.NEW
    clock.now += 299
    assert store.claim("a") is Claim.IN_PROGRESS
    clock.now += 1  # the first attempt died: another may take it
    assert store.claim("a") is Claim.NEW
    store.finish("a")
    clock.now += 3599
    assert store.claim("a") is Claim.DONE
    clock.now += 1
    assert store.claim("a") is Claim.NEW


def test_release_forgets_only_an_event_in_progress(clock: FakeClock) -> None:
    store = MemoryEventStore(clock=clock)
    store.claim("a")
    store.release("a")
    assert store.claim("a") is Claim.NEW
    store.finish("a")
    store.release("a")
    store.release("never seen")
    assert store.claim("a") is Claim.DONE


def test_the_oldest_events_are_forgotten_first(clock: FakeClock) -> None:
    store = MemoryEventStore(max_keys=3, clock=clock)
    for key in "abcd":
        store.claim(key)
        store.finish(key)
    assert len(store) == 3
    assert [store.claim(key) for key in "bcd"] == [Claim.DONE] * 3
    assert store.claim("a") is Claim.NEW


def test_expired_entries_are_dropped(clock: FakeClock) -> None:
    store = MemoryEventStore(keep=10, lease=5, clock=clock)
    for key in "abc":
        store.claim(key)
        store.finish(key)
    clock.now += 11
    store.claim("d")
    assert len(store) == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"keep": 0}, "keep"),
        ({"lease": -1}, "lease"),
        ({"lease": True}, "lease"),
        ({"keep": "1"}, "keep"),
        ({"max_keys": 0}, "max_keys"),
        ({"max_keys": 1.5}, "max_keys"),
    ],
)
def test_store_arguments_are_checked(kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        MemoryEventStore(**kwargs)


def test_only_one_of_many_concurrent_claims_wins() -> None:
    store = MemoryEventStore()
    barrier = threading.Barrier(16)
    answers: list[Claim] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait(10)
        answer = store.claim("evt_race")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(a.value for a in answers) == ["in_progress"] * 15 + ["new"]


class StoreMatchesItsModel(RuleBasedStateMachine):
    """Any sequence of claims, finishes, releases and clock moves answers as the rules say."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.store = MemoryEventStore(keep=100, lease=10, clock=self.clock)
        self.model: dict[str, tuple[bool, float]] = {}  # key -> (done, expires)
        self.claimed: set[str] = set()

    keys = st.sampled_from(["a", "b", "c"])

    @rule(key=keys)
    def claim(self, key: str) -> None:
        now = self.clock.now
        done, expires = self.model.get(key, (False, -1.0))
        if expires > now:
            expected = Claim.DONE if done else Claim.IN_PROGRESS
        else:
            expected = Claim.NEW
            self.model[key] = (False, now + 10)
            self.claimed.add(key)
        assert self.store.claim(key) is expected

    @precondition(lambda self: bool(self.claimed))
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.claimed)))
        self.claimed.discard(key)
        self.store.finish(key)
        self.model[key] = (True, self.clock.now + 100)

    @precondition(lambda self: bool(self.claimed))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.claimed)))
        self.claimed.discard(key)
        self.store.release(key)
        if not self.model[key][0]:
            del self.model[key]

    @rule(seconds=st.sampled_from([0.5, 5, 9.99, 10, 50, 99, 100, 150]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @invariant()
    def never_remembers_more_than_it_was_told(self) -> None:
        assert len(self.store) <= 3


TestStoreMatchesItsModel = StoreMatchesItsModel.TestCase
TestStoreMatchesItsModel.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,  # no time limits in tests: a loaded machine is slow, not wrong
)


@pytest.fixture(autouse=True)
def _no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTSTACK_WEBHOOK_SECRET", raising=False)
