"""Client options read from a framework's configuration (Django settings, Flask config)."""

from __future__ import annotations

from typing import Any

import pytest

from poststack import PostStack
from poststack.contrib._config import client_options


def options(**settings: Any) -> Any:
    return client_options(settings.get, "the settings")


def test_defaults_leave_the_environment_in_charge() -> None:
    assert options() == {
        "api_key": None,
        "base_url": None,
        "timeout": 30.0,
        "max_retries": 3,
        "allow_insecure_http": None,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("1", True), ("true", True), ("0", False), ("", None)],
)
def test_the_insecure_http_flag(value: object, expected: bool | None) -> None:
    assert options(POSTSTACK_ALLOW_INSECURE_HTTP=value)["allow_insecure_http"] is expected


def test_a_compose_sandbox_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTSTACK_ALLOW_INSECURE_HTTP", raising=False)
    settings = {
        "POSTSTACK_API_KEY": "sk_test_x",
        "POSTSTACK_BASE_URL": "http://sandbox:8025",
        "POSTSTACK_ALLOW_INSECURE_HTTP": True,
    }
    assert PostStack(**options(**settings)).base_url == "http://sandbox:8025"
    with pytest.raises(ValueError, match="allow_insecure_http"):
        PostStack(**options(**{**settings, "POSTSTACK_ALLOW_INSECURE_HTTP": None}))


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("POSTSTACK_ALLOW_INSECURE_HTTP", "maybe", "true or false"),
        ("POSTSTACK_TIMEOUT", "soon", "number"),
        ("POSTSTACK_MAX_RETRIES", 1.5, "whole number"),
        ("POSTSTACK_API_KEY", 5, "str"),
    ],
)
def test_bad_settings_name_the_setting(name: str, value: object, match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=f"{name} in the settings.*{match}"):
        options(**{name: value})
