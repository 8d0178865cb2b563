"""``path("webhooks/poststack/", include("poststack.contrib.django.urls"))``: the webhook view.

Register ``https://yourdomain.com/webhooks/poststack/`` with PostStack
(``webhooks.create``); reverse it as ``reverse("poststack:webhook")``.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ._views import WebhookView

app_name: str = "poststack"
urlpatterns: list[URLPattern | URLResolver] = [path("", WebhookView.as_view(), name="webhook")]
