"""Checked by mypy --strict and pyright, never run: pins what users' type checkers see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from typing_extensions import assert_type

from poststack import AsyncPostStack, PostStack
from poststack.types import Email, SendEmailResponse


def sync_usage(ps: PostStack) -> None:
    result = ps.emails.send(
        {"from": "hello@yourdomain.com", "to": ["user@example.com"], "subject": "Hi"}
    )
    assert_type(result, SendEmailResponse)
    assert_type(result["id"], str)
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"], "subjet": "typo"})  # type: ignore[typeddict-unknown-key]
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"]}, timeout=5, idempotency_key="k")
    assert_type(ps.emails.list_all({"per_page": 50}), Iterator[Email])


async def async_usage(ps: AsyncPostStack) -> None:
    result = await ps.emails.send({"from": "a@b.c", "to": ["x@y.z"], "subject": "Hi"})
    assert_type(result["id"], str)
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"]})  # type: ignore[unused-coroutine]
    assert_type(ps.emails.list_all(), AsyncIterator[Email])
