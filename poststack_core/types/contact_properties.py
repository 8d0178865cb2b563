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
    """A custom field contacts carry (``text``, ``number``, ``boolean``, ``date``, ``select``)."""

    options: list[str] | None
    """The choices of a ``select`` property."""


class _CreateContactPropertyRequired(TypedDict):
    name: str
    label: str
    type: ContactPropertyType


class CreateContactPropertyParams(_CreateContactPropertyRequired, total=False):
    """The payload of ``contact_properties.create``."""

    options: list[str]
    required: bool


class UpdateContactPropertyParams(TypedDict, total=False):
    """The payload of ``contact_properties.update``."""

    label: str
    options: list[str]
    required: bool


class ContactPropertyResponse(TypedDict):
    """What ``contact_properties.create``, ``contact_properties.update`` answer."""

    property: ContactProperty


class ListContactPropertiesResponse(TypedDict):
    """What ``contact_properties.list`` answers."""

    properties: list[ContactProperty]


class OptionUsageResponse(TypedDict):
    """What ``contact_properties.option_usage`` answers."""

    usage: dict[str, int]
    """Option value -> how many contacts hold it."""
