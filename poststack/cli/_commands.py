"""``emails get|list|cancel``, ``webhooks verify`` and ``sandbox``."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Generator
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from . import _render
from ._common import EXIT_FAILURE, EXIT_OK, CommandError, UsageError, client_from, print_json

if TYPE_CHECKING:
    from poststack.types import ListEmailsParams

DEFAULT_SANDBOX_KEY = "sk_test_sandbox"

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
    """Run a standalone sandbox until Ctrl-C or SIGTERM, printing each email it accepts."""
    from poststack.testing import Sandbox

    key: str = args.api_key or DEFAULT_SANDBOX_KEY
    try:
        sb = Sandbox(
            api_key=key,
            port=args.port,
            host=args.host,
            require_verified_domain=args.require_verified_domain,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    seen = 0
    with _terminate_as_stop():
        try:
            sb.start()
        except OSError as exc:
            raise CommandError(
                f"cannot start the sandbox on {args.host}:{args.port}: {exc.strerror or exc}"
            ) from None
        try:
            _announce(args, sb.base_url, key)
            while True:
                try:
                    outbox = sb.wait_for_emails(seen + 1, timeout=1.0)
                except TimeoutError:
                    continue
                for email in outbox[seen:]:
                    if args.json:
                        _json_line({"event": "email", **_email_json(email)})
                    else:
                        print(_render.sandbox_email_line(email), flush=True)
                seen = len(outbox)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as _Stop
            pass
        finally:
            sb.stop()
    print(f"sandbox stopped ({seen} email{'s' if seen != 1 else ''} accepted)", file=sys.stderr)
    return EXIT_OK


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


def _announce(args: argparse.Namespace, base_url: str, key: str) -> None:
    if args.json:
        _json_line({"event": "started", "base_url": base_url, "api_key": key})
        return
    print(f"PostStack sandbox running at {base_url}")
    print(f"API key: {key}")
    print(f"  export POSTSTACK_BASE_URL={base_url} POSTSTACK_API_KEY={key}")
    print("Each email it accepts is printed below. Press Ctrl-C to stop.", flush=True)


def _json_line(value: dict[str, Any]) -> None:
    import json

    print(json.dumps(value, ensure_ascii=False), flush=True)


def _email_json(email: Any) -> dict[str, Any]:
    data: dict[str, Any] = asdict(email)
    data["from"] = data.pop("from_")
    return data
