"""Types of the ``templates`` resource."""

from typing import Any, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "CreateTemplateParams",
    "ListTemplatesParams",
    "ListTemplatesResponse",
    "RenderTemplateResponse",
    "Template",
    "TemplatePreset",
    "TemplatePresetsResponse",
    "TemplateResponse",
    "UpdateTemplateParams",
]


class _TemplateRequired(TypedDict):
    id: int
    publicId: str
    """``tpl_…``: what the template methods and ``template_id`` take."""
    name: str
    subject: str
    published: bool
    version: int
    createdAt: str


class Template(_TemplateRequired, total=False):
    htmlBody: str | None
    textBody: str | None
    variables: list[str] | None
    updatedAt: str


class _CreateTemplateRequired(TypedDict):
    name: str


class CreateTemplateParams(_CreateTemplateRequired, total=False):
    """``{{name}}`` placeholders in subject, html and text are filled from ``variables``."""

    subject: str
    html: str
    text: str
    variables: list[str]
    builder_type: str
    """``"visual"`` for a block-built template (with ``builder_blocks``)."""
    builder_blocks: dict[str, Any]


class UpdateTemplateParams(TypedDict, total=False):
    name: str
    subject: str
    html: str
    text: str
    variables: list[str]
    builder_type: str
    builder_blocks: dict[str, Any]


class TemplateResponse(TypedDict):
    template: Template


class ListTemplatesParams(ListParams, total=False):
    search: str


class ListTemplatesResponse(TypedDict, total=False):
    templates: list[Template]
    pagination: Pagination
    data: list[Template]
    meta: Pagination


class _TemplatePresetRequired(TypedDict):
    id: str
    """e.g. ``"welcome"``: what ``use_preset`` takes."""
    name: str
    subject: str
    html: str


class TemplatePreset(_TemplatePresetRequired, total=False):
    description: str | None
    thumbnail: str | None
    text: str | None


class TemplatePresetsResponse(TypedDict):
    data: list[TemplatePreset]


class RenderTemplateResponse(TypedDict, total=False):
    subject: str
    html: str
    text: str
    missing_variables: list[str]
