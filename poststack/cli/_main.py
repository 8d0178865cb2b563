"""The argument parser and ``main``: dispatch, and turning every failure into a clean exit."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from . import _commands, _send, _send_many
from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, CommandError

PROG = "poststack"

DESCRIPTION = """\
Send and inspect PostStack emails, verify webhook signatures, run a local sandbox.

  poststack send --sandbox --from hello@yourdomain.com --to user@example.com \\
      --subject Hello --html "<h1>Welcome!</h1>"
  poststack send-many subscribers.csv --from news@yourdomain.com \\
      --subject "Hello {{name}}" --html-file newsletter.html --run-id june-2026
"""

EPILOG = """\
environment:
  POSTSTACK_API_KEY         API key when --api-key is not given
  POSTSTACK_BASE_URL        API base URL when --base-url is not given
  POSTSTACK_WEBHOOK_SECRET  signing secret when `webhooks verify` gets no --secret
  POSTSTACK_DEBUG           set to 1 to print a traceback on an unexpected error

exit status:
  0 success; 1 the API call failed (status, code, message and request id go to
  stderr) or a webhook signature is invalid; 2 bad usage, input or missing key;
  130 interrupted.
"""

Handler = Callable[[argparse.Namespace], int]
if TYPE_CHECKING:
    # argparse's subparsers object; generic only in typeshed, hence the guard.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]  # pyright: ignore[reportPrivateUsage]
_FORMATTER = argparse.RawDescriptionHelpFormatter


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {value!r}")
    return number


def _count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {number}")
        return number

    parse.__name__ = "integer"
    return parse


def _client_options(*, top_level: bool) -> argparse.ArgumentParser:
    """--api-key, --base-url, --timeout, --max-retries: before or after the subcommand.

    On subcommands they default to SUPPRESS, so a value given before the
    subcommand is not overwritten by the subcommand's default.
    """
    parser = argparse.ArgumentParser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("connection options")
    group.add_argument(
        "--api-key", metavar="KEY", default=default, help="API key (default: $POSTSTACK_API_KEY)"
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default,
        help="API base URL (default: $POSTSTACK_BASE_URL, then https://api.poststack.dev)",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        default=default,
        help="time limit for each attempt (default: 30)",
    )
    group.add_argument(
        "--max-retries",
        type=_count(0),
        metavar="N",
        default=default,
        help="retries of 408, 429, 5xx and failed connections (default: 3; 0 disables)",
    )
    output = parser.add_argument_group("output options")
    output.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top_level else argparse.SUPPRESS,
        help="log every HTTP attempt (retries are logged by default)",
    )
    output.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="do not log retries; print errors only",
    )
    return parser


class _LogFormatter(logging.Formatter):
    """``poststack: warning: GET /emails -> 503 ...; retrying in 0.2 s``."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def _configure_logging(args: argparse.Namespace) -> None:
    """Send the SDK's ``poststack`` logger to stderr: retries, or every attempt with -v."""
    verbose: int = getattr(args, "verbose", 0)
    quiet: bool = getattr(args, "quiet", False)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormatter())
    logger = logging.getLogger("poststack")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.DEBUG if verbose else logging.WARNING)


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def build_parser() -> argparse.ArgumentParser:
    from poststack import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_FORMATTER,
        parents=[_client_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    client = _client_options(top_level=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_send(commands, client)
    _add_send_many(commands, client)
    _add_emails(commands, client)
    _add_webhooks(commands)
    _add_sandbox(commands)
    return parser


def _add_send(commands: Commands, client: argparse.ArgumentParser) -> None:
    """``send``: every field of ``emails.send`` as a flag."""
    send = commands.add_parser(
        "send",
        parents=[client],
        formatter_class=_FORMATTER,
        help="send one email",
        description="Send one email (POST /emails) and print its id.\n\n"
        "With --sandbox, start a local sandbox, send to it through the real client\n"
        "over real HTTP, and print the id and what the sandbox received; no API key\n"
        "is needed and nothing leaves the machine.",
    )
    send.set_defaults(handler=_send.run)
    send.add_argument(
        "--from",
        dest="from_",
        required=True,
        metavar="ADDRESS",
        help='sender: "addr" or "Name <addr>", on a verified domain',
    )
    for flag, what in (("--to", "recipient"), ("--cc", "Cc recipient"), ("--bcc", "Bcc recipient")):
        send.add_argument(
            flag,
            action="append",
            metavar="ADDRESS",
            required=flag == "--to",
            help=f"{what}; repeat the option or separate addresses with commas",
        )
    send.add_argument("--reply-to", metavar="ADDRESS", help="Reply-To address")
    send.add_argument("--subject", help="subject line")
    html = send.add_mutually_exclusive_group()
    html.add_argument("--html", metavar="HTML", help="HTML body")
    html.add_argument(
        "--html-file", metavar="PATH", help="read the HTML body from a file (- for stdin)"
    )
    text = send.add_mutually_exclusive_group()
    text.add_argument("--text", metavar="TEXT", help="plain-text body")
    text.add_argument(
        "--text-file", metavar="PATH", help="read the text body from a file (- for stdin)"
    )
    send.add_argument(
        "--attach",
        action="append",
        metavar="PATH",
        help="attach a file (repeatable); its content type is guessed from the name",
    )
    send.add_argument("--tag", dest="tags", action="append", metavar="TAG", help="tag (repeatable)")
    send.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_send.header,
        metavar="'NAME: VALUE'",
        help="custom email header (repeatable)",
    )
    send.add_argument("--template-id", metavar="ID", help="send a published template")
    send.add_argument(
        "--var",
        dest="variables",
        action="append",
        type=_send.variable,
        metavar="KEY=VALUE",
        help="template variable (repeatable)",
    )
    send.add_argument(
        "--scheduled-at",
        type=_send.iso_timestamp,
        metavar="ISO8601",
        help="send later, e.g. 2030-01-02T09:00:00Z (a UTC offset is required)",
    )
    send.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="Idempotency-Key header (default: a new UUID; reuse one to send at most once)",
    )
    send.add_argument(
        "--sandbox",
        action="store_true",
        help="send to an embedded local sandbox instead of the API",
    )
    _json_option(send, "the result (with --sandbox: and what the sandbox received)")


def _add_send_many(commands: Commands, client: argparse.ArgumentParser) -> None:
    """``send-many``: one email per row, through emails.send_many."""
    many = commands.add_parser(
        "send-many",
        parents=[client],
        formatter_class=_FORMATTER,
        help="send one email per row of a CSV or JSON Lines file",
        description=_send_many.__doc__,
        epilog="exit status: 0 every email sent; 1 some were not; 2 bad input (nothing sent);\n"
        "130 stopped by Ctrl-C or SIGTERM (after the requests in flight).",
    )
    many.set_defaults(handler=_send_many.run)
    rows = many.add_argument_group("input")
    rows.add_argument(
        "recipients", metavar="FILE", help="CSV (with a header row) or JSON Lines; - for stdin"
    )
    rows.add_argument(
        "--format", choices=["csv", "jsonl"], help="the file's format (default: its extension)"
    )
    rows.add_argument(
        "--map",
        action="append",
        type=_send_many.mapping,
        metavar="COLUMN=FIELD",
        help="fill an email field from this column (repeatable), e.g. --map address=to",
    )
    rows.add_argument(
        "--var",
        dest="variables",
        action="append",
        type=_send.variable,
        metavar="KEY=VALUE",
        help="a template variable for every row (a column of that name wins)",
    )
    email = many.add_argument_group("email")
    email.add_argument(
        "--from", dest="from_", metavar="ADDRESS", help="sender (or a 'from' column)"
    )
    email.add_argument("--subject", metavar="TEMPLATE", help="subject line, with {{column}}s")
    html = email.add_mutually_exclusive_group()
    html.add_argument("--html", metavar="TEMPLATE", help="HTML body, with {{column}}s (escaped)")
    html.add_argument("--html-file", metavar="PATH", help="read the HTML body template from a file")
    text = email.add_mutually_exclusive_group()
    text.add_argument("--text", metavar="TEMPLATE", help="plain-text body, with {{column}}s")
    text.add_argument("--text-file", metavar="PATH", help="read the text body template from a file")
    email.add_argument(
        "--template-id",
        metavar="ID",
        help="send a published template; the columns are its variables",
    )
    email.add_argument("--reply-to", metavar="ADDRESS", help="Reply-To address")
    email.add_argument(
        "--tag", dest="tags", action="append", metavar="TAG", help="tag (repeatable)"
    )
    email.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_send.header,
        metavar="'NAME: VALUE'",
        help="custom email header (repeatable)",
    )
    run = many.add_argument_group("the run")
    run.add_argument(
        "--run-id",
        metavar="ID",
        help="make every request's key deterministic: run the same file with the same id again "
        "after a crash, and only what was not sent is sent",
    )
    run.add_argument(
        "--journal",
        metavar="PATH",
        help="keep a local journal of the run (needs --run-id): a rerun skips what it lists",
    )
    run.add_argument(
        "--batch-size",
        type=_count(1, 100),
        default=100,
        metavar="N",
        help="emails per request, at most 100 (default: 100; 1 sends each alone)",
    )
    run.add_argument(
        "--concurrency",
        type=_count(1, 256),
        default=4,
        metavar="N",
        help="requests in flight at once (default: 4)",
    )
    run.add_argument(
        "--max-rate",
        type=_positive_float,
        metavar="N",
        help="at most N requests per second (default: as fast as the API's limits allow)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and show the first email; send nothing (no API key needed)",
    )
    run.add_argument(
        "--results",
        metavar="PATH",
        help="write row, to, status, id and error for every row (.csv, or .jsonl)",
    )
    run.add_argument(
        "--progress",
        choices=["auto", "bar", "lines", "none"],
        default="auto",
        help="a live bar (rich if installed), plain lines, or nothing (default: a bar on a "
        "terminal, else lines)",
    )
    _json_option(many, "progress and the summary as JSON lines")


def _add_emails(commands: Commands, client: argparse.ArgumentParser) -> None:
    """``emails get|list|cancel``."""
    emails = commands.add_parser(
        "emails", help="read and manage sent emails", description="Read and manage sent emails."
    )
    email_commands = emails.add_subparsers(title="commands", metavar="COMMAND", required=True)
    get = email_commands.add_parser(
        "get",
        parents=[client],
        help="show one email",
        description="Show one email, its status and events.",
    )
    get.set_defaults(handler=_commands.emails_get)
    get.add_argument("id", metavar="ID", help="the email's id (em_...)")
    _json_option(get, "the API's response")
    listing = email_commands.add_parser(
        "list",
        parents=[client],
        help="list emails, newest first",
        description="List emails, newest first, one page at a time.",
    )
    listing.set_defaults(handler=_commands.emails_list)
    listing.add_argument("--page", type=_count(1), metavar="N", help="page number (from 1)")
    listing.add_argument("--per-page", type=_count(1), metavar="N", help="emails per page")
    listing.add_argument(
        "--status",
        choices=["queued", "sending", "deferred", "delivered", "bounced", "complained", "failed"],
        help="only emails in this status",
    )
    listing.add_argument("--from", dest="from_", metavar="ADDRESS", help="only from this sender")
    listing.add_argument("--to", metavar="ADDRESS", help="only to this recipient")
    listing.add_argument("--subject", metavar="TEXT", help="only with this in the subject")
    listing.add_argument("--tag", metavar="TAG", help="only with this tag")
    listing.add_argument("--domain-id", metavar="ID", help="only from this domain")
    listing.add_argument("--date-from", metavar="ISO8601", help="only created at or after")
    listing.add_argument("--date-to", metavar="ISO8601", help="only created at or before")
    _json_option(listing, "the API's response")
    cancel = email_commands.add_parser(
        "cancel",
        parents=[client],
        help="cancel a scheduled email",
        description="Cancel a scheduled email.",
    )
    cancel.set_defaults(handler=_commands.emails_cancel)
    cancel.add_argument("id", metavar="ID", help="the email's id (em_...)")
    cancel.add_argument("--idempotency-key", metavar="KEY", help="Idempotency-Key header")
    _json_option(cancel, "the API's response")


def _add_webhooks(commands: Commands) -> None:
    """``webhooks verify``."""
    webhooks = commands.add_parser("webhooks", help="webhook tools", description="Webhook tools.")
    webhook_commands = webhooks.add_subparsers(title="commands", metavar="COMMAND", required=True)
    verify = webhook_commands.add_parser(
        "verify",
        help="check a webhook delivery's signature",
        description="Check that a webhook body was signed with your secret.\n"
        'Prints "valid" (exit 0) or "invalid" (exit 1). Pass the raw body bytes\n'
        "exactly as received: re-serialised JSON does not verify.",
        formatter_class=_FORMATTER,
    )
    verify.set_defaults(handler=_commands.webhooks_verify)
    verify.add_argument(
        "--secret", metavar="SECRET", help="signing secret (default: $POSTSTACK_WEBHOOK_SECRET)"
    )
    verify.add_argument(
        "--signature",
        required=True,
        metavar="HEADER",
        help="the X-PostStack-Signature header value, e.g. sha256=9f86...",
    )
    verify.add_argument(
        "--payload-file",
        metavar="PATH",
        help="file with the raw request body (default: read stdin)",
    )


def _names(value: str) -> list[str]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one host name, e.g. --allow-remote sandbox")
    return names


def _add_sandbox(commands: Commands) -> None:
    """``sandbox``: a standalone server with the web inbox."""
    sandbox = commands.add_parser(
        "sandbox",
        help="run a local PostStack sandbox with a web inbox",
        formatter_class=_FORMATTER,
        description="Run a PostStack-compatible sandbox until Ctrl-C or SIGTERM: every API\n"
        "method, a web inbox at http://127.0.0.1:8025/ and its JSON API under /_sandbox/.\n"
        "It prints its base URL and API key, then a line for each email it accepts and\n"
        "for each later step (sent, delivered, bounced, ...).",
        epilog="test recipients: delayed@, bounced@, soft-bounced@, complained@, opened@,\n"
        "clicked@ and failed@ (any domain, +tags allowed) play out that outcome.",
    )
    sandbox.set_defaults(handler=_commands.sandbox)
    sandbox.add_argument(
        "--port",
        type=_count(0),
        default=_commands.DEFAULT_SANDBOX_PORT,
        metavar="N",
        help=f"port to listen on (default: {_commands.DEFAULT_SANDBOX_PORT}; 0 picks a free one)",
    )
    sandbox.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to bind (default: 127.0.0.1); anything but loopback needs --allow-remote",
    )
    sandbox.add_argument(
        "--allow-remote",
        dest="allow_remote",
        action="extend",
        type=_names,
        default=[],
        metavar="NAME[,NAME]",
        help="host names (or name:port) that clients elsewhere use to reach the sandbox, e.g. "
        "the compose service name; requests naming any other host are refused",
    )
    sandbox.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        metavar="KEY",
        help=f"the key clients must send (default: {_commands.DEFAULT_SANDBOX_KEY}; "
        "$POSTSTACK_API_KEY is never used, so a real key is never printed)",
    )
    sandbox.add_argument(
        "--db",
        metavar="PATH",
        help="keep every resource, email and event in this SQLite file (default: in memory)",
    )
    sandbox.add_argument(
        "--rate-limit",
        type=_count(1),
        metavar="N",
        help="requests per second per key; beyond it, 429 with Retry-After",
    )
    sandbox.add_argument(
        "--monthly-quota",
        type=_count(1),
        metavar="N",
        help="emails per calendar month; beyond it, the API's quota 429",
    )
    sandbox.add_argument(
        "--clock",
        choices=["real", "frozen"],
        default="real",
        help="real (default): time passes; frozen: it moves only with POST /_sandbox/clock/advance",
    )
    sandbox.add_argument(
        "--step",
        type=_non_negative_float,
        default=_commands.DEFAULT_STEP_SECONDS,
        metavar="SECONDS",
        help="seconds between an email's steps, queued -> sent -> delivered "
        f"(default: {_commands.DEFAULT_STEP_SECONDS:g}; 0: at once)",
    )
    sandbox.add_argument(
        "--require-verified-domain",
        action="store_true",
        help="reject senders whose domain is not verified, as the real API does",
    )
    sandbox.add_argument(
        "--json",
        action="store_true",
        help='print JSON lines: {"event": "started", ...}, then "email" and "step" events',
    )


def _non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {value!r}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``poststack`` command; returns the exit status (never raises, but SystemExit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _configure_logging(args)
        handler: Handler = args.handler
        status = handler(args)
        sys.stdout.flush()
    except CommandError as exc:
        _flush_quietly()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        _flush_quietly()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`poststack emails list | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as exc:
        from poststack import PostStackError

        _flush_quietly()
        if isinstance(exc, PostStackError):
            from ._render import error_line

            print(error_line(exc), file=sys.stderr)
            return EXIT_FAILURE
        if os.environ.get("POSTSTACK_DEBUG"):
            import traceback

            traceback.print_exc()
        print(
            f"{PROG}: unexpected error: {type(exc).__name__}: {exc}"
            " (set POSTSTACK_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return status


def _flush_quietly() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
