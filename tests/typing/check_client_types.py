"""Checked by mypy --strict and pyright, never run: pins what users' type checkers see.

Every ``# type: ignore[...]`` here is an assertion that the error exists, for
both checkers: mypy's ``warn_unused_ignores`` (on under --strict) and pyright's
``reportUnnecessaryTypeIgnoreComment`` (switched on for this file below) fail
the check when one stops firing.
"""
# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

from typing_extensions import assert_type

import poststack.webhooks
from poststack import (
    AsyncPostStack,
    EmailResult,
    Pacing,
    PostStack,
    PostStackError,
    Progress,
    SendManyResult,
)
from poststack.resources import Webhooks
from poststack.types import (
    ApiKey,
    Contact,
    ContactResponse,
    DmarcReport,
    Domain,
    DomainResponse,
    Email,
    EmailValidation,
    ListDomainsResponse,
    MailboxSignature,
    SendEmailResponse,
    SuccessResponse,
    TemplateResponse,
    WebhookDelivery,
    WebhookSecretResponse,
)
from poststack_core import plan_send_many


def sync_usage(ps: PostStack) -> None:
    result = ps.emails.send(
        {"from": "hello@yourdomain.com", "to": ["user@example.com"], "subject": "Hi"}
    )
    assert_type(result, SendEmailResponse)
    assert_type(result["id"], str)
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"], "subjet": "typo"})  # type: ignore[typeddict-unknown-key]
    ps.emails.send({"from": "a@b.c", "subject": "no recipients"})  # type: ignore[typeddict-item]
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"]}, timeout=5, idempotency_key="k")
    ps.emails.get("em_1", idempotency_key="k")  # type: ignore[call-arg]
    assert_type(ps.emails.list_all({"per_page": 50}), Iterator[Email])
    bulk_usage(ps)

    domain = ps.domains.get(1)
    assert_type(domain, DomainResponse)
    assert_type(domain["domain"], Domain)
    assert_type(domain["domain"]["dnsRecords"][0]["value"], str)
    assert_type(ps.domains.list(), ListDomainsResponse)
    ps.domains.get("1")  # type: ignore[arg-type]
    ps.domains.create({"name": "example.com", "regoin": "eu-west-1"})  # type: ignore[typeddict-unknown-key]
    ps.domains.activate_dkim_rotation(1, force=True)
    assert_type(ps.domains.get_dmarc_reports_all(1, {"per_page": 100}), Iterator[DmarcReport])

    assert_type(ps.contacts.export_csv(), str)
    assert_type(ps.contacts.export_csv(segment_id="seg_1"), str)
    assert_type(ps.contacts.get_by_email("a@b.c"), ContactResponse)
    assert_type(ps.contacts.list_all({"unsubscribed": False}), Iterator[Contact])
    ps.contacts.create({"email": "a@b.c", "firstName": "A"})  # type: ignore[typeddict-unknown-key]
    ps.contacts.import_({"contacts": [{"email": "a@b.c", "first_name": "A"}]})

    assert_type(ps.inbound_emails.download_attachment(1, 2), bytes)
    assert_type(ps.api_keys.rotate(3), ApiKey)
    assert_type(ps.api_keys.revoke(3), SuccessResponse)
    assert_type(ps.templates.render("tpl_1", {"name": "Ada"}).get("html"), str | None)
    assert_type(ps.templates.publish("tpl_1"), TemplateResponse)
    assert_type(ps.email_validations.validate("a@b.c"), EmailValidation)
    assert_type(ps.mailboxes.set_signature("mb_1", {"signatureText": None}), MailboxSignature)
    ps.mailboxes.grant_share("mb_1", "mb_2", "owner")  # type: ignore[arg-type]
    assert_type(ps.webhooks.rotate_secret(1, grace_hours=0), WebhookSecretResponse)
    assert_type(ps.webhooks.get_deliveries_all(1), Iterator[WebhookDelivery])
    assert_type(ps.workflows.post_event({"event": "signup", "email": "a@b.c"})["matched"], int)

    assert_type(ps.webhooks.verify("{}", "sha256=00", "whsec"), bool)
    assert_type(Webhooks.verify(b"{}", "sha256=00", "whsec"), bool)
    assert_type(poststack.webhooks.verify(b"{}", "sha256=00", "whsec"), bool)
    event = poststack.webhooks.construct_event(b"{}", {"X-PostStack-Signature": "x"}, "whsec")
    assert_type(event, poststack.webhooks.Event)


def bulk_usage(ps: PostStack) -> None:
    many = ps.emails.send_many([{"from": "a@b.c", "to": ["x@y.z"]}], run_id="r", concurrency=2)
    assert_type(many, SendManyResult)
    assert_type(many[0], EmailResult)
    assert_type(many[0].id, str | None)
    assert_type(many[0].error, PostStackError | None)
    assert_type(many[0].status, Literal["sent", "failed", "skipped"])
    assert_type(many[1:], list[EmailResult])
    assert_type(many.raise_for_failures(), SendManyResult)
    ps.emails.send_many([{"from": "a@b.c"}])  # type: ignore[typeddict-item]
    ps.emails.send_many([], batch_size="100")  # type: ignore[arg-type]

    def show(progress: Progress) -> None:
        assert_type(progress.eta, float | None)

    ps.emails.send_many([], on_progress=show, cancel=threading.Event(), journal=Path("j"))
    chunk = plan_send_many([{"from": "a@b.c", "to": ["x@y.z"]}], run_id="r").chunks[0]
    assert_type(ps.emails.send_chunk(chunk), SendManyResult)
    PostStack(pacing=Pacing(max_rate=20))


async def async_usage(ps: AsyncPostStack) -> None:
    result = await ps.emails.send({"from": "a@b.c", "to": ["x@y.z"], "subject": "Hi"})
    assert_type(result, SendEmailResponse)
    assert_type(result["id"], str)
    ps.emails.send({"from": "a@b.c", "to": ["x@y.z"]})  # type: ignore[unused-coroutine]
    ps.domains.verify(1)  # type: ignore[unused-coroutine]
    await ps.emails.send({"form": "a@b.c", "to": ["x@y.z"]})  # type: ignore[typeddict-unknown-key, typeddict-item]
    assert_type(ps.emails.list_all(), AsyncIterator[Email])
    assert_type(await ps.emails.send_many([]), SendManyResult)
    ps.emails.send_many([])  # type: ignore[unused-coroutine]
    assert_type(await ps.domains.get(1), DomainResponse)
    assert_type(await ps.contacts.export_csv(), str)
    assert_type(await ps.inbound_emails.download_attachment(1, 2), bytes)
    assert_type(ps.segments.members_all("seg_1"), AsyncIterator[Contact])
    assert_type(ps.webhooks.verify("{}", "sha256=00", "whsec"), bool)
    async for delivery in ps.webhooks.get_deliveries_all(1, {"per_page": 100}):
        assert_type(delivery["eventType"], str)
