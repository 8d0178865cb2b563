"""The ``*_all`` walkers: every page-numbered list, each pagination shape, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from poststack import AsyncPostStack, PostStack

from .recording import async_client, pages_query, path_of, query_of, scripted, sync_client

T = TypeVar("T")

WALKERS = {
    ("broadcasts", "list_all"),
    ("contacts", "list_all"),
    ("domains", "get_dmarc_reports_all"),
    ("emails", "list_all"),
    ("inbound_emails", "list_all"),
    ("mailboxes", "list_all"),
    ("mailboxes", "list_aliases_all"),
    ("notification_channels", "list_deliveries_all"),
    ("segments", "members_all"),
    ("signup_forms", "list_all"),
    ("subscription_topics", "list_subscribers_all"),
    ("suppressions", "list_all"),
    ("templates", "list_all"),
    ("webhooks", "get_deliveries_all"),
}


def test_every_page_numbered_list_has_a_walker_and_no_other_list_does() -> None:
    client, _ = sync_client()
    found = {
        (name, attr)
        for name, resource in vars(client).items()
        if not name.startswith("_")
        for attr in dir(type(resource))
        if attr.endswith("_all")
    }
    assert found == WALKERS


def snake(page: int, total_pages: int, items: list[int], key: str = "emails") -> dict[str, Any]:
    meta = {"total": 5, "page": page, "per_page": 2, "total_pages": total_pages}
    return {key: [{"id": i} for i in items], "pagination": meta}


def camel(page: int, total_pages: int, items: list[int], key: str) -> dict[str, Any]:
    meta = {"page": page, "perPage": 2, "total": 5, "totalPages": total_pages}
    return {key: [{"id": i} for i in items], "pagination": meta}


def data_meta(page: int, total_pages: int, items: list[int]) -> dict[str, Any]:
    meta = {"page": page, "perPage": 2, "total": 5, "totalPages": total_pages}
    return {"data": [{"id": i} for i in items], "meta": meta}


async def collect(iterator: AsyncIterator[T]) -> list[T]:
    return [item async for item in iterator]


Walk = Callable[[PostStack | AsyncPostStack], Any]

SHAPES: list[tuple[str, Walk, list[dict[str, Any]], str]] = [
    (
        "snake_case pagination block",
        lambda ps: ps.emails.list_all({"per_page": 2, "status": "delivered"}),
        [snake(1, 3, [1, 2]), snake(2, 3, [3, 4]), snake(3, 3, [5])],
        "/emails",
    ),
    (
        "camelCase pagination block",
        lambda ps: ps.webhooks.get_deliveries_all(7, {"per_page": 2}),
        [camel(n, 3, items, "deliveries") for n, items in [(1, [1, 2]), (2, [3, 4]), (3, [5])]],
        "/webhooks/7/deliveries",
    ),
    (
        "data and meta",
        lambda ps: ps.broadcasts.list_all({"per_page": 2}),
        [data_meta(1, 3, [1, 2]), data_meta(2, 3, [3, 4]), data_meta(3, 3, [5])],
        "/broadcasts",
    ),
]


@pytest.mark.parametrize(
    ("walk", "pages", "path"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES]
)
def test_sync_walk_visits_every_page_once(walk: Walk, pages: list[Any], path: str) -> None:
    client, recorder = sync_client(scripted(*pages))
    assert [item["id"] for item in walk(client)] == [1, 2, 3, 4, 5]
    assert pages_query(recorder.requests) == ["1", "2", "3"]
    assert {path_of(request) for request in recorder.requests} == {path}
    assert all(("per_page", "2") in query_of(r) for r in recorder.requests)


@pytest.mark.parametrize(
    ("walk", "pages", "path"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES]
)
def test_async_walk_visits_every_page_once(walk: Walk, pages: list[Any], path: str) -> None:
    client, recorder = async_client(scripted(*pages))
    assert [item["id"] for item in asyncio.run(collect(walk(client)))] == [1, 2, 3, 4, 5]
    assert pages_query(recorder.requests) == ["1", "2", "3"]
    assert {path_of(request) for request in recorder.requests} == {path}


def test_walk_is_lazy_and_its_arguments_are_checked_at_the_call() -> None:
    client, recorder = sync_client(scripted(snake(1, 1, [1])))
    walker = client.emails.list_all()
    assert recorder.requests == []
    assert [item["id"] for item in walker] == [1]
    with pytest.raises(TypeError, match="id must be an int"):
        client.webhooks.get_deliveries_all("7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="page"):
        client.emails.list_all({"page": 0})
    assert len(recorder.requests) == 1


def test_walk_starts_at_the_callers_page_and_keeps_other_params_in_order() -> None:
    client, recorder = sync_client(scripted(snake(2, 3, [3, 4]), snake(3, 3, [5])))
    items = list(client.emails.list_all({"tag": "x", "page": 2, "per_page": 2}))
    assert [item["id"] for item in items] == [3, 4, 5]
    assert query_of(recorder.requests[0]) == [("tag", "x"), ("page", "2"), ("per_page", "2")]


def test_dmarc_reports_walk_sends_per_page_as_perPage() -> None:
    pages = [camel(1, 2, [1, 2], "reports"), camel(2, 2, [3], "reports")]
    client, recorder = sync_client(scripted(*pages))
    items = list(client.domains.get_dmarc_reports_all(9, {"per_page": 2}))
    assert [item["id"] for item in items] == [1, 2, 3]
    assert [query_of(r) for r in recorder.requests] == [
        [("perPage", "2"), ("page", "1")],
        [("perPage", "2"), ("page", "2")],
    ]
    assert path_of(recorder.requests[0]) == "/domains/9/dmarc/reports"


def test_server_that_ignores_page_stops_without_repeating_items() -> None:
    client, recorder = sync_client(scripted(snake(1, 3, [1, 2]), snake(1, 3, [1, 2])))
    assert [item["id"] for item in client.emails.list_all()] == [1, 2]
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "page",
    [
        {"emails": [{"id": 1}]},
        {"emails": [], "pagination": {"page": 1, "total_pages": 9}},
        {"emails": [{"id": 1}], "pagination": {"page": 1}},
        {"emails": [{"id": 1}], "pagination": "garbage"},
    ],
    ids=["no pagination block", "empty page", "no page count", "garbage block"],
)
def test_a_page_that_gives_no_way_on_is_the_last(page: dict[str, Any]) -> None:
    client, recorder = sync_client(scripted(page))
    assert [item["id"] for item in client.emails.list_all()] == [
        item["id"] for item in page["emails"]
    ]
    assert len(recorder.requests) == 1


def test_page_count_from_total_and_per_page() -> None:
    pages = [
        {"emails": [{"id": 1}, {"id": 2}], "pagination": {"page": 1, "per_page": 2, "total": 3}},
        {"emails": [{"id": 3}], "pagination": {"page": 2, "per_page": 2, "total": 3}},
    ]
    client, recorder = sync_client(scripted(*pages))
    assert [item["id"] for item in client.emails.list_all()] == [1, 2, 3]
    assert len(recorder.requests) == 2


def test_items_under_an_unexpected_name_are_still_found() -> None:
    page = {"inboundEmails": [{"id": 1}], "meta": {"page": 1, "totalPages": 1}}
    client, _ = sync_client(scripted(page))
    assert [item["id"] for item in client.inbound_emails.list_all()] == [1]


def test_async_walk_stops_on_a_repeated_page() -> None:
    client, recorder = async_client(scripted(data_meta(1, 2, [1]), data_meta(1, 2, [1])))
    assert [item["id"] for item in asyncio.run(collect(client.broadcasts.list_all()))] == [1]
    assert len(recorder.requests) == 2
