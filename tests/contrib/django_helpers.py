"""Django for the contrib tests: one configured project, the docs' models, a live server."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import django
import pytest
from django.conf import settings
from django.dispatch import Signal

from tests.contrib.conftest import doc_blocks
from tests.webhook_helpers import serve_wsgi

SHOP_MODELS = "tests.contrib.djangoproject.shop.models"
_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def setup_django() -> None:
    """Configure Django once per process from tests/contrib/djangoproject/settings.py."""
    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.contrib.djangoproject.settings")
        django.setup()
    if settings.EMAIL_BACKEND != "poststack.contrib.django.EmailBackend":
        pytest.fail("Django was configured by someone else in this process")


def docs_block(phrase: str) -> str:
    """The one ```python block of docs/django.md that contains ``phrase``."""
    (found,) = [block for block in doc_blocks("django") if phrase in block]
    return found


def shop_models() -> dict[str, Any]:
    """The models (and receivers) block of docs/django.md, loaded as the shop app's models.

    Loaded once per process (a model class registers itself with Django), and its
    table created in the test project's database.
    """
    with _lock:
        if not _loaded:
            from django.db import connection

            module = ModuleType(SHOP_MODELS)
            exec(compile(docs_block("class Order(models.Model)"), "docs/django.md", "exec"),
                 module.__dict__)  # fmt: skip
            with connection.schema_editor() as editor:
                editor.create_model(module.Order)
            _loaded.update(vars(module))
        return _loaded


@contextmanager
def connected(signal: Signal, receiver: Callable[..., Any]) -> Iterator[None]:
    signal.connect(receiver, weak=False)
    try:
        yield
    finally:
        signal.disconnect(receiver)


@contextmanager
def live_site() -> Iterator[str]:
    """The Django project served over real HTTP on a loopback port; yields its webhook URL."""
    from django.core.wsgi import get_wsgi_application

    with serve_wsgi(get_wsgi_application()) as base:
        yield f"{base}/webhooks/poststack/"
