"""The front gate: which ``Host`` and ``Origin`` a request may carry.

A web page the developer happens to open can send requests to
``http://127.0.0.1:8025`` (no-cors POSTs), or rebind its own DNS name to
127.0.0.1 and then read the answers as if same-origin. Two checks stop that:

- every request's ``Host`` must name the sandbox: a loopback name
  (``localhost``, a 127.0.0.0/8 literal, ``[::1]``) with the sandbox's own
  port, or one of the names given with ``allow_remote`` (``sandbox`` means
  that name on the sandbox's own port; ``sandbox:9000`` names the port too,
  for a published port mapping). A rebound page's Host is its own name, so it
  is refused;
- a request that carries an ``Origin`` must come from the sandbox's own
  origin: a page elsewhere never gets the API or the inbox's mutating calls.
  (Browsers send ``Origin`` on every cross-origin request and on same-origin
  POSTs; API clients such as the SDK send none.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from poststack_core import is_loopback_host

__all__ = ["HostGate"]


_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*|[0-9a-f:.]+")


def parse_names(names: Iterable[str]) -> tuple[tuple[str, int | None], ...]:
    """``allow_remote`` names as (name, port or None); ``ValueError`` for a malformed one."""
    parsed: list[tuple[str, int | None]] = []
    for raw in names:
        found = _split_host(raw) if isinstance(raw, str) else None
        if found is None:
            raise ValueError(f"allow_remote: not a host name or host:port: {raw!r}")
        parsed.append(found)
    return tuple(parsed)


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``name[:port]`` or ``[v6][:port]`` → (name, port); ``None`` if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    else:
        name, _, port_text = value.partition(":")
        if ":" in port_text:
            return None
    if port_text and not (port_text.isascii() and port_text.isdigit()):
        return None
    name = name.rstrip(".")
    if not _NAME.fullmatch(name):
        return None
    return name, int(port_text) if port_text else None


class HostGate:
    """Checks ``Host`` and ``Origin`` against the names this sandbox answers to."""

    def __init__(self, port: int, remote: Iterable[tuple[str, int | None]] = ()) -> None:
        self.port = port
        # A remote name without a port means the sandbox's own port.
        self._remote = {(name, given if given is not None else port) for name, given in remote}

    def allows_host(self, value: str | None) -> bool:
        """Whether a ``Host`` header value names this sandbox."""
        if value is None:
            return False
        parsed = _split_host(value)
        if parsed is None:
            return False
        name, given = parsed
        port = 80 if given is None else given
        if port == self.port and is_loopback_host(name):
            return True
        return (name, port) in self._remote

    def allows_origin(self, origin: str | None) -> bool:
        """Whether an ``Origin`` header is absent or the sandbox's own origin."""
        if origin is None:
            return True
        parts = urlsplit(origin.strip())
        if parts.scheme != "http" or parts.path not in ("", "/") or parts.query:
            return False
        return self.allows_host(parts.netloc)

    def refusal(self, value: str | None) -> str:
        names = ", ".join(f"{n}:{p}" for n, p in sorted(self._remote))
        extra = f" or {names}" if names else ""
        return (
            f"Host {value!r} is not allowed: the sandbox answers to localhost, 127.0.0.1 and "
            f"[::1] on port {self.port}{extra} (name others with --allow-remote)"
        )
