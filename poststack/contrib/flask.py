"""Flask extension: one :class:`poststack.PostStack` per app, built from ``app.config``.

::

    from flask import Flask
    from poststack.contrib.flask import PostStack

    poststack = PostStack()

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["POSTSTACK_API_KEY"] = "sk_live_..."
        poststack.init_app(app)
        return app

    # in a view:
    poststack.emails.send({...})

Configuration keys (all optional; key and base URL fall back to the environment):
``POSTSTACK_API_KEY``, ``POSTSTACK_BASE_URL``, ``POSTSTACK_TIMEOUT``,
``POSTSTACK_MAX_RETRIES``, ``POSTSTACK_ALLOW_INSECURE_HTTP``, and
``POSTSTACK_WEBHOOK_SECRET`` for :func:`webhook_blueprint`, which receives
webhook deliveries::

    from poststack.webhooks import WebhookRouter

    events = WebhookRouter()

    @events.on("email.bounced")
    def bounced(event): ...

    app.register_blueprint(webhook_blueprint(events))   # POST /webhooks/poststack

The client lives as long as the app: it is stored in
``app.extensions["poststack"]``, shared by every request and thread (it is
thread-safe, and its connection pool is reused), and closed when the app is
garbage-collected or the interpreter exits, or at once by :meth:`PostStack.close`.
It is deliberately *not* closed by ``teardown_appcontext``, which runs after
every request. Its HTTP transport is created on first use, so an app built
before a pre-forking server forks shares no sockets with its workers.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from flask import Blueprint, Flask, Request, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from poststack import PostStack as Client
from poststack.webhooks import Secret, WebhookRouter
from poststack_core import check_secrets

from ._config import client_options

if TYPE_CHECKING:
    from poststack.resources import Emails, Sync
    from poststack.transports import Transport

__all__ = ["DEFAULT_WEBHOOK_PATH", "EXTENSION_KEY", "PostStack", "get_client", "webhook_blueprint"]

EXTENSION_KEY = "poststack"
DEFAULT_WEBHOOK_PATH = "/webhooks/poststack"


def get_client(app: Flask | None = None) -> Client:
    """The PostStack client of ``app`` (default: the current app)."""
    app = app if app is not None else current_app
    try:
        client = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "PostStack is not set up on this Flask app: call PostStack(app) or "
            "poststack.init_app(app) first"
        ) from None
    if not isinstance(client, Client):
        raise TypeError(f'app.extensions["{EXTENSION_KEY}"] is not a poststack.PostStack')
    return client


class PostStack:
    """The Flask extension. ``PostStack(app)``, or ``PostStack()`` then ``init_app(app)``.

    One extension object can serve several apps (the app-factory pattern): its
    :attr:`client` and :attr:`emails` resolve to the current app's client.
    ``transport`` (optional) is handed to every client it builds and stays
    yours to close.
    """

    def __init__(self, app: Flask | None = None, *, transport: Transport | None = None) -> None:
        self._transport = transport
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the app's client from ``app.config`` and store it on the app."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("PostStack is already set up on this Flask app")
        config = cast("Mapping[str, object]", app.config)  # a dict of unknown values to pyright
        options = client_options(config.get, "app.config")
        try:
            client = Client(**options, transport=self._transport)
        except ValueError as exc:
            raise ValueError(f'{exc} (or set app.config["POSTSTACK_API_KEY"])') from exc
        app.extensions[EXTENSION_KEY] = client
        weakref.finalize(app, client.close)

    @property
    def client(self) -> Client:
        """The current app's client (needs an app context)."""
        return get_client()

    @property
    def emails(self) -> Emails[Sync]:
        """``client.emails`` of the current app: ``poststack.emails.send({...})``."""
        return get_client().emails

    def close(self, app: Flask | None = None) -> None:
        """Close the client of ``app`` (default: the current app) now. Idempotent."""
        get_client(app).close()


def _read_body(incoming: Request, limit: int) -> bytes | None:
    """The raw body, or ``None`` when it is longer than ``limit`` (read no further)."""
    if incoming.content_length is not None and incoming.content_length > limit:
        return None
    body = incoming.stream.read(limit + 1)
    return None if len(body) > limit else body


def webhook_blueprint(
    router: WebhookRouter,
    path: str = DEFAULT_WEBHOOK_PATH,
    *,
    secret: Secret | None = None,
    name: str = "poststack_webhooks",
) -> Blueprint:
    """A blueprint with one ``POST path`` that runs each delivery through ``router``, once.

    ``app.register_blueprint(webhook_blueprint(events))``. The secret is
    ``secret``, else ``app.config["POSTSTACK_WEBHOOK_SECRET"]`` (a str, or a
    list during a rotation), else the router's own, else
    ``$POSTSTACK_WEBHOOK_SECRET``. Answers: 200 (handled, or a redelivery of a
    handled event), 401 (missing or wrong signature), 400 (signed, not a JSON
    object), 409 (being handled by another request), 413 (over the router's
    ``max_body_size``); a handler's exception propagates (500) and PostStack
    delivers the event again. Async handlers run in an event loop of their own.
    With Flask-WTF's CSRF protection on, exempt it: ``csrf.exempt(blueprint)``.
    """
    secrets = check_secrets(secret) if secret is not None else None
    blueprint = Blueprint(name, __name__)

    @blueprint.post(path)
    def receive() -> ResponseReturnValue:
        config = cast("Mapping[str, object]", current_app.config)
        configured = secrets or config.get("POSTSTACK_WEBHOOK_SECRET") or None
        body = _read_body(request, router.max_body_size)
        if body is None:
            return jsonify(detail="Webhook body too large"), 413
        result = router.handle(
            body,
            dict(request.headers.items()),
            secret=check_secrets(configured) if configured is not None else None,
        )
        return jsonify(result.body), result.status

    return blueprint
