"""Framework integrations. Each submodule imports its framework; this package imports none.

- :mod:`poststack.contrib.django`: ``EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"``
- :mod:`poststack.contrib.flask`: the ``PostStack(app)`` extension
- :mod:`poststack.contrib.starlette`: lifespan client, webhook endpoint (Starlette only)
- :mod:`poststack.contrib.fastapi`: the same as FastAPI dependencies
- :mod:`poststack.contrib.celery`: an idempotent, retrying ``send_email`` task
- :mod:`poststack.contrib.opentelemetry`: ``PostStackInstrumentor().instrument()``, a span
  per call and per attempt

Install the matching extra, e.g. ``pip install "poststack[django]>=1"``.
"""
