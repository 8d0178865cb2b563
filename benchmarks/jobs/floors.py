"""Raw library floors: the least a program can do to send the same request.

Each floor sends the same JSON body and headers as the SDK (with a fresh
Idempotency-Key each time, as every SDK POST carries one) and decodes the
reply's JSON; no retry logic, no error mapping.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ._measure import (
    PAYLOAD,
    need,
    run_async_seq,
    run_asyncio_concurrent,
    run_sync,
    run_trio_concurrent,
    static_headers,
)
from ._registry import Context, job


@job("raw-httpx", "floor · httpx.Client.post", kind="send")
def raw_httpx(ctx: Context) -> dict[str, Any]:
    return _httpx_sync(ctx, "httpx")


def _httpx_sync(ctx: Context, module: str) -> dict[str, Any]:
    httpx = need(module)
    url = ctx.url + "/emails"
    headers = static_headers()
    with httpx.Client() as client:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return client.post(url, json=PAYLOAD, headers=h).json()

        return run_sync(send, ctx.n, ctx.warmup)


def _httpx_async(ctx: Context, module: str) -> dict[str, Any]:
    import asyncio

    httpx = need(module)
    url = ctx.url + "/emails"
    headers = static_headers()

    async def main() -> dict[str, Any]:
        async with httpx.AsyncClient() as client:

            async def send() -> Any:
                h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
                return (await client.post(url, json=PAYLOAD, headers=h)).json()

            return await run_async_seq(send, ctx.n, ctx.warmup)

    return asyncio.run(main())


@job("raw-httpx-async", "floor · httpx.AsyncClient.post (asyncio), sequential", kind="send")
def raw_httpx_async(ctx: Context) -> dict[str, Any]:
    return _httpx_async(ctx, "httpx")


@job("raw-httpx2", "floor · httpx2.Client.post", kind="send")
def raw_httpx2(ctx: Context) -> dict[str, Any]:
    return _httpx_sync(ctx, "httpx2")


@job("raw-httpx2-async", "floor · httpx2.AsyncClient.post (asyncio), sequential", kind="send")
def raw_httpx2_async(ctx: Context) -> dict[str, Any]:
    return _httpx_async(ctx, "httpx2")


@job("raw-urllib3", "floor · urllib3.PoolManager.request (requests' engine)", kind="send")
def raw_urllib3(ctx: Context) -> dict[str, Any]:
    urllib3 = need("urllib3")
    url = ctx.url + "/emails"
    headers = static_headers()
    with urllib3.PoolManager() as pool:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return pool.request("POST", url, body=json.dumps(PAYLOAD).encode(), headers=h).json()

        return run_sync(send, ctx.n, ctx.warmup)


@job("raw-requests", "floor · requests.Session.post", kind="send")
def raw_requests(ctx: Context) -> dict[str, Any]:
    requests = need("requests")
    url = ctx.url + "/emails"
    headers = static_headers()
    with requests.Session() as session:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return session.post(url, json=PAYLOAD, headers=h).json()

        return run_sync(send, ctx.n, ctx.warmup)


def _h11_request(h11: Any, host: str, body: bytes) -> Any:
    headers = [
        ("Host", host),
        *static_headers().items(),
        # What every client measured here sends (httpx, requests, aiohttp and ours): the
        # floor writes the same request, not a shorter one.
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip"),
        ("Idempotency-Key", str(uuid.uuid4())),
        ("Content-Length", str(len(body))),
    ]
    return h11.Request(method="POST", target="/emails", headers=headers)


@job("raw-h11-socket", "floor · h11 over a blocking socket", kind="send")
def raw_h11_socket(ctx: Context) -> dict[str, Any]:
    import socket
    from urllib.parse import urlsplit

    h11 = need("h11")
    parts = urlsplit(ctx.url)
    host = parts.netloc
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = h11.Connection(h11.CLIENT)

    def send() -> Any:
        body = json.dumps(PAYLOAD).encode()
        out = conn.send(_h11_request(h11, host, body))
        out += conn.send(h11.Data(data=body))
        out += conn.send(h11.EndOfMessage())
        sock.sendall(out)
        chunks = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("server closed the connection")
        conn.start_next_cycle()
        return json.loads(b"".join(chunks))

    try:
        return run_sync(send, ctx.n, ctx.warmup)
    finally:
        sock.close()


async def _h11_exchange(h11: Any, conn: Any, host: str, write: Any, read: Any) -> Any:
    """One request and its JSON reply on an h11 connection over an async stream."""
    body = json.dumps(PAYLOAD).encode()
    out = conn.send(_h11_request(h11, host, body))
    out += conn.send(h11.Data(data=body))
    out += conn.send(h11.EndOfMessage())
    await write(out)
    chunks = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await read(65536))
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("server closed the connection")
    conn.start_next_cycle()
    return json.loads(b"".join(chunks))


def h11_trio_sender(url: str) -> tuple[Callable[[], Awaitable[Any]], list[Any]]:
    """h11 over trio streams: ``send`` on one connection per task (a free list as the pool).

    Also returns the list of the streams it opened, for the caller to close.
    """
    from urllib.parse import urlsplit

    trio = need("trio")
    h11 = need("h11")
    parts = urlsplit(url)
    idle: list[tuple[Any, Any]] = []
    opened: list[Any] = []

    async def send() -> Any:
        if idle:
            stream, conn = idle.pop()
        else:
            stream = await trio.open_tcp_stream(parts.hostname, parts.port)  # TCP_NODELAY
            conn = h11.Connection(h11.CLIENT)
            opened.append(stream)
        result = await _h11_exchange(h11, conn, parts.netloc, stream.send_all, stream.receive_some)
        idle.append((stream, conn))
        return result

    return send, opened


def _h11_trio(ctx: Context, *, concurrent: bool) -> dict[str, Any]:
    trio = need("trio")

    async def main() -> dict[str, Any]:
        send, opened = h11_trio_sender(ctx.url)
        try:
            if concurrent:
                return await run_trio_concurrent(send, ctx.n, ctx.warmup)
            return await run_async_seq(send, ctx.n, ctx.warmup)
        finally:
            for stream in opened:
                await stream.aclose()

    result: dict[str, Any] = trio.run(main)
    return result


@job("raw-h11-trio", "floor · h11 over trio", kind="send")
def raw_h11_trio(ctx: Context) -> dict[str, Any]:
    return _h11_trio(ctx, concurrent=False)


@job("raw-h11-trio-64", "floor · h11 over trio, 64 tasks (one connection each)", kind="send64")
def raw_h11_trio_64(ctx: Context) -> dict[str, Any]:
    return _h11_trio(ctx, concurrent=True)


@job("raw-h11-asyncio", "floor · h11 over asyncio streams", kind="send")
def raw_h11_asyncio(ctx: Context) -> dict[str, Any]:
    import asyncio
    from urllib.parse import urlsplit

    h11 = need("h11")
    parts = urlsplit(ctx.url)

    async def main() -> dict[str, Any]:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)  # NODELAY
        conn = h11.Connection(h11.CLIENT)

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        async def send() -> Any:
            return await _h11_exchange(h11, conn, parts.netloc, write, reader.read)

        try:
            return await run_async_seq(send, ctx.n, ctx.warmup)
        finally:
            writer.close()
            await writer.wait_closed()

    return asyncio.run(main())


def aiohttp_sender(session: Any, url: str) -> Callable[[], Awaitable[Any]]:
    """``session.post`` of the payload as JSON, with the floors' headers, and its JSON reply."""
    target = url + "/emails"
    headers = static_headers()

    async def send() -> Any:
        h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        async with session.post(target, json=PAYLOAD, headers=h) as response:
            return await response.json()

    return send


def _aiohttp(ctx: Context, *, concurrent: bool) -> dict[str, Any]:
    import asyncio

    aiohttp = need("aiohttp")

    async def main() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            runner = run_asyncio_concurrent if concurrent else run_async_seq
            return await runner(aiohttp_sender(session, ctx.url), ctx.n, ctx.warmup)

    return asyncio.run(main())


@job("raw-aiohttp-seq", "floor · aiohttp.ClientSession.post, sequential", kind="send")
def raw_aiohttp_seq(ctx: Context) -> dict[str, Any]:
    return _aiohttp(ctx, concurrent=False)


@job("raw-aiohttp-64", "floor · aiohttp.ClientSession.post, 64 tasks", kind="send64")
def raw_aiohttp_64(ctx: Context) -> dict[str, Any]:
    return _aiohttp(ctx, concurrent=True)
