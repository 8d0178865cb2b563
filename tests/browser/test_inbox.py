"""The sandbox's web inbox in a real browser (headless Chromium through Playwright).

Each test starts a sandbox, sends through the SDK over real HTTP, and checks
what a person sees and can do in the inbox. Every wait is on a page condition
(Playwright's ``expect``) or on an event of the test's own receiver; none sleeps.
"""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from poststack import PostStack, PostStackConnectionError, PostStackError
from poststack.testing import Sandbox
from poststack.webhooks import verify

from .conftest import Receiver


def email(subject: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "from": "Acme <hello@example.com>",
        "to": ["ada@example.com"],
        "subject": subject,
        "text": f"{subject} (text part)",
    }
    payload.update(fields)
    return payload


def send(client: PostStack, subject: str, **fields: Any) -> str:
    result = client.emails.send(email(subject, **fields))  # type: ignore[arg-type]
    return str(result["id"])


def inbox(sandbox: Sandbox, method: str, path: str, body: object = None) -> Any:
    """Call the sandbox's inbox API the way the page does."""
    response = httpx.request(
        method,
        sandbox.base_url + "/_sandbox" + path,
        content=None if body is None else json.dumps(body),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json() if response.content else None


def rows(page: Page) -> Any:
    return page.locator("#messages .row")


def open_email(page: Page, subject: str) -> None:
    exact = page.locator(".row-subject").get_by_text(subject, exact=True)
    rows(page).filter(has=exact).locator("a").click()
    expect(page.locator("#message-subject")).to_have_text(subject)


def live(page: Page) -> None:
    """Wait until the page's event stream is connected."""
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


# --- the list --------------------------------------------------------------------------------


def test_the_list_updates_live_without_a_reload(page: Page, client: PostStack) -> None:
    live(page)
    expect(page.locator("#list-empty")).to_contain_text("No emails yet")
    page.evaluate("window.__sameDocument = true")

    send(client, "First of two")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("First of two")
    send(client, "Second of two")
    expect(rows(page)).to_have_count(2)
    # Newest first, and the count follows.
    expect(rows(page).first).to_contain_text("Second of two")
    expect(page.locator("#list-count")).to_have_text("2 emails")
    # Unread emails are marked, and counted in the title.
    expect(page.locator("#messages .row.fresh")).to_have_count(2)
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    # Still the same document: nothing reloaded the page.
    assert page.evaluate("window.__sameDocument") is True


def test_the_list_shows_what_was_there_before_the_page_opened(
    page: Page, client: PostStack
) -> None:
    for n in range(3):
        send(client, f"Earlier {n}")
    page.reload()
    expect(rows(page)).to_have_count(3)
    expect(rows(page).first).to_contain_text("Earlier 2")
    expect(rows(page).last).to_contain_text("Earlier 0")


def test_an_email_is_shown_as_text_never_as_markup(page: Page, client: PostStack) -> None:
    live(page)
    hostile = '<img src=x onerror="window.__owned = 1"><b>bold</b>'
    send(client, hostile, **{"from": '"Eve <b>bold</b>" <eve@example.com>'})
    expect(rows(page).first.locator(".row-subject")).to_have_text(hostile)
    assert rows(page).first.locator("img, b").count() == 0
    open_email(page, hostile)
    assert page.locator("#detail .message-head img, #detail .message-head b").count() == 0
    assert page.evaluate("window.__owned") is None


# --- one email -------------------------------------------------------------------------------


def test_an_email_opens_and_its_html_renders(page: Page, client: PostStack) -> None:
    send(
        client,
        "Welcome aboard",
        html='<h1>Hello Ada</h1><p id="styled" style="color: rgb(1, 2, 3)">Styled text</p>',
    )
    open_email(page, "Welcome aboard")
    frame = page.frame_locator("iframe.preview")
    expect(frame.locator("h1")).to_have_text("Hello Ada")
    # Inline styles apply: the email looks as it would in a mail client.
    expect(frame.locator("#styled")).to_have_css("color", "rgb(1, 2, 3)")
    # The selection shows in the list and in the address, so a reload comes back here.
    expect(rows(page).first.locator("a")).to_have_attribute("aria-current", "true")
    assert "id=em_" in page.url
    page.reload()
    expect(page.frame_locator("iframe.preview").locator("h1")).to_have_text("Hello Ada")


def test_a_script_inside_an_email_does_not_run(
    page: Page, client: PostStack, receiver: Receiver, sandbox: Sandbox
) -> None:
    html = (
        '<p id="probe">untouched</p>'
        "<script>"
        "document.getElementById('probe').textContent = 'script ran';"
        "parent.postMessage('script ran', '*');"
        f"fetch('{receiver.base_url}/from-script');"
        "</script>"
        f'<img id="remote" src="{receiver.base_url}/pixel.gif" alt="remote">'
        f'<link rel="stylesheet" href="{receiver.base_url}/remote.css">'
        '<img id="inline" alt="inline" src="data:image/gif;base64,'
        'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">'
        '<p id="end">end of email</p>'
    )
    page.evaluate(
        "window.__posted = [];"
        "window.addEventListener('message', (e) => window.__posted.push(String(e.data)))"
    )
    send(client, "Has a script", html=html)
    open_email(page, "Has a script")

    iframe = page.locator("iframe.preview")
    assert iframe.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")  # every subresource was tried (or refused) by now
    body = page.frame_locator("iframe.preview")
    expect(body.locator("#end")).to_have_text("end of email")
    expect(body.locator("#probe")).to_have_text("untouched")
    # The data: image loads (it is allowed), the remote one never does.
    assert body.locator("#inline").evaluate("img => img.naturalWidth") == 1
    assert body.locator("#remote").evaluate("img => img.naturalWidth") == 0
    assert page.evaluate("window.__posted") == []
    assert receiver.gets == []  # no remote image, stylesheet or fetch ever reached a server

    # Opened on its own, the HTML route forbids scripts and remote content as well.
    email_id = str(page.locator(".message").get_attribute("data-id"))
    response = httpx.get(f"{sandbox.base_url}/_sandbox/messages/{email_id}/html", timeout=10)
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy


def test_the_text_part_headers_metadata_and_request(
    page: Page, client: PostStack, sandbox: Sandbox
) -> None:
    client.emails.send(
        email(
            "All the parts",
            text="Line one\nLine two",
            html="<p>html</p>",
            headers={"X-Campaign": "spring-sale"},
            tags=["welcome"],
        ),  # type: ignore[arg-type]
        idempotency_key="order-42-welcome",
    )
    open_email(page, "All the parts")

    page.get_by_role("tab", name="Text").click()
    expect(page.locator("#panel-text pre")).to_have_text("Line one\nLine two")

    page.get_by_role("tab", name="Headers").click()
    headers = page.locator("#panel-headers")
    expect(headers.locator("tr", has_text="X-Campaign")).to_contain_text("spring-sale")

    page.get_by_role("tab", name="Request").click()
    request = page.locator("#panel-request")
    expect(request.locator(".idempotency-key")).to_have_text("order-42-welcome")
    expect(request.locator(".request-line")).to_contain_text("POST")
    expect(request.locator(".request-line")).to_contain_text("/emails")
    # The body is the exact JSON text the SDK put on the wire.
    sent = next(r for r in sandbox.requests if r.method == "POST" and r.path == "/emails")
    expect(request.locator("pre.request-body")).to_have_text(sent.body.decode())
    # The key the client authenticated with appears nowhere on the page.
    assert sandbox.api_key not in page.content()
    assert "authorization" not in request.inner_text().lower()


def test_an_attachment_downloads_with_the_right_bytes(page: Page, client: PostStack) -> None:
    pdf = b"%PDF-1.4\n" + os.urandom(3000) + b"\x00\xff\n%%EOF\n"
    send(
        client,
        "Your invoice",
        attachments=[
            {
                "filename": "INV-1042.pdf",
                "content": base64.b64encode(pdf).decode(),
                "content_type": "application/pdf",
            },
            {
                "filename": "notes.txt",
                "content": base64.b64encode(b"plain notes\n").decode(),
                "content_type": "text/plain",
            },
        ],
    )
    open_email(page, "Your invoice")
    expect(rows(page).first.locator(".icon-clip")).to_have_count(1)
    page.get_by_role("tab", name=re.compile("^Attachments")).click()
    items = page.locator("#panel-attachments .attachment")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("INV-1042.pdf")
    expect(items.first).to_contain_text("application/pdf")
    expect(items.nth(1)).to_contain_text("text/plain")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download INV-1042.pdf").click()
    download = info.value
    assert download.suggested_filename == "INV-1042.pdf"
    path = download.path()
    assert path is not None
    assert path.read_bytes() == pdf


# --- search ----------------------------------------------------------------------------------


def test_search_filters_the_list(page: Page, client: PostStack, sandbox: Sandbox) -> None:
    send(client, "Invoice 1042", **{"from": "billing@example.com"}, tags=["billing"])
    send(client, "Welcome Dave", to=["dave@example.org"], tags=["welcome"])
    bounced = send(client, "Reset your password", tags=["auth"])
    inbox(sandbox, "POST", f"/messages/{bounced}/bounce", {"type": "hard"})
    expect(rows(page)).to_have_count(3)
    search = page.get_by_label("Search emails")

    for query, subjects in [
        ("tag:welcome", ["Welcome Dave"]),
        ("from:billing@example.com", ["Invoice 1042"]),
        ("to:dave@example.org", ["Welcome Dave"]),
        ('subject:"your password"', ["Reset your password"]),
        ("invoice", ["Invoice 1042"]),  # free words: from, to or subject
        ("tag:nothing-has-this", []),
    ]:
        search.fill(query)
        expect(rows(page)).to_have_count(len(subjects))
        for row, subject in zip(rows(page).all(), subjects, strict=True):
            expect(row).to_contain_text(subject)
    expect(page.locator("#list-empty")).to_contain_text("No emails match")

    search.fill("")
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Status").select_option("bounced")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Reset your password")
    expect(search).to_have_value("status:bounced")

    # The search lives in the address: a reload keeps it.
    page.reload()
    expect(page.get_by_label("Search emails")).to_have_value("status:bounced")
    expect(rows(page)).to_have_count(1)


def test_a_live_email_shows_only_if_it_matches_the_search(page: Page, client: PostStack) -> None:
    live(page)
    page.get_by_label("Search emails").fill("tag:vip")
    expect(page.locator("#list-empty")).to_contain_text("No emails match")
    send(client, "Not for VIPs", tags=["other"])
    send(client, "For VIPs", tags=["vip"])
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("For VIPs")


def test_clicking_a_tag_searches_for_it(page: Page, client: PostStack) -> None:
    send(client, "Tagged", tags=["spring"])
    send(client, "Untagged")
    open_email(page, "Tagged")
    page.locator(".message-head").get_by_role("button", name="spring").click()
    expect(page.get_by_label("Search emails")).to_have_value("tag:spring")
    expect(rows(page)).to_have_count(1)


# --- bounces, complaints and webhooks --------------------------------------------------------


def test_a_bounce_fires_a_webhook_that_shows_in_the_timeline(
    page: Page, client: PostStack, receiver: Receiver
) -> None:
    created = client.webhooks.create({"url": receiver.url, "events": ["email.bounced"]})
    secret = str(created["signingSecret"])
    email_id = send(client, "Will bounce")
    open_email(page, "Will bounce")

    page.get_by_role("button", name="Hard bounce").click()

    timeline = page.locator("#panel-timeline")
    expect(timeline).to_be_visible()
    bounce = timeline.locator(".event", has_text="Bounced")
    delivery = bounce.locator(".delivery")
    expect(delivery).to_contain_text("email.bounced")
    expect(delivery).to_contain_text(receiver.url)
    expect(delivery.locator(".code")).to_have_text("200")
    expect(page.locator(".message-head .badge[data-status]")).to_have_text("Bounced")
    expect(rows(page).first.locator(".badge")).to_have_text("Bounced")

    # The receiver really got it, signed with the webhook's secret.
    (hook,) = [h for h in receiver.wait_for(1) if "bounced" in h.body.decode()]
    assert verify(hook.body, hook.headers["x-poststack-signature"], secret)
    assert email_id in hook.body.decode()


def test_a_complaint_fires_its_webhook_too(
    page: Page, client: PostStack, receiver: Receiver
) -> None:
    client.webhooks.create({"url": receiver.url, "events": ["email.complained"]})
    send(client, "Will be reported")
    open_email(page, "Will be reported")
    page.get_by_role("button", name="Complaint").click()
    complaint = page.locator("#panel-timeline .event", has_text="Complained")
    expect(complaint.locator(".delivery .code")).to_have_text("200")
    expect(complaint.locator(".delivery")).to_contain_text("email.complained")
    assert any("complained" in h.body.decode() for h in receiver.wait_for(1))


def test_the_open_email_follows_changes_made_elsewhere(
    page: Page, client: PostStack, sandbox: Sandbox
) -> None:
    email_id = send(client, "Watched")
    open_email(page, "Watched")
    page.get_by_role("tab", name=re.compile("^Timeline")).click()
    inbox(sandbox, "POST", f"/messages/{email_id}/bounce", {"type": "soft"})
    expect(page.locator("#panel-timeline .event[data-type='soft_bounced']")).to_have_count(1)
    expect(rows(page).first.locator(".badge")).not_to_have_text("Delivered")


# --- controls --------------------------------------------------------------------------------


def test_clear_empties_the_inbox_after_asking(
    page: Page, client: PostStack, sandbox: Sandbox
) -> None:
    send(client, "One")
    send(client, "Two")
    expect(rows(page)).to_have_count(2)

    page.get_by_role("button", name="Clear inbox").click()
    dialog = page.get_by_role("dialog", name="Clear the inbox?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(rows(page)).to_have_count(2)

    page.get_by_role("button", name="Clear inbox").click()
    dialog.get_by_role("button", name="Clear inbox").click()
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#list-empty")).to_contain_text("No emails yet")
    assert inbox(sandbox, "GET", "/messages")["total"] == 0


def test_an_armed_fault_fails_the_next_request(page: Page, sandbox: Sandbox) -> None:
    page.get_by_role("button", name="Faults").click()
    dialog = page.get_by_role("dialog", name="Inject faults")
    dialog.get_by_label("What happens").select_option("503")
    dialog.get_by_label("Path").fill("/emails")
    dialog.get_by_role("button", name="Arm fault").click()
    expect(dialog.locator(".pending-item")).to_have_count(1)
    expect(dialog.locator(".pending-item")).to_contain_text("503")

    with PostStack(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0) as ps:
        with pytest.raises(PostStackError) as failed:
            ps.emails.send(email("Hits the fault"))  # type: ignore[arg-type]
        assert failed.value.status_code == 503
        ps.emails.send(email("After the fault"))  # type: ignore[arg-type]
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("After the fault")


def test_faults_are_checked_before_they_are_sent(page: Page, sandbox: Sandbox) -> None:
    page.get_by_role("button", name="Faults").click()
    dialog = page.get_by_role("dialog", name="Inject faults")
    dialog.get_by_label("For the next").fill("0")
    dialog.get_by_role("button", name="Arm fault").click()
    expect(dialog.get_by_role("alert")).to_contain_text("at least 1")
    dialog.get_by_label("For the next").fill("2")
    dialog.get_by_label("Path").fill("emails")
    dialog.get_by_role("button", name="Arm fault").click()
    expect(dialog.get_by_role("alert")).to_contain_text("starts with /")
    assert sandbox.faults.pending == []

    dialog.get_by_label("Path").fill("/emails/*")
    dialog.get_by_role("button", name="Arm fault").click()
    expect(dialog.locator(".pending-item")).to_contain_text("2 requests left")
    dialog.get_by_role("button", name="Disarm all").click()
    expect(dialog.locator(".pending-item")).to_have_count(0)
    assert sandbox.faults.pending == []


def test_the_clock_advances_from_the_page(page: Page, sandbox: Sandbox) -> None:
    before = inbox(sandbox, "GET", "/clock")["now"]
    page.get_by_role("button", name="Clock").click()
    dialog = page.get_by_role("dialog", name="Sandbox clock")
    expect(dialog.locator("#clock-now")).not_to_have_text("…")
    shown = dialog.locator("#clock-now").inner_text()
    dialog.get_by_role("button", name="+1 h").click()
    expect(dialog.locator("#clock-now")).not_to_have_text(shown)
    after = inbox(sandbox, "GET", "/clock")["now"]
    from datetime import datetime

    gained = datetime.fromisoformat(after.replace("Z", "+00:00")) - datetime.fromisoformat(
        before.replace("Z", "+00:00")
    )
    assert gained.total_seconds() >= 3600


# --- layouts ---------------------------------------------------------------------------------


def test_both_panes_side_by_side_at_1440_px(page: Page, client: PostStack) -> None:
    send(client, "Wide", html="<h1>Wide</h1>")
    open_email(page, "Wide")
    list_box = page.locator(".list-pane").bounding_box()
    detail_box = page.locator(".detail-pane").bounding_box()
    assert list_box is not None
    assert detail_box is not None
    assert list_box["x"] + list_box["width"] <= detail_box["x"]
    assert detail_box["width"] > 800
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440


def overflow(page: Page, selector: str) -> int:
    """How many pixels the element's content is wider than the element."""
    return int(page.locator(selector).evaluate("el => el.scrollWidth - el.clientWidth"))


def test_a_phone_sees_the_list_then_the_email(
    phone: Page, client: PostStack, receiver: Receiver
) -> None:
    client.webhooks.create({"url": receiver.url + "/" + "long" * 20, "events": ["email.delivered"]})
    send(
        client,
        "On a phone",
        html="<h1>Small screen</h1>",
        tags=["mobile"],
        to=["a.very.long.address.that.needs.wrapping@subdomain.example.com"],
        headers={"X-A-Rather-Long-Header-Name": "and-an-even-longer-value-" * 4},
        attachments=[
            {
                "filename": "a-file-name-that-goes-on-and-on-and-on-and-on.pdf",
                "content": base64.b64encode(b"%PDF-1.4").decode(),
                "content_type": "application/pdf",
            }
        ],
    )
    receiver.wait_for(1)
    expect(rows(phone)).to_have_count(1)
    expect(phone.locator(".detail-pane")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    open_email(phone, "On a phone")
    expect(phone.locator(".list-pane")).to_be_hidden()
    expect(phone.frame_locator("iframe.preview").locator("h1")).to_have_text("Small screen")
    for tab in ["HTML", "Text", "Headers", "Request", "Attachments", "Timeline"]:
        phone.get_by_role("tab", name=re.compile(f"^{tab}")).click()
        expect(phone.locator(f"#panel-{tab.lower()}")).to_be_visible()
        # Nothing sticks out sideways: not the page, not the reading pane.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, tab
        assert overflow(phone, ".detail-pane") == 0, tab

    phone.locator(".message-head").get_by_role("button", name="Inbox").click()
    expect(phone.locator(".list-pane")).to_be_visible()
    expect(phone.locator(".detail-pane")).to_be_hidden()
    # The browser's own Back button returns to the email.
    phone.go_back()
    expect(phone.locator("#message-subject")).to_have_text("On a phone")


def test_every_control_has_an_accessible_name(page: Page, client: PostStack) -> None:
    send(client, "Accessible", html="<p>hi</p>")
    open_email(page, "Accessible")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, a[href], input, select, iframe')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('title') && !el.textContent.trim())
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    # Keyboard: "/" focuses the search, j and k move through the list.
    page.keyboard.press("Escape")
    page.locator("body").press("/")
    expect(page.get_by_label("Search emails")).to_be_focused()


# --- time, paging, keyboard, reconnecting ------------------------------------------------


def test_a_scheduled_email_goes_out_when_the_clock_is_moved_on(
    page: Page, client: PostStack, sandbox: Sandbox
) -> None:
    later = sandbox.clock.now() + timedelta(hours=1)
    send(client, "Tomorrow's news", scheduled_at=later.isoformat().replace("+00:00", "Z"))
    row = rows(page).first
    expect(row.locator(".badge")).to_have_text("Scheduled")
    open_email(page, "Tomorrow's news")
    # Nothing to bounce yet: the simulate buttons say why they are off.
    expect(page.get_by_role("button", name="Hard bounce")).to_be_disabled()

    page.get_by_role("button", name="Clock").click()
    dialog = page.get_by_role("dialog", name="Sandbox clock")
    expect(dialog.locator("#clock-mode")).to_have_text("Frozen")
    dialog.get_by_role("button", name="+1 h").click()
    dialog.get_by_role("button", name="Close").click()
    expect(row.locator(".badge")).to_have_text("Delivered")
    expect(page.locator(".message-head .badge[data-status]")).to_have_text("Delivered")
    expect(page.get_by_role("button", name="Hard bounce")).to_be_enabled()


def test_older_emails_load_on_demand(page: Page, client: PostStack) -> None:
    live(page)  # a page opened after the send would show the newest 50
    client.emails.batch(
        {"emails": [email(f"Bulk {n:02}") for n in range(55)]}  # type: ignore[typeddict-item]
    )
    expect(rows(page)).to_have_count(55)  # live, every arrival is shown
    page.reload()  # a fresh page loads the newest 50, and more on demand
    expect(rows(page)).to_have_count(50)
    expect(page.locator("#list-count")).to_have_text("55 emails")
    expect(rows(page).first).to_contain_text("Bulk 54")
    page.get_by_role("button", name="Load older emails").click()
    expect(rows(page)).to_have_count(55)
    expect(rows(page).last).to_contain_text("Bulk 00")
    expect(page.get_by_role("button", name="Load older emails")).to_be_hidden()


def test_emails_that_arrive_while_the_list_loads_are_all_shown(
    browser: Browser, sandbox: Sandbox, client: PostStack
) -> None:
    # The page's first answer for the list is held until 55 emails have arrived on its
    # stream: they are shown when it comes in, not just the newest 50.
    context = browser.new_context()
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    try:
        page = context.new_page()
        page.route(re.compile(r"/_sandbox/messages\?"), hold_first)
        page.goto(sandbox.base_url + "/")
        live(page)
        client.emails.batch(
            {"emails": [email(f"Bulk {n:02}") for n in range(55)]}  # type: ignore[typeddict-item]
        )
        expect(page).to_have_title(re.compile(r"^\(55\) "))  # the page has all 55 events
        assert len(held) == 1
        held[0].continue_()
        expect(rows(page)).to_have_count(55)
        expect(page.locator("#list-count")).to_have_text("55 emails")
        expect(page.get_by_role("button", name="Load older emails")).to_be_hidden()
    finally:
        context.close()


def test_the_keyboard_moves_through_the_list(page: Page, client: PostStack) -> None:
    for subject in ("Oldest", "Middle", "Newest"):
        send(client, subject)
    expect(rows(page)).to_have_count(3)
    page.locator("body").press("j")
    expect(rows(page).first.locator("a")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows(page).last.locator("a")).to_be_focused()
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page.locator("#message-subject")).to_have_text("Middle")
    page.keyboard.press("Escape")
    expect(page.locator("#detail .detail-empty")).to_be_visible()
    page.keyboard.press("/")
    expect(page.get_by_label("Search emails")).to_be_focused()


def test_slash_right_after_escape_leaves_the_focus_in_the_search(
    page: Page, client: PostStack
) -> None:
    send(client, "Quick keys")
    open_email(page, "Quick keys")
    # Escape closes the email by changing the URL's hash, and the page acts on that change
    # a moment later; both keys are handled before it does, as when typed quickly.
    page.evaluate(
        """() => {
            for (const key of ["Escape", "/"]) {
                const options = { key, bubbles: true, cancelable: true };
                document.body.dispatchEvent(new KeyboardEvent("keydown", options));
            }
        }"""
    )
    expect(page.locator("#detail .detail-empty")).to_be_visible()
    expect(page.get_by_label("Search emails")).to_be_focused()


def test_the_page_reconnects_to_a_restarted_sandbox(browser: Browser) -> None:
    first = Sandbox(api_key="sk_test_inbox").start()
    port = first.port
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(first.base_url + "/")
        live(page)
        with PostStack(api_key=first.api_key, base_url=first.base_url) as ps:
            send(ps, "Sent to the first sandbox")
        expect(rows(page)).to_have_count(1)

        first.stop()
        expect(page.locator("#live")).not_to_have_attribute("data-state", "live")
        with Sandbox(api_key="sk_test_inbox", port=port) as second:
            live(page)  # the stream came back by itself
            # What the page shows is the new sandbox's inbox (empty), not what it had.
            expect(rows(page)).to_have_count(0)
            with PostStack(api_key=second.api_key, base_url=second.base_url) as ps:
                send(ps, "Sent to the second sandbox")
            expect(rows(page)).to_have_count(1)
            expect(rows(page).first).to_contain_text("Sent to the second sandbox")
            context.close()
    finally:
        first.stop()
        context.close()


def test_a_reset_fault_armed_in_the_page_drops_the_connection(page: Page, sandbox: Sandbox) -> None:
    page.get_by_role("button", name="Faults").click()
    dialog = page.get_by_role("dialog", name="Inject faults")
    dialog.get_by_label("What happens").select_option("reset")
    expect(dialog.get_by_label("Retry-After")).to_be_hidden()
    dialog.get_by_label("Method").select_option("POST")
    dialog.get_by_role("button", name="Arm fault").click()
    expect(dialog.locator(".pending-item")).to_contain_text("Connection reset")
    expect(dialog.locator(".pending-item")).to_contain_text("POST")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#faults-count")).to_have_text("1")

    with (
        PostStack(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0) as ps,
        pytest.raises(PostStackConnectionError),
    ):
        ps.emails.send(email("Reset on the way"))  # type: ignore[arg-type]
    # The page's count follows the plan as requests use it up.
    expect(page.locator("#faults-count")).to_be_hidden()
