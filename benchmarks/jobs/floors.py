"""Raw library floors: the least a program can do to send the same request.

Each floor sends the same JSON body and headers as the SDK (with a fresh
Idempotency-Key each time, as every SDK POST carries one) and decodes the
reply's JSON; no retry logic, no error mapping.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ._measure import PAYLOAD, need, run_async_seq, run_sync, static_headers
from ._registry import Context, job


@job("raw-httpx", "floor · httpx.Client.post", kind="send")
def raw_httpx(ctx: Context) -> dict[str, Any]:
    httpx = need("httpx")
    url = ctx.url + "/emails"
    headers = static_headers()
    with httpx.Client() as client:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return client.post(url, json=PAYLOAD, headers=h).json()

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


@job("raw-h11-trio", "floor · h11 over trio", kind="send")
def raw_h11_trio(ctx: Context) -> dict[str, Any]:
    from urllib.parse import urlsplit

    trio = need("trio")
    h11 = need("h11")
    parts = urlsplit(ctx.url)
    host = parts.netloc

    async def main() -> dict[str, Any]:
        stream = await trio.open_tcp_stream(parts.hostname, parts.port)  # sets TCP_NODELAY
        conn = h11.Connection(h11.CLIENT)

        async def send() -> Any:
            body = json.dumps(PAYLOAD).encode()
            out = conn.send(_h11_request(h11, host, body))
            out += conn.send(h11.Data(data=body))
            out += conn.send(h11.EndOfMessage())
            await stream.send_all(out)
            chunks = []
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise ConnectionError("server closed the connection")
            conn.start_next_cycle()
            return json.loads(b"".join(chunks))

        async with stream:
            return await run_async_seq(send, ctx.n, ctx.warmup)

    return trio.run(main)
