"""One view that fails, so Django mails the admins about it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom in a view")


urlpatterns = [path("boom/", boom)]
