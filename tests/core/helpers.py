"""Small builders shared by the core's tests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from poststack_core import ClientConfig, Response, RetryPolicy

NOW = 1_800_000_000.0  # a fixed "now" for every decision that reads the clock
KEY = "00000000-0000-4000-8000-000000000000"


def config(max_retries: int = 3, timeout: float = 30.0) -> ClientConfig:
    return ClientConfig(
        "sk_test_core", "https://api.poststack.dev", timeout, RetryPolicy(max_retries=max_retries)
    )


def response(
    status: int,
    body: object = None,
    headers: Sequence[tuple[str, str]] = (),
    *,
    raw: bytes | None = None,
) -> Response:
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
    return Response(status, tuple(headers), raw)
