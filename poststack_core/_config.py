"""ClientConfig: what every request of one client shares, validated once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ._content import ACCEPT_ENCODING
from ._messages import DEFAULT_MAX_RESPONSE_BYTES, Request
from ._operation import Operation, check_header_value, check_timeout, percent_encode
from ._retry_policy import RetryPolicy

DEFAULT_BASE_URL = "https://api.poststack.dev"
DEFAULT_TIMEOUT = 30.0
LIVE_KEY_PREFIX = "sk_live_"
"""Keys that reach real recipients: they never travel over plain http to another host."""
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses: 127.0.0.0/8 and ::1.

    Only what cannot mean another machine: ``localhost`` itself, an IPv4
    address of 127.0.0.0/8 in canonical dotted form (not ``127.1``,
    ``127.300.1.1`` or ``0x7f.1``, which resolvers read in surprising ways)
    and the IPv6 loopback, bracketed or not. Other names, ``*.localhost``
    included, go wherever DNS says.
    """
    if not isinstance(host, str):
        return False
    host = host.lower()
    if host == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        # Canonical dotted IPv4 only: no leading zeros, no short or hex forms.
        address = ip_address(host)
    except ValueError:
        return False
    if isinstance(address, IPv6Address):
        # ::1 itself, not ::ffff:127.0.0.1 or a scoped ::1%eth0.
        return address == _IPV6_LOOPBACK
    return address.is_loopback


_IPV6_LOOPBACK = IPv6Address("::1")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Validated client settings plus the pieces every request reuses.

    Everything is checked here, before anything can be sent, with a
    ValueError/TypeError that names the argument (and never shows the key): a
    missing or malformed key, a base URL that is not an absolute ``https://``
    URL with a valid host, port and path, a user agent that is no header value,
    a bad timeout, a bad ``max_response_bytes`` (the cap on one response body,
    compressed or decoded, that every request carries to its transport).

    Plain ``http://`` is accepted to a loopback host (local sandboxes, tests),
    and to any other host only with ``allow_insecure_http=True`` (a compose
    service such as ``http://sandbox:8025``), and never then with an
    ``sk_live_`` key: the key would cross the network unencrypted.
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = "poststack-python"
    allow_insecure_http: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # Derived in __post_init__ from the fields above.
    scheme: str = field(init=False)
    host: str = field(init=False)
    port: int = field(init=False)
    base_path: str = field(init=False)
    origin: str = field(init=False)
    base_headers: tuple[tuple[str, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        key = _check_api_key(self.api_key)
        timeout = check_timeout(self.timeout)
        if timeout is None:
            raise ValueError("timeout must be a number of seconds > 0, not None")
        if not isinstance(self.retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(self.retry).__name__}")
        user_agent = check_header_value(self.user_agent, "user_agent")
        if not isinstance(self.allow_insecure_http, bool):
            raise TypeError("allow_insecure_http must be True or False")
        limit: object = self.max_response_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_response_bytes must be an int of bytes >= 1, got {limit!r}")
        scheme, host, port, base_path = _split_base_url(self.base_url)
        if scheme == "http" and not is_loopback_host(host):
            _check_insecure_http_allowed(host, key, self.allow_insecure_http)
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
                ("User-Agent", user_agent),
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


def _check_api_key(api_key: object) -> str:
    # The messages never show the key, not even in part: they end up in logs.
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, got {type(api_key).__name__}")
    if not api_key.strip():
        raise ValueError(
            "No API key: pass api_key=... or set the POSTSTACK_API_KEY environment variable"
        )
    if api_key != api_key.strip():
        raise ValueError("api_key has leading or trailing whitespace (the key is not shown)")
    if not all("!" <= char <= "~" for char in api_key):
        raise ValueError(
            "api_key may hold only printable ASCII without spaces, as PostStack keys do "
            "(the key is not shown)"
        )
    return api_key


def _check_insecure_http_allowed(host: str, key: str, allowed: bool) -> None:
    if key.startswith(LIVE_KEY_PREFIX):
        raise ValueError(
            f"base_url uses plain http:// to {host!r}, which is not this machine: an sk_live_ "
            "key would cross the network unencrypted. Use https:// (plain http:// to another "
            "host is possible only with a test key, sk_test_...)."
        )
    if not allowed:
        raise ValueError(
            f"base_url uses plain http:// to {host!r}, which is not this machine: the API key "
            "would cross the network unencrypted. Use https://, or, for a test service such as "
            "a sandbox container, accept the risk with allow_insecure_http=True (or "
            "POSTSTACK_ALLOW_INSECURE_HTTP=1) and a test key."
        )


# RFC 3986 path characters: unreserved, sub-delims, ":" "@" "/", and "%" for escapes.
_PATH_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%"
)
_HEX = frozenset("0123456789abcdefABCDEF")
# Host name labels: letters, digits, hyphens, and underscores (container and service
# names use them, and DNS carries them).
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _split_base_url(base_url: object) -> tuple[str, str, int, str]:
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, got {type(base_url).__name__}")
    url = base_url.strip()
    if not all(char >= "!" for char in url) or "\x7f" in url:
        # Checked before urlsplit, which silently drops tabs and line breaks.
        raise ValueError(f"base_url has spaces or control characters: {base_url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced "[" in the host, for one
        raise ValueError(f"base_url is not a valid URL ({exc}): {base_url!r}") from None
    if parts.username is not None or parts.password is not None:
        # Not echoed: the URL holds a password.
        raise ValueError("base_url must not carry credentials (user:password@); use api_key")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("base_url must not carry a query or a fragment")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"base_url must be an absolute https:// URL, got {base_url!r}")
    host = _check_host(parts, base_url)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"base_url has an invalid port (1-65535): {base_url!r}") from None
    if port is None:
        port = 443 if scheme == "https" else 80
    elif port == 0:
        raise ValueError(f"base_url has an invalid port (1-65535): {base_url!r}")
    return scheme, host, port, _check_path(parts.path, base_url)


def _check_host(parts: SplitResult, base_url: str) -> str:
    host = parts.hostname
    if not host:
        raise ValueError(f"base_url has no host: {base_url!r}")
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            IPv6Address(host)
        except ValueError:
            raise ValueError(f"base_url has an invalid IPv6 address: {base_url!r}") from None
        return host
    if not host.isascii():
        raise ValueError(
            f"base_url host {host!r} is not ASCII: write an internationalised name in its "
            "ASCII form (xn--...)"
        )
    labels = host.removesuffix(".").split(".")
    if labels[-1].isdigit():
        # All-numeric last label: an IPv4 literal, which must be canonical (resolvers
        # read 127.1 or 127.0.0.01 in surprising ways).
        try:
            IPv4Address(host)
        except ValueError:
            raise ValueError(f"base_url has an invalid IPv4 address: {base_url!r}") from None
        return host
    for label in labels:
        if (
            not label
            or len(label) > 63
            or not set(label) <= _LABEL_CHARS
            or label.startswith("-")
            or label.endswith("-")
        ):
            raise ValueError(f"base_url has an invalid host name {host!r}: {base_url!r}")
    return host


def _check_path(path: str, base_url: str) -> str:
    for index, char in enumerate(path):
        if char not in _PATH_CHARS:
            raise ValueError(
                f"base_url path has {char!r}, which a URL cannot carry (percent-encode it): "
                f"{base_url!r}"
            )
        escape = path[index + 1 : index + 3]
        if char == "%" and not (len(escape) == 2 and set(escape) <= _HEX):
            raise ValueError(f"base_url path has a '%' that starts no %XX escape: {base_url!r}")
    return path.rstrip("/")
