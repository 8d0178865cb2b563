"""Checked by mypy --strict and pyright, never run: what users' checkers see of observability.

Raw responses are typed through the same definitions as the plain methods (no
second copy of a signature): the parameters are the endpoint's own, the value
is a ``RawResponse`` of its result. Event hooks are typed per client: plain
functions on ``PostStack``, coroutine functions too on ``AsyncPostStack``.

Every ``# type: ignore[...]`` here asserts that the error exists, for both
checkers (see check_client_types.py).
"""
# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any

from typing_extensions import assert_type

from poststack import (
    AsyncEventHooks,
    AsyncPostStack,
    Attempt,
    EventHooks,
    PostStack,
    PostStackError,
    RateLimit,
    RawResponse,
)
from poststack.contrib.opentelemetry import PostStackInstrumentor
from poststack.resources import Emails, RawAsync, RawSync
from poststack.types import DomainResponse, SendEmailResponse
from poststack_core.endpoints import Resources


def raw_usage(ps: PostStack) -> None:
    view = ps.with_raw_response
    assert_type(view, Resources[RawSync])
    assert_type(view.emails, Emails[RawSync])
    raw = view.emails.send({"from": "a@b.c", "to": ["x@y.z"]}, idempotency_key="k", timeout=5)
    assert_type(raw, RawResponse[SendEmailResponse])
    assert_type(raw.parsed, SendEmailResponse)
    assert_type(raw.parsed["id"], str)
    assert_type(raw.status_code, int)
    assert_type(raw.headers, Mapping[str, str])
    assert_type(raw.request_id, str | None)
    assert_type(raw.rate_limit, RateLimit)
    assert_type(raw.rate_limit.remaining, int | None)
    assert_type(raw.retries, int)
    assert_type(view.domains.get(1), RawResponse[DomainResponse])
    assert_type(view.contacts.export_csv(), RawResponse[str])
    assert_type(view.inbound_emails.download_attachment(1, 2), RawResponse[bytes])
    # The endpoint's own parameters, checked as on the plain method.
    view.domains.get("1")  # type: ignore[arg-type]
    view.emails.send({"from": "a@b.c", "to": ["x@y.z"], "subjet": "typo"})  # type: ignore[typeddict-unknown-key]
    view.emails.get("em_1", idempotency_key="k")  # type: ignore[call-arg]
    # Walkers and bulk runs have no raw form.
    view.emails.list_all()  # type: ignore[arg-type]
    view.emails.send_many([])  # type: ignore[arg-type]


async def async_raw_usage(ps: AsyncPostStack) -> None:
    view = ps.with_raw_response
    assert_type(view, Resources[RawAsync])
    pending = view.emails.send({"from": "a@b.c", "to": ["x@y.z"]})
    raw = await assert_type(pending, Coroutine[Any, Any, RawResponse[SendEmailResponse]])
    assert_type(raw.parsed["id"], str)
    assert_type(await view.domains.get(1), RawResponse[DomainResponse])
    await view.domains.get("1")  # type: ignore[arg-type]


def log_response(record: Attempt) -> None:
    assert_type(record.operation, str)
    assert_type(record.attempt, int)
    assert_type(record.status, int | None)
    assert_type(record.wait, float | None)
    assert_type(record.error, PostStackError | None)
    assert_type(record.rate_limit, RateLimit | None)


async def alog_response(record: Attempt) -> None:
    pass


def hooks_usage() -> None:
    ps = PostStack(event_hooks={"response": [log_response], "retry": [print]})
    assert_type(ps.with_options(event_hooks={"error": [log_response]}), PostStack)
    hooks: EventHooks = {"request": [log_response]}
    assert_type(ps.with_options(event_hooks=hooks).with_raw_response, Resources[RawSync])
    PostStack(event_hooks={"response": [alog_response]})  # type: ignore[arg-type]
    PostStack(event_hooks={"respnse": [log_response]})  # type: ignore[arg-type]

    aps = AsyncPostStack(event_hooks={"response": [log_response, alog_response]})
    assert_type(aps.with_options(event_hooks={"retry": [alog_response]}), AsyncPostStack)
    async_hooks: AsyncEventHooks = {"error": [alog_response, log_response]}
    AsyncPostStack(event_hooks=async_hooks)


def instrument() -> None:
    instrumentor = PostStackInstrumentor()
    instrumentor.instrument(propagate=True)
    assert_type(instrumentor.is_instrumented_by_opentelemetry, bool)
    instrumentor.uninstrument()
    instrumentor.instrument(propagate="yes")  # type: ignore[arg-type]
