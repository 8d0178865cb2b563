"""Checked by mypy --strict and pyright, never run: what users of poststack.contrib see."""

from __future__ import annotations

from celery import Celery
from celery.result import AsyncResult
from django.core.mail import EmailMessage
from fastapi import Request
from flask import Flask
from typing_extensions import assert_type

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.contrib.celery import SendEmailTask, register, retry_delay
from poststack.contrib.django import EmailBackend, message_to_params, poststack_id
from poststack.contrib.fastapi import PostStackClient, WebhookVerifier, get_client
from poststack.contrib.flask import PostStack as FlaskPostStack
from poststack.contrib.flask import get_client as flask_client
from poststack.types import SendEmailParams, SendEmailResponse
from poststack.webhooks import Event

PAYLOAD: SendEmailParams = {"from": "a@b.c", "to": ["x@y.z"], "subject": "Hi", "text": "Hi"}


def celery_usage(app: Celery) -> None:
    send_email = register(app, max_retries=5, rate_limit="10/s")
    assert_type(send_email, SendEmailTask)
    assert_type(send_email.delay(PAYLOAD), AsyncResult[SendEmailResponse])
    send_email.delay({"from": "a@b.c", "to": ["x@y.z"], "subjet": "typo"})  # type: ignore[typeddict-unknown-key]
    send_email.delay(PAYLOAD, "extra")  # type: ignore[call-arg]
    assert_type(retry_delay(PostStackError(503, "down"), 0), float | None)


def django_usage(message: EmailMessage) -> None:
    backend = EmailBackend(fail_silently=True, timeout=5)
    assert_type(backend.send_messages([message]), int)
    assert_type(poststack_id(message), str | None)
    params, key = message_to_params(message)
    assert_type(params, SendEmailParams)
    assert_type(key, str | None)


def flask_usage(app: Flask) -> None:
    ext = FlaskPostStack(app)
    assert_type(ext.client, PostStack)
    assert_type(ext.emails.send(PAYLOAD), SendEmailResponse)
    assert_type(flask_client(app), PostStack)


async def fastapi_usage(ps: PostStackClient, request: Request) -> None:
    assert_type(ps, AsyncPostStack)
    assert_type(get_client(request), AsyncPostStack)
    assert_type(await ps.emails.send(PAYLOAD), SendEmailResponse)
    assert_type(await WebhookVerifier("whsec")(request), Event)
