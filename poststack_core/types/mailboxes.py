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
    """A hosted mailbox and its settings (``mailboxes.list_all`` yields them)."""

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
    """The payload of ``mailboxes.create``."""

    displayName: str
    quotaBytes: int
    webhookEnabled: bool


class UpdateMailboxParams(TypedDict, total=False):
    """The payload of ``mailboxes.update``."""

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
    """The query parameters of ``mailboxes.list``."""

    domain_id: int | str


class ListMailboxesResponse(TypedDict, total=False):
    """What ``mailboxes.list`` answers."""

    mailboxes: list[Mailbox]
    pagination: Pagination
    data: list[Mailbox]
    meta: Pagination


class MailboxResponse(TypedDict):
    """What ``mailboxes.create``, ``mailboxes.get``, ``mailboxes.update`` answer."""

    mailbox: Mailbox


class MailboxAlias(TypedDict, total=False):
    """An alias address that delivers to a mailbox (``mailboxes.list_aliases_all``)."""

    id: int
    teamId: int
    domainId: int
    aliasAddress: str
    destinationMailboxId: int
    createdAt: str


class CreateAliasParams(TypedDict):
    """The payload of ``mailboxes.create_alias``."""

    domainId: int
    localPart: str
    destinationMailboxId: str
    """The destination mailbox's public id."""


class AliasResponse(TypedDict):
    """What ``mailboxes.create_alias`` answers."""

    alias: MailboxAlias


class ListAliasesResponse(TypedDict, total=False):
    """What ``mailboxes.list_aliases`` answers."""

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
    """A mailbox filter rule: which field to match, how, and what to do with matching mail."""

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
    """What ``mailboxes.list_filters``, ``mailboxes.set_filters`` answer."""

    rules: list[FilterRule]


class MailboxSignature(TypedDict, total=False):
    """``None`` clears one half; a key left out keeps its stored value."""

    signatureHtml: str | None
    signatureText: str | None


class MailboxShare(TypedDict, total=False):
    """Another mailbox's access to this one (``read``, ``write`` or ``admin``)."""

    id: int
    sharedWithMailboxId: int
    sharedWithEmail: str
    access: ShareAccess
    createdAt: str


class SharesResponse(TypedDict):
    """What ``mailboxes.list_shares`` answers."""

    shares: list[MailboxShare]


class ShareGrant(TypedDict, total=False):
    """The access one mailbox was granted to another."""

    id: int
    mailboxId: int
    sharedWithMailboxId: int
    access: ShareAccess
    createdAt: str
    updatedAt: str


class GrantShareResponse(TypedDict):
    """What ``mailboxes.grant_share`` answers."""

    share: ShareGrant


class UnreadCount(TypedDict, total=False):
    """A mailbox's number of unread messages in its inbox."""

    mailboxId: int
    mailboxPublicId: str
    inboxUnread: int | None


class UnreadSummary(TypedDict):
    """What ``mailboxes.unread_summary`` answers."""

    items: list[UnreadCount]
