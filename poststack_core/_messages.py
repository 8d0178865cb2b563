"""Request and Response: the immutable values that cross between the core and a transport."""

from __future__ import annotations

from ._value import Value
from ._value import set_field as _set


class Request(Value):
    """One HTTP request, ready to write.

    ``url`` is absolute; ``scheme``, ``host``, ``port`` and ``target`` (path
    and query) are the same URL in the pieces an HTTP/1.1 writer needs.
    ``headers`` holds no ``Host`` or ``Content-Length``: the HTTP library adds
    those. ``body`` is None when the request has no body at all.
    """

    __slots__ = ("body", "headers", "host", "method", "port", "scheme", "target", "url")
    method: str
    url: str
    scheme: str
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def __init__(
        self,
        method: str,
        url: str,
        scheme: str,
        host: str,
        port: int,
        target: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes | None,
    ) -> None:
        _set(self, "method", method)
        _set(self, "url", url)
        _set(self, "scheme", scheme)
        _set(self, "host", host)
        _set(self, "port", port)
        _set(self, "target", target)
        _set(self, "headers", headers)
        _set(self, "body", body)

    def __repr__(self) -> str:
        # The Authorization header carries the API key: never show it.
        return f"<Request {self.method} {self.url}>"

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Response(Value):
    """One HTTP response as received: status, headers (names in any case), whole body."""

    __slots__ = ("body", "headers", "status")
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __init__(self, status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        _set(self, "status", status)
        _set(self, "headers", headers)
        _set(self, "body", body)

    def header(self, name: str) -> str | None:
        """The value of a header, repeated ones joined with ``", "`` (RFC 9110 5.3)."""
        name = name.lower()
        found = [value for key, value in self.headers if key.lower() == name]
        return ", ".join(found) if found else None

    def header_dict(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for key, value in self.headers:
            key = key.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def __repr__(self) -> str:
        return f"<Response {self.status} ({len(self.body)} bytes)>"
