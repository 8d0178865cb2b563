"""``path("webhooks/poststack/", include("poststack.contrib.django.urls"))``: the webhook view.

Register ``https://yourdomain.com/webhooks/poststack/`` with PostStack
(``webhooks.create``); reverse it as ``reverse("poststack:webhook")``.
"""

from __future__ import annotations

from django.urls import path

from ._views import WebhookView

app_name = "poststack"
urlpatterns = [path("", WebhookView.as_view(), name="webhook")]
