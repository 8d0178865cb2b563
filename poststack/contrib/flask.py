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
``POSTSTACK_MAX_RETRIES``, ``POSTSTACK_ALLOW_INSECURE_HTTP``.

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

from flask import Flask, current_app

from poststack import PostStack as Client

from ._config import client_options

if TYPE_CHECKING:
    from poststack.resources import Emails, Sync
    from poststack.transports import Transport

__all__ = ["EXTENSION_KEY", "PostStack", "get_client"]

EXTENSION_KEY = "poststack"


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
