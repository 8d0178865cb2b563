"""Request and Response: the immutable values that cross between the core and a transport."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The default cap on a response body (64 MiB): above any email or attachment the API serves."""


@dataclass(frozen=True, slots=True, repr=False)
class Request:
    """One HTTP request, ready to write, and the limit on its response.

    ``url`` is absolute; ``scheme``, ``host``, ``port`` and ``target`` (path
    and query) are the same URL in the pieces an HTTP/1.1 writer needs.
    ``headers`` is the complete header block, framing included: ``Host``
    first, ``Content-Length`` whenever a body is sent (``0`` for a bodyless
    POST, PUT or PATCH) and none otherwise, and ``Accept-Encoding``. A
    transport writes them as they are, in this order, and adds or recomputes
    none. ``body`` is None when the request has no body at all.

    ``max_response_bytes`` bounds the response body as it comes off the wire:
    a transport stops reading and raises :class:`ResponseTooLarge` as soon as
    a response announces or delivers more, so nothing above it is buffered.
    """

    method: str
    url: str
    scheme: str
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __repr__(self) -> str:
        # The Authorization header carries the API key: never show the headers.
        return f"<Request {self.method} {self.url}>"

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass(frozen=True, slots=True, repr=False)
class Response:
    """One HTTP response as received: status, headers (names in any case), whole body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        return f"<Response {self.status} ({len(self.body)} bytes)>"

    def header(self, name: str) -> str | None:
        """The value of a header, repeated ones joined with ``", "`` (RFC 9110 5.3)."""
        name = name.lower()
        found = [value for key, value in self.headers if key.lower() == name]
        return ", ".join(found) if found else None

    def header_dict(self) -> dict[str, str]:
        """Every header under its lower-case name, repeated ones joined with ``", "``."""
        merged: dict[str, str] = {}
        for key, value in self.headers:
            key = key.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged
