"""The Celery app the worker processes of tests/contrib/test_celery.py run.

``celery -A tests.contrib.celeryapp worker`` builds it from the environment the
test sets; the test process builds its own copy with :func:`make_app`.
"""

from __future__ import annotations

import os

from celery import Celery

from poststack.contrib.celery import SendEmailTask, register


def make_app(broker_url: str, *, visibility_timeout: float = 3600) -> tuple[Celery, SendEmailTask]:
    app = Celery("poststack_tests", broker=broker_url, backend=broker_url, set_as_current=False)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # A killed worker's unacknowledged task goes back to the queue after this.
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        },
        result_extended=True,  # results record the worker and the retries
        worker_prefetch_multiplier=1,
    )
    return app, register(app, backoff=0.2, backoff_max=1.0)


app, send_email = make_app(
    os.environ.get("POSTSTACK_TEST_BROKER", "redis://127.0.0.1:9/0"),
    visibility_timeout=float(os.environ.get("POSTSTACK_TEST_VISIBILITY", "3600")),
)
