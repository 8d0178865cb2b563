"""One view that fails, so Django mails the admins about it, and PostStack's webhook view."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom in a view")


urlpatterns = [
    path("boom/", boom),
    path("webhooks/poststack/", include("poststack.contrib.django.urls")),
]
