"""Take the web inbox screenshots in docs/img/: ``python docs/screenshots.py``.

It starts a sandbox, sends a handful of realistic emails to it through the SDK
(one with a PDF, one that bounces and fires a webhook at a receiver on a
loopback port), then photographs the inbox with Debian's Chromium at 1440 px
and at 375 px wide. Needs ``pip install -e . playwright`` and ``/usr/bin/chromium``
(``apt install chromium``); nothing is downloaded.

Options: ``--out DIR`` (default: docs/img next to this script), ``--chromium PATH``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.server
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from poststack import PostStack
from poststack.testing import Sandbox

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
# The flags the browser tests use too: headless, and no network of Chromium's own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 375, "height": 812}
# The sandbox clock starts here and the browser's clock shows the same morning,
# so every run draws the same times.
START = datetime(2026, 3, 16, 8, 5, tzinfo=timezone.utc)
BROWSER_NOW = datetime(2026, 3, 16, 9, 52, tzinfo=timezone.utc)


def _style(**rules: str) -> str:
    """Inline CSS from keyword arguments: _style(font_size="15px") -> 'font-size:15px'."""
    return ";".join(f"{name.replace('_', '-')}:{value}" for name, value in rules.items())


_TABLE = 'role="presentation" width="100%" cellpadding="0" cellspacing="0"'
_HEAD = _style(
    background="linear-gradient(135deg,#6366f1,#7c3aed)",
    padding="28px 40px",
    color="#ffffff",
    font_size="20px",
    font_weight="700",
)
_BUTTON = _style(
    display="inline-block",
    background="#4f46e5",
    color="#ffffff",
    text_decoration="none",
    font_weight="600",
    padding="12px 22px",
    border_radius="8px",
    font_size="15px",
)
_FOOT = _style(padding="24px 40px 32px", color="#6b7280", font_size="12px", line_height="1.6")


def _layout(title: str, body: str, button: tuple[str, str]) -> str:
    """A plain, table-based HTML email (inline styles, as email clients need)."""
    label, href = button
    page = _style(margin="0", background="#f3f4f7", font_family="Helvetica,Arial,sans-serif")
    card = _style(max_width="560px", background="#ffffff", border_radius="14px", overflow="hidden")
    heading = _style(margin="0 0 12px", font_size="24px", line_height="1.3", color="#111827")
    return "\n".join(
        [
            "<!doctype html>",
            f'<html><body style="{page}">',
            f'<table {_TABLE} style="padding:32px 12px"><tr><td align="center">',
            f'<table {_TABLE} style="{card}">',
            f'<tr><td style="{_HEAD}">&#9679; Acme</td></tr>',
            '<tr><td style="padding:32px 40px 8px">',
            f'<h1 style="{heading}">{title}</h1>{body}</td></tr>',
            f'<tr><td style="padding:8px 40px"><a href="{href}" style="{_BUTTON}">{label}</a>',
            "</td></tr>",
            f'<tr><td style="{_FOOT}">Acme Inc. &middot; 1 Example Street, Springfield<br>',
            "You get this email because you have an Acme account.</td></tr>",
            "</table></td></tr></table></body></html>",
        ]
    )


def _p(text: str) -> str:
    style = _style(margin="0 0 14px", font_size="15px", line_height="1.6", color="#374151")
    return f'<p style="{style}">{text}</p>'


# A tiny one-page PDF for the invoice attachment (no xref table: viewers rebuild it).
_PDF = b"""%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R
/Resources<</Font<</F1 5 0 R>>>>>>endobj
4 0 obj<</Length 58>>stream
BT /F1 24 Tf 72 760 Td (Acme invoice INV-1042: 49.00 EUR) Tj ET
endstream endobj
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj
trailer<</Root 1 0 R>>
%%EOF
"""


def _attachment(filename: str, content: bytes, content_type: str) -> dict[str, str]:
    return {
        "filename": filename,
        "content": base64.b64encode(content).decode(),
        "content_type": content_type,
    }


def demo_emails() -> list[tuple[int, dict[str, Any]]]:
    """The emails to photograph, oldest first, each with the minutes to wait after it."""
    return [
        (
            26,
            {
                "from": "Acme Billing <billing@example.com>",
                "to": ["ada@example.com"],
                "subject": "Your Acme trial ends in 3 days",
                "html": _layout(
                    "Three days left in your trial",
                    _p("Keep your projects, history and integrations: choose a plan today.")
                    + _p("Acme Pro is &euro;49 a month for your whole team."),
                    ("Choose a plan", "https://acme.example/billing/plans"),
                ),
                "text": "Three days left in your Acme trial. Choose a plan: "
                "https://acme.example/billing/plans",
                "tags": ["trial", "billing"],
                # Tomorrow morning: it waits, scheduled, until the sandbox clock gets there.
                "scheduled_at": (START + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
            },
        ),
        (
            27,
            {
                "from": "Acme Security <security@example.com>",
                "to": ["ada@example.com"],
                "subject": "New sign-in to your Acme account",
                "html": _layout(
                    "New sign-in from Firefox on Linux",
                    _p("Someone signed in to your account from <b>Berlin, Germany</b>.")
                    + _p("If this was you, there is nothing to do."),
                    ("Review your sessions", "https://acme.example/settings/security"),
                ),
                "text": "New sign-in from Firefox on Linux (Berlin, Germany).",
                "tags": ["security"],
            },
        ),
        (
            14,
            {
                "from": "Acme Reports <reports@example.com>",
                "to": ["ada@example.com"],
                "subject": "Your data export is ready",
                "html": _layout(
                    "Your export is ready",
                    _p("We exported <b>1,284 tasks</b> from the Analytical Engines workspace.")
                    + _p("The CSV file is attached."),
                    ("Open Acme", "https://acme.example/"),
                ),
                "text": "We exported 1,284 tasks. The CSV file is attached.",
                "tags": ["export"],
                "attachments": [
                    _attachment(
                        "tasks-2026-03-16.csv",
                        b"id,title,status\n1,Design the engine,done\n2,Write the notes,open\n",
                        "text/csv",
                    )
                ],
            },
        ),
        (
            14,
            {
                "from": "Acme Security <security@example.com>",
                "to": ["grace.hopper@example.org"],
                "subject": "Reset your Acme password",
                "html": _layout(
                    "Reset your password",
                    _p("Someone asked to reset the password of your Acme account.")
                    + _p("The link works for 30 minutes. If it was not you, ignore this email."),
                    ("Choose a new password", "https://acme.example/reset?t=8f41c2"),
                ),
                "text": "Reset your password: https://acme.example/reset?t=8f41c2\n"
                "The link works for 30 minutes.",
                "tags": ["auth", "password-reset"],
            },
        ),
        (
            9,
            {
                "from": "Acme <hello@example.com>",
                "to": ["linus@example.net"],
                "subject": "Your weekly Acme digest",
                "html": _layout(
                    "This week at Acme",
                    _p("3 new comments on <b>Q3 planning</b>, 12 tasks closed, 2 mentions.")
                    + _p("Your team shipped the new onboarding flow on Thursday."),
                    ("Open Acme", "https://acme.example/"),
                ),
                "text": "This week: 3 new comments, 12 tasks closed, 2 mentions.",
                "tags": ["digest"],
            },
        ),
        (
            6,
            {
                "from": "Acme <hello@example.com>",
                "to": ["bounced@example.com"],
                "subject": "You're invited to join Acme",
                "html": _layout(
                    "Margaret invited you to Acme",
                    _p("Join the <b>Apollo</b> workspace to see its projects and tasks."),
                    ("Accept the invitation", "https://acme.example/invite/42"),
                ),
                "text": "Margaret invited you to the Apollo workspace: https://acme.example/invite/42",
                "tags": ["invite"],
            },
        ),
        (
            4,
            {
                "from": "Acme Billing <billing@example.com>",
                "to": ["ada@example.com"],
                "cc": ["accounts@example.com"],
                "reply_to": "support@example.com",
                "subject": "Receipt for your Acme Pro subscription",
                "html": _layout(
                    "Thanks for your payment",
                    _p("We received <b>&euro;49.00</b> for Acme Pro (monthly).")
                    + _p("Invoice INV-1042 is attached as a PDF."),
                    ("View billing", "https://acme.example/billing"),
                ),
                "text": "We received EUR 49.00 for Acme Pro. Invoice INV-1042 is attached.",
                "tags": ["receipt", "billing"],
                "headers": {"X-Entity-Ref-ID": "inv_1042"},
                "attachments": [_attachment("INV-1042.pdf", _PDF, "application/pdf")],
            },
        ),
        (
            0,
            {
                "from": "Acme <hello@example.com>",
                "to": ["ada@example.com"],
                "subject": "Welcome to Acme, Ada!",
                "html": _layout(
                    "Welcome aboard, Ada",
                    _p("Your workspace <b>Analytical Engines</b> is ready.")
                    + _p("Invite your team, connect your calendar and create a first project:")
                    + _p(
                        "&#10003; Invite teammates<br>&#10003; Import from CSV<br>"
                        "&#10003; Set up notifications"
                    ),
                    ("Open your workspace", "https://acme.example/w/analytical-engines"),
                ),
                "text": "Welcome aboard, Ada! Your workspace Analytical Engines is ready.\n"
                "Open it: https://acme.example/w/analytical-engines",
                "tags": ["welcome", "onboarding"],
                "headers": {"X-Campaign": "onboarding-day-0"},
            },
        ),
    ]


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Answers every webhook POST with 200, as a happy app would."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/poststack"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def populate(sb: Sandbox, webhook_url: str) -> dict[str, str]:
    """Send the demo emails (the invitation bounces); return their ids by subject."""
    ids: dict[str, str] = {}
    with PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.webhooks.create({"url": webhook_url, "events": ["email.delivered", "email.bounced"]})
        delivered = 0
        for minutes, payload in demo_emails():
            ids[payload["subject"]] = ps.emails.send(payload)["id"]  # type: ignore[arg-type]
            if "scheduled_at" not in payload:
                # Its webhook (delivered, or the invitation's bounce) goes out before time moves on.
                delivered += 1
                sb.wait_for_deliveries(delivered, timeout=30)
            sb.advance(minutes * 60)
    return ids


def shoot(base_url: str, ids: dict[str, str], out: Path, chromium: str) -> list[Path]:
    """Photograph the inbox; the paths written."""
    from playwright.sync_api import expect, sync_playwright

    welcome = ids["Welcome to Acme, Ada!"]
    invite = ids["You're invited to join Acme"]
    shots = [
        ("inbox-1440.png", WIDE, welcome, None),
        ("timeline-1440.png", WIDE, invite, "Timeline"),
        ("inbox-375.png", NARROW, None, None),
        ("message-375.png", NARROW, welcome, None),
        ("timeline-375.png", NARROW, invite, "Timeline"),
    ]
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for name, viewport, target, tab in shots:
                context = browser.new_context(
                    viewport=viewport,  # type: ignore[arg-type]
                    locale="en-US",
                    timezone_id="UTC",
                    color_scheme="light",
                )
                page = context.new_page()
                page.clock.set_fixed_time(BROWSER_NOW)
                page.goto(base_url + (f"/#id={target}" if target else "/"))
                expect(page.locator("#live")).to_have_attribute("data-state", "live")
                expect(page.locator(".row")).to_have_count(len(ids))
                if target:
                    expect(page.locator(".message")).to_have_attribute("data-id", target)
                if tab:
                    page.get_by_role("tab", name=tab).click()
                    expect(page.locator(".delivery .code").first).to_have_text("200")
                elif target:
                    expect(page.frame_locator("iframe.preview").locator("h1")).to_be_visible()
                path = out / name
                page.screenshot(path=str(path))
                written.append(path)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "img")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with _receiver() as webhook_url, Sandbox(start_time=START) as sb:
        ids = populate(sb, webhook_url)
        for path in shoot(sb.base_url, ids, args.out, args.chromium):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
