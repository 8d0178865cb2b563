"""The runtimes the conformance suite runs every scenario on.

A runtime is a transport plus the way a program drives it: the blocking
``PostStack`` in the calling thread, or ``AsyncPostStack`` inside
``asyncio.run`` or ``trio.run``. Each runs a list of calls on a fresh client
and returns what the caller saw: a value or the exception, for each call.

The SDK's own transports run with their defaults. A user's own ``httpx`` /
``httpx2`` client is a runtime too, built as a user would (``trust_env`` as
the scenario says) except that its default headers are cleared, so that the
requests it sends can be compared with the others'; so is a user's own
``aiohttp.ClientSession``, made inside the event loop that runs the calls,
as aiohttp requires.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import importlib.util
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.transports.aiohttp import AiohttpTransport
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from poststack.transports.requests import RequestsTransport
from poststack.transports.trio import TrioTransport

API_KEY = "sk_test_conformance"
DOC = Path(__file__).resolve().parents[2] / "docs" / "custom-transport.md"

# httpx2 needs Python 3.11; where it cannot be installed, its runtimes are left out.
HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None


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


Cleanup = Callable[[], Any]
"""Closes what a factory made besides the transport (a user's client); may be a coroutine."""


@dataclasses.dataclass(frozen=True)
class Runtime:
    name: str
    loop: str  # "sync", "asyncio" or "trio"
    make: Callable[[bool], tuple[Any, Cleanup | None]]
    """Builds the transport (and a cleanup), honouring the environment or not."""
    own: bool = True
    """The SDK's own transport (False: a user's client, with its own rules)."""
    one_loop: bool = False
    """Bound to the event loop (and process) it was made in: a user's aiohttp session."""

    def run(
        self,
        base_url: str,
        steps: Sequence[Step],
        *,
        timeout: float,
        max_retries: int,
        max_response_bytes: int | None = None,
        trust_env: bool = True,
    ) -> list[Outcome]:
        options: dict[str, Any] = {"timeout": timeout, "max_retries": max_retries}
        if max_response_bytes is not None:
            options["max_response_bytes"] = max_response_bytes
        if self.loop == "sync":
            transport, cleanup = self.make(trust_env)
            return self._run_sync(base_url, steps, options, transport, cleanup)
        main = self._run_async(base_url, steps, options, trust_env)
        if self.loop == "asyncio":
            return asyncio.run(main)
        return trio.run(lambda: main)

    @staticmethod
    def _run_sync(
        base_url: str,
        steps: Sequence[Step],
        options: dict[str, Any],
        transport: Any,
        cleanup: Cleanup | None,
    ) -> list[Outcome]:
        outcomes = []
        try:
            with PostStack(API_KEY, base_url, transport=transport, **options) as ps:
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
            if cleanup is not None:
                cleanup()
        return outcomes

    async def _run_async(
        self, base_url: str, steps: Sequence[Step], options: dict[str, Any], trust_env: bool
    ) -> list[Outcome]:
        outcomes = []
        # Made in the loop that uses it, as a user's aiohttp session must be.
        transport, cleanup = self.make(trust_env)
        try:
            async with AsyncPostStack(API_KEY, base_url, transport=transport, **options) as ps:
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
            if cleanup is not None:
                closing: Awaitable[Any] = cleanup()
                await closing
        return outcomes


def doc_transport_class() -> type:
    """The ``HttpClientTransport`` of docs/custom-transport.md, run from the page itself."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text("utf-8"), re.M | re.S)
    assert len(blocks) == 1, "docs/custom-transport.md must hold exactly one python block"
    namespace: dict[str, Any] = {"__name__": "custom_transport_doc"}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    cls: type = namespace["HttpClientTransport"]
    return cls


def _own(cls: Callable[..., Any]) -> Callable[[bool], tuple[Any, None]]:
    def make(trust_env: bool) -> tuple[Any, None]:
        return cls(trust_env=trust_env), None

    return make


def _doc(trust_env: bool) -> tuple[Any, None]:
    return doc_transport_class()(), None


def _users_client(library: str, *, asynchronous: bool) -> Callable[[bool], tuple[Any, Cleanup]]:
    def make(trust_env: bool) -> tuple[Any, Cleanup]:
        module = importlib.import_module(library)
        if asynchronous:
            client = module.AsyncClient(trust_env=trust_env)
            client.headers.clear()
            return AsyncHttpxTransport(client), client.aclose
        client = module.Client(trust_env=trust_env)
        client.headers.clear()
        return HttpxTransport(client), client.close

    return make


def _users_aiohttp_session(trust_env: bool) -> tuple[Any, Cleanup]:
    import aiohttp

    session = aiohttp.ClientSession(trust_env=trust_env)
    return AiohttpTransport(session), session.close


RUNTIMES = [
    Runtime("requests", "sync", _own(RequestsTransport)),
    Runtime("httpx", "sync", _own(HttpxTransport)),
    Runtime("httpx-asyncio", "asyncio", _own(AsyncHttpxTransport)),
    Runtime("httpx-trio", "trio", _own(AsyncHttpxTransport)),
    Runtime("trio-h11", "trio", _own(TrioTransport)),
    Runtime("aiohttp", "asyncio", _own(AiohttpTransport)),
    Runtime("doc-http.client", "sync", _doc, own=False),
    Runtime("httpx.Client", "sync", _users_client("httpx", asynchronous=False), own=False),
    Runtime("httpx.AsyncClient", "asyncio", _users_client("httpx", asynchronous=True), own=False),
    Runtime("aiohttp.ClientSession", "asyncio", _users_aiohttp_session, own=False, one_loop=True),
]
if HAS_HTTPX2:
    RUNTIMES += [
        Runtime("httpx2.Client", "sync", _users_client("httpx2", asynchronous=False), own=False),
        Runtime(
            "httpx2.AsyncClient-trio", "trio", _users_client("httpx2", asynchronous=True), own=False
        ),
    ]

SDK_RUNTIMES = [
    runtime
    for runtime in RUNTIMES
    if runtime.name not in ("doc-http.client", "aiohttp.ClientSession")
]
"""Every runtime that honours the environment as the SDK reads it.

Not the docs' example, which honours none (it is 30 lines), nor a user's
aiohttp session, which honours it by aiohttp's rules: proxies as urllib reads
them, and no ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` of its own.
"""
