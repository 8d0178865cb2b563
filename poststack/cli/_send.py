"""``poststack send``: build the payload from flags and files, send it, show the result.

With ``--sandbox`` the email goes to an embedded :class:`~poststack.testing.Sandbox`
on a loopback port, through the real client over real HTTP, and the summary
shows what the sandbox received.
"""

from __future__ import annotations

import argparse
import base64
import mimetypes
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import _render
from ._common import EXIT_OK, UsageError, client_from, print_json

if TYPE_CHECKING:
    from poststack.testing import RecordedRequest, SandboxEmail
    from poststack.types import Attachment, SendEmailParams

_HEADER_NAME_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


# -- argparse value types --


def iso_timestamp(value: str) -> str:
    """An ISO 8601 date-time with a UTC offset (``2030-01-02T09:00:00Z``), sent as given."""
    text = value.strip()
    probe = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        moment = datetime.fromisoformat(probe)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date-time: {value!r} (e.g. 2030-01-02T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no UTC offset; add one, e.g. {text}Z or {text}+02:00"
        )
    return text


def header(value: str) -> tuple[str, str]:
    """``Name: value`` (or ``Name=value``) for ``--header``."""
    colon, equals = value.find(":"), value.find("=")
    cut = min(i for i in (colon, equals) if i >= 0) if max(colon, equals) >= 0 else -1
    name = value[:cut].strip() if cut >= 0 else ""
    if not name or not set(name) <= _HEADER_NAME_CHARS:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {value!r}")
    return name, value[cut + 1 :].strip()


def variable(value: str) -> tuple[str, str]:
    """``KEY=VALUE`` for ``--var``."""
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key.strip(), rest


def split_addresses(values: list[str] | None) -> list[str]:
    """Flatten repeated and comma-separated address options.

    Commas inside double quotes or angle brackets do not split, so
    ``'"Doe, Jane" <jane@example.com>'`` stays one address.
    """
    out: list[str] = []
    for value in values or []:
        current: list[str] = []
        quoted = bracketed = False
        for char in value:
            if char == '"' and not bracketed:
                quoted = not quoted
            elif char == "<" and not quoted:
                bracketed = True
            elif char == ">" and not quoted:
                bracketed = False
            if char == "," and not quoted and not bracketed:
                out.append("".join(current))
                current = []
            else:
                current.append(char)
        out.append("".join(current))
    return [address.strip() for address in out if address.strip()]


# -- reading inputs --


def _read_text(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path!r} is not UTF-8 text: {exc.reason}") from None


def attachment(path: str) -> Attachment:
    """A file as ``{filename, content (base64), content_type}``."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read attachment {path!r}: {exc.strerror or exc}") from None
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return {
        "filename": file.name,
        "content": base64.b64encode(data).decode("ascii"),
        "content_type": content_type,
    }


def build_payload(args: argparse.Namespace) -> SendEmailParams:
    """The ``emails.send`` payload the flags describe; only the given fields appear."""
    if [args.html_file, args.text_file].count("-") > 1:
        raise UsageError("only one of --html-file and --text-file can read stdin ('-')")
    to = split_addresses(args.to)
    if not to:
        raise UsageError("--to needs at least one address")
    payload: dict[str, Any] = {"from": args.from_, "to": to}
    for key, values in (("cc", args.cc), ("bcc", args.bcc)):
        addresses = split_addresses(values)
        if addresses:
            payload[key] = addresses
    if args.reply_to is not None:
        payload["reply_to"] = args.reply_to
    if args.subject is not None:
        payload["subject"] = args.subject
    html = _read_text(args.html_file, "HTML file") if args.html_file else args.html
    text = _read_text(args.text_file, "text file") if args.text_file else args.text
    if html is not None:
        payload["html"] = html
    if text is not None:
        payload["text"] = text
    if args.template_id is not None:
        payload["template_id"] = args.template_id
    if args.variables:
        payload["variables"] = dict(args.variables)
    if html is None and text is None and args.template_id is None:
        raise UsageError(
            "nothing to send: give --html, --html-file, --text, --text-file or --template-id"
        )
    if args.headers:
        payload["headers"] = dict(args.headers)
    if args.tags:
        payload["tags"] = list(args.tags)
    if args.attach:
        payload["attachments"] = [attachment(path) for path in args.attach]
    if args.scheduled_at is not None:
        payload["scheduled_at"] = args.scheduled_at
    return cast("SendEmailParams", payload)


# -- the command --


def run(args: argparse.Namespace) -> int:
    payload = build_payload(args)
    if args.sandbox:
        return _send_to_sandbox(args, payload)
    with client_from(args) as ps:
        result = ps.emails.send(payload, idempotency_key=args.idempotency_key)
    if args.json:
        print_json(result)
    else:
        print(result["id"])
    return EXIT_OK


def _send_to_sandbox(args: argparse.Namespace, payload: SendEmailParams) -> int:
    if args.base_url is not None:
        raise UsageError("--sandbox starts its own local server; drop --base-url (or --sandbox)")
    from poststack.testing import Sandbox

    try:
        sandbox = Sandbox().start()
    except OSError as exc:
        raise UsageError(f"cannot start the sandbox: {exc.strerror or exc}") from None
    try:
        # The sandbox's own key, whatever --api-key or $POSTSTACK_API_KEY say:
        # a real key never goes to (or is printed by) the local server.
        with client_from(args, api_key=sandbox.api_key, base_url=sandbox.base_url) as ps:
            result = ps.emails.send(payload, idempotency_key=args.idempotency_key)
        email = next(e for e in sandbox.wait_for_emails(1) if e.id == result["id"])
        request = _send_request(sandbox.requests)
        base_url = sandbox.base_url
    finally:
        sandbox.stop()
    if args.json:
        print_json(
            {
                "id": result["id"],
                "sandbox": {
                    "base_url": base_url,
                    "request": _request_json(request),
                    "email": email_json(email),
                },
            }
        )
    else:
        print(result["id"])
        print("\n".join(_render.sandbox_summary(base_url, email, request)))
    return EXIT_OK


def _send_request(requests: list[RecordedRequest]) -> RecordedRequest | None:
    sends = [r for r in requests if r.method == "POST" and r.path == "/emails"]
    return sends[-1] if sends else None


def _request_json(request: RecordedRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    headers = dict(request.headers)
    if "authorization" in headers:
        headers["authorization"] = _render.redact_authorization(headers["authorization"])
    return {
        "method": request.method,
        "path": request.target,
        "request_id": request.request_id,
        "headers": headers,
        "json": request.json,
    }


def email_json(email: SandboxEmail) -> dict[str, Any]:
    """An accepted email as JSON for the CLI: attachments by size, not their base64."""
    data = asdict(email)
    data["from"] = data.pop("from_")
    data.pop("payload")  # the same JSON as request.json
    for item in data["attachments"]:
        # Keep the summary readable: sizes, not the base64 itself (it is in request.json).
        item["size"] = _render.attachment_size(item)
        item.pop("content", None)
    return data
