"""The ``poststack`` logger: silent unless asked, one record per attempt, ``POSTSTACK_LOG``.

As a library's logger should, it has a :class:`logging.NullHandler` and no
level of its own: nothing reaches stderr until the application configures
logging, and then the application's levels and handlers decide. What it
logs, about every attempt of every call:

- DEBUG, before sending: ``emails.send: POST /emails (attempt 1)``;
- WARNING, an attempt the call retries:
  ``emails.send: POST /emails failed (attempt 1): 503 internal_error: ... (request req_1);
  retrying in 0.125 s``;
- INFO, the attempt that ends the call, answered or failed:
  ``emails.send: POST /emails -> 202 in 0.031 s (attempt 2, request req_2)``.

Each record carries the attempt's fields in ``extra`` (:func:`log_fields`:
``operation``, ``attempt``, ``status``, ``request_id``, ``wait`` ...), for
structured (JSON) log handlers. No record holds the API key or a header.

``POSTSTACK_LOG=debug`` or ``info`` in the environment adds a stderr handler
at that level when poststack is imported, for a quick look without touching
the application's logging (as ``OPENAI_LOG`` and ``STRIPE_LOG`` do).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from poststack_core import Attempt

logger = logging.getLogger("poststack")

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
"""The values of ``POSTSTACK_LOG`` and the level each turns on."""


class EnvironmentHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler ``POSTSTACK_LOG`` adds (one at most)."""


def _setup() -> None:
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
    value = os.environ.get("POSTSTACK_LOG", "").strip().lower()
    if not value or any(isinstance(h, EnvironmentHandler) for h in logger.handlers):
        return
    level = LEVELS.get(value)
    if level is None:
        warnings.warn(
            f"POSTSTACK_LOG={value!r} is not one of {', '.join(LEVELS)}: it is ignored",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    handler = EnvironmentHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


_setup()


def log_fields(record: Attempt) -> dict[str, object]:
    """The structured fields of a log record about one attempt (``logging``'s ``extra``)."""
    error = record.error
    return {
        "operation": record.operation,
        "method": record.method,
        "path": record.path,
        "attempt": record.attempt,
        "idempotency_key": record.idempotency_key,
        "status": record.status,
        "request_id": record.request_id,
        "elapsed": record.elapsed,
        "wait": record.wait,
        "error_code": None if error is None else error.code,
    }


def _what(record: Attempt) -> str:
    what = f"{record.method} {record.path}"
    return f"{record.operation}: {what}" if record.operation else what


def log_sending(record: Attempt) -> None:
    """DEBUG: the attempt is about to be sent."""
    logger.debug("%s (attempt %d)", _what(record), record.attempt, extra=log_fields(record))


def log_ended(record: Attempt) -> None:
    """WARNING for an attempt the call retries; INFO for the one that ends the call."""
    if record.wait is not None:
        logger.warning(
            "%s failed (attempt %d): %s; retrying in %.3f s",
            _what(record),
            record.attempt,
            record.reason,
            record.wait,
            extra=log_fields(record),
        )
    elif record.error is not None:
        logger.info(
            "%s failed (attempt %d): %s",
            _what(record),
            record.attempt,
            record.reason,
            extra=log_fields(record),
        )
    else:
        took = "" if record.elapsed is None else f" in {record.elapsed:.3f} s"
        request = "" if record.request_id is None else f", request {record.request_id}"
        logger.info(
            "%s -> %s%s (attempt %d%s)",
            _what(record),
            record.status,
            took,
            record.attempt,
            request,
            extra=log_fields(record),
        )
