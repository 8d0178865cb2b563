"""Types of the ``signup_forms`` resource."""

from typing import Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "ListSignupFormsParams",
    "ListSignupFormsResponse",
    "SignupForm",
    "SignupFormField",
    "SignupFormResponse",
    "SubmitSignupFormResponse",
]


class _SignupFormFieldRequired(TypedDict):
    name: str
    type: Literal["email", "text", "select", "checkbox"]
    label: str


class SignupFormField(_SignupFormFieldRequired, total=False):
    """One field of a signup form: its name, type, label and options."""

    required: bool
    options: list[str]


class _SignupFormRequired(TypedDict):
    id: int
    publicId: str
    name: str
    fields: list[SignupFormField]
    active: bool
    submissionCount: int
    createdAt: str
    updatedAt: str


class SignupForm(_SignupFormRequired, total=False):
    """A hosted signup form: its fields, segment, topic and submissions."""

    segmentId: int | None
    topicId: int | None
    successMessage: str | None
    redirectUrl: str | None


class SignupFormResponse(TypedDict):
    """What ``signup_forms.create``, ``signup_forms.get``, ``signup_forms.update`` answer."""

    signupForm: SignupForm


class ListSignupFormsResponse(TypedDict, total=False):
    """What ``signup_forms.list`` answers."""

    signupForms: list[SignupForm]
    pagination: Pagination
    data: list[SignupForm]
    meta: Pagination


class _SubmitResponseRequired(TypedDict):
    success: bool


class SubmitSignupFormResponse(_SubmitResponseRequired, total=False):
    """What ``signup_forms.submit`` answers."""

    message: str
    redirect_url: str


ListSignupFormsParams = ListParams
