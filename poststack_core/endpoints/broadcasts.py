"""``broadcasts``: campaigns to a segment, A/B tests and their results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op, optional_body, optional_query

if TYPE_CHECKING:
    from ..types.broadcasts import (
        BroadcastPerformance,
        BroadcastResponse,
        BroadcastVariantsResponse,
        BroadcastVariantStats,
        CreateBroadcastParams,
        ListBroadcastsParams,
        ListBroadcastsResponse,
        ListPerformanceParams,
        NonRespondersResponse,
        PerformanceLeaderboard,
        ResendBroadcastParams,
        ResendBroadcastResponse,
        SendTestBroadcastParams,
        UpdateBroadcastParams,
    )
    from ..types.common import SuccessResponse


def _path(id: str, action: str = "") -> str:
    return f"/broadcasts/{segment(id, 'id')}{action}"


def create(
    input: CreateBroadcastParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[BroadcastResponse]:
    """Create a broadcast (``POST /broadcasts``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    return op("POST", "/broadcasts", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: ListBroadcastsParams | None = None, *, timeout: float | None = None
) -> Operation[ListBroadcastsResponse]:
    """The broadcasts (``GET /broadcasts``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/broadcasts", query=query_pairs(params), timeout=timeout)


def list_performance(
    params: ListPerformanceParams | None = None, *, timeout: float | None = None
) -> Operation[PerformanceLeaderboard]:
    """Sent broadcasts ranked by ``metric`` (``since``, ``metric``, ``limit``)."""
    return op("GET", "/broadcasts/performance", query=query_pairs(params), timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[BroadcastResponse]:
    """One broadcast by its id (``GET /broadcasts/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateBroadcastParams, *, timeout: float | None = None
) -> Operation[BroadcastResponse]:
    """Change a broadcast (``PATCH /broadcasts/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def send(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[SuccessResponse]:
    """Send a broadcast to its segment now (``POST /broadcasts/{id}/send``)."""
    return op("POST", _path(id, "/send"), timeout=timeout, idempotency_key=idempotency_key)


def cancel(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[SuccessResponse]:
    """Cancel a scheduled or sending broadcast (``POST /broadcasts/{id}/cancel``)."""
    return op("POST", _path(id, "/cancel"), timeout=timeout, idempotency_key=idempotency_key)


def send_test(
    id: str,
    input: SendTestBroadcastParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SuccessResponse]:
    """Send the draft to test addresses only."""
    body = mapping_body(input, "input")
    path = _path(id, "/test")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def get_variants(id: str, *, timeout: float | None = None) -> Operation[BroadcastVariantsResponse]:
    """The A/B test variants of a broadcast (``GET /broadcasts/{id}/variants``)."""
    return op("GET", _path(id, "/variants"), timeout=timeout)


def get_variant_stats(id: str, *, timeout: float | None = None) -> Operation[BroadcastVariantStats]:
    """A/B variant results (422 for a broadcast without an A/B test)."""
    return op("GET", _path(id, "/variant-stats"), timeout=timeout)


def end_ab_test(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[SuccessResponse]:
    """Pick the A/B winner now and send it to the rest of the audience."""
    path = _path(id, "/end-ab-test")
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


def performance(id: str, *, timeout: float | None = None) -> Operation[BroadcastPerformance]:
    """Delivery, open and click figures of a broadcast (``GET /broadcasts/{id}/performance``)."""
    return op("GET", _path(id, "/performance"), timeout=timeout)


def non_openers(
    id: str, *, limit: int | None = None, timeout: float | None = None
) -> Operation[NonRespondersResponse]:
    """Recipients who got the broadcast and did not open it (``limit=0`` is sent)."""
    path = _path(id, "/non-openers")
    return op("GET", path, query=optional_query(limit=limit), timeout=timeout)


def non_clickers(
    id: str, *, limit: int | None = None, timeout: float | None = None
) -> Operation[NonRespondersResponse]:
    """Recipients who got the broadcast and clicked no tracked link."""
    path = _path(id, "/non-clickers")
    return op("GET", path, query=optional_query(limit=limit), timeout=timeout)


def resend(
    id: str,
    input: ResendBroadcastParams | None = None,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ResendBroadcastResponse]:
    """Clone a sent broadcast into a draft for those who did not engage.

    No body is sent when ``input`` is None; an explicit ``{}`` is sent as ``{}``.
    """
    body: Any = optional_body(input, "input")
    path = _path(id, "/resend")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class Broadcasts(Resource[Mode]):
    """``ps.broadcasts``: campaigns to a segment, A/B tests and their results."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("broadcasts"))
    list_performance: Final = endpoint(list_performance)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    send: Final = endpoint(send)
    cancel: Final = endpoint(cancel)
    send_test: Final = endpoint(send_test)
    get_variants: Final = endpoint(get_variants)
    get_variant_stats: Final = endpoint(get_variant_stats)
    end_ab_test: Final = endpoint(end_ab_test)
    performance: Final = endpoint(performance)
    non_openers: Final = endpoint(non_openers)
    non_clickers: Final = endpoint(non_clickers)
    resend: Final = endpoint(resend)
