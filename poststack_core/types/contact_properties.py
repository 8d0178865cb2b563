"""Types of the ``contact_properties`` resource."""

from typing import Literal, TypedDict

__all__ = [
    "ContactProperty",
    "ContactPropertyResponse",
    "ContactPropertyType",
    "CreateContactPropertyParams",
    "ListContactPropertiesResponse",
    "OptionUsageResponse",
    "UpdateContactPropertyParams",
]


ContactPropertyType = Literal["text", "number", "boolean", "date", "select"]


class _ContactPropertyRequired(TypedDict):
    id: int
    name: str
    label: str
    type: ContactPropertyType
    required: bool
    createdAt: str


class ContactProperty(_ContactPropertyRequired, total=False):
    options: list[str] | None
    """The choices of a ``select`` property."""


class _CreateContactPropertyRequired(TypedDict):
    name: str
    label: str
    type: ContactPropertyType


class CreateContactPropertyParams(_CreateContactPropertyRequired, total=False):
    options: list[str]
    required: bool


class UpdateContactPropertyParams(TypedDict, total=False):
    label: str
    options: list[str]
    required: bool


class ContactPropertyResponse(TypedDict):
    property: ContactProperty


class ListContactPropertiesResponse(TypedDict):
    properties: list[ContactProperty]


class OptionUsageResponse(TypedDict):
    usage: dict[str, int]
    """Option value -> how many contacts hold it."""
