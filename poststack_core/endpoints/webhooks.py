"""``webhooks``: endpoints PostStack POSTs events to, their deliveries and secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._operation import NO_BODY, Operation, mapping_body, numeric, query_pairs
from .._resource import Mode, Resource, endpoint, pages
from .._webhooks import verify
from ._build import op, optional_body

if TYPE_CHECKING:
    from ..types.common import ListParams, SuccessResponse
    from ..types.webhooks import (
        BatchReplayParams,
        BatchReplayResponse,
        CreateWebhookParams,
        ListDeliveriesResponse,
        ListWebhooksResponse,
        UpdateWebhookParams,
        WebhookResponse,
        WebhookSecretResponse,
    )


def _path(id: int, action: str = "") -> str:
    return f"/webhooks/{numeric(id, 'id')}{action}"


def create(
    input: CreateWebhookParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[WebhookSecretResponse]:
    """Register an endpoint. Store the answer's ``signingSecret``: it is shown this once."""
    body = mapping_body(input, "input")
    return op("POST", "/webhooks", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: Mapping[str, Any] | None = None, *, timeout: float | None = None
) -> Operation[ListWebhooksResponse]:
    """Every webhook of the team (the server does not paginate; ``params`` are sent as given)."""
    return op("GET", "/webhooks", query=query_pairs(params), timeout=timeout)


def get(id: int, *, timeout: float | None = None) -> Operation[WebhookResponse]:
    """One webhook by its id (``GET /webhooks/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: int, input: UpdateWebhookParams, *, timeout: float | None = None
) -> Operation[WebhookResponse]:
    """Change a webhook (``PATCH /webhooks/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a webhook (``DELETE /webhooks/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def test(
    id: int, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[SuccessResponse]:
    """Send a test event to the endpoint."""
    return op("POST", _path(id, "/test"), timeout=timeout, idempotency_key=idempotency_key)


def get_deliveries(
    id: int, params: ListParams | None = None, *, timeout: float | None = None
) -> Operation[ListDeliveriesResponse]:
    """Delivery attempts, newest first, as ``{"deliveries", "pagination"}``."""
    return op("GET", _path(id, "/deliveries"), query=query_pairs(params), timeout=timeout)


def replay(
    id: int,
    delivery_id: int,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SuccessResponse]:
    """Deliver a past event again (``POST /webhooks/{id}/deliveries/{delivery_id}/replay``)."""
    path = _path(id, f"/deliveries/{numeric(delivery_id, 'delivery_id')}/replay")
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


def batch_replay(
    id: int,
    input: BatchReplayParams | None = None,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[BatchReplayResponse]:
    """Replay failed deliveries, oldest first, 1,000 per call; sends ``{}`` by default."""
    body = optional_body(input, "input", omitted={})
    path = _path(id, "/deliveries/batch-replay")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def rotate_secret(
    id: int,
    *,
    grace_hours: int | None = None,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[WebhookSecretResponse]:
    """Issue a new signing secret; the old one stays valid for ``grace_hours`` (default 24).

    ``grace_hours=0`` cuts over at once (use it when the old secret leaked).
    """
    body: Any = NO_BODY
    if grace_hours is not None:
        if isinstance(grace_hours, bool) or not isinstance(grace_hours, int):
            raise TypeError(f"grace_hours must be an int, got {type(grace_hours).__name__}")
        body = {"graceHours": grace_hours}
    path = _path(id, "/rotate-secret")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class Webhooks(Resource[Mode]):
    """``ps.webhooks``: event endpoints, their deliveries and signing secrets."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    test: Final = endpoint(test)
    get_deliveries: Final = endpoint(get_deliveries)
    get_deliveries_all: Final = pages(get_deliveries, lambda page: page.get("deliveries"))
    replay: Final = endpoint(replay)
    batch_replay: Final = endpoint(batch_replay)
    rotate_secret: Final = endpoint(rotate_secret)
    verify: Final = staticmethod(verify)
    """Check a delivery's ``X-PostStack-Signature`` (no request): see ``construct_event``."""
