"""``suppressions``: addresses PostStack will not send to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.suppressions import (
        AddSuppressionParams,
        AddSuppressionResponse,
        ListSuppressionsParams,
        ListSuppressionsResponse,
    )


def list(
    params: ListSuppressionsParams | None = None, *, timeout: float | None = None
) -> Operation[ListSuppressionsResponse]:
    """The suppressions (``GET /suppressions``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/suppressions", query=query_pairs(params), timeout=timeout)


def add(
    input: AddSuppressionParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[AddSuppressionResponse]:
    """Never send to an address again (``POST /suppressions``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    path = "/suppressions"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def remove(email: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Allow sending to ``email`` again."""
    return op("DELETE", f"/suppressions/{segment(email, 'email')}", timeout=timeout)


class Suppressions(Resource[Mode]):
    """``ps.suppressions``: addresses PostStack will not send to."""

    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("suppressions"))
    add: Final = endpoint(add)
    remove: Final = endpoint(remove)
