"""``mailboxes``: hosted mailboxes, aliases, filters, signatures and shares."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, numeric, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import list_body, op

if TYPE_CHECKING:
    from ..types.common import ListParams, SuccessResponse
    from ..types.mailboxes import (
        AliasResponse,
        CreateAliasParams,
        CreateMailboxParams,
        FilterRuleParams,
        FiltersResponse,
        GrantShareResponse,
        ListAliasesResponse,
        ListMailboxesParams,
        ListMailboxesResponse,
        MailboxResponse,
        MailboxSignature,
        ShareAccess,
        SharesResponse,
        UnreadSummary,
        UpdateMailboxParams,
    )


def _path(id: str, action: str = "") -> str:
    return f"/mailboxes/{segment(id, 'id')}{action}"


def create(
    input: CreateMailboxParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[MailboxResponse]:
    """Create a mailbox (``POST /mailboxes``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    return op("POST", "/mailboxes", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: ListMailboxesParams | None = None, *, timeout: float | None = None
) -> Operation[ListMailboxesResponse]:
    """The mailboxes (``GET /mailboxes``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/mailboxes", query=query_pairs(params), timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[MailboxResponse]:
    """One mailbox by its id (``GET /mailboxes/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateMailboxParams, *, timeout: float | None = None
) -> Operation[MailboxResponse]:
    """Change a mailbox (``PATCH /mailboxes/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a mailbox (``DELETE /mailboxes/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def change_password(
    id: str, password: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[SuccessResponse]:
    """Set a mailbox's password (``POST /mailboxes/{id}/password``)."""
    if not isinstance(password, str):
        raise TypeError(f"password must be a str, got {type(password).__name__}")
    body = {"password": password}
    path = _path(id, "/password")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def create_alias(
    input: CreateAliasParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[AliasResponse]:
    """Create an alias address that delivers to a mailbox (``POST /mailboxes/aliases``)."""
    body = mapping_body(input, "input")
    path = "/mailboxes/aliases"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def list_aliases(
    params: ListParams | None = None, *, timeout: float | None = None
) -> Operation[ListAliasesResponse]:
    """The alias addresses.

    ``GET /mailboxes/aliases``: ``params`` filter and paginate, sent as given.
    """
    return op("GET", "/mailboxes/aliases", query=query_pairs(params), timeout=timeout)


def delete_alias(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete an alias address (``DELETE /mailboxes/aliases/{id}``)."""
    return op("DELETE", f"/mailboxes/aliases/{numeric(id, 'id')}", timeout=timeout)


def list_filters(id: str, *, timeout: float | None = None) -> Operation[FiltersResponse]:
    """The mailbox's server-side filters, in the order they run."""
    return op("GET", _path(id, "/filters"), timeout=timeout)


def set_filters(
    id: str, rules: builtins.list[FilterRuleParams], *, timeout: float | None = None
) -> Operation[FiltersResponse]:
    """Replace every filter (at most 50; an empty list removes them all). A PUT."""
    body = {"rules": list_body(rules, "rules", "filter rule dicts")}
    return op("PUT", _path(id, "/filters"), body=body, timeout=timeout)


def get_signature(id: str, *, timeout: float | None = None) -> Operation[MailboxSignature]:
    """A mailbox's HTML and text signature (``GET /webmail/{id}/signature``)."""
    return op("GET", f"/webmail/{segment(id, 'id')}/signature", timeout=timeout)


def set_signature(
    id: str, signature: MailboxSignature, *, timeout: float | None = None
) -> Operation[MailboxSignature]:
    """Set the signature; a ``None`` value clears that half (and is sent as ``null``)."""
    path = f"/webmail/{segment(id, 'id')}/signature"
    return op("PUT", path, body=mapping_body(signature, "signature"), timeout=timeout)


def list_shares(id: str, *, timeout: float | None = None) -> Operation[SharesResponse]:
    """Who else may read or write a mailbox (``GET /mailboxes/{id}/shares``)."""
    return op("GET", _path(id, "/shares"), timeout=timeout)


def grant_share(
    id: str,
    shared_with_mailbox_id: str,
    access: ShareAccess = "read",
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[GrantShareResponse]:
    """Share this mailbox with another of the team's (409 if already shared)."""
    body = {"access": access, "sharedWithMailboxId": shared_with_mailbox_id}
    path = _path(id, "/shares")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def revoke_share(
    id: str, target_id: str, *, timeout: float | None = None
) -> Operation[SuccessResponse]:
    """Take back another mailbox's access (``DELETE /mailboxes/{id}/shares/{target_id}``)."""
    return op("DELETE", _path(id, f"/shares/{segment(target_id, 'target_id')}"), timeout=timeout)


def unread_summary(*, timeout: float | None = None) -> Operation[UnreadSummary]:
    """Cached INBOX unread counts of every active mailbox."""
    return op("GET", "/mailboxes/unread-summary", timeout=timeout)


class Mailboxes(Resource[Mode]):
    """``ps.mailboxes``: hosted mailboxes, aliases, filters, signatures and shares."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("mailboxes"))
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    change_password: Final = endpoint(change_password)
    create_alias: Final = endpoint(create_alias)
    list_aliases: Final = endpoint(list_aliases)
    list_aliases_all: Final = pages(list_aliases, lambda page: page.get("aliases"))
    delete_alias: Final = endpoint(delete_alias)
    list_filters: Final = endpoint(list_filters)
    set_filters: Final = endpoint(set_filters)
    get_signature: Final = endpoint(get_signature)
    set_signature: Final = endpoint(set_signature)
    list_shares: Final = endpoint(list_shares)
    grant_share: Final = endpoint(grant_share)
    revoke_share: Final = endpoint(revoke_share)
    unread_summary: Final = endpoint(unread_summary)
