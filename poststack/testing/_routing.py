"""Routing and authentication: from one API request to the handler's reply.

Theory of operation
-------------------
Each resource family module declares its routes next to its handlers with a
:class:`Routes` table (``@routes.get("/contacts/{id}")``); :class:`Router`
joins the tables and matches a path, literal segments before parameters
(``/emails/batch`` before ``/emails/{id}``).

:meth:`Api.handle` runs the checks of every API request in this order:

1. the route: 404 for an unknown path, 405 (with ``Allow``) for a known path
   and another method;
2. the bearer key: 401 without one or with a wrong or revoked one; 403 when a
   ``sending_access`` key calls anything but sending and reading emails;
3. the rate limit of that key (``rate_limit=``): 429 with ``Retry-After``;
   every answer to an authenticated request carries ``x-ratelimit-*``;
4. for a POST with an ``Idempotency-Key``: a replay of the remembered answer
   (``idempotent-replayed: true``), or a 409 when the body differs;
5. the handler, under the store lock, after the email lifecycle has caught up
   with the clock; then one commit of everything the request changed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ._http import Headers, Reply, error_reply, json_reply
from ._models import RecordedRequest
from ._store import IdempotencyRecord
from ._validation import ApiError, Fields, as_object, bad_request, isoformat

if TYPE_CHECKING:
    from ._backend import Backend
    from ._limits import RateLimiter

__all__ = [
    "Api",
    "ApiRequest",
    "Principal",
    "Router",
    "Routes",
    "accepted",
    "created",
    "key_fingerprint",
    "ok",
    "success",
]

Handler = Callable[["ApiRequest"], Reply]
API_KEY = "api_key"  # the store kind of keys minted through api_keys.create


def ok(value: object) -> Reply:
    return json_reply(200, value)


def created(value: object) -> Reply:
    return json_reply(201, value)


def accepted(value: object) -> Reply:
    return json_reply(202, value)


def success() -> Reply:
    """``{"success": true}``: what deletes and most actions answer."""
    return json_reply(200, {"success": True})


def key_fingerprint(key: str) -> str:
    """What the sandbox keeps of a key: its SHA-256 (keys are never stored in plaintext)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The API key a request authenticated with."""

    key_id: int | None
    """The ``api_keys`` id; ``None`` for the sandbox's own key."""
    permission: str
    test_mode: bool
    domain_id: int | None
    fingerprint: str = field(repr=False)


@dataclass(slots=True)
class ApiRequest:
    """One authenticated API request as a handler sees it."""

    request: RecordedRequest
    params: dict[str, str]
    backend: Backend
    principal: Principal

    @property
    def query(self) -> dict[str, str]:
        return self.request.params

    def param(self, name: str) -> str:
        return self.params[name]

    def body(self) -> Fields:
        """The JSON object body (a 400 when it is missing, not JSON, or not an object)."""
        if not self.request.body.strip():
            raise bad_request("Request body must be a JSON object")
        return self._parse()

    def optional_body(self) -> Fields:
        """The JSON object body, or an empty one when the request has none."""
        if not self.request.body.strip():
            return Fields({})
        return self._parse()

    def _parse(self) -> Fields:
        try:
            value: object = json.loads(self.request.body)
        except (ValueError, RecursionError):
            raise bad_request("Request body is not valid JSON") from None
        body = as_object(value)
        if body is None:
            raise bad_request("Request body must be a JSON object")
        return Fields(body)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    sending: bool
    """Whether a ``sending_access`` key may call it (send and read emails)."""


class Routes:
    """The routes of one resource family, declared next to their handlers."""

    def __init__(self) -> None:
        self.table: list[Route] = []

    def _add(self, method: str, template: str, sending: bool) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.table.append(Route(method, template, handler, sending))
            return handler

        return register

    def get(self, template: str, *, sending: bool = False) -> Callable[[Handler], Handler]:
        return self._add("GET", template, sending)

    def post(self, template: str, *, sending: bool = False) -> Callable[[Handler], Handler]:
        return self._add("POST", template, sending)

    def patch(self, template: str) -> Callable[[Handler], Handler]:
        return self._add("PATCH", template, False)

    def put(self, template: str) -> Callable[[Handler], Handler]:
        return self._add("PUT", template, False)

    def delete(self, template: str) -> Callable[[Handler], Handler]:
        return self._add("DELETE", template, False)


@dataclass(frozen=True, slots=True)
class _Path:
    segments: tuple[str | None, ...]  # a literal, or None for a parameter
    names: tuple[str, ...]
    methods: dict[str, Route]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        values: list[str] = []
        for literal, segment in zip(self.segments, segments, strict=True):
            if literal is None:
                if not segment:
                    return None
                values.append(unquote(segment, errors="replace"))
            elif literal != segment:
                return None
        return dict(zip(self.names, values, strict=True))


def _split(template: str) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    segments: list[str | None] = []
    names: list[str] = []
    for part in template[1:].split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            names.append(part[1:-1])
        else:
            segments.append(part)
    return tuple(segments), tuple(names)


class Router:
    """Every route of the API, matched literal-first."""

    def __init__(self, tables: Iterable[Routes]) -> None:
        paths: dict[str, _Path] = {}
        for table in tables:
            for route in table.table:
                segments, names = _split(route.template)
                path = paths.setdefault(route.template, _Path(segments, names, {}))
                if route.method in path.methods:
                    raise ValueError(f"two handlers for {route.method} {route.template}")
                path.methods[route.method] = route
        # Literal segments win over parameters: "/emails/batch" before "/emails/{id}".
        self._paths = sorted(
            paths.values(), key=lambda p: [segment is None for segment in p.segments]
        )

    @property
    def routes(self) -> list[Route]:
        return [route for path in self._paths for route in path.methods.values()]

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | Reply:
        if not path.startswith("/"):
            return error_reply(404, "not_found", "Not found")
        segments = path[1:].split("/")
        allowed: set[str] = set()
        for candidate in self._paths:
            params = candidate.match(segments)
            if params is None:
                continue
            route = candidate.methods.get(method)
            if route is not None:
                return route, params
            allowed.update(candidate.methods)
        if allowed:
            return error_reply(
                405,
                "method_not_allowed",
                f"Method {method} not allowed on {path}",
                (("allow", ", ".join(sorted(allowed))),),
            )
        return error_reply(404, "not_found", f"No route for {method} {path}")


def canonical(body: bytes) -> str:
    """A fingerprint of a body: equal JSON values give equal fingerprints."""
    try:
        text = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()


IDEMPOTENCY_WINDOW = timedelta(hours=24)


def idempotent(backend: Backend, scope: str, fingerprint: str, run: Callable[[], Reply]) -> Reply:
    """Replay a remembered success for a repeated key; only successes are remembered.

    A key is remembered for 24 hours of the sandbox clock, as the API keeps
    them. Called under the store lock, so a replay can never race the first
    request that carries the key.
    """
    store = backend.store
    now = backend.now()
    record = store.idempotency.get(scope)
    if record is not None and record.created_at < isoformat(now - IDEMPOTENCY_WINDOW):
        # Expired: forget it, and every other key as old, in the same pass.
        store.forget_idempotency_before(isoformat(now - IDEMPOTENCY_WINDOW))
        record = None
    if record is not None:
        if record.fingerprint != fingerprint:
            return error_reply(
                409, "conflict", "Idempotency key was already used with a different request body"
            )
        return Reply(record.status, record.body, (("idempotent-replayed", "true"),))
    reply = run()
    if 200 <= reply.status < 300:
        record = IdempotencyRecord(fingerprint, reply.status, reply.body, isoformat(now))
        store.remember(scope, record)
    return reply


class Api:
    """The PostStack API of one sandbox: authentication, limits, idempotency, handlers."""

    def __init__(self, backend: Backend, router: Router, limiter: RateLimiter | None) -> None:
        self.backend = backend
        self.router = router
        self.limiter = limiter

    def authenticate(self, request: RecordedRequest) -> Principal | Reply:
        auth = request.headers.get("authorization")
        if auth is None:
            return error_reply(401, "unauthorized", "Missing API key")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        own = self.backend.settings.api_key
        if scheme.lower() == "bearer" and secrets.compare_digest(
            token.encode("utf-8", "replace"), own.encode()
        ):
            return Principal(
                None, "full_access", own.startswith("sk_test_"), None, key_fingerprint(own)
            )
        if scheme.lower() == "bearer" and token:
            fingerprint = key_fingerprint(token)
            minted = self.backend.store.get(API_KEY, f"hash:{fingerprint}")
            if minted is not None:
                data = minted.data
                return Principal(
                    data["id"],
                    data["permission"],
                    data["mode"] == "test",
                    data.get("domainId"),
                    fingerprint,
                )
        return error_reply(401, "unauthorized", "Invalid API key")

    def handle(self, request: RecordedRequest) -> Reply:
        resolved = self.router.resolve(request.method, request.path)
        if isinstance(resolved, Reply):
            return resolved
        route, params = resolved
        principal = self.authenticate(request)
        if isinstance(principal, Reply):
            return principal
        if principal.permission != "full_access" and not route.sending:
            return error_reply(
                403, "forbidden", "This key has sending access only: it can send and read emails"
            )
        limit_headers: Headers = ()
        if self.limiter is not None:
            decision = self.limiter.take(principal.fingerprint)
            if not decision.allowed:
                return error_reply(
                    429,
                    "rate_limit_exceeded",
                    f"Rate limit of {decision.limit} requests per second exceeded",
                    decision.headers(),
                )
            limit_headers = decision.headers()
        call = ApiRequest(request, params, self.backend, principal)
        store = self.backend.store
        with store.lock:
            try:
                self.backend.lifecycle.catch_up()
                key = request.headers.get("idempotency-key")
                if request.method == "POST" and key:
                    scope = f"{principal.fingerprint}:header:{request.path}:{key}"
                    reply = idempotent(
                        self.backend, scope, canonical(request.body), lambda: _run(route, call)
                    )
                else:
                    reply = _run(route, call)
            finally:
                store.commit()
        return reply.with_headers(limit_headers) if limit_headers else reply


def _run(route: Route, call: ApiRequest) -> Reply:
    try:
        return route.handler(call)
    except ApiError as exc:
        return error_reply(exc.status, exc.code, exc.message)


def scope_for(call: ApiRequest, name: str, key: str) -> str:
    """The idempotency scope of a key sent inside a body (``emails.send``'s ``idempotency_key``)."""
    return f"{call.principal.fingerprint}:body:{name}:{key}"
