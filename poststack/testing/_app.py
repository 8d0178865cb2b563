"""The API itself: routing, authentication, idempotency and the endpoint handlers.

``App.handle`` turns one :class:`RecordedRequest` into one :class:`Reply`. It
does no I/O, so it can be exercised without sockets; ``_server`` feeds it.

Order of checks for every request: route (404 / 405), then the bearer key
(401), then for POSTs the ``Idempotency-Key`` (replay / 409), then the handler.
The whole of ``handle`` runs under the store lock, so a replayed key can never
race the first request that carries it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from ._models import RecordedRequest
from ._store import (
    DomainRecord,
    EmailEvent,
    EmailRecord,
    IdempotencyRecord,
    Store,
    WebhookRecord,
    new_public_id,
    parse_timestamp,
    utcnow,
)

__all__ = ["App", "Reply", "error_reply", "json_reply"]

MAX_BATCH = 100
MAX_RECIPIENTS = 50
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100

EMAIL_EVENT_TYPES = frozenset(
    f"email.{name}"
    for name in (
        "queued",
        "sent",
        "delivered",
        "deferred",
        "bounced",
        "soft_bounced",
        "opened",
        "clicked",
        "complained",
        "unsubscribed",
        "failed",
        "scheduled",
        "cancelled",
    )
)
REGIONS = frozenset({"eu-west-1", "us-east-1", "sa-east-1", "ap-northeast-1"})

_ADDRESS_RE = re.compile(r"^[^@\s<>\"]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EVENT_NAME_RE = re.compile(r"^[a-z_]+\.[a-z_]+$")

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP response, before framing."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


def _dump(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(status: int, value: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, _dump(value), headers)


def error_reply(
    status: int, code: str | None, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    body: JSONObject = {"error": message}
    if code is not None:
        body["code"] = code
    return json_reply(status, body, headers)


class ApiError(Exception):
    """Raised by handlers; becomes an error reply with the spec's body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def reply(self) -> Reply:
        return error_reply(self.status, self.code, self.message)


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def _invalid(message: str) -> ApiError:
    return ApiError(422, "unprocessable_entity", message)


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def _as_object(value: object) -> JSONObject | None:
    return cast(JSONObject, value) if isinstance(value, dict) else None


def _as_list(value: object) -> list[object] | None:
    return cast(list[object], value) if isinstance(value, list) else None


def _canonical(body: bytes) -> str:
    """A fingerprint of a body: equal JSON values give equal fingerprints."""
    try:
        text = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()


# --- email payload validation ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Address:
    address: str
    name: str | None

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1].lower()


def _parse_address(value: str, field_name: str, where: str) -> _Address:
    name, address = parseaddr(value)
    if not _ADDRESS_RE.match(address):
        raise _invalid(f"{where}Invalid email address in '{field_name}': {value!r}")
    return _Address(address, name or None)


def _address_list(payload: JSONObject, key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = payload.get(key)
    if value is None:
        if required:
            raise _bad(f"{where}Missing required field: {key}")
        return ()
    items: list[object] = [value] if isinstance(value, str) else (_as_list(value) or [])
    if not isinstance(value, str | list) or not all(isinstance(item, str) for item in items):
        raise _bad(f"{where}'{key}' must be a string or a list of strings")
    if required and not items:
        raise _bad(f"{where}'{key}' must not be empty")
    addresses = tuple(cast(list[str], items))
    for address in addresses:
        _parse_address(address, key, where)
    return addresses


def _optional_str(payload: JSONObject, key: str, where: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{where}'{key}' must be a string")
    return value


@dataclass(frozen=True, slots=True)
class _EmailDraft:
    payload: JSONObject
    sender: _Address
    from_: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    reply_to: str | None
    subject: str | None
    html: str | None
    text: str | None
    tags: tuple[str, ...]
    headers: dict[str, str]
    attachments: tuple[JSONObject, ...]
    scheduled_at: str | None
    template_id: str | None
    variables: JSONObject
    idempotency_key: str | None


def _parse_email(value: object, where: str = "") -> _EmailDraft:  # noqa: PLR0915
    payload = _as_object(value)
    if payload is None:
        raise _bad(f"{where}An email must be a JSON object")
    from_ = payload.get("from")
    if from_ is None or from_ == "":
        raise _bad(f"{where}Missing required field: from")
    if not isinstance(from_, str):
        raise _bad(f"{where}'from' must be a string")
    sender = _parse_address(from_, "from", where)
    to = _address_list(payload, "to", where, required=True)
    cc = _address_list(payload, "cc", where, required=False)
    bcc = _address_list(payload, "bcc", where, required=False)
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        raise _invalid(f"{where}At most {MAX_RECIPIENTS} recipients (to + cc + bcc) per email")
    reply_to_list = _address_list(payload, "reply_to", where, required=False)
    reply_to = ", ".join(reply_to_list) if reply_to_list else None

    template_id = _optional_str(payload, "template_id", where)
    subject = _optional_str(payload, "subject", where)
    html = _optional_str(payload, "html", where)
    text = _optional_str(payload, "text", where)
    if template_id is None:
        if not subject:
            raise _bad(f"{where}Missing required field: subject")
        if not html and not text:
            raise _bad(f"{where}Missing required field: html or text")

    raw_tags = payload.get("tags")
    tags: tuple[str, ...] = ()
    if raw_tags is not None:
        tag_list = _as_list(raw_tags)
        if tag_list is None or not all(isinstance(tag, str) for tag in tag_list):
            raise _bad(f"{where}'tags' must be a list of strings")
        tags = tuple(cast(list[str], tag_list))

    raw_headers = payload.get("headers")
    headers: dict[str, str] = {}
    if raw_headers is not None:
        header_map = _as_object(raw_headers)
        if header_map is None or not all(isinstance(v, str) for v in header_map.values()):
            raise _bad(f"{where}'headers' must be an object of strings")
        headers = cast(dict[str, str], dict(header_map))

    attachments: list[JSONObject] = []
    raw_attachments = payload.get("attachments")
    if raw_attachments is not None:
        items = _as_list(raw_attachments)
        if items is None:
            raise _bad(f"{where}'attachments' must be a list")
        for index, item in enumerate(items):
            attachment = _as_object(item)
            if attachment is None:
                raise _bad(f"{where}attachments[{index}] must be an object")
            filename = attachment.get("filename")
            content = attachment.get("content")
            if not isinstance(filename, str) or not filename:
                raise _bad(f"{where}attachments[{index}]: missing filename")
            if not isinstance(content, str):
                raise _bad(f"{where}attachments[{index}]: missing content")
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise _bad(f"{where}attachments[{index}]: content is not base64") from None
            attachments.append(dict(attachment))

    scheduled_at = _optional_str(payload, "scheduled_at", where)
    if scheduled_at is not None and parse_timestamp(scheduled_at) is None:
        raise _bad(f"{where}'scheduled_at' must be an ISO 8601 timestamp")

    raw_variables = payload.get("variables")
    variables: JSONObject = {}
    if raw_variables is not None:
        variable_map = _as_object(raw_variables)
        if variable_map is None:
            raise _bad(f"{where}'variables' must be an object")
        variables = dict(variable_map)

    return _EmailDraft(
        payload=payload,
        sender=sender,
        from_=from_,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=subject,
        html=html,
        text=text,
        tags=tags,
        headers=headers,
        attachments=tuple(attachments),
        scheduled_at=scheduled_at,
        template_id=template_id,
        variables=variables,
        idempotency_key=_optional_str(payload, "idempotency_key", where),
    )


# --- routing -------------------------------------------------------------------

Handler = Callable[["App", RecordedRequest, list[str]], Reply]


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: tuple[str, ...]  # literal segments, or "{}" for a parameter
    methods: dict[str, Handler]

    def match(self, segments: list[str]) -> list[str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: list[str] = []
        for literal, segment in zip(self.pattern, segments, strict=True):
            if literal == "{}":
                if not segment:
                    return None
                params.append(unquote(segment))
            elif literal != segment:
                return None
        return params


def _int_id(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise _not_found(what)
    return int(raw)


class App:
    """Routes requests to handlers over one :class:`Store`."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        *,
        require_verified_domain: bool,
        on_email_accepted: Callable[[EmailRecord, list[WebhookRecord]], None],
    ) -> None:
        self.store = store
        self.api_key = api_key
        self.require_verified_domain = require_verified_domain
        self._on_email_accepted = on_email_accepted

    # -- entry point --

    def handle(self, request: RecordedRequest) -> Reply:
        route_params = self._route(request.method, request.path)
        if isinstance(route_params, Reply):
            return route_params
        handler, params = route_params
        auth = request.headers.get("authorization")
        if auth is None:
            return error_reply(401, "unauthorized", "Missing API key")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            token.strip().encode(), self.api_key.encode()
        ):
            return error_reply(401, "unauthorized", "Invalid API key")
        with self.store.lock:
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key:
                return self._idempotent(
                    ("header", request.path, key),
                    _canonical(request.body),
                    lambda: self._call(handler, request, params),
                )
            return self._call(handler, request, params)

    def _call(self, handler: Handler, request: RecordedRequest, params: list[str]) -> Reply:
        try:
            return handler(self, request, params)
        except ApiError as exc:
            return exc.reply()

    def _idempotent(
        self, scope: tuple[str, str, str], fingerprint: str, run: Callable[[], Reply]
    ) -> Reply:
        """Replay a remembered success for a repeated key; only successes are remembered."""
        record = self.store.idempotency.get(scope)
        if record is not None:
            if record.fingerprint != fingerprint:
                return error_reply(
                    409,
                    "conflict",
                    "Idempotency key was already used with a different request body",
                )
            return Reply(record.status, record.body, (("idempotent-replayed", "true"),))
        reply = run()
        if 200 <= reply.status < 300:
            self.store.idempotency[scope] = IdempotencyRecord(fingerprint, reply.status, reply.body)
        return reply

    def _route(self, method: str, path: str) -> tuple[Handler, list[str]] | Reply:
        if not path.startswith("/"):
            return error_reply(404, "not_found", "Not found")
        segments = path[1:].split("/")
        allowed: set[str] = set()
        for route in _ROUTES:
            params = route.match(segments)
            if params is None:
                continue
            handler = route.methods.get(method)
            if handler is not None:
                return handler, params
            allowed.update(route.methods)
        if allowed:
            return error_reply(
                405,
                "method_not_allowed",
                f"Method {method} not allowed on {path}",
                (("allow", ", ".join(sorted(allowed))),),
            )
        return error_reply(404, "not_found", f"No route for {method} {path}")

    # -- helpers --

    @staticmethod
    def _body_object(request: RecordedRequest) -> JSONObject:
        if not request.body.strip():
            raise _bad("Request body must be a JSON object")
        try:
            value: object = json.loads(request.body)
        except ValueError:
            raise _bad("Request body is not valid JSON") from None
        body = _as_object(value)
        if body is None:
            raise _bad("Request body must be a JSON object")
        return body

    def _email(self, public_id: str) -> EmailRecord:
        record = self.store.emails_by_id.get(public_id)
        if record is None:
            raise _not_found("Email")
        return record

    def _check_domain(self, draft: _EmailDraft, where: str) -> DomainRecord | None:
        domain = self._sending_domain(draft.sender.domain)
        if self.require_verified_domain and (domain is None or domain.status != "verified"):
            raise _invalid(f"{where}Domain not verified: {draft.sender.domain}")
        return domain

    def _sending_domain(self, name: str) -> DomainRecord | None:
        """The registered domain for ``name`` itself or its closest parent."""
        labels = name.split(".")
        for start in range(len(labels) - 1):
            domain = self.store.domain_by_name(".".join(labels[start:]))
            if domain is not None:
                return domain
        return None

    def _accept(self, draft: _EmailDraft, domain: DomainRecord | None) -> EmailRecord:
        now = utcnow()
        scheduled = parse_timestamp(draft.scheduled_at) if draft.scheduled_at else None
        record = EmailRecord(
            numeric_id=self.store.next_id("email"),
            public_id=new_public_id("em"),
            from_=draft.from_,
            from_address=draft.sender.address,
            from_name=draft.sender.name,
            domain_id=domain.id if domain else None,
            to=draft.to,
            cc=draft.cc,
            bcc=draft.bcc,
            reply_to=draft.reply_to,
            subject=draft.subject,
            html=draft.html,
            text=draft.text,
            tags=draft.tags,
            headers=draft.headers,
            attachments=draft.attachments,
            template_id=draft.template_id,
            variables=draft.variables,
            idempotency_key=draft.idempotency_key,
            payload=draft.payload,
            test_mode=self.api_key.startswith("sk_test_"),
            created_at=now,
        )
        record.events.append(EmailEvent("queued", now))
        if scheduled is not None and scheduled > now:
            record.status = "scheduled"
            record.scheduled_at = scheduled
        else:
            self._deliver(record)
        self.store.add_email(record)
        if record.status == "delivered":
            self._on_email_accepted(record, list(self.store.webhooks.values()))
        return record

    @staticmethod
    def _deliver(record: EmailRecord) -> None:
        now = utcnow()
        record.status = "delivered"
        record.sent_at = now
        record.events.append(EmailEvent("sent", now))
        record.events.append(EmailEvent("delivered", now))

    def release_scheduled(self) -> int:
        """Deliver every scheduled email now (as if its time had come)."""
        with self.store.lock:
            released = [e for e in self.store.emails if e.status == "scheduled"]
            for record in released:
                self._deliver(record)
                self._on_email_accepted(record, list(self.store.webhooks.values()))
            self.store.changed.notify_all()
            return len(released)

    # -- emails --

    def send_email(self, request: RecordedRequest, params: list[str]) -> Reply:
        body = self._body_object(request)
        draft = _parse_email(body)

        def run() -> Reply:
            domain = self._check_domain(draft, "")
            record = self._accept(draft, domain)
            return json_reply(202, {"id": record.public_id})

        if draft.idempotency_key:
            return self._idempotent(
                ("body", "/emails", draft.idempotency_key), _canonical(request.body), run
            )
        return run()

    def batch_emails(self, request: RecordedRequest, params: list[str]) -> Reply:
        body = self._body_object(request)
        emails = _as_list(body.get("emails"))
        if emails is None:
            raise _bad("Missing required field: emails (a list)")
        if not emails:
            raise _bad("'emails' must not be empty")
        if len(emails) > MAX_BATCH:
            raise _invalid(f"A batch holds at most {MAX_BATCH} emails, got {len(emails)}")
        drafts = [_parse_email(item, f"emails[{index}]: ") for index, item in enumerate(emails)]
        domains = [self._check_domain(d, f"emails[{i}]: ") for i, d in enumerate(drafts)]
        records = [
            self._accept(draft, domain) for draft, domain in zip(drafts, domains, strict=True)
        ]
        return json_reply(202, {"data": [{"id": record.public_id} for record in records]})

    def get_email(self, request: RecordedRequest, params: list[str]) -> Reply:
        return json_reply(200, {"email": self._email(params[0]).to_json()})

    def email_events(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._email(params[0])
        return json_reply(200, {"events": [event.to_json() for event in record.events]})

    def cancel_email(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._email(params[0])
        if record.status != "scheduled":
            raise ApiError(
                409, "conflict", f"Only scheduled emails can be cancelled (status: {record.status})"
            )
        record.status = "cancelled"
        record.events.append(EmailEvent("cancelled", utcnow()))
        return json_reply(200, {"email": record.to_json()})

    def reschedule_email(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._email(params[0])
        body = self._body_object(request)
        raw = body.get("scheduled_at")
        if raw is None:
            raise _bad("Missing required field: scheduled_at")
        if not isinstance(raw, str):
            raise _bad("'scheduled_at' must be a string")
        moment = parse_timestamp(raw)
        if moment is None:
            raise _bad("'scheduled_at' must be an ISO 8601 timestamp")
        if record.status != "scheduled":
            raise ApiError(
                409,
                "conflict",
                f"Only scheduled emails can be rescheduled (status: {record.status})",
            )
        if moment <= utcnow():
            raise _invalid("'scheduled_at' must be in the future")
        record.scheduled_at = moment
        return json_reply(200, {"email": record.to_json()})

    def list_emails(self, request: RecordedRequest, params: list[str]) -> Reply:
        query = request.params
        page = self._positive_int(query, "page", 1)
        per_page = min(self._positive_int(query, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
        selected = [e for e in reversed(self.store.emails) if self._email_matches(e, query)]
        total = len(selected)
        start = (page - 1) * per_page
        return json_reply(
            200,
            {
                "emails": [e.to_json() for e in selected[start : start + per_page]],
                "pagination": {
                    "total": total,
                    "page": page,
                    "per_page": per_page,
                    "total_pages": (total + per_page - 1) // per_page,
                },
            },
        )

    @staticmethod
    def _positive_int(query: dict[str, str], name: str, default: int) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise _bad(f"'{name}' must be a positive integer")
        return int(raw)

    @staticmethod
    def _email_matches(email: EmailRecord, query: dict[str, str]) -> bool:
        def contains(needle: str, haystack: str | None) -> bool:
            return haystack is not None and needle.lower() in haystack.lower()

        if (status := query.get("status")) and email.status != status:
            return False
        if (domain_id := query.get("domain_id")) and str(email.domain_id) != domain_id:
            return False
        if (to := query.get("to")) and not any(contains(to, a) for a in email.to):
            return False
        if (sender := query.get("from")) and not contains(sender, email.from_):
            return False
        if (subject := query.get("subject")) and not contains(subject, email.subject):
            return False
        if (tag := query.get("tag")) and tag not in email.tags:
            return False
        for name in ("date_from", "date_to"):
            raw = query.get(name)
            if not raw:
                continue
            moment = parse_timestamp(raw)
            if moment is None:
                raise _bad(f"'{name}' must be an ISO 8601 date or timestamp")
            if name == "date_from" and email.created_at < moment:
                return False
            if name == "date_to":
                # A bare date means "to the end of that day".
                end = moment + timedelta(days=1) if len(raw.strip()) == 10 else moment
                if email.created_at > end:
                    return False
        return True

    # -- domains --

    def _domain(self, raw: str) -> DomainRecord:
        record = self.store.domains.get(_int_id(raw, "Domain"))
        if record is None:
            raise _not_found("Domain")
        return record

    def create_domain(self, request: RecordedRequest, params: list[str]) -> Reply:
        body = self._body_object(request)
        name = body.get("name")
        if name is None or name == "":
            raise _bad("Missing required field: name")
        if not isinstance(name, str):
            raise _bad("'name' must be a string")
        name = name.strip().lower().rstrip(".")
        if not _DOMAIN_RE.match(name):
            raise _invalid(f"Invalid domain name: {name!r}")
        region = body.get("region", "us-east-1")
        if region not in REGIONS:
            raise _invalid(f"Unknown region: {region!r}")
        tls_mode = body.get("tls_mode", "opportunistic")
        if tls_mode not in ("opportunistic", "enforced"):
            raise _invalid(f"Unknown tls_mode: {tls_mode!r}")
        if self.store.domain_by_name(name) is not None:
            raise ApiError(409, "conflict", f"Domain already exists: {name}")
        record = self.add_domain(name, verified=False)
        record.region = cast(str, region)
        record.tls_mode = cast(str, tls_mode)
        record.open_tracking = bool(body.get("open_tracking", False))
        record.click_tracking = bool(body.get("click_tracking", False))
        return json_reply(201, {"domain": record.to_json()})

    def add_domain(self, name: str, *, verified: bool) -> DomainRecord:
        now = utcnow()
        record = DomainRecord(
            id=self.store.next_id("domain"),
            name=name,
            region="us-east-1",
            status="verified" if verified else "pending",
            open_tracking=False,
            click_tracking=False,
            tls_mode="opportunistic",
            created_at=now,
            verified_at=now if verified else None,
        )
        self.store.domains[record.id] = record
        return record

    def list_domains(self, request: RecordedRequest, params: list[str]) -> Reply:
        return json_reply(200, {"domains": [d.to_json() for d in self.store.domains.values()]})

    def get_domain(self, request: RecordedRequest, params: list[str]) -> Reply:
        return json_reply(200, {"domain": self._domain(params[0]).to_json()})

    def delete_domain(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._domain(params[0])
        del self.store.domains[record.id]
        return json_reply(200, {"deleted": True, "id": record.id})

    def verify_domain(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._domain(params[0])
        if record.status != "verified":
            record.status = "verified"
            record.verified_at = utcnow()
        return json_reply(200, {"domain": record.to_json()})

    # -- webhooks --

    def _webhook(self, raw: str) -> WebhookRecord:
        record = self.store.webhooks.get(_int_id(raw, "Webhook"))
        if record is None:
            raise _not_found("Webhook")
        return record

    @staticmethod
    def _webhook_url(value: object) -> str:
        if value is None or value == "":
            raise _bad("Missing required field: url")
        if not isinstance(value, str):
            raise _bad("'url' must be a string")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid(f"Invalid webhook URL: {value!r}")
        return value

    @staticmethod
    def _webhook_events(value: object) -> tuple[str, ...]:
        if value is None:
            raise _bad("Missing required field: events")
        events = _as_list(value)
        if events is None or not events or not all(isinstance(e, str) for e in events):
            raise _bad("'events' must be a non-empty list of strings")
        names = tuple(cast(list[str], events))
        for name in names:
            known = name in EMAIL_EVENT_TYPES or (
                not name.startswith("email.") and _EVENT_NAME_RE.match(name)
            )
            if not known:
                raise _invalid(f"Unknown event type: {name!r}")
        return names

    def create_webhook(self, request: RecordedRequest, params: list[str]) -> Reply:
        body = self._body_object(request)
        url = self._webhook_url(body.get("url"))
        events = self._webhook_events(body.get("events"))
        record = WebhookRecord(
            id=self.store.next_id("webhook"),
            url=url,
            events=events,
            secret=f"whsec_{secrets.token_hex(24)}",
            created_at=utcnow(),
        )
        self.store.webhooks[record.id] = record
        return json_reply(201, {"webhook": record.to_json(), "signingSecret": record.secret})

    def list_webhooks(self, request: RecordedRequest, params: list[str]) -> Reply:
        return json_reply(200, {"webhooks": [w.to_json() for w in self.store.webhooks.values()]})

    def get_webhook(self, request: RecordedRequest, params: list[str]) -> Reply:
        return json_reply(200, {"webhook": self._webhook(params[0]).to_json()})

    def update_webhook(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._webhook(params[0])
        body = self._body_object(request)
        url = self._webhook_url(body["url"]) if "url" in body else record.url
        events = self._webhook_events(body["events"]) if "events" in body else record.events
        active = body.get("active", record.active)
        if not isinstance(active, bool):
            raise _bad("'active' must be a boolean")
        record.url, record.events, record.active = url, events, active
        return json_reply(200, {"webhook": record.to_json()})

    def delete_webhook(self, request: RecordedRequest, params: list[str]) -> Reply:
        record = self._webhook(params[0])
        del self.store.webhooks[record.id]
        return json_reply(200, {"deleted": True, "id": record.id})


def _routes() -> list[_Route]:
    table: list[tuple[str, dict[str, Handler]]] = [
        ("/emails", {"GET": App.list_emails, "POST": App.send_email}),
        ("/emails/batch", {"POST": App.batch_emails}),
        ("/emails/{}", {"GET": App.get_email, "PATCH": App.reschedule_email}),
        ("/emails/{}/cancel", {"POST": App.cancel_email}),
        ("/emails/{}/events", {"GET": App.email_events}),
        ("/domains", {"GET": App.list_domains, "POST": App.create_domain}),
        ("/domains/{}", {"GET": App.get_domain, "DELETE": App.delete_domain}),
        ("/domains/{}/verify", {"POST": App.verify_domain}),
        ("/webhooks", {"GET": App.list_webhooks, "POST": App.create_webhook}),
        (
            "/webhooks/{}",
            {"GET": App.get_webhook, "PATCH": App.update_webhook, "DELETE": App.delete_webhook},
        ),
    ]
    # Literal segments win over parameters: "/emails/batch" before "/emails/{}".
    table.sort(key=lambda item: [segment == "{}" for segment in item[0][1:].split("/")])
    return [_Route(tuple(path[1:].split("/")), methods) for path, methods in table]


_ROUTES = _routes()
