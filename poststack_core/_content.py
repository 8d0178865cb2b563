"""Content-Encoding, decided in one place: what the SDK asks for, and undoing it under the cap.

Every request says ``Accept-Encoding: gzip`` (large list responses shrink
several times over). Transports never decode: they hand over the body exactly
as it came off the wire, capped at ``max_response_bytes``, and
:func:`decoded` undoes the encoding here, producing at most that many bytes
too, so a small compressed body can never expand past the cap (a gzip bomb
fails like any other oversized response). An encoding the SDK did not ask
for is refused, never guessed at.
"""

from __future__ import annotations

from ._messages import Response

ACCEPT_ENCODING = "gzip"


class ContentTooLarge(Exception):
    """The decoded body would be larger than the limit."""


class ContentUndecodable(Exception):
    """The body is not in the encoding its Content-Encoding names (or in one never asked for)."""


def decoded(response: Response, limit: int) -> Response:
    """``response`` with its Content-Encoding undone; the body never exceeds ``limit`` bytes.

    Raises :class:`ContentTooLarge` or :class:`ContentUndecodable`. Headers
    stay as received.
    """
    header = response.header("content-encoding")
    if header is None or not response.body:
        return response
    codings = [c.strip().lower() for c in header.split(",")]
    # Listed in the order they were applied (RFC 9110 8.4): undo the last first.
    body = response.body
    for coding in reversed([c for c in codings if c not in ("", "identity")]):
        if coding not in ("gzip", "x-gzip"):
            raise ContentUndecodable(
                f"a body in the {coding!r} encoding, which the SDK never asks for"
            )
        body = _gunzip(body, limit)
    return Response(response.status, response.headers, body)


def _gunzip(data: bytes, limit: int) -> bytes:
    # zlib is a shared library: loaded by the first compressed answer, not with the core.
    import zlib

    # wbits for a gzip member (header and trailer included), as RFC 1952 defines it.
    gzip_member = 16 + zlib.MAX_WBITS
    parts: list[bytes] = []
    size = 0
    # A gzip body may be several members back to back (RFC 1952 2.2): decode each.
    while data:
        inflater = zlib.decompressobj(gzip_member)
        try:
            # At most one byte past the limit: enough to know it is too large.
            part = inflater.decompress(data, limit - size + 1)
        except zlib.error as exc:
            raise ContentUndecodable(f"a gzip body that does not decode ({exc})") from None
        size += len(part)
        if size > limit:
            raise ContentTooLarge
        if not inflater.eof:
            raise ContentUndecodable("a truncated gzip body")
        parts.append(part)
        data = inflater.unused_data
    return b"".join(parts)
