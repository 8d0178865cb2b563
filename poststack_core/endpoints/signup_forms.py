"""``signup_forms``: hosted forms that add contacts to a segment or topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from ..types.common import ListParams, SuccessResponse
    from ..types.signup_forms import (
        ListSignupFormsResponse,
        SignupFormResponse,
        SubmitSignupFormResponse,
    )


def _path(id: str, action: str = "") -> str:
    return f"/signup-forms/{segment(id, 'id')}{action}"


def list(
    params: ListParams | None = None, *, timeout: float | None = None
) -> Operation[ListSignupFormsResponse]:
    """The signup forms (``GET /signup-forms``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/signup-forms", query=query_pairs(params), timeout=timeout)


def create(
    input: Mapping[str, Any],
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SignupFormResponse]:
    """Create a signup form (``POST /signup-forms``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    path = "/signup-forms"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def get(id: str, *, timeout: float | None = None) -> Operation[SignupFormResponse]:
    """One signup form by its id (``GET /signup-forms/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: Mapping[str, Any], *, timeout: float | None = None
) -> Operation[SignupFormResponse]:
    """Change a signup form.

    ``PATCH /signup-forms/{id}``: the fields in ``input``, sent as given.
    """
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a signup form (``DELETE /signup-forms/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def submit(
    id: str,
    input: Mapping[str, Any],
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SubmitSignupFormResponse]:
    """Submit the form's fields (``email`` and the form's own), as a visitor would."""
    body = mapping_body(input, "input")
    path = _path(id, "/submit")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class SignupForms(Resource[Mode]):
    """``ps.signup_forms``: hosted forms that add contacts."""

    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("signupForms"))
    create: Final = endpoint(create)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    submit: Final = endpoint(submit)
