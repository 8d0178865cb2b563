"""``templates``: reusable email content with ``{{variables}}`` (``tpl_…`` ids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.templates import (
        CreateTemplateParams,
        ListTemplatesParams,
        ListTemplatesResponse,
        RenderTemplateResponse,
        TemplatePresetsResponse,
        TemplateResponse,
        UpdateTemplateParams,
    )


def _path(id: str, action: str = "") -> str:
    return f"/templates/{segment(id, 'id')}{action}"


def create(
    input: CreateTemplateParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[TemplateResponse]:
    """Create a template (``POST /templates``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    return op("POST", "/templates", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: ListTemplatesParams | None = None, *, timeout: float | None = None
) -> Operation[ListTemplatesResponse]:
    """The templates (``GET /templates``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/templates", query=query_pairs(params), timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[TemplateResponse]:
    """One template by its id (``GET /templates/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateTemplateParams, *, timeout: float | None = None
) -> Operation[TemplateResponse]:
    """Change a template (``PATCH /templates/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a template (``DELETE /templates/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def publish(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[TemplateResponse]:
    """Make the current version the one sends use."""
    return op("POST", _path(id, "/publish"), timeout=timeout, idempotency_key=idempotency_key)


def unpublish(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[TemplateResponse]:
    """Withdraw a published template: sends that name it fail.

    ``POST /templates/{id}/unpublish``
    """
    return op("POST", _path(id, "/unpublish"), timeout=timeout, idempotency_key=idempotency_key)


def duplicate(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[TemplateResponse]:
    """Copy a template into a new draft (``POST /templates/{id}/duplicate``)."""
    return op("POST", _path(id, "/duplicate"), timeout=timeout, idempotency_key=idempotency_key)


def render(
    id: str,
    variables: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[RenderTemplateResponse]:
    """Render as a send would, without sending; sends ``{}`` when ``variables`` is None."""
    body = {} if variables is None else {"variables": mapping_body(variables, "variables")}
    path = _path(id, "/render")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def get_presets(*, timeout: float | None = None) -> Operation[TemplatePresetsResponse]:
    """The ready-made templates to start from (``GET /templates/presets``)."""
    return op("GET", "/templates/presets", timeout=timeout)


def use_preset(
    preset_id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[TemplateResponse]:
    """Create a template from a preset (``preset_id`` such as ``"welcome"``)."""
    path = f"/templates/presets/{segment(preset_id, 'preset_id')}/use"
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


class Templates(Resource[Mode]):
    """``ps.templates``: reusable email content with ``{{variables}}``."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("templates"))
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    publish: Final = endpoint(publish)
    unpublish: Final = endpoint(unpublish)
    duplicate: Final = endpoint(duplicate)
    render: Final = endpoint(render)
    get_presets: Final = endpoint(get_presets)
    use_preset: Final = endpoint(use_preset)
