"""The runtimes the conformance suite runs every scenario on.

A runtime is a transport plus the way a program drives it: the blocking
``PostStack`` in the calling thread, or ``AsyncPostStack`` inside
``asyncio.run`` or ``trio.run``. Each runs a list of calls on a fresh client
and returns what the caller saw: a value or the exception, for each call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from poststack.transports.requests import RequestsTransport
from poststack.transports.trio import TrioTransport

API_KEY = "sk_test_conformance"
DOC = Path(__file__).resolve().parents[2] / "docs" / "custom-transport.md"


@dataclasses.dataclass(frozen=True)
class Step:
    """One call: ``client.emails.<method>(*args, **kwargs)``."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Outcome:
    value: Any = None
    error: PostStackError | None = None
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class Runtime:
    name: str
    loop: str  # "sync", "asyncio" or "trio"
    transport: Callable[[], Any]

    def run(
        self, base_url: str, steps: Sequence[Step], *, timeout: float, max_retries: int
    ) -> list[Outcome]:
        if self.loop == "sync":
            return self._run_sync(base_url, steps, timeout, max_retries)
        main = self._run_async(base_url, steps, timeout, max_retries)
        if self.loop == "asyncio":
            return asyncio.run(main)
        return trio.run(lambda: main)

    def _run_sync(
        self, base_url: str, steps: Sequence[Step], timeout: float, max_retries: int
    ) -> list[Outcome]:
        transport = self.transport()
        outcomes = []
        try:
            with PostStack(API_KEY, base_url, timeout, max_retries, transport=transport) as ps:
                for step in steps:
                    start = time.monotonic()
                    outcome = Outcome()
                    try:
                        outcome.value = getattr(ps.emails, step.method)(*step.args, **step.kwargs)
                    except PostStackError as exc:
                        outcome.error = exc
                    outcome.seconds = time.monotonic() - start
                    outcomes.append(outcome)
        finally:
            transport.close()
        return outcomes

    async def _run_async(
        self, base_url: str, steps: Sequence[Step], attempt_timeout: float, max_retries: int
    ) -> list[Outcome]:
        transport = self.transport()
        outcomes = []
        try:
            async with AsyncPostStack(
                API_KEY, base_url, attempt_timeout, max_retries, transport=transport
            ) as ps:
                for step in steps:
                    start = time.monotonic()
                    outcome = Outcome()
                    try:
                        method = getattr(ps.emails, step.method)
                        outcome.value = await method(*step.args, **step.kwargs)
                    except PostStackError as exc:
                        outcome.error = exc
                    outcome.seconds = time.monotonic() - start
                    outcomes.append(outcome)
        finally:
            await transport.aclose()
        return outcomes


def doc_transport_class() -> type:
    """The ``HttpClientTransport`` of docs/custom-transport.md, run from the page itself."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text("utf-8"), re.M | re.S)
    assert len(blocks) == 1, "docs/custom-transport.md must hold exactly one python block"
    namespace: dict[str, Any] = {"__name__": "custom_transport_doc"}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    cls: type = namespace["HttpClientTransport"]
    return cls


def _doc_transport() -> Any:
    return doc_transport_class()()


RUNTIMES = [
    Runtime("requests", "sync", RequestsTransport),
    Runtime("httpx", "sync", HttpxTransport),
    Runtime("httpx-asyncio", "asyncio", AsyncHttpxTransport),
    Runtime("httpx-trio", "trio", AsyncHttpxTransport),
    Runtime("trio-h11", "trio", TrioTransport),
    Runtime("doc-http.client", "sync", _doc_transport),
]
