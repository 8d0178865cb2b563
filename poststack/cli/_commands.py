"""``emails get|list|cancel``, ``webhooks verify`` and ``sandbox``."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from . import _render
from ._common import EXIT_FAILURE, EXIT_OK, CommandError, UsageError, client_from, print_json
from ._send import email_json as _email_json

if TYPE_CHECKING:
    from poststack.testing import Sandbox, SandboxEmail
    from poststack.types import ListEmailsParams

DEFAULT_SANDBOX_KEY = "sk_test_sandbox"
DEFAULT_SANDBOX_PORT = 8025
# Sandbox seconds between an email's steps in `poststack sandbox`: long enough to watch the
# inbox move (queued, sent, delivered), short enough not to wait for it.
DEFAULT_STEP_SECONDS = 1.0

# -- emails --


def emails_get(args: argparse.Namespace) -> int:
    with client_from(args) as ps:
        result = ps.emails.get(args.id)
    if args.json:
        print_json(result)
    else:
        print("\n".join(_render.email_details(cast("dict[str, Any]", result["email"]))))
    return EXIT_OK


_LIST_FILTERS = (
    "page",
    "per_page",
    "status",
    "from_",
    "to",
    "subject",
    "tag",
    "domain_id",
    "date_from",
    "date_to",
)


def emails_list(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {}
    for name in _LIST_FILTERS:
        value = getattr(args, name)
        if value is not None:
            params[name.rstrip("_")] = value
    with client_from(args) as ps:
        result = ps.emails.list(cast("ListEmailsParams", params))
    if args.json:
        print_json(result)
        return EXIT_OK
    page = cast("dict[str, Any]", result)
    emails: list[dict[str, Any]] = page.get("emails") or []
    if emails:
        print("\n".join(_render.email_table(emails)))
    print(_render.pagination_line(len(emails), page.get("pagination")))
    return EXIT_OK


def emails_cancel(args: argparse.Namespace) -> int:
    with client_from(args) as ps:
        result = ps.emails.cancel(args.id, idempotency_key=args.idempotency_key)
    if args.json:
        print_json(result)
    else:
        print(f"cancelled {args.id}")
    return EXIT_OK


# -- webhooks --

_SIGNATURE_PREFIX = "x-poststack-signature:"


def webhooks_verify(args: argparse.Namespace) -> int:
    from poststack_core import verify

    secret: str | None = args.secret or os.environ.get("POSTSTACK_WEBHOOK_SECRET") or None
    if secret is None:
        raise UsageError("no signing secret: pass --secret or set POSTSTACK_WEBHOOK_SECRET")
    signature: str = args.signature.strip()
    if signature.lower().startswith(_SIGNATURE_PREFIX):
        # Accept the header line as copied from a request dump.
        signature = signature[len(_SIGNATURE_PREFIX) :].strip()
    payload = _read_payload(args.payload_file)
    if verify(payload, signature, secret):
        print("valid")
        return EXIT_OK
    print("invalid")
    return EXIT_FAILURE


def _read_payload(path: str | None) -> bytes:
    """The raw body bytes, exactly as delivered: from a file, or from stdin."""
    if path is None or path == "-":
        if path is None and sys.stdin.isatty():
            raise UsageError("no payload: pass --payload-file FILE or pipe the raw body on stdin")
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read payload file {path!r}: {exc.strerror or exc}") from None


# -- sandbox --


class _Stop(KeyboardInterrupt):
    """SIGTERM arrived: stop the sandbox as Ctrl-C would."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def sandbox(args: argparse.Namespace) -> int:
    """Run a standalone sandbox until Ctrl-C or SIGTERM, printing each email and its steps."""
    from poststack.testing import DatabaseInUseError, Sandbox, Timings

    key: str = getattr(args, "api_key", None) or DEFAULT_SANDBOX_KEY
    step: float = args.step
    try:
        sb = Sandbox(
            api_key=key,
            port=args.port,
            host=args.host,
            allow_remote=args.allow_remote,
            db=args.db,
            clock=args.clock,
            timings=Timings(send=step, deliver=step, feedback=step),
            rate_limit=args.rate_limit,
            monthly_quota=args.monthly_quota,
            require_verified_domain=args.require_verified_domain,
            request_log=0,  # runs for days: the inbox keeps the emails, not every request
        )
    except DatabaseInUseError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    follower = _Follower(json=args.json)
    with _terminate_as_stop():
        try:
            sb.start()
        except OSError as exc:
            sb.stop()
            raise CommandError(
                f"cannot start the sandbox on {args.host}:{args.port}: {exc.strerror or exc}"
            ) from None
        try:
            _announce(args, sb, key)
            follower.run(sb)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as _Stop
            pass
        finally:
            sb.stop()
    count = follower.accepted
    print(f"sandbox stopped ({count} email{'s' if count != 1 else ''} accepted)", file=sys.stderr)
    return EXIT_OK


class _Follower:
    """Prints each email as the sandbox accepts it, then each of its later steps."""

    def __init__(self, *, json: bool) -> None:
        self.json = json
        self.accepted = 0
        self._shown: dict[str, int] = {}  # email id -> how many of its events are printed

    def run(self, sb: Sandbox) -> None:
        """Follow until interrupted (Ctrl-C, or SIGTERM as :class:`_Stop`)."""
        while True:
            # The finite wait lets signals through promptly; nothing is polled.
            with sb.watch(timeout=1.0) as changes:
                for change, email in changes:
                    if email is None:
                        self._shown.clear()  # the inbox was cleared
                    elif change == "message":
                        self._arrived(email)
                    else:
                        self._moved(email)

    def _arrived(self, email: SandboxEmail) -> None:
        self.accepted += 1
        self._shown[email.id] = len(email.events)
        if self.json:
            _json_line({"event": "email", **_email_json(email)})
        else:
            print(_render.sandbox_email_line(email), flush=True)

    def _moved(self, email: SandboxEmail) -> None:
        for event in email.events[self._shown.get(email.id, 0) :]:
            if self.json:
                step = {"event": "step", "id": email.id, "type": event.type, "at": event.at}
                _json_line({**step, "status": email.status, "detail": event.detail})
            else:
                print(_render.sandbox_step_line(email, event), flush=True)
        self._shown[email.id] = len(email.events)


@contextlib.contextmanager
def _terminate_as_stop() -> Generator[None, None, None]:
    """Turn SIGTERM into :class:`_Stop` (in the main thread) while the sandbox runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _announce(args: argparse.Namespace, sb: Sandbox, key: str) -> None:
    base_url: str = sb.base_url
    if args.json:
        _json_line(
            {
                "event": "started",
                "base_url": base_url,
                "inbox_url": f"{base_url}/",
                "api_key": key,
                "db": args.db,
                "clock": args.clock,
            }
        )
        return
    print(f"PostStack sandbox running at {base_url}")
    print(f"API key: {key}")
    print(f"  export POSTSTACK_BASE_URL={base_url} POSTSTACK_API_KEY={key}")
    print(f"Web inbox: {base_url}/" + (f"  (kept in {args.db})" if args.db else ""))
    print(
        "Each email it accepts is printed below, then its steps. Press Ctrl-C to stop.", flush=True
    )


def _json_line(value: dict[str, Any]) -> None:
    import json

    print(json.dumps(value, ensure_ascii=False), flush=True)
