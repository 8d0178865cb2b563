"""Types of the ``mailboxes`` resource: mailboxes, aliases, filters, signatures, shares.

This part of the API spells its body keys in camelCase (``domainId``,
``localPart``, ``signatureHtml``).
"""

from typing import Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "AliasResponse",
    "CreateAliasParams",
    "CreateMailboxParams",
    "FilterAction",
    "FilterField",
    "FilterOperator",
    "FilterRule",
    "FilterRuleParams",
    "FiltersResponse",
    "ForwardMode",
    "GrantShareResponse",
    "ListAliasesResponse",
    "ListMailboxesParams",
    "ListMailboxesResponse",
    "Mailbox",
    "MailboxAlias",
    "MailboxResponse",
    "MailboxShare",
    "MailboxSignature",
    "MailboxStatus",
    "ShareAccess",
    "ShareGrant",
    "SharesResponse",
    "UnreadCount",
    "UnreadSummary",
    "UpdateMailboxParams",
]


MailboxStatus = Literal["active", "suspended", "deleted"]
ForwardMode = Literal["relay", "wrapped"]
ShareAccess = Literal["read", "write", "admin"]


class _MailboxRequired(TypedDict):
    id: int
    teamId: int
    domainId: int
    emailAddress: str
    quotaBytes: int
    status: MailboxStatus
    webhookEnabled: bool
    forwardMode: ForwardMode
    forwardKeepCopy: bool
    createdAt: str
    updatedAt: str


class Mailbox(_MailboxRequired, total=False):
    publicId: str
    displayName: str | None
    forwardTo: str | None
    """Comma-separated auto-forward addresses, or None when forwarding is off."""
    signatureHtml: str | None
    signatureText: str | None
    lastLoginAt: str | None


class _CreateMailboxRequired(TypedDict):
    domainId: int | str
    localPart: str
    password: str


class CreateMailboxParams(_CreateMailboxRequired, total=False):
    displayName: str
    quotaBytes: int
    webhookEnabled: bool


class UpdateMailboxParams(TypedDict, total=False):
    displayName: str | None
    quotaBytes: int
    status: Literal["active", "suspended"]
    webhookEnabled: bool
    forwardTo: str | None
    forwardMode: ForwardMode
    forwardKeepCopy: bool
    signatureHtml: str | None
    signatureText: str | None


class ListMailboxesParams(ListParams, total=False):
    domain_id: int | str


class ListMailboxesResponse(TypedDict, total=False):
    mailboxes: list[Mailbox]
    pagination: Pagination
    data: list[Mailbox]
    meta: Pagination


class MailboxResponse(TypedDict):
    mailbox: Mailbox


class MailboxAlias(TypedDict, total=False):
    id: int
    teamId: int
    domainId: int
    aliasAddress: str
    destinationMailboxId: int
    createdAt: str


class CreateAliasParams(TypedDict):
    domainId: int
    localPart: str
    destinationMailboxId: str
    """The destination mailbox's public id."""


class AliasResponse(TypedDict):
    alias: MailboxAlias


class ListAliasesResponse(TypedDict, total=False):
    aliases: list[MailboxAlias]
    pagination: Pagination
    data: list[MailboxAlias]
    meta: Pagination


FilterField = Literal["from", "to", "cc", "subject", "any_recipient"]
FilterOperator = Literal["contains", "not_contains", "is", "is_not"]
FilterAction = Literal["fileinto", "addflag", "discard", "stop"]


class _FilterRuleRequired(TypedDict):
    name: str
    field: FilterField
    operator: FilterOperator
    value: str
    action: FilterAction


class FilterRuleParams(_FilterRuleRequired, total=False):
    """One rule of ``set_filters``; the list's order is the order they run in."""

    actionArg: str | None
    """The folder for ``fileinto``, the flag for ``addflag``."""
    enabled: bool


class FilterRule(TypedDict, total=False):
    publicId: str
    position: int
    name: str
    field: FilterField
    operator: FilterOperator
    value: str
    action: FilterAction
    actionArg: str | None
    enabled: bool
    createdAt: str
    updatedAt: str


class FiltersResponse(TypedDict):
    rules: list[FilterRule]


class MailboxSignature(TypedDict, total=False):
    """``None`` clears one half; a key left out keeps its stored value."""

    signatureHtml: str | None
    signatureText: str | None


class MailboxShare(TypedDict, total=False):
    id: int
    sharedWithMailboxId: int
    sharedWithEmail: str
    access: ShareAccess
    createdAt: str


class SharesResponse(TypedDict):
    shares: list[MailboxShare]


class ShareGrant(TypedDict, total=False):
    id: int
    mailboxId: int
    sharedWithMailboxId: int
    access: ShareAccess
    createdAt: str
    updatedAt: str


class GrantShareResponse(TypedDict):
    share: ShareGrant


class UnreadCount(TypedDict, total=False):
    mailboxId: int
    mailboxPublicId: str
    inboxUnread: int | None


class UnreadSummary(TypedDict):
    items: list[UnreadCount]
