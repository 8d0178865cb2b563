"""Types of the ``domains`` resource, DMARC and DKIM rotation included."""

from typing import Any, Literal, TypedDict

from .common import Pagination

__all__ = [
    "CreateDomainParams",
    "DkimRotation",
    "DkimRotationResponse",
    "DmarcReport",
    "DmarcReportsParams",
    "DmarcReportsResponse",
    "DmarcSource",
    "DmarcSourcesResponse",
    "DmarcStats",
    "DnsRecord",
    "Domain",
    "DomainResponse",
    "DomainStatus",
    "InboxPlacement",
    "ListDomainsResponse",
    "Region",
    "TlsMode",
    "UpdateDomainParams",
    "VerifyDomainResponse",
]


DomainStatus = Literal["pending", "verified", "failed"]
Region = Literal["eu-west-1", "us-east-1", "sa-east-1", "ap-northeast-1"]
TlsMode = Literal["opportunistic", "enforced"]


class DnsRecord(TypedDict):
    """A DNS record a domain must publish (SPF, DKIM, DMARC, return path, MX) and its state."""

    type: str
    """``TXT``, ``CNAME``, ``MX`` or ``SRV``."""
    name: str
    value: str
    purpose: str
    """``spf``, ``dkim``, ``dmarc``, ``return_path``, ``mx``, ``imap`` (and newer ones)."""
    verified: bool


class _DomainRequired(TypedDict):
    id: int
    name: str
    status: DomainStatus
    region: str
    """One of :data:`Region`."""
    dnsRecords: list[DnsRecord]
    openTracking: bool
    clickTracking: bool
    catchAll: bool
    tlsMode: TlsMode
    createdAt: str


class Domain(_DomainRequired, total=False):
    """A sending domain as the API shows it: its status, region, DNS records and settings."""

    verifiedAt: str | None
    publicId: str
    trackingDomain: str | None
    inboundEnabled: bool
    bimiLogoUrl: str | None


class _CreateDomainRequired(TypedDict):
    name: str


class CreateDomainParams(_CreateDomainRequired, total=False):
    """The payload of ``domains.create``."""

    region: Region
    custom_return_path: str
    open_tracking: bool
    click_tracking: bool
    tls_mode: TlsMode


class UpdateDomainParams(TypedDict, total=False):
    """The payload of ``domains.update``."""

    open_tracking: bool
    click_tracking: bool
    tls_mode: TlsMode
    custom_return_path: str
    tracking_domain: str | None
    inbound_enabled: bool
    catch_all: bool
    bimi_logo_url: str | None


class DomainResponse(TypedDict):
    """What ``domains.create``, ``domains.get``, ``domains.update`` answer."""

    domain: Domain


class VerifyDomainResponse(DomainResponse, total=False):
    """What ``domains.verify`` answers."""

    queued: bool


class ListDomainsResponse(TypedDict):
    """What ``domains.list`` answers."""

    domains: list[Domain]


class DkimRotation(TypedDict, total=False):
    """Where a domain's DKIM key rotation stands, and the record to publish next."""

    domainId: int
    state: Literal["idle", "pending_dns", "ready", "retiring"]
    activeSelector: str | None
    pendingSelector: str | None
    pendingPublicKey: str | None
    pendingRecordName: str | None
    """The TXT record to publish, while a rotation is staged."""
    pendingRecordValue: str | None
    startedAt: str | None
    publishedAt: str | None
    activatesAfter: str | None
    retiredSelector: str | None
    retireAfter: str | None


class DkimRotationResponse(TypedDict):
    """What ``domains.start_dkim_rotation``, ``domains.activate_dkim_rotation``,
    ``domains.cancel_dkim_rotation`` answer.
    """

    rotation: DkimRotation


class DmarcReport(TypedDict, total=False):
    """One DMARC aggregate report for a domain (``domains.get_dmarc_reports_all`` yields them)."""

    id: int
    domainId: int
    reportId: str
    orgName: str
    email: str | None
    dateRangeStart: str | None
    dateRangeEnd: str | None
    domain: str
    policyPublished: dict[str, Any] | None
    status: str
    createdAt: str


class DmarcReportsParams(TypedDict, total=False):
    """``per_page`` is sent as ``perPage``, the name this endpoint reads."""

    page: int
    per_page: int
    perPage: int


class DmarcReportsResponse(TypedDict, total=False):
    """What ``domains.get_dmarc_reports`` answers."""

    reports: list[DmarcReport]
    pagination: Pagination


class DmarcStats(TypedDict, total=False):
    """Message counts over the window (keys as the API sends them; versions differ)."""

    totalMessages: int
    passRate: float
    failedMessages: int
    dailyStats: list[dict[str, Any]]
    totals: dict[str, int]
    daily: list[dict[str, Any]]


class DmarcSource(TypedDict, total=False):
    """A sending source DMARC reports saw for a domain, with its pass and fail counts."""

    sourceIp: str
    orgName: str | None
    count: int
    passCount: int
    failCount: int
    total: int
    passed: int
    failed: int


class DmarcSourcesResponse(TypedDict, total=False):
    """What ``domains.get_dmarc_sources`` answers."""

    sources: list[DmarcSource]


class InboxPlacement(TypedDict, total=False):
    """What receiving providers did with the domain's mail over ``windowDays``."""

    windowDays: int
    totals: dict[str, Any]
    senderSignals: list[dict[str, Any]]
    recipientSignals: list[dict[str, Any]]
    providers: list[dict[str, Any]]
