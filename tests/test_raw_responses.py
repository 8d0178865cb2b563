"""``client.with_raw_response``: every endpoint's value with the response it came from.

Spec-driven: every recorded call of ``endpoints.json`` goes out through the raw
view of both clients exactly as through the plain client, and comes back as a
RawResponse of the same value. Then the response's facts over real HTTP (a
fault server on a loopback port), and the shapes that have no raw form.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from poststack import AsyncPostStack, PostStack, PostStackError, RateLimit, RawResponse
from poststack_core import Request, Response
from tests.faultserver import FaultServer, Reply, Reset
from tests.recording import AsyncRecorder, Recorder, load_endpoints

EMAIL: Any = {"from": "a@example.com", "to": ["b@example.com"], "subject": "s", "text": "t"}
HTTP = [record for record in load_endpoints() if record["kind"] == "http"]
CASES = [
    pytest.param(record, record["variants"][0], id=record["name"])
    for record in HTTP
    if record["variants"]
]
HEADERS = (("Content-Type", "application/json"), ("X-Request-Id", "req_raw"))


def _answer(request: Request) -> Response:
    return Response(200, HEADERS, b'{"answer": 1}')


def _call(client: Any, record: dict[str, Any], variant: dict[str, Any]) -> Any:
    method = getattr(getattr(client, record["resource"]), record["method"])
    call = copy.deepcopy(variant["call"])
    return method(*call["args"], **call["kwargs"])


def _same_request(a: Request, b: Request) -> None:
    # The Idempotency-Key is new for each call; everything else is the same request.
    assert (a.method, a.url, a.body) == (b.method, b.url, b.body)
    assert [h for h in a.headers if h[0] != "Idempotency-Key"] == [
        h for h in b.headers if h[0] != "Idempotency-Key"
    ]
    assert (a.header("Idempotency-Key") is None) == (b.header("Idempotency-Key") is None)


@pytest.mark.parametrize(("record", "variant"), CASES)
def test_every_endpoint_has_a_raw_form_on_the_blocking_client(
    record: dict[str, Any], variant: dict[str, Any]
) -> None:
    recorder = Recorder(_answer)
    ps = PostStack("sk_test_x", transport=recorder, max_retries=0)
    plain = _call(ps, record, variant)
    raw = _call(ps.with_raw_response, record, variant)
    assert isinstance(raw, RawResponse)
    assert raw.parsed == plain
    assert (raw.status_code, raw.request_id, raw.retries) == (200, "req_raw", 0)
    _same_request(*recorder.requests)
    assert raw.idempotency_key == recorder.requests[1].header("Idempotency-Key")


@pytest.mark.parametrize(("record", "variant"), CASES)
def test_every_endpoint_has_a_raw_form_on_the_async_client(
    record: dict[str, Any], variant: dict[str, Any]
) -> None:
    recorder = AsyncRecorder(_answer)
    ps = AsyncPostStack("sk_test_x", transport=recorder, max_retries=0)

    async def both() -> tuple[Any, Any]:
        plain = await _call(ps, record, variant)
        pending = _call(ps.with_raw_response, record, variant)
        assert inspect.iscoroutine(pending)
        return plain, await pending

    plain, raw = asyncio.run(both())
    assert isinstance(raw, RawResponse)
    assert raw.parsed == plain
    assert raw.request_id == "req_raw"
    _same_request(*recorder.requests)


# -- what a raw response says, over real HTTP ----------------------------------------------


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


LIMITED = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "97", "x-ratelimit-reset": "1"}


def test_a_raw_response_tells_status_headers_request_id_rate_limit_and_retries(
    server: FaultServer,
) -> None:
    server.script(Reply(503, {"error": "x"}), Reset(), Reply(202, {"id": "em_1"}, LIMITED))
    with PostStack("sk_test_x", server.url) as ps:
        raw = ps.with_raw_response.emails.send(EMAIL)
    assert raw.parsed == {"id": "em_1"}
    assert (raw.status_code, raw.request_id, raw.retries) == (202, "req_2", 2)
    assert raw.headers["x-ratelimit-remaining"] == "97"
    assert raw.headers["content-type"] == "application/json"
    assert raw.rate_limit == RateLimit(limit=100, remaining=97, reset=1.0)
    assert raw.idempotency_key == server.requests[-1].headers["idempotency-key"]
    assert raw.elapsed is not None
    assert raw.elapsed > 0
    assert "sk_test_x" not in repr(raw)


def test_an_async_raw_response_under_asyncio(server: FaultServer) -> None:
    server.script(Reply(500), Reply(200, {"email": {"id": "em_1"}}, LIMITED))

    async def main() -> RawResponse[Any]:
        async with AsyncPostStack("sk_test_x", server.url) as ps:
            return await ps.with_raw_response.emails.get("em_1")

    raw = asyncio.run(main())
    assert (raw.parsed, raw.status_code, raw.retries) == ({"email": {"id": "em_1"}}, 200, 1)
    assert raw.rate_limit.remaining == 97
    assert raw.idempotency_key is None  # a GET


def test_a_raw_call_that_fails_raises_as_the_plain_one_does(server: FaultServer) -> None:
    server.script(Reply(404, {"error": "no such email", "code": "not_found"}))
    with PostStack("sk_test_x", server.url) as ps, pytest.raises(PostStackError) as info:
        ps.with_raw_response.emails.get("em_missing")
    assert (info.value.status_code, info.value.code) == (404, "not_found")


def test_the_raw_view_is_one_object_per_client_and_says_whose(server: FaultServer) -> None:
    ps = PostStack("sk_test_x", server.url)
    assert ps.with_raw_response is ps.with_raw_response
    assert repr(ps.with_raw_response) == f"<with_raw_response of {ps!r}>"
    assert repr(ps.with_raw_response.emails) == f"<Emails of {ps!r}>"
    assert ps.with_raw_response.emails.send.__name__ == "send"
    assert "Send one email" in (ps.with_raw_response.emails.send.__doc__ or "")
    ps.close()
    with pytest.raises(RuntimeError, match="closed"):
        ps.with_raw_response.emails.get("em_1")


@pytest.mark.parametrize("client", [PostStack, AsyncPostStack])
@pytest.mark.parametrize(
    ("resource", "method", "shape"),
    [
        ("emails", "list_all", "walkers"),
        ("contacts", "list_all", "walkers"),
        ("emails", "send_many", "bulk sends"),
        ("emails", "send_chunk", "bulk sends"),
    ],
)
def test_walkers_and_bulk_runs_have_no_raw_form(
    client: type[Any], resource: str, method: str, shape: str
) -> None:
    view = getattr(client("sk_test_x").with_raw_response, resource)
    with pytest.raises(AttributeError, match=f"{shape}.* have no raw form"):
        getattr(view, method)
    assert not hasattr(view, method)
