"""Event hooks: the records they get on every runtime, and that they never decide.

A real HTTP server on a loopback port answers (tests/faultserver.py): a call
retried over a 500 and a reset, hooks that raise at every event, async hooks,
hooks per call through ``with_options``, and the checks made when hooks are set.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

from poststack import (
    AsyncPostStack,
    Attempt,
    PostStack,
    PostStackConnectionError,
    PostStackError,
    RateLimit,
)
from poststack.testing import Sandbox
from poststack.transports.trio import TrioTransport
from tests.conformance.runtimes import RUNTIMES, Runtime, Step
from tests.faultserver import FaultServer, Hang, Reply, Reset

EMAIL: Any = {"from": "a@example.com", "to": ["b@example.com"], "subject": "s", "text": "t"}
EVENTS = ("request", "response", "retry", "error")


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


class Seen:
    """Hooks for every event that note (event, record), from any thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Attempt]] = []
        self._lock = threading.Lock()

    def hook(self, event: str) -> Callable[[Attempt], None]:
        def note(record: Attempt) -> None:
            with self._lock:
                self.events.append((event, record))

        note.__qualname__ = f"note_{event}"
        return note

    def hooks(self) -> dict[str, list[Callable[[Attempt], None]]]:
        return {event: [self.hook(event)] for event in EVENTS}

    @property
    def names(self) -> list[tuple[str, int]]:
        return [(event, record.attempt) for event, record in self.events]


def _run_with_hooks(runtime: Runtime, url: str, hooks: Any, steps: list[Step]) -> list[Any]:
    """Run ``steps`` on ``runtime``, with ``hooks`` on its client."""
    original = runtime.loop
    clients = {"sync": PostStack, "asyncio": AsyncPostStack, "trio": AsyncPostStack}
    client = clients[original]
    init = client.__init__

    def with_hooks(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, event_hooks=hooks, **kwargs)

    client.__init__ = with_hooks  # type: ignore[method-assign]
    try:
        return runtime.run(url, steps, timeout=10, max_retries=3)
    finally:
        client.__init__ = init  # type: ignore[method-assign]


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda runtime: runtime.name)
def test_every_runtime_reports_every_attempt_to_the_hooks(
    runtime: Runtime, server: FaultServer
) -> None:
    server.script(
        Reply(500, {"error": "boom", "code": "internal_error"}, {"x-ratelimit-remaining": "9"}),
        Reset(),
        Reply(202, {"id": "em_1"}, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "8"}),
    )
    seen = Seen()
    (outcome,) = _run_with_hooks(runtime, server.url, seen.hooks(), [Step("send", (EMAIL,))])
    assert outcome.value == {"id": "em_1"}
    assert seen.names == [
        ("request", 1),
        ("response", 1),
        ("retry", 1),
        ("request", 2),
        ("retry", 2),  # a reset: no response, no response hook
        ("request", 3),
        ("response", 3),
    ]
    records = [record for _, record in seen.events]
    key = server.requests[0].headers["idempotency-key"]
    for record in records:
        assert (record.operation, record.method, record.path) == ("emails.send", "POST", "/emails")
        assert record.url == f"{server.url}/emails"
        assert record.idempotency_key == key
    sent_1, answered_1, _, sent_2, reset, sent_3, answered_3 = records
    for sent in (sent_1, sent_2, sent_3):
        assert (sent.status, sent.elapsed, sent.error, sent.wait) == (None, None, None, None)
    assert (answered_1.status, answered_1.request_id) == (500, "req_1")
    assert answered_1.rate_limit == RateLimit(remaining=9)
    assert answered_1.error is not None
    assert answered_1.error.code == "internal_error"
    assert answered_1.wait is not None
    assert 0 <= answered_1.wait < 0.25
    assert reset.status is None
    assert isinstance(reset.error, PostStackConnectionError)
    assert reset.wait is not None
    assert 0 <= reset.wait < 0.5
    assert (answered_3.status, answered_3.request_id, answered_3.error) == (202, "req_2", None)
    assert answered_3.rate_limit == RateLimit(limit=10, remaining=8)
    assert answered_3.headers["x-ratelimit-limit"] == "10"
    for ended in (answered_1, reset, answered_3):
        assert ended.elapsed is not None
        assert ended.elapsed > 0


def test_the_error_hook_gets_the_error_the_caller_gets(server: FaultServer) -> None:
    server.script(Reply(422, {"error": "bad from", "code": "validation_error"}))
    seen = Seen()
    with (
        PostStack("sk_test_x", server.url, event_hooks=seen.hooks()) as ps,
        pytest.raises(PostStackError) as info,
    ):
        ps.emails.send(EMAIL)
    assert seen.names == [("request", 1), ("response", 1), ("error", 1)]
    _, error_record = seen.events[-1]
    assert error_record.error is info.value
    assert (error_record.status, error_record.wait) == (422, None)


def test_a_walk_reports_each_page_as_a_call_of_the_list(server: FaultServer) -> None:
    server.script(
        Reply(200, {"emails": [{"id": "em_1"}], "pagination": {"page": 1, "totalPages": 2}}),
        Reply(200, {"emails": [{"id": "em_2"}], "pagination": {"page": 2, "totalPages": 2}}),
    )
    seen = Seen()
    with PostStack("sk_test_x", server.url, event_hooks={"response": [seen.hook("r")]}) as ps:
        assert [email["id"] for email in ps.emails.list_all()] == ["em_1", "em_2"]
    assert [(r.operation, r.url.rpartition("?")[2]) for _, r in seen.events] == [
        ("emails.list", "page=1"),
        ("emails.list", "page=2"),
    ]


def test_send_many_reports_each_request_it_makes() -> None:
    seen = Seen()
    emails = [{**EMAIL, "subject": f"n{n}"} for n in range(5)]
    with Sandbox() as sb, PostStack(sb.api_key, sb.base_url, event_hooks=seen.hooks()) as ps:
        result = ps.emails.send_many(emails, batch_size=2, concurrency=2)
    assert result.sent == 5
    responses = [record for event, record in seen.events if event == "response"]
    assert len(responses) == 3  # 2 + 2 + 1 emails
    assert {(r.operation, r.path, r.status) for r in responses} == {
        ("emails.send_many", "/emails/batch", 202)
    }


# -- hooks observe, they never decide ----------------------------------------------------


def _raising(event: str, seen: Seen) -> dict[str, list[Callable[[Attempt], None]]]:
    """Every event: a hook that raises, then one that notes it was still called."""

    def boom(record: Attempt) -> None:
        raise RuntimeError(f"hook for {event} is broken")

    return {event: [boom, seen.hook(event)]}


@pytest.mark.parametrize("event", EVENTS)
def test_a_hook_that_raises_is_logged_and_changes_nothing(
    event: str, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    if event == "error":
        server.script(Reply(503, {"error": "x"}), Reply(400, {"error": "no", "code": "bad"}))
    else:
        server.script(Reply(503, {"error": "x"}), Reply(202, {"id": "em_1"}))
    seen = Seen()
    caplog.set_level(logging.ERROR, logger="poststack")
    with PostStack("sk_test_x", server.url, event_hooks=_raising(event, seen)) as ps:
        if event == "error":
            with pytest.raises(PostStackError) as info:
                ps.emails.send(EMAIL)
            assert info.value.code == "bad"  # the API's error, not the hook's
        else:
            assert ps.emails.send(EMAIL) == {"id": "em_1"}
    assert len(server.requests) == 2  # neither one more nor one less
    keys = {request.headers["idempotency-key"] for request in server.requests}
    assert len(keys) == 1
    assert seen.events  # the next hook of the event still ran
    failures = [r for r in caplog.records if "raised" in r.getMessage()]
    assert failures
    assert all(r.exc_info and f"hook for {event} is broken" in str(r.exc_info[1]) for r in failures)
    assert all(r.operation == "emails.send" for r in failures)  # type: ignore[attr-defined]


def test_async_hooks_are_awaited_in_order_with_plain_ones(server: FaultServer) -> None:
    server.script(Reply(503, {"error": "x"}, {"Retry-After": "0"}), Reply(202, {"id": "em_1"}))
    order: list[str] = []

    async def slow(record: Attempt) -> None:
        await asyncio.sleep(0)
        order.append(f"async {record.status}")

    def plain(record: Attempt) -> None:
        order.append(f"plain {record.status}")

    class Callable:
        async def __call__(self, record: Attempt) -> None:
            order.append(f"object {record.status}")

    async def boom(record: Attempt) -> None:
        raise ValueError("async hook broken")

    async def main() -> Any:
        hooks: Any = {"response": [slow, boom, plain, Callable()]}
        async with AsyncPostStack("sk_test_x", server.url, event_hooks=hooks) as ps:
            return await ps.emails.send(EMAIL)

    assert asyncio.run(main()) == {"id": "em_1"}
    assert order == [
        "async 503",
        "plain 503",
        "object 503",
        "async 202",
        "plain 202",
        "object 202",
    ]
    assert len(server.requests) == 2


def test_a_cancelled_async_hook_cancels_the_call_and_nothing_is_resent(
    server: FaultServer,
) -> None:
    server.script(Reply(503, {"error": "x"}, {"Retry-After": "0"}))
    entered = trio.Event()

    async def stuck(record: Attempt) -> None:
        entered.set()
        await trio.sleep_forever()

    async def main() -> None:
        transport = TrioTransport()
        hooks: Any = {"retry": [stuck]}
        async with (
            AsyncPostStack("sk_test_x", server.url, transport=transport, event_hooks=hooks) as ps,
            trio.open_nursery() as nursery,
        ):

            async def call() -> None:
                await ps.emails.send(EMAIL)

            nursery.start_soon(call)
            await entered.wait()
            nursery.cancel_scope.cancel()
        await transport.aclose()

    trio.run(main)
    assert len(server.requests) == 1  # cancelled while waiting on the hook: no retry


def test_a_plain_hook_that_returns_a_coroutine_is_logged_and_closed(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def later(record: Attempt) -> None:
        raise AssertionError("never run")

    def returns_a_coroutine(record: Attempt) -> Any:
        return later(record)

    hooks: Any = {"response": [returns_a_coroutine]}
    caplog.set_level(logging.ERROR, logger="poststack")
    # Closed, so Python gives no "never awaited" warning (which filterwarnings=error fails).
    with PostStack("sk_test_x", server.url, event_hooks=hooks) as ps:
        ps.emails.get("em_1")
    assert "returned an awaitable, which PostStack does not await" in caplog.text


# -- hooks per call ----------------------------------------------------------------------


def test_with_options_adds_hooks_after_the_clients_for_its_calls_only(
    server: FaultServer,
) -> None:
    order: list[str] = []
    client_hooks: Any = {"response": [lambda r: order.append(f"client {r.operation}")]}
    view_hooks: Any = {"response": [lambda r: order.append(f"view {r.operation}")]}
    with PostStack("sk_test_x", server.url, event_hooks=client_hooks) as ps:
        view = ps.with_options(event_hooks=view_hooks)
        view.emails.get("em_1")
        ps.emails.get("em_2")
        view.with_raw_response.emails.get("em_3")
        assert isinstance(view, PostStack)
        assert repr(view) == repr(ps)
    assert order == [
        "client emails.get",
        "view emails.get",
        "client emails.get",
        "client emails.get",
        "view emails.get",
    ]
    assert server.connections == 1  # one transport, one keep-alive connection, for all


def test_a_view_owns_nothing_and_follows_its_client(server: FaultServer) -> None:
    ps = PostStack("sk_test_x", server.url)
    view = ps.with_options(event_hooks={"request": [lambda r: None]})
    plain = ps.with_options()
    view.close()
    with pytest.raises(RuntimeError, match="closed"):
        view.emails.get("em_1")
    assert ps.emails.get("em_1") == {"ok": True}  # closing the view closed nothing
    assert plain.emails.get("em_2") == {"ok": True}
    ps.close()
    with pytest.raises(RuntimeError, match="closed"):
        plain.emails.get("em_3")


def test_an_async_view_shares_the_clients_transport(server: FaultServer) -> None:
    seen = Seen()

    async def main() -> None:
        async with AsyncPostStack("sk_test_x", server.url) as ps:
            view = ps.with_options(event_hooks={"response": [seen.hook("response")]})
            await view.emails.get("em_1")
            await ps.emails.get("em_2")
            await view.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await view.emails.get("em_3")
            await ps.emails.get("em_4")

    asyncio.run(main())
    assert [r.path for _, r in seen.events] == ["/emails/em_1"]
    assert server.connections == 1


# -- what event_hooks accepts ------------------------------------------------------------


async def _coroutine_hook(record: Attempt) -> None:
    pass


class _AsyncCallable:
    async def __call__(self, record: Attempt) -> None:
        pass


@pytest.mark.parametrize(
    ("event_hooks", "error", "match"),
    [
        ([lambda r: None], TypeError, "event_hooks must be a dict"),
        ({"respnse": [print]}, ValueError, "no event 'respnse': the events are request"),
        ({"response": print}, TypeError, r"wrap a single one as \[response_hook\]"),
        ({"response": "print"}, TypeError, "must be a list of functions, got str"),
        ({"response": [print, 3]}, TypeError, r"event_hooks\['response'\]\[1\] is not callable"),
        ({"retry": [_coroutine_hook]}, TypeError, "coroutine function, which PostStack cannot"),
        ({"retry": [_AsyncCallable()]}, TypeError, "use AsyncPostStack"),
    ],
)
def test_bad_event_hooks_fail_at_construction(
    event_hooks: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        PostStack("sk_test_x", event_hooks=event_hooks)
    ps = PostStack("sk_test_x")
    with pytest.raises(error, match=match):
        ps.with_options(event_hooks=event_hooks)


def test_async_clients_take_coroutine_hooks_and_check_the_rest() -> None:
    AsyncPostStack("sk_test_x", event_hooks={"retry": [_coroutine_hook, _AsyncCallable(), print]})
    with pytest.raises(TypeError, match="is not callable"):
        AsyncPostStack("sk_test_x", event_hooks={"retry": [None]})  # type: ignore[list-item]


def test_empty_hooks_are_no_hooks(server: FaultServer) -> None:
    with PostStack("sk_test_x", server.url, event_hooks={"request": [], "error": ()}) as ps:
        assert ps._bound._hooks is None  # the calls run unwatched, as without event_hooks
        assert ps.emails.get("em_1") == {"ok": True}


def test_hooks_see_a_hung_attempt_time_out(server: FaultServer) -> None:
    server.script(Hang())
    seen = Seen()
    with PostStack("sk_test_x", server.url, timeout=0.2, max_retries=0) as ps:
        view = ps.with_options(event_hooks=seen.hooks())
        with pytest.raises(PostStackConnectionError) as info:
            view.emails.get("em_1")
    assert seen.names == [("request", 1), ("error", 1)]
    _, record = seen.events[-1]
    assert record.error is info.value
    assert record.elapsed is not None
    assert record.elapsed >= 0.2
