"""A minimal Django project whose mail goes through PostStack (tests/contrib/test_django.py).

The tests point ``POSTSTACK_BASE_URL`` and ``POSTSTACK_API_KEY`` at a sandbox with
``override_settings``; the values here are placeholders that must never be used.
"""

import atexit
import os
import shutil
import tempfile

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]  # the sandbox delivers webhooks to 127.0.0.1
ROOT_URLCONF = "tests.contrib.djangoproject.urls"
# The shop app's models come from docs/django.md (tests/contrib/test_django_webhooks.py).
INSTALLED_APPS: list[str] = ["tests.contrib.djangoproject.shop"]
MIDDLEWARE: list[str] = []
USE_TZ = True
# A file of this process's own, removed at exit: the test's threads and the served
# app's share it. (Not an in-memory database: Django never closes a connection to
# one, and each served request's thread would leave one behind.)
_DB_DIR = tempfile.mkdtemp(prefix="poststack-django-tests-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_DB_DIR, "db.sqlite3"),
    }
}

EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"
DEFAULT_FROM_EMAIL = "Webmaster <webmaster@yourdomain.com>"
SERVER_EMAIL = "errors@yourdomain.com"
ADMINS = [("Ops", "ops@example.org")]
POSTSTACK_API_KEY = "sk_test_placeholder"
POSTSTACK_BASE_URL = "http://127.0.0.1:9"  # discard port: overridden per test
POSTSTACK_MAX_RETRIES = 0

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "include_html": True,
        }
    },
    "loggers": {
        "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": False}
    },
}
