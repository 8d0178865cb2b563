"""Checked by mypy --strict and pyright, never run: the transports as users' type checkers see them.

httpx2 clients are accepted exactly where httpx ones are, and nowhere else; an
aiohttp session only by AiohttpTransport, which only AsyncPostStack takes.
Every ``# type: ignore[...]`` is an assertion that the error exists, for both
checkers (see check_client_types.py).
"""
# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

import aiohttp
import httpx
import httpx2
import requests
from typing_extensions import assert_type

from poststack import AsyncPostStack, PostStack
from poststack.transports import AsyncTransport, Environment, Proxy, Transport
from poststack.transports.aiohttp import AiohttpTransport
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from poststack.transports.requests import DeadlineAdapter, RequestsTransport
from poststack.transports.trio import TrioTransport


def blocking() -> None:
    for transport in (
        HttpxTransport(),
        HttpxTransport(trust_env=False),
        HttpxTransport(httpx.Client()),
        HttpxTransport(httpx2.Client()),
        RequestsTransport(),
        RequestsTransport(requests.Session(), trust_env=True),
    ):
        checked: Transport = transport
        PostStack("sk_test_x", transport=checked)
    PostStack("sk_test_x", trust_env=False, max_response_bytes=8 * 1024 * 1024)
    session = requests.Session()
    session.mount("https://", DeadlineAdapter(max_retries=0))
    HttpxTransport(httpx.AsyncClient())  # type: ignore[arg-type]
    HttpxTransport(httpx2.AsyncClient())  # type: ignore[arg-type]


def asynchronous() -> None:
    for transport in (
        AsyncHttpxTransport(),
        AsyncHttpxTransport(httpx.AsyncClient()),
        AsyncHttpxTransport(httpx2.AsyncClient()),
        TrioTransport(trust_env=False, max_connections=10),
        AiohttpTransport(),
        AiohttpTransport(trust_env=False),
        AiohttpTransport(aiohttp.ClientSession()),
    ):
        checked: AsyncTransport = transport
        AsyncPostStack("sk_test_x", transport=checked)
    AsyncHttpxTransport(httpx2.Client())  # type: ignore[arg-type]
    AiohttpTransport(httpx.AsyncClient())  # type: ignore[arg-type]
    PostStack("sk_test_x", transport=AiohttpTransport())  # type: ignore[arg-type]


def environment() -> None:
    env = Environment.from_environ({"HTTPS_PROXY": "http://proxy.corp:3128"})
    proxy = env.proxy_for("https", "api.poststack.dev", 443)
    assert_type(proxy, Proxy | None)
    if proxy is not None:
        assert_type(proxy.url, str)
        assert_type(proxy.headers, tuple[tuple[str, str], ...])
    assert_type(env.ca_location, str | None)
