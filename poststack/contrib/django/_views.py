"""The webhook view: ``path("webhooks/poststack/", include("poststack.contrib.django.urls"))``.

Each delivery goes through a :class:`~poststack.webhooks.WebhookRouter` (verify
the raw body, skip redeliveries, then dispatch) whose one handler sends the
``tracking`` or ``inbound`` signal. Settings:

- ``POSTSTACK_WEBHOOK_SECRET``: the signing secret, or a list of secrets during
  a rotation (else ``$POSTSTACK_WEBHOOK_SECRET``); none at all is
  ``ImproperlyConfigured``, so an endpoint that cannot verify never accepts.
- ``POSTSTACK_WEBHOOK_STORE``: where handled events are remembered. Unset: in
  this process's memory. A dotted path to a class or factory (such as
  ``"poststack.contrib.django.CacheEventStore"``) or an
  :class:`~poststack.webhooks.EventStore` object; ``None`` turns
  de-duplication off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from poststack._webhook_router import WEBHOOK_SECRET_ENV, resolve_secrets
from poststack.inbound import InboundMessage
from poststack.webhooks import (
    DEFAULT_MAX_BODY_SIZE,
    Event,
    EventStore,
    MemoryEventStore,
    WebhookRouter,
)

from . import signals
from .signals import inbound, tracking

__all__ = ["WebhookView"]

_UNSET = object()
_memory_store = MemoryEventStore()
_stores: dict[str, EventStore] = {}
_stores_lock = threading.Lock()


def _secrets() -> tuple[str, ...]:
    value = getattr(settings, "POSTSTACK_WEBHOOK_SECRET", None)
    try:
        return resolve_secrets(None if value in (None, "") else value)
    except (ValueError, RuntimeError) as exc:
        raise ImproperlyConfigured(
            "POSTSTACK_WEBHOOK_SECRET must be set (in Django settings or the environment, "
            f"${WEBHOOK_SECRET_ENV}) to the webhook's signingSecret, or a list of them: {exc}"
        ) from None


def _store() -> EventStore | None:
    configured = getattr(settings, "POSTSTACK_WEBHOOK_STORE", _UNSET)
    if configured is _UNSET:
        return _memory_store
    if configured is None:
        return None
    if isinstance(configured, str):
        with _stores_lock:
            store = _stores.get(configured)
            if store is None:
                try:
                    store = cast(EventStore, import_string(configured)())
                except ImportError as exc:
                    raise ImproperlyConfigured(f"POSTSTACK_WEBHOOK_STORE: {exc}") from exc
                _stores[configured] = store
        return store
    return cast(EventStore, configured)  # the router checks that it is one


_V = TypeVar("_V", bound=Callable[..., Any])


def _login_not_required(view: _V) -> _V:
    """PostStack has no session: let it past ``LoginRequiredMiddleware`` (Django 5.1+).

    What Django's own ``login_not_required`` does, which Django 4.2 lacks.
    """
    setattr(view, "login_required", False)  # noqa: B010 - an attribute Django reads
    return view


def _send_signal(event: Event) -> None:
    if event["type"] == "inbound.received":
        message = InboundMessage.from_event(event)
        signals.send(inbound, WebhookView, event=event, message=message)
    else:
        signals.send(tracking, WebhookView, event=event)


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or ``None`` when it is longer than ``limit`` (read no further)."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@method_decorator([csrf_exempt, _login_not_required], name="dispatch")
class WebhookView(View):
    """Receives PostStack's webhook deliveries and sends the ``tracking``/``inbound`` signals.

    Answers 200 once the signal's receivers ran (or for a redelivery of an
    event they already handled), 401 for a missing or wrong signature, 400
    for a signed body that is not a JSON object, 409 while another request
    handles the same event, 413 above ``max_body_size``. A receiver's
    exception propagates (Django answers 500), and PostStack retries.
    """

    http_method_names: Sequence[str] = ("post", "head", "options")
    max_body_size: int = DEFAULT_MAX_BODY_SIZE

    def head(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Some senders probe an endpoint with HEAD before they deliver to it.
        return HttpResponse()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        secrets = _secrets()
        body = _read_body(request, self.max_body_size)
        if body is None:
            return JsonResponse({"detail": "Webhook body too large"}, status=413)
        try:
            router = WebhookRouter(store=_store(), max_body_size=self.max_body_size)
        except TypeError as exc:
            raise ImproperlyConfigured(f"POSTSTACK_WEBHOOK_STORE: {exc}") from exc
        router.catch_all(_send_signal)
        response = router.handle(body, request.headers, secret=secrets)
        return JsonResponse(response.body, status=response.status)
