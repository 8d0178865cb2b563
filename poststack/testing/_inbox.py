"""The inbox: a JSON API under ``/_sandbox/``, a live event stream, and the web UI's files.

No API path starts with ``/_sandbox/``, so these routes can never shadow one.
They need no bearer key (a browser opens them), which is why every request is
Host-checked first (``_gate``) and every mutating call (POST, DELETE) must be
``Content-Type: application/json`` and, when it carries an ``Origin``, come
from the sandbox's own origin: a page elsewhere can neither send that content
type without a CORS preflight (which the sandbox never grants) nor pass the
origin check.

Routes (the contract shared with the web UI; rename or remove fields only with
a note here):

- ``GET /_sandbox/messages?q=&from=&to=&subject=&tag=&status=&limit=&offset=``
  → ``{"messages": [Summary...], "total": N}``, newest first (``q`` searches
  from, to and subject; ``limit`` defaults to 50, at most 500);
- ``GET /_sandbox/messages/latest`` and ``GET /_sandbox/messages/{id}`` → Message;
- ``GET /_sandbox/messages/{id}/html`` (a locked-down CSP), ``/text``,
  ``/attachments/{index}`` (the bytes, as a download);
- ``POST /_sandbox/messages/{id}/bounce`` (``{"type": "hard"|"soft"}``),
  ``POST /_sandbox/messages/{id}/complain``: as the lifecycle would, webhooks
  included;
- ``DELETE /_sandbox/messages``: clears the inbox;
- ``GET /_sandbox/clock``, ``POST /_sandbox/clock/advance`` (``{"seconds": N}``);
- ``GET|POST|DELETE /_sandbox/faults``: the JSON form of :class:`~._faults.FaultPlan`;
- ``POST /_sandbox/inbound``: deliver an inbound email (``inbound_emails``);
- ``GET /_sandbox/stream``: Server-Sent Events ``message``, ``update``,
  ``clear``, and a keep-alive comment every ``keepalive`` seconds;
- ``GET /`` (the UI's ``index.html``) and ``GET /_sandbox/ui/{file}``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypedDict, cast
from urllib.parse import quote, unquote

from ._faults import FaultPlan
from ._http import Headers, Reply, StreamReply, dump, error_reply, json_reply
from ._models import RecordedRequest, SandboxEmail
from ._store import REQUEST, EmailChange, Store
from ._validation import ApiError, Fields, as_list, as_object, bad_request, isoformat, not_found

if TYPE_CHECKING:
    from ._backend import Backend

__all__ = ["PREFIX", "EventBroker", "InboxApp", "InboxMessage", "InboxSummary", "summary"]

PREFIX = "/_sandbox/"
UI_DIR = Path(__file__).with_name("ui")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

HTML_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_NO_STORE: Headers = (("cache-control", "no-store"), ("x-content-type-options", "nosniff"))
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".json": "application/json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
_FALLBACK_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PostStack Sandbox</title></head>
<body><h1>PostStack Sandbox</h1>
<p>The web inbox is not installed with this copy of poststack. The JSON inbox API is at
<a href="/_sandbox/messages">/_sandbox/messages</a>.</p></body></html>
"""


class InboxTag(TypedDict):
    name: str
    value: str | None


# "from" is a Python keyword, so the summary's first key needs the functional form.
_From = TypedDict("_From", {"from": str})


class InboxSummary(_From):
    """One email in the inbox list."""

    id: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str | None
    status: str
    tags: list[InboxTag]
    created_at: str
    scheduled_at: str | None
    has_html: bool
    has_text: bool
    attachment_count: int
    test_mode: bool


class InboxMessage(InboxSummary):
    """One email with everything the sandbox knows about it."""

    html: str | None
    text: str | None
    reply_to: list[str]
    headers: dict[str, str]
    metadata: dict[str, Any]
    request: dict[str, Any] | None
    attachments: list[dict[str, Any]]
    events: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]


def summary(email: SandboxEmail) -> dict[str, Any]:
    """The inbox list's view of an email (:class:`InboxSummary`)."""
    return {
        "id": email.id,
        "from": email.from_,
        "to": list(email.to),
        "cc": list(email.cc),
        "bcc": list(email.bcc),
        "subject": email.subject,
        "status": email.status,
        # The API's tags are plain strings; the inbox shows them as {name, value}.
        "tags": [{"name": tag, "value": None} for tag in email.tags],
        "created_at": email.created_at,
        "scheduled_at": email.scheduled_at,
        "has_html": bool(email.html),
        "has_text": bool(email.text),
        "attachment_count": len(email.attachments),
        "test_mode": email.test_mode,
    }


def _reply_to(email: SandboxEmail) -> list[str]:
    raw = email.payload.get("reply_to")
    if isinstance(raw, str):
        return [raw]
    items = as_list(raw)
    return [str(item) for item in items] if items is not None else []


def message(store: Store, email: SandboxEmail) -> dict[str, Any]:
    """Everything the sandbox knows about an email (:class:`InboxMessage`)."""
    from ._api.emails import attachment_bytes, attachment_type

    origin = store.get(REQUEST, email.request_id) if email.request_id else None
    deliveries = [
        {
            "id": d.id,
            "webhook_id": d.webhook_id,
            "url": d.url,
            "event_type": d.event_type,
            "attempt": d.attempts,
            "status_code": d.status_code,
            "error": d.error,
            "finished": d.finished,
            "at": d.delivered_at or d.created_at,
        }
        for d in store.deliveries.values()
        if d.email_id == email.id
    ]
    return {
        **summary(email),
        "html": email.html,
        "text": email.text,
        "reply_to": _reply_to(email),
        "headers": dict(email.headers),
        "metadata": {
            "numeric_id": email.numeric_id,
            "domain_id": email.domain_id,
            "template_id": email.template_id,
            "variables": dict(email.variables),
            "broadcast_id": email.broadcast_id,
            "sent_at": email.sent_at,
            "idempotency_key": email.idempotency_key,
        },
        "request": dict(origin.data) if origin is not None else None,
        "attachments": [
            {
                "index": index,
                "filename": item.get("filename"),
                "content_type": attachment_type(item),
                "size": len(attachment_bytes(item)),
            }
            for index, item in enumerate(email.attachments)
        ],
        "events": [{"type": e.type, "at": e.at, "detail": dict(e.detail)} for e in email.events],
        "deliveries": deliveries,
    }


# --- the event stream -------------------------------------------------------------------

_CLOSED = object()
_KEEPALIVE = object()
_QUEUE_LIMIT = 1000


class _Subscription:
    def __init__(self) -> None:
        self._items: deque[bytes | object] = deque()
        self._ready = threading.Condition()
        self._closed = False

    def push(self, item: bytes) -> None:
        with self._ready:
            if self._closed:
                return
            if len(self._items) >= _QUEUE_LIMIT:
                # A reader this far behind reconnects (EventSource does) and reloads.
                self._closed = True
            else:
                self._items.append(item)
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()

    def next(self, timeout: float) -> bytes | object:
        with self._ready:
            if not self._items and not self._closed:
                self._ready.wait(timeout)
            if self._items:
                return self._items.popleft()
            return _CLOSED if self._closed else _KEEPALIVE


class EventBroker:
    """Fans inbox changes out to every open event stream (never blocks the writer)."""

    def __init__(self, keepalive: float = 15.0) -> None:
        self.keepalive = keepalive
        self._lock = threading.Lock()
        self._subscribers: set[_Subscription] = set()
        self._closed = False

    def on_email(self, change: EmailChange, email: SandboxEmail | None) -> None:
        """The store's listener (called under the store lock)."""
        if not self._subscribers:
            return  # nobody is watching: build no summary
        data: object = summary(email) if email is not None else {}
        self.publish(change, data)

    def publish(self, event: str, data: object) -> None:
        frame = f"event: {event}\ndata: ".encode() + dump(data) + b"\n\n"
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.push(frame)

    def subscribe(self) -> _Subscription | None:
        with self._lock:
            if self._closed:
                return None
            subscription = _Subscription()
            self._subscribers.add(subscription)
            return subscription

    def unsubscribe(self, subscription: _Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every stream (the sandbox is stopping)."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.close()

    def stream(self) -> StreamReply:
        def run(write: Callable[[bytes], None]) -> None:
            subscription = self.subscribe()
            if subscription is None:
                return
            try:
                write(b"retry: 2000\n: connected\n\n")
                while True:
                    item = subscription.next(self.keepalive)
                    if item is _CLOSED:
                        return
                    write(b": keep-alive\n\n" if item is _KEEPALIVE else cast(bytes, item))
            finally:
                self.unsubscribe(subscription)

        return StreamReply(
            "text/event-stream; charset=utf-8",
            run,
            (("cache-control", "no-store"), ("x-accel-buffering", "no")),
        )


# --- the routes -------------------------------------------------------------------------


@dataclass(slots=True)
class InboxControls:
    """What the inbox can do to the sandbox besides reading the store."""

    backend: Backend
    faults: FaultPlan
    clear: Callable[[], None]
    advance: Callable[[float], object]
    receive_inbound: Callable[[Fields], dict[str, Any]]


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _filename_header(filename: str) -> str:
    """``Content-Disposition`` for a download: a safe ASCII name plus the exact UTF-8 one."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    exact = quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name or 'attachment'}\"; filename*=UTF-8''{exact}"


class InboxApp:
    """Answers ``/`` and ``/_sandbox/...`` (the caller has checked the Host already)."""

    def __init__(
        self, controls: InboxControls, broker: EventBroker, ui_dir: Path | None = None
    ) -> None:
        self._controls = controls
        self._broker = broker
        self._ui_dir = ui_dir

    @staticmethod
    def owns(path: str) -> bool:
        return path == "/" or path.startswith(PREFIX) or path == PREFIX.rstrip("/")

    def handle(self, request: RecordedRequest, own_origin: bool) -> Reply | StreamReply:
        method = request.method
        if method in ("POST", "DELETE", "PUT", "PATCH"):
            if not own_origin:
                return error_reply(
                    403, "forbidden", "Cross-origin requests to the inbox are refused"
                )
            if _media_type(request.headers.get("content-type")) != "application/json":
                return error_reply(
                    415,
                    "invalid_request",
                    "Inbox calls that change something take application/json",
                )
        try:
            return self._route(method, request)
        except ApiError as exc:
            return error_reply(exc.status, exc.code, exc.message, _NO_STORE)

    def _route(self, method: str, request: RecordedRequest) -> Reply | StreamReply:
        path = request.path
        if path == "/":
            self._only(method, "GET")
            return self._ui_file("index.html", page=True)
        parts = (
            [unquote(p) for p in path[len(PREFIX) :].split("/")] if path.startswith(PREFIX) else []
        )
        match parts:
            case ["messages", *rest]:
                return self._messages(method, request, rest)
            case ["clock"]:
                self._only(method, "GET")
                return self._json(self._clock())
            case ["clock", "advance"]:
                self._only(method, "POST")
                seconds = self._body(request).number("seconds")
                if seconds is None or not 0 <= seconds < float("inf"):
                    raise bad_request("'seconds' must be a number >= 0")
                self._controls.advance(seconds)
                return self._json(self._clock())
            case ["faults"]:
                return self._faults(method, request)
            case ["inbound"]:
                self._only(method, "POST")
                created = self._controls.receive_inbound(self._body(request))
                return json_reply(201, created, _NO_STORE)
            case ["stream"]:
                self._only(method, "GET")
                return self._broker.stream()
            case ["ui", *rest] if rest:
                self._only(method, "GET")
                return self._ui_file("/".join(rest))
            case _:
                raise ApiError(404, "not_found", f"No inbox route for {method} {path}")

    def _messages(self, method: str, request: RecordedRequest, rest: list[str]) -> Reply:
        store = self._controls.backend.store
        if not rest:
            if method == "DELETE":
                with store.lock:
                    count = len(store.emails)
                    self._controls.clear()
                return self._json({"success": True, "deleted": count})
            self._only(method, "GET")
            return self._json(self._list(request))
        if rest == ["latest"]:
            self._only(method, "GET")
            with store.lock:
                if not store.emails:
                    raise not_found("Message")
                return self._json(message(store, next(reversed(store.emails.values()))))
        email_id, *action = rest
        if action in (["bounce"], ["complain"]):
            self._only(method, "POST")
            return self._feedback(request, email_id, action[0])
        self._only(method, "GET")
        match action:
            case []:
                with store.lock:
                    return self._json(message(store, self._email(email_id)))
            case ["html"]:
                email = self._email(email_id)
                if not email.html:
                    raise not_found("HTML part")
                headers = (
                    ("content-security-policy", HTML_CSP),
                    ("referrer-policy", "no-referrer"),
                    *_NO_STORE,
                )
                return Reply(200, email.html.encode("utf-8"), headers, "text/html; charset=utf-8")
            case ["text"]:
                email = self._email(email_id)
                if email.text is None:
                    raise not_found("Text part")
                return Reply(
                    200, email.text.encode("utf-8"), _NO_STORE, "text/plain; charset=utf-8"
                )
            case ["attachments", index]:
                return self._attachment(self._email(email_id), index)
            case _:
                raise ApiError(404, "not_found", f"No inbox route for {method} {request.path}")

    # -- helpers --

    @staticmethod
    def _only(method: str, allowed: str) -> None:
        if method != allowed and not (allowed == "GET" and method == "HEAD"):
            raise ApiError(405, "method_not_allowed", f"Method {method} not allowed here")

    @staticmethod
    def _json(value: object, status: int = 200) -> Reply:
        return json_reply(status, value, _NO_STORE)

    @staticmethod
    def _body(request: RecordedRequest) -> Fields:
        if not request.body.strip():
            return Fields({})
        try:
            value = json.loads(request.body)
        except (ValueError, RecursionError):
            raise bad_request("Request body is not valid JSON") from None
        body = as_object(value)
        if body is None:
            raise bad_request("Request body must be a JSON object")
        return Fields(body)

    def _email(self, email_id: str) -> SandboxEmail:
        email = self._controls.backend.store.emails.get(email_id)
        if email is None:
            raise not_found("Message")
        return email

    def _list(self, request: RecordedRequest) -> dict[str, Any]:
        query = request.params
        limit = _bounded(query.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _bounded(query.get("offset"), "offset", 0, 0, 10**9)
        needles = {
            name: (query.get(name) or "").strip().lower()
            for name in ("q", "from", "to", "subject", "tag", "status")
        }
        store = self._controls.backend.store
        with store.lock:
            emails = list(reversed(store.emails.values()))
        found = [summary(e) for e in emails if _matches(e, needles)]
        return {"messages": found[offset : offset + limit], "total": len(found)}

    def _attachment(self, email: SandboxEmail, raw_index: str) -> Reply:
        from ._api.emails import attachment_bytes, attachment_type

        if not (raw_index.isascii() and raw_index.isdigit()) or int(raw_index) >= len(
            email.attachments
        ):
            raise not_found("Attachment")
        item = email.attachments[int(raw_index)]
        content_type = attachment_type(item)
        if "\r" in content_type or "\n" in content_type or "/" not in content_type:
            content_type = "application/octet-stream"
        headers = (
            ("content-disposition", _filename_header(str(item.get("filename") or "attachment"))),
            ("content-security-policy", "sandbox; default-src 'none'"),
            *_NO_STORE,
        )
        return Reply(200, attachment_bytes(item), headers, content_type)

    def _feedback(self, request: RecordedRequest, email_id: str, action: str) -> Reply:
        backend = self._controls.backend
        fields = self._body(request)
        with backend.store.lock:
            email = self._email(email_id)
            recipient = email.to[0] if email.to else None
            if action == "bounce":
                kind = fields.choice("type", ("hard", "soft"), default="hard")
                event = "bounced" if kind == "hard" else "soft_bounced"
                detail = {"bounceType": kind, "recipient": recipient, "source": "inbox"}
            else:
                event = "complained"
                detail = {"feedbackType": "abuse", "recipient": recipient, "source": "inbox"}
            try:
                email = backend.lifecycle.feedback(email, event, detail)
            finally:
                backend.store.commit()
            return self._json(message(backend.store, email))

    def _clock(self) -> dict[str, Any]:
        clock = self._controls.backend.clock
        return {"now": isoformat(clock.now()), "frozen": clock.frozen}

    def _faults(self, method: str, request: RecordedRequest) -> Reply:
        plan = self._controls.faults
        if method == "DELETE":
            plan.clear()
        elif method == "POST":
            try:
                plan.add_json(self._body(request).data)
            except ValueError as exc:
                raise ApiError(422, "unprocessable_entity", f"Invalid fault: {exc}") from None
        elif method not in ("GET", "HEAD"):
            raise ApiError(405, "method_not_allowed", f"Method {method} not allowed here")
        return self._json({"faults": plan.to_json()})

    def _ui_file(self, name: str, *, page: bool = False) -> Reply:
        relative = PurePosixPath(name)
        if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
            raise not_found("File")
        root = self._ui_dir or UI_DIR
        path = root.joinpath(*relative.parts)
        headers: Headers = (("cache-control", "no-cache"), ("x-content-type-options", "nosniff"))
        if page:
            headers = (
                *headers,
                ("content-security-policy", PAGE_CSP),
                ("referrer-policy", "no-referrer"),
            )
        try:
            resolved = path.resolve(strict=True)
            resolved.relative_to(root.resolve())
            body = resolved.read_bytes()
        except (OSError, ValueError):
            if page:
                return Reply(200, _FALLBACK_PAGE, headers, "text/html; charset=utf-8")
            raise not_found("File") from None
        content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return Reply(200, body, headers, content_type)


def _bounded(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise bad_request(f"'{name}' must be a whole number")
    return max(low, min(int(raw), high))


def _matches(email: SandboxEmail, needles: dict[str, str]) -> bool:
    def has(needle: str, *values: str | None) -> bool:
        return any(needle in (value or "").lower() for value in values)

    recipients = email.recipients
    if needles["q"] and not has(needles["q"], email.from_, email.subject, *recipients):
        return False
    if needles["from"] and not has(needles["from"], email.from_):
        return False
    if needles["to"] and not has(needles["to"], *recipients):
        return False
    if needles["subject"] and not has(needles["subject"], email.subject):
        return False
    if needles["tag"] and needles["tag"] not in (tag.lower() for tag in email.tags):
        return False
    return not needles["status"] or email.status == needles["status"]
