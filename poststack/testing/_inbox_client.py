"""``SandboxInbox``: the inbox API of a running sandbox, from Python.

It talks HTTP to ``/_sandbox/...``, so it works the same against an in-process
:class:`~poststack.testing.Sandbox`, a ``poststack sandbox`` in another
terminal, or a docker-compose service. The ``wait_for_*`` helpers listen to the
sandbox's event stream and re-check after each event: they return as soon as
the email is there, and never poll on a timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

if TYPE_CHECKING:
    from ._inbox import InboxMessage, InboxSummary

__all__ = ["InboxError", "SandboxInbox"]

_T = TypeVar("_T")
_STREAM_SLACK = 5.0  # beyond the keep-alive interval, a silent stream means trouble


class InboxError(Exception):
    """The inbox API answered with an error (``status_code``, ``code``, ``message``)."""

    def __init__(self, status_code: int, code: str | None, message: str) -> None:
        super().__init__(f"{status_code} {code or 'error'}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message


class SandboxInbox:
    """Read and drive a sandbox's inbox: list, search, open, bounce, clear, advance, faults.

    ::

        inbox = SandboxInbox("http://127.0.0.1:8025")
        message = inbox.wait_for_message(to="ada@example.com")
        assert "Welcome" in inbox.html(message["id"])
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url: str = base_url.rstrip("/")
        self._timeout = timeout
        self._http = httpx.Client(base_url=f"{self.base_url}/_sandbox", timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connections (the sandbox itself keeps running)."""
        self._http.close()

    def __enter__(self) -> SandboxInbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SandboxInbox {self.base_url}>"

    # -- plumbing --

    def _call(self, method: str, path: str, body: object = None, **params: Any) -> httpx.Response:
        query = {k.rstrip("_"): v for k, v in params.items() if v is not None}
        if method == "GET":
            response = self._http.get(path, params=query)
        else:
            response = self._http.request(method, path, json={} if body is None else body)
        if response.is_error:
            try:
                data = response.json()
                code, message = data.get("code"), data.get("error", response.reason_phrase)
            except ValueError:
                code, message = None, response.reason_phrase
            raise InboxError(response.status_code, code, str(message))
        return response

    def _json(self, method: str, path: str, body: object = None, **params: Any) -> Any:
        return self._call(method, path, body, **params).json()

    # -- reading --

    def search(
        self,
        *,
        q: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        subject: str | None = None,
        tag: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> tuple[list[InboxSummary], int]:
        """One page of matching emails, newest first, and how many match in all."""
        page = self._json(
            "GET",
            "/messages",
            q=q,
            from_=from_,
            to=to,
            subject=subject,
            tag=tag,
            status=status,
            limit=limit,
            offset=offset,
        )
        return cast("list[InboxSummary]", page["messages"]), int(page["total"])

    def messages(self, **filters: Any) -> list[InboxSummary]:
        """The matching emails (first page), newest first; takes :meth:`search`'s filters."""
        return self.search(**filters)[0]

    def latest(self) -> InboxMessage:
        """The newest email, with everything the sandbox knows about it."""
        return cast("InboxMessage", self._json("GET", "/messages/latest"))

    def message(self, email_id: str) -> InboxMessage:
        """One email: bodies, headers, the exact request, attachments, events, deliveries."""
        return cast("InboxMessage", self._json("GET", f"/messages/{email_id}"))

    def html(self, email_id: str) -> str:
        """The email's HTML part (an :class:`InboxError` 404 when it has none)."""
        return self._call("GET", f"/messages/{email_id}/html").text

    def text(self, email_id: str) -> str:
        """The email's text part (an :class:`InboxError` 404 when it has none)."""
        return self._call("GET", f"/messages/{email_id}/text").text

    def attachment(self, email_id: str, index: int) -> bytes:
        """The bytes of one attachment (``index`` as listed in :meth:`message`)."""
        return self._call("GET", f"/messages/{email_id}/attachments/{index}").content

    # -- acting --

    def bounce(self, email_id: str, *, soft: bool = False) -> InboxMessage:
        """Make the email bounce; its status, events and webhooks follow."""
        body = {"type": "soft" if soft else "hard"}
        return cast("InboxMessage", self._json("POST", f"/messages/{email_id}/bounce", body))

    def complain(self, email_id: str) -> InboxMessage:
        """Make the email's recipient complain (mark it as spam)."""
        return cast("InboxMessage", self._json("POST", f"/messages/{email_id}/complain"))

    def clear(self) -> int:
        """Empty the inbox; how many emails there were."""
        return int(self._json("DELETE", "/messages")["deleted"])

    def clock(self) -> dict[str, Any]:
        """``{"now": ISO 8601, "frozen": bool}``."""
        return cast("dict[str, Any]", self._json("GET", "/clock"))

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox clock forward (what comes due runs at once); the new clock."""
        return cast("dict[str, Any]", self._json("POST", "/clock/advance", {"seconds": seconds}))

    def faults(self) -> list[dict[str, Any]]:
        """The pending faults: ``[{"fault": {...}, "remaining": n | None}]``."""
        return cast("list[dict[str, Any]]", self._json("GET", "/faults")["faults"])

    def add_faults(self, *faults: dict[str, Any]) -> list[dict[str, Any]]:
        """Arm faults in their JSON form (``{"status": 503, "count": 2, "path": "/emails"}``)."""
        pending = self._json("POST", "/faults", {"faults": list(faults)})
        return cast("list[dict[str, Any]]", pending["faults"])

    def clear_faults(self) -> None:
        """Disarm every pending fault."""
        self._call("DELETE", "/faults")

    def receive(self, **fields: Any) -> dict[str, Any]:
        """Deliver an inbound email (``from_``/``from``, ``to``, ``subject``, ``text``, ...)."""
        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        return cast("dict[str, Any]", self._json("POST", "/inbound", fields))

    # -- waiting, on the event stream --

    def _events(self, deadline: float) -> Iterator[str]:
        """Event names from the stream until ``deadline``; the first is ``"connected"``."""
        keepalive_bound = min(max(0.1, deadline - time.monotonic()), 15.0 + _STREAM_SLACK)
        timeout = httpx.Timeout(self._timeout, read=keepalive_bound)
        with self._http.stream("GET", "/stream", timeout=timeout) as response:
            if response.is_error:
                raise InboxError(response.status_code, None, "the event stream refused to open")
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    yield "connected"
                elif line.startswith("event:"):
                    yield line.removeprefix("event:").strip()
                if time.monotonic() >= deadline:
                    return

    def _wait(self, check: Callable[[], _T | None], timeout: float, what: str) -> _T:
        deadline = time.monotonic() + timeout
        try:
            for _ in self._events(deadline):
                # Checked once the stream is open, then after every change it reports.
                found = check()
                if found is not None:
                    return found
                if time.monotonic() >= deadline:
                    break
        except httpx.ReadTimeout:
            pass
        found = check()
        if found is not None:
            return found
        raise TimeoutError(f"no {what} within {timeout} s")

    def wait_for_message(self, timeout: float = 5.0, **filters: Any) -> InboxSummary:
        """The newest email matching :meth:`search`'s filters, waiting for it if needed."""

        def check() -> InboxSummary | None:
            found = self.messages(limit=1, **filters)
            return found[0] if found else None

        return self._wait(check, timeout, f"email matching {filters or 'anything'}")

    def wait_for_status(self, email_id: str, status: str, timeout: float = 5.0) -> InboxMessage:
        """The email once it has ``status`` (a running clock moves it on its own)."""

        def check() -> InboxMessage | None:
            message = self.message(email_id)
            return message if message["status"] == status else None

        return self._wait(check, timeout, f"status {status!r} for {email_id}")
