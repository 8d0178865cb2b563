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
    """A template: its subject, bodies, variables and version (``templates.list_all``)."""

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
    """The payload of ``templates.update``."""

    name: str
    subject: str
    html: str
    text: str
    variables: list[str]
    builder_type: str
    builder_blocks: dict[str, Any]


class TemplateResponse(TypedDict):
    """What ``templates.create``, ``templates.get``, ``templates.update``, ``templates.publish``,
    ``templates.unpublish``, ``templates.duplicate``, ``templates.use_preset`` answer.
    """

    template: Template


class ListTemplatesParams(ListParams, total=False):
    """The query parameters of ``templates.list``."""

    search: str


class ListTemplatesResponse(TypedDict, total=False):
    """What ``templates.list`` answers."""

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
    """A ready-made template to start from (``templates.get_presets``)."""

    description: str | None
    thumbnail: str | None
    text: str | None


class TemplatePresetsResponse(TypedDict):
    """What ``templates.get_presets`` answers."""

    data: list[TemplatePreset]


class RenderTemplateResponse(TypedDict, total=False):
    """What ``templates.render`` answers."""

    subject: str
    html: str
    text: str
    missing_variables: list[str]
