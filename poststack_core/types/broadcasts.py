"""Types of the ``broadcasts`` resource."""

from typing import Any, Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "AbTestParams",
    "AbVariantParams",
    "Broadcast",
    "BroadcastPerformance",
    "BroadcastPerformanceRow",
    "BroadcastResponse",
    "BroadcastStatus",
    "BroadcastVariant",
    "BroadcastVariantStats",
    "BroadcastVariantsResponse",
    "CreateBroadcastParams",
    "ListBroadcastsParams",
    "ListBroadcastsResponse",
    "ListPerformanceParams",
    "NonResponder",
    "NonRespondersResponse",
    "PerformanceLeaderboard",
    "PerformanceMetric",
    "ResendBroadcastParams",
    "ResendBroadcastResponse",
    "SendTestBroadcastParams",
    "UpdateBroadcastParams",
]


BroadcastStatus = Literal["draft", "queued", "sending", "sent", "cancelled"]
PerformanceMetric = Literal["open_rate", "click_rate", "delivered"]


class _BroadcastRequired(TypedDict):
    id: int
    publicId: str
    subject: str
    status: BroadcastStatus
    totalRecipients: int
    deliveredCount: int
    openedCount: int
    clickedCount: int
    bouncedCount: int
    createdAt: str


class Broadcast(_BroadcastRequired, total=False):
    """A campaign to a segment with its status and counts (``broadcasts.list_all`` yields them)."""

    name: str | None
    segmentPublicId: str | None
    topicPublicId: str | None
    segmentId: int | None
    sentAt: str | None
    scheduledAt: str | None


class AbVariantParams(TypedDict, total=False):
    """One variant of an A/B test: its content and its share of the test audience."""

    name: str
    subject: str
    html: str
    text: str
    weight: int
    """Share of the test audience, 1-100; the variants' weights sum to 100."""


class AbTestParams(TypedDict, total=False):
    """An A/B test for ``broadcasts.create``: the variants, the test sample and how long it runs."""

    variants: list[AbVariantParams]
    test_sample_size: int
    test_duration_minutes: int


_CreateBroadcastRequired = TypedDict(
    "_CreateBroadcastRequired", {"from": str, "subject": str, "segment_id": str}
)


class CreateBroadcastParams(_CreateBroadcastRequired, total=False):
    """``segment_id`` is the segment's ``seg_…`` id (older docs show the numeric id as a str)."""

    name: str
    html: str
    text: str
    reply_to: str
    scheduled_at: str
    topic_id: str
    ab_test: AbTestParams


_UpdateBroadcastFrom = TypedDict("_UpdateBroadcastFrom", {"from": str}, total=False)


class UpdateBroadcastParams(_UpdateBroadcastFrom, total=False):
    """The payload of ``broadcasts.update``."""

    name: str
    subject: str
    html: str
    text: str
    reply_to: str
    segment_id: str
    scheduled_at: str
    topic_id: str | None
    ab_test: AbTestParams


class SendTestBroadcastParams(TypedDict, total=False):
    """The payload of ``broadcasts.send_test``."""

    to: list[str]
    email: str


class ListBroadcastsParams(ListParams, total=False):
    """The query parameters of ``broadcasts.list``."""

    search: str
    status: BroadcastStatus


class ListBroadcastsResponse(TypedDict, total=False):
    """``{"broadcasts", "pagination"}``, or ``{"data", "meta"}`` in another API version."""

    broadcasts: list[Broadcast]
    pagination: Pagination
    data: list[Broadcast]
    meta: Pagination


class BroadcastResponse(TypedDict):
    """What ``broadcasts.create``, ``broadcasts.get``, ``broadcasts.update`` answer."""

    broadcast: Broadcast


class _BroadcastVariantRequired(TypedDict):
    id: int
    name: str
    subject: str
    weight: int


class BroadcastVariant(_BroadcastVariantRequired, total=False):
    """One A/B test variant of a broadcast, with its delivery and engagement figures."""

    recipientCount: int
    deliveredCount: int
    openedCount: int
    clickedCount: int
    bouncedCount: int
    openRate: float
    clickRate: float


class BroadcastVariantsResponse(TypedDict):
    """What ``broadcasts.get_variants`` answers."""

    variants: list[BroadcastVariant]


class _VariantStatsRequired(TypedDict):
    variants: list[BroadcastVariant]


class BroadcastVariantStats(_VariantStatsRequired, total=False):
    """What ``broadcasts.get_variant_stats`` answers."""

    winnerVariantId: int | None
    """None while the test is still running."""


class BroadcastPerformanceRow(TypedDict, total=False):
    """One broadcast's figures in a performance leaderboard."""

    id: str
    subject: str
    status: str
    sent_at: str | None
    total_recipients: int
    delivered: int
    opened: int
    clicked: int
    bounced: int
    open_rate: float
    click_rate: float
    in_progress: int


class BroadcastPerformance(TypedDict, total=False):
    """What ``broadcasts.performance`` answers."""

    broadcast: BroadcastPerformanceRow
    variants: BroadcastVariantStats | None


class ListPerformanceParams(TypedDict, total=False):
    """The query parameters of ``broadcasts.list_performance``."""

    since: str
    """Only broadcasts sent after this ISO 8601 time."""
    metric: PerformanceMetric
    """Sort key, default ``click_rate``."""
    limit: int


class PerformanceLeaderboard(TypedDict, total=False):
    """What ``broadcasts.list_performance`` answers."""

    metric: PerformanceMetric
    since: str | None
    broadcasts: list[BroadcastPerformanceRow]


class NonResponder(TypedDict, total=False):
    """A recipient of a broadcast who did not open, or did not click."""

    id: int
    email: str
    first_name: str | None
    last_name: str | None


class NonRespondersResponse(TypedDict, total=False):
    """What ``broadcasts.non_openers``, ``broadcasts.non_clickers`` answer."""

    broadcast: dict[str, Any]
    count: int
    contacts: list[NonResponder]


class ResendBroadcastParams(TypedDict, total=False):
    """The payload of ``broadcasts.resend``."""

    target: Literal["non_openers", "non_clickers"]
    subject: str


class ResendBroadcastResponse(TypedDict, total=False):
    """What ``broadcasts.resend`` answers."""

    broadcast: dict[str, Any]
    """The new draft: ``{"id", "subject", "status"}``."""
    segment: dict[str, Any]
    recipientCount: int
