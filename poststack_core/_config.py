"""ClientConfig: what every request of one client shares, validated once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._content import ACCEPT_ENCODING
from ._messages import DEFAULT_MAX_RESPONSE_BYTES, Request
from ._operation import Operation, check_timeout, percent_encode
from ._retry_policy import RetryPolicy

DEFAULT_BASE_URL = "https://api.poststack.dev"
DEFAULT_TIMEOUT = 30.0
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host: str) -> bool:
    """True for names and literal addresses that can only mean this machine."""
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    if host in {"::1", "0:0:0:0:0:0:0:1"}:
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Validated client settings plus the pieces every request reuses.

    Raises ValueError/TypeError with a specific message for a missing or
    malformed key, a base URL that is not ``https`` (plain ``http`` is allowed
    only to a loopback host, for local sandboxes and tests), a bad timeout, a
    bad retry count or a bad ``max_response_bytes`` (the cap on one response
    body, compressed or decoded, that every request carries to its transport).
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = "poststack-python"
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # Derived in __post_init__ from the fields above.
    scheme: str = field(init=False)
    host: str = field(init=False)
    port: int = field(init=False)
    base_path: str = field(init=False)
    origin: str = field(init=False)
    base_headers: tuple[tuple[str, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        key: object = self.api_key
        if not isinstance(key, str):
            raise TypeError(f"api_key must be a str, got {type(key).__name__}")
        if not key.strip():
            raise ValueError(
                "No API key: pass api_key=... or set the POSTSTACK_API_KEY environment variable"
            )
        if key != key.strip() or not key.isprintable():
            raise ValueError("api_key contains whitespace or control characters")
        timeout = check_timeout(self.timeout)
        if timeout is None:
            raise ValueError("timeout must be a number of seconds > 0, not None")
        limit: object = self.max_response_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_response_bytes must be an int of bytes >= 1, got {limit!r}")
        scheme, host, port, base_path = _split_base_url(self.base_url)
        default_port = 443 if scheme == "https" else 80
        netloc = f"[{host}]" if ":" in host else host
        if port != default_port:
            netloc = f"{netloc}:{port}"
        # Frozen: the normalised and derived values are written past __setattr__.
        set_field = object.__setattr__
        set_field(self, "timeout", timeout)
        set_field(self, "scheme", scheme)
        set_field(self, "host", host)
        set_field(self, "port", port)
        set_field(self, "base_path", base_path)
        set_field(self, "origin", f"{scheme}://{netloc}")
        set_field(
            self,
            "base_headers",
            (
                # Host first, as RFC 9112 3.2 asks; in its ASCII (IDNA) form.
                ("Host", netloc if netloc.isascii() else netloc.encode("idna").decode("ascii")),
                ("Authorization", f"Bearer {key}"),
                ("User-Agent", self.user_agent),
                # What curl and httpx send; also what urllib3 adds to a request through a
                # proxy when there is none, so every transport sends the same.
                ("Accept", "*/*"),
                ("Accept-Encoding", ACCEPT_ENCODING),
            ),
        )

    def build_request(self, operation: Operation[Any], idempotency_key: str | None) -> Request:
        """The HTTP request for one attempt of ``operation``."""
        target = self.base_path + operation.path
        if operation.query:
            target += "?" + "&".join(
                f"{percent_encode(key)}={percent_encode(value)}" for key, value in operation.query
            )
        headers = self.base_headers
        body: bytes | None = None
        if operation.has_body:
            body = encode_json(operation.body)
            headers = (
                *headers,
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
            )
        elif operation.method in _METHODS_WITH_CONTENT:
            # Framing (RFC 9110 8.6): a bodyless POST/PUT/PATCH says so; GET and DELETE say nothing.
            headers = (*headers, ("Content-Length", "0"))
        if idempotency_key is not None:
            headers = (*headers, ("Idempotency-Key", idempotency_key))
        return Request(
            operation.method,
            self.origin + target,
            self.scheme,
            self.host,
            self.port,
            target,
            headers,
            body,
            self.max_response_bytes,
        )


# ensure_ascii=False: non-Latin text goes out as its UTF-8 bytes, not \u escapes.
# Built once: json.dumps with options builds a new encoder on every call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(value: object) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities are refused, since no JSON parser reads them."""
    try:
        text = _JSON.encode(value)
    except ValueError as exc:
        raise ValueError(f"request body is not valid JSON: {exc}") from None
    except TypeError as exc:
        raise TypeError(f"request body is not JSON-serialisable: {exc}") from None
    # surrogatepass would smuggle lone surrogates; strict names the bad character instead.
    return text.encode("utf-8")


def _split_base_url(base_url: object) -> tuple[str, str, int, str]:
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, got {type(base_url).__name__}")
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"base_url must be an absolute https:// URL, got {base_url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"base_url must not carry a query, fragment or credentials: {base_url!r}")
    host = parts.hostname
    if scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            f"base_url {base_url!r} uses plain http:// to a non-loopback host; the API key "
            "would travel unencrypted. Use https:// (http:// is allowed only for localhost)."
        )
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"base_url has an invalid port: {base_url!r}") from None
    return scheme, host, port, parts.path.rstrip("/")
