"""Framework integrations. Each submodule imports its framework; this package imports none.

- :mod:`poststack.contrib.django`: ``EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"``
  with every option of the API, and the webhook view sending ``tracking`` / ``inbound``
  signals (``include("poststack.contrib.django.urls")``)
- :mod:`poststack.contrib.flask`: the ``PostStack(app)`` extension, ``webhook_blueprint``
- :mod:`poststack.contrib.starlette`: lifespan client, ``webhook_route`` (Starlette only)
- :mod:`poststack.contrib.fastapi`: the same as FastAPI dependencies, ``webhook_router``
- :mod:`poststack.contrib.celery`: an idempotent, retrying ``send_email`` task
- :mod:`poststack.contrib.opentelemetry`: ``PostStackInstrumentor().instrument()``, a span
  per call and per attempt

The webhook pieces all run a :class:`poststack.webhooks.WebhookRouter`. Install
the matching extra, e.g. ``pip install "poststack[django]>=1"``.
"""
