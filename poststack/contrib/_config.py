"""Client options read from a framework's configuration (Django settings, Flask config)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from poststack._client import parse_flag
from poststack_core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT


class ClientOptions(TypedDict):
    """Keyword arguments for ``PostStack`` / ``AsyncPostStack``."""

    api_key: str | None
    base_url: str | None
    timeout: float
    max_retries: int
    allow_insecure_http: bool | None


def _optional_str(value: object, name: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} in {where} must be a str, got {type(value).__name__}")
    return value


def _number(value: object, name: str, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{name} in {where} must be a number, got {type(value).__name__}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} in {where} must be a number, got {value!r}") from None


def client_options(lookup: Callable[[str], object], where: str) -> ClientOptions:
    """Read ``POSTSTACK_API_KEY``, ``_BASE_URL``, ``_TIMEOUT``, ``_MAX_RETRIES`` and
    ``_ALLOW_INSECURE_HTTP``.

    ``lookup(name)`` returns the configured value or ``None``. A missing key,
    base URL or insecure-http flag is left as ``None`` so the client falls back
    to the environment (``$POSTSTACK_API_KEY``, ``$POSTSTACK_BASE_URL``,
    ``$POSTSTACK_ALLOW_INSECURE_HTTP``). ``where`` names the configuration in
    error messages ("Django settings", "app.config").
    """
    timeout = _number(lookup("POSTSTACK_TIMEOUT"), "POSTSTACK_TIMEOUT", where)
    retries = _number(lookup("POSTSTACK_MAX_RETRIES"), "POSTSTACK_MAX_RETRIES", where)
    if retries is not None and not retries.is_integer():
        raise ValueError(f"POSTSTACK_MAX_RETRIES in {where} must be a whole number")
    return ClientOptions(
        api_key=_optional_str(lookup("POSTSTACK_API_KEY"), "POSTSTACK_API_KEY", where),
        base_url=_optional_str(lookup("POSTSTACK_BASE_URL"), "POSTSTACK_BASE_URL", where),
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        max_retries=DEFAULT_MAX_RETRIES if retries is None else int(retries),
        allow_insecure_http=parse_flag(
            lookup("POSTSTACK_ALLOW_INSECURE_HTTP"), f"POSTSTACK_ALLOW_INSECURE_HTTP in {where}"
        ),
    )
