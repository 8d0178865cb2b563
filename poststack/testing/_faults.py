"""Fault injection: make the next request(s) fail the way real networks and servers do.

Theory of operation
-------------------
``sb.faults`` is a :class:`FaultPlan`, an ordered queue of armed faults. When a
request has been read completely (and recorded in ``sb.requests``), the server
asks the plan for the first armed fault whose ``method`` and ``path`` match; that
fault's remaining count goes down by one, and it is dropped at zero. The
matched fault then decides what happens, in this order:

1. ``delay`` seconds pass (the wait ends early if the sandbox is stopped);
2. if ``process`` is true, the request is handled normally: its effects happen
   and its idempotency record is stored, but its response is thrown away;
3. ``reset=True`` closes the connection with a TCP RST (``SO_LINGER`` 0), so
   the client sees a connection error and no response;
   ``status=...`` answers with that status and an error body;
   neither (a pure delay) answers normally.

Without ``process``, a faulted request that does not answer normally creates
nothing: it never reaches the API handlers. Faults apply to API requests only,
never to the inbox (``/`` and ``/_sandbox/...``), so the inbox can always
clear them.

JSON form (the inbox API's ``/_sandbox/faults``): a fault is an object with
the fields of :class:`Fault` (``body`` as text), plus ``count`` (a whole number
of requests, default 1, or ``null`` for "until cleared"). ``POST`` takes one
such object or ``{"faults": [...]}``; ``GET`` lists the pending faults as
``{"faults": [{"fault": {...}, "remaining": n | null}]}``.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

from ._validation import as_object

__all__ = ["Fault", "FaultPlan"]

_DEFAULT_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable_entity",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do instead of (or before) answering one request.

    - ``status``: answer with this HTTP status and a JSON error body
      ``{"error": error, "code": code}``. ``code`` defaults to the spec's code
      for the status (429 → ``rate_limit_exceeded``, 5xx → ``internal_error``,
      4xx as in API §2); ``error`` defaults to a short message.
    - ``retry_after``: add a ``Retry-After`` header (a number of seconds, or any
      string such as an HTTP-date, sent verbatim). Only with ``status``.
    - ``headers``: extra response headers. Only with ``status``.
    - ``body``: raw response body bytes that replace the JSON error body (for
      example ``b""`` or ``b"<html>Bad Gateway</html>"``); ``content_type``
      goes with it. Only with ``status``.
    - ``reset``: read the request, then abort the connection with a TCP RST.
    - ``delay``: seconds to wait before answering (or resetting).
    - ``process``: handle the request for real first, then replace its response
      with the fault — a "lost response", to exercise idempotent retries.
    - ``method`` / ``path``: which requests the fault applies to. ``method`` is
      compared case-insensitively; ``path`` is a shell-style pattern
      (``fnmatch``) over the raw path without the query, e.g. ``"/emails"`` or
      ``"/emails/*"``. ``None`` matches anything.
    """

    status: int | None = None
    code: str | None = None
    error: str | None = None
    retry_after: float | str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str = "text/plain"
    reset: bool = False
    delay: float = 0.0
    process: bool = False
    method: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be within 100..599, got {self.status}")
        if self.status is not None and self.reset:
            raise ValueError("a fault either answers with a status or resets, not both")
        if self.status is None and not self.reset and self.delay <= 0:
            raise ValueError("a fault needs status=, reset=True or a positive delay=")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.status is None and (
            self.retry_after is not None or self.headers or self.body is not None
        ):
            raise ValueError("retry_after, headers and body need a status")
        if self.process and self.status is None and not self.reset:
            raise ValueError("process=True needs status= or reset=True")

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request with this method and raw path."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    @property
    def effective_code(self) -> str | None:
        """The ``code`` the error body carries."""
        if self.code is not None:
            return self.code
        if self.status is None:
            return None
        if self.status >= 500:
            return "internal_error"
        return _DEFAULT_CODES.get(self.status)

    def to_json(self) -> dict[str, Any]:
        """The fault as JSON (``body`` as UTF-8 text, ``headers`` as an object)."""
        data = asdict(self)
        data["headers"] = dict(self.headers)
        data["body"] = self.body.decode("utf-8", "replace") if self.body is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """A fault from its JSON form; ``ValueError`` names what is wrong."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        values = dict(data)
        headers = as_object(values.get("headers") or {})
        if headers is None or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("headers must be an object of strings")
        values["headers"] = tuple(headers.items())
        body = values.get("body")
        if body is not None and not isinstance(body, str):
            raise ValueError("body must be text")
        values["body"] = body.encode("utf-8") if body is not None else None
        _check_types(values)
        return cls(**values)

    def response_headers(self) -> list[tuple[str, str]]:
        """Extra headers of the fault's response (``Retry-After`` and ``headers``)."""
        out: list[tuple[str, str]] = []
        if self.retry_after is not None:
            value = self.retry_after
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out.append(("retry-after", str(value)))
        out.extend(self.headers)
        return out


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "status": (int,),
    "code": (str,),
    "error": (str,),
    "retry_after": (int, float, str),
    "content_type": (str,),
    "reset": (bool,),
    "delay": (int, float),
    "process": (bool,),
    "method": (str,),
    "path": (str,),
}


def _check_types(values: dict[str, Any]) -> None:
    for name, kinds in _FIELD_TYPES.items():
        value = values.get(name)
        if value is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            raise ValueError(f"{name} must be {' or '.join(k.__name__ for k in kinds)}")
    if values.get("delay") is None:
        values.pop("delay", None)
    for flag in ("reset", "process"):
        if values.get(flag) is None:
            values.pop(flag, None)
    if values.get("content_type") is None:
        values.pop("content_type", None)


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int | None  # None: until cleared


class FaultPlan:
    """The faults armed on one sandbox (``sb.faults``). Thread-safe.

    Examples::

        sb.faults.next(status=503)                      # the next request gets a 503
        sb.faults.next(status=429, retry_after=2)       # 429 + Retry-After: 2
        sb.faults.next(reset=True)                      # connection reset, no response
        sb.faults.next(delay=0.5)                       # answer normally, 0.5 s late
        sb.faults.next(status=500, method="POST", path="/emails", count=2)
        sb.faults.next(reset=True, process=True)        # email is created, reply lost
        sb.faults.always(status=503)                    # every request, until cleared
        sb.faults.clear()
    """

    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._lock = threading.Lock()

    def next(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        error: str | None = None,
        retry_after: float | str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "text/plain",
        reset: bool = False,
        delay: float = 0.0,
        process: bool = False,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
    ) -> Fault:
        """Arm a fault for the next ``count`` matching requests; return it.

        Faults are consumed in the order they were armed: the first armed fault
        that matches a request is the one applied to it.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(
            status=status,
            code=code,
            error=error,
            retry_after=retry_after,
            headers=tuple((headers or {}).items()),
            body=body,
            content_type=content_type,
            reset=reset,
            delay=delay,
            process=process,
            method=method,
            path=path,
        )
        self.add(fault, count=count)
        return fault

    def always(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | str | None = None,
        reset: bool = False,
        delay: float = 0.0,
        method: str | None = None,
        path: str | None = None,
    ) -> Fault:
        """Arm a fault for every matching request until :meth:`clear`."""
        fault = Fault(
            status=status,
            code=code,
            retry_after=retry_after,
            reset=reset,
            delay=delay,
            method=method,
            path=path,
        )
        self.add(fault, count=None)
        return fault

    def add(self, fault: Fault, *, count: int | None = 1) -> None:
        """Arm a prepared :class:`Fault` ``count`` times (``None``: until cleared)."""
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None)")
        with self._lock:
            self._armed.append(_Armed(fault, count))

    def add_json(self, data: dict[str, Any]) -> None:
        """Arm faults from their JSON form: one fault object or ``{"faults": [...]}``."""
        items: Any = data.get("faults", [data])
        if not isinstance(items, list) or not items:
            raise ValueError("faults must be a non-empty list of fault objects")
        armed: list[tuple[Fault, int | None]] = []
        for item in items:  # pyright: ignore[reportUnknownVariableType]
            if not isinstance(item, dict):
                raise ValueError("each fault must be an object")
            values: dict[str, Any] = dict(item)  # pyright: ignore[reportUnknownArgumentType]
            count = values.pop("count", 1)
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
                raise ValueError("count must be a whole number or null")
            armed.append((Fault.from_json(values), count))
        for fault, count in armed:  # all checked before any is armed
            self.add(fault, count=count)

    def to_json(self) -> list[dict[str, Any]]:
        """The pending faults as JSON, in the order they apply."""
        return [{"fault": fault.to_json(), "remaining": left} for fault, left in self.pending]

    def clear(self) -> None:
        """Disarm every pending fault."""
        with self._lock:
            self._armed.clear()

    @property
    def pending(self) -> list[tuple[Fault, int | None]]:
        """The armed faults with their remaining counts (``None``: unlimited)."""
        with self._lock:
            return [(a.fault, a.remaining) for a in self._armed]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the fault for this request, if one is armed for it."""
        with self._lock:
            for index, armed in enumerate(self._armed):
                if not armed.fault.matches(method, path):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        del self._armed[index]
                return armed.fault
        return None
