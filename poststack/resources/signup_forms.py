from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import signup_forms

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.signup_forms import SignupForm
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    SignupForm = dict


class SignupForms(Resource[Mode]):
    """``ps.signup_forms``: hosted forms that add contacts."""

    list = endpoint(signup_forms.list)
    list_all = pages(signup_forms.list, "signupForms", SignupForm)
    create = endpoint(signup_forms.create)
    get = endpoint(signup_forms.get)
    update = endpoint(signup_forms.update)
    delete = endpoint(signup_forms.delete)
    submit = endpoint(signup_forms.submit)
