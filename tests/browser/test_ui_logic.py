"""The inbox's pure JavaScript helpers, run in Chromium as the page loads them.

The search language, the pairing of webhook deliveries with events and the
formatting helpers are plain ES modules under ``/_sandbox/ui/``; these tests
import them into the page and call them, so what is tested is exactly what
the browser runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Page


def call(page: Page, module: str, function: str, *args: Any) -> Any:
    return page.evaluate(
        "async ([module, fn, args]) => (await import(`/_sandbox/ui/${module}`))[fn](...args)",
        [module, function, list(args)],
    )


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("", {}),
        ("invoice", {"q": "invoice"}),
        ("  two   words ", {"q": "two words"}),
        ("tag:welcome", {"tag": "welcome"}),
        ("TAG:welcome", {"tag": "welcome"}),
        ("from:ada@example.com to:bob", {"from": "ada@example.com", "to": "bob"}),
        ('subject:"your order" status:bounced', {"subject": "your order", "status": "bounced"}),
        ('subject:"unterminated quote', {"subject": "unterminated quote"}),
        ("tag:a tag:b", {"tag": "b"}),  # one value per field: the last wins
        ("tag: free", {"q": "free"}),  # an empty value is no filter
        ("foo:bar baz", {"q": "foo:bar baz"}),  # unknown fields are words
        ('"exact phrase" more', {"q": "exact phrase more"}),
        ("receipt from:billing@example.com", {"q": "receipt", "from": "billing@example.com"}),
    ],
)
def test_the_search_language(page: Page, text: str, filters: dict[str, str]) -> None:
    assert call(page, "search.js", "parseSearch", text) == filters


_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"\x00', exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
).filter(lambda value: value.strip() == value and value != "")
_filters = st.fixed_dictionaries(
    {},
    optional={field: _values for field in ("from", "to", "subject", "tag", "status")},
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filters=_filters)
def test_search_text_written_for_filters_reads_back_as_them(
    page: Page, filters: dict[str, str]
) -> None:
    text = call(page, "search.js", "formatSearch", filters)
    assert call(page, "search.js", "parseSearch", text) == filters


def test_with_filter_sets_and_removes_one_field(page: Page) -> None:
    assert call(page, "search.js", "withFilter", "invoice tag:a", "tag", "b") == "invoice tag:b"
    assert call(page, "search.js", "withFilter", "invoice tag:a", "tag", "") == "invoice"
    assert (
        call(page, "search.js", "withFilter", "", "from", "Ada Lovelace <ada@example.com>")
        == 'from:"Ada Lovelace <ada@example.com>"'
    )


def delivery(event_type: str, webhook: int = 1, attempts: int = 1) -> dict[str, Any]:
    return {"webhook_id": webhook, "event_type": event_type, "attempt": attempts}


def test_deliveries_pair_with_the_events_that_caused_them(page: Page) -> None:
    events = [
        {"type": "queued"},
        {"type": "sent"},
        {"type": "soft_bounced"},
        {"type": "soft_bounced"},
        {"type": "delivered"},
    ]
    deliveries = [
        delivery("email.sent"),
        delivery("email.sent", webhook=2),
        delivery("email.soft_bounced", attempts=3),  # the first soft bounce, retried twice
        delivery("email.soft_bounced"),  # the second soft bounce
        delivery("email.soft_bounced", webhook=2),  # the first one, to the other webhook
        delivery("email.delivered"),
        delivery("email.opened"),  # no such event: left over
    ]
    paired = call(page, "detail.js", "pairDeliveries", events, deliveries)
    by_event = [
        [(d["event_type"], d["webhook_id"], d["attempt"]) for d in e] for e in paired["byEvent"]
    ]
    assert by_event == [
        [],
        [("email.sent", 1, 1), ("email.sent", 2, 1)],
        [("email.soft_bounced", 1, 3), ("email.soft_bounced", 2, 1)],
        [("email.soft_bounced", 1, 1)],
        [("email.delivered", 1, 1)],
    ]
    assert [d["event_type"] for d in paired["unpaired"]] == ["email.opened"]


def test_a_delivery_that_names_its_event_goes_with_it(page: Page) -> None:
    events = [{"type": "delivered"}, {"type": "delivered"}]
    deliveries = [{**delivery("email.delivered"), "event_index": 1}]
    paired = call(page, "detail.js", "pairDeliveries", events, deliveries)
    assert [len(e) for e in paired["byEvent"]] == [0, 1]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("ada@example.com", {"name": "", "address": "ada@example.com"}),
        ("Ada Lovelace <ada@example.com>", {"name": "Ada Lovelace", "address": "ada@example.com"}),
        (
            '"Lovelace, Ada" <ada@example.com>',
            {"name": "Lovelace, Ada", "address": "ada@example.com"},
        ),
        ("  <ada@example.com>  ", {"name": "", "address": "ada@example.com"}),
    ],
)
def test_addresses(page: Page, value: str, parsed: dict[str, str]) -> None:
    assert call(page, "format.js", "parseAddress", value) == parsed


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (10 * 1024, "10 KB"),
        (5 * 1024 * 1024, "5.0 MB"),
        (-1, ""),
        ("nonsense", ""),
    ],
)
def test_file_sizes(page: Page, size: object, text: str) -> None:
    assert call(page, "format.js", "fileSize", size) == text


def test_status_and_tag_words(page: Page) -> None:
    assert call(page, "format.js", "statusLabel", "soft_bounced") == "Soft bounced"
    assert call(page, "format.js", "statusLabel", "some_new_status") == "Some new status"
    assert call(page, "format.js", "eventLabel", "email.complained") == "Complained"
    assert call(page, "format.js", "tagText", {"name": "plan", "value": "pro"}) == "plan:pro"
    assert call(page, "format.js", "tagText", "welcome") == "welcome"
    assert call(page, "format.js", "tagName", {"name": "plan", "value": "pro"}) == "plan"
