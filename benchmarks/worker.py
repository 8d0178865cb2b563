"""One benchmark measurement, run in a fresh process; prints one JSON object.

    python benchmarks/worker.py MODE --url http://127.0.0.1:PORT --n 2000 --warmup 200

The orchestrator (``run.py``) starts this script once per measurement, with
the interpreter that the mode needs: our modes run in the benchmark's own
environment, the ``official-*`` modes (and ``--sdk official``) in the official
SDK's separate virtual environment, because both distributions are called
``poststack``.

Send modes run ``--warmup`` sends, then ``--n`` sends on ONE keep-alive
connection (the ``*-64`` modes: 64 concurrent tasks sharing the client's
pool), timing the loop with ``time.process_time()`` (CPU, all threads) and
``time.perf_counter()`` (wall). Output::

    {"cpu_us_per_req": .., "wall_us_per_req": .., "rps": .., "peak_rss_kb": .., "n": ..}

A mode whose library or SDK cannot be imported prints
``{"unavailable": "<reason>"}`` and exits 0, so the table shows a
"not available" row instead of the run failing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

API_KEY = "sk_test_bench"
PAYLOAD: dict[str, Any] = {
    "from": "Bench <bench@example.com>",
    "to": ["user@example.com"],
    "subject": "Benchmark",
    "html": "<p>Hello from the poststack benchmark</p>",
}
EXPECTED = {"id": "em_bench"}
CONCURRENCY = 64


class Unavailable(Exception):
    """The mode cannot run in this interpreter (SDK or library missing)."""


def _import(name: str) -> Any:
    try:
        __import__(name)
    except Exception as exc:  # ImportError, or an SDK that fails at import
        raise Unavailable(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc
    return sys.modules[name]


def _static_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {API_KEY}",
        "Content-Type": "application/json",
        "User-Agent": "poststack-bench/raw",
    }


def _check(result: Any) -> None:
    if result != EXPECTED:
        raise RuntimeError(f"unexpected result: {result!r}")


def _report(n: int, cpu: float, wall: float, **extra: Any) -> dict[str, Any]:
    return {
        "n": n,
        "cpu_us_per_req": cpu / n * 1e6,
        "wall_us_per_req": wall / n * 1e6,
        "rps": n / wall if wall > 0 else 0.0,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        **extra,
    }


# --- identity checks: never time the wrong "poststack" ------------------------------


def _ours() -> Any:
    """Our façade; raises Unavailable unless it is really ours (has poststack_core)."""
    _import("poststack_core")
    poststack = _import("poststack")
    if not hasattr(poststack, "PostStack"):
        raise Unavailable("poststack has no PostStack yet")
    return poststack


def _official() -> Any:
    poststack = _import("poststack")
    try:
        __import__("poststack_core")
    except ImportError:
        pass
    else:
        raise Unavailable("this interpreter has our poststack, not the official SDK")
    return poststack


# --- sequential and concurrent loops -------------------------------------------------


def run_sync(send: Callable[[], Any], n: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        _check(send())
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        send()
    w1, c1 = time.perf_counter(), time.process_time()
    _check(send())
    return _report(n, c1 - c0, w1 - w0)


async def run_async_seq(send: Callable[[], Awaitable[Any]], n: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        _check(await send())
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        await send()
    w1, c1 = time.perf_counter(), time.process_time()
    _check(await send())
    return _report(n, c1 - c0, w1 - w0)


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


async def run_asyncio_concurrent(
    send: Callable[[], Awaitable[Any]], n: int, warmup: int
) -> dict[str, Any]:
    import asyncio

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    # Warm-up: every task sends at least once, so the pool holds its connections.
    per_task = max(1, warmup // CONCURRENCY)
    await asyncio.gather(*(worker(per_task) for _ in range(CONCURRENCY)))
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(k) for k in _split(n, CONCURRENCY)))
    w1, c1 = time.perf_counter(), time.process_time()
    _check(await send())
    return _report(n, c1 - c0, w1 - w0, concurrency=CONCURRENCY)


async def run_trio_concurrent(
    send: Callable[[], Awaitable[Any]], n: int, warmup: int
) -> dict[str, Any]:
    import trio

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    async def all_of(counts: list[int]) -> None:
        async with trio.open_nursery() as nursery:
            for k in counts:
                nursery.start_soon(worker, k)

    per_task = max(1, warmup // CONCURRENCY)
    await all_of([per_task] * CONCURRENCY)
    c0, w0 = time.process_time(), time.perf_counter()
    await all_of(_split(n, CONCURRENCY))
    w1, c1 = time.perf_counter(), time.process_time()
    _check(await send())
    return _report(n, c1 - c0, w1 - w0, concurrency=CONCURRENCY)


# --- our SDK -------------------------------------------------------------------------


def _ours_transport(module: str, cls: str) -> Any:
    mod = _import(f"poststack.transports.{module}")
    if not hasattr(mod, cls):
        raise Unavailable(f"poststack.transports.{module} has no {cls}")
    return getattr(mod, cls)


def mode_ours_httpx_sync(a: argparse.Namespace) -> dict[str, Any]:
    ps_mod = _ours()
    transport = _ours_transport("httpx", "HttpxTransport")()
    ps = ps_mod.PostStack(api_key=API_KEY, base_url=a.url, transport=transport)
    try:
        with ps:
            return run_sync(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)
    finally:
        transport.close()  # a transport passed in stays the caller's to close


def mode_ours_requests(a: argparse.Namespace) -> dict[str, Any]:
    ps_mod = _ours()
    _import("requests")
    transport = _ours_transport("requests", "RequestsTransport")()
    ps = ps_mod.PostStack(api_key=API_KEY, base_url=a.url, transport=transport)
    try:
        with ps:
            return run_sync(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)
    finally:
        transport.close()  # a transport passed in stays the caller's to close


def _ours_async(a: argparse.Namespace, module: str, cls: str) -> tuple[Any, Any]:
    ps_mod = _ours()
    if not hasattr(ps_mod, "AsyncPostStack"):
        raise Unavailable("poststack has no AsyncPostStack yet")
    transport = _ours_transport(module, cls)()
    return ps_mod.AsyncPostStack(api_key=API_KEY, base_url=a.url, transport=transport), transport


def mode_ours_httpx_async(a: argparse.Namespace, concurrent: bool) -> dict[str, Any]:
    import asyncio

    ps, transport = _ours_async(a, "httpx", "AsyncHttpxTransport")

    async def main() -> dict[str, Any]:
        try:
            async with ps:
                runner = run_asyncio_concurrent if concurrent else run_async_seq
                return await runner(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def mode_ours_trio(a: argparse.Namespace, concurrent: bool) -> dict[str, Any]:
    trio = _import("trio")
    _import("h11")
    ps, transport = _ours_async(a, "trio", "TrioTransport")

    async def main() -> dict[str, Any]:
        try:
            async with ps:
                runner = run_trio_concurrent if concurrent else run_async_seq
                return await runner(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)
        finally:
            await transport.aclose()

    return trio.run(main)


# --- the official SDK (poststack==0.9.0, in its own venv) -------------------------------


def mode_official_sync(a: argparse.Namespace) -> dict[str, Any]:
    ps_mod = _official()
    ps = ps_mod.PostStack(api_key=API_KEY, base_url=a.url)
    with ps:
        return run_sync(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)


def mode_official_async(a: argparse.Namespace, concurrent: bool) -> dict[str, Any]:
    import asyncio

    ps_mod = _official()

    async def main() -> dict[str, Any]:
        async with ps_mod.AsyncPostStack(api_key=API_KEY, base_url=a.url) as ps:
            runner = run_asyncio_concurrent if concurrent else run_async_seq
            return await runner(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)

    return asyncio.run(main())


# --- raw library floors ----------------------------------------------------------------
# The least a program can do to send the same request with each library: the
# same JSON body and headers (a fresh Idempotency-Key each time, as every SDK
# POST carries one), the reply's JSON decoded; no retry logic, no error mapping.


def mode_raw_httpx(a: argparse.Namespace) -> dict[str, Any]:
    httpx = _import("httpx")
    url = a.url + "/emails"
    headers = _static_headers()
    with httpx.Client() as client:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return client.post(url, json=PAYLOAD, headers=h).json()

        return run_sync(send, a.n, a.warmup)


def mode_raw_requests(a: argparse.Namespace) -> dict[str, Any]:
    requests = _import("requests")
    url = a.url + "/emails"
    headers = _static_headers()
    with requests.Session() as session:

        def send() -> Any:
            h = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            return session.post(url, json=PAYLOAD, headers=h).json()

        return run_sync(send, a.n, a.warmup)


def _h11_request(h11: Any, host: str, body: bytes) -> Any:
    headers = [
        ("Host", host),
        *_static_headers().items(),
        ("Idempotency-Key", str(uuid.uuid4())),
        ("Content-Length", str(len(body))),
    ]
    return h11.Request(method="POST", target="/emails", headers=headers)


def mode_raw_h11_socket(a: argparse.Namespace) -> dict[str, Any]:
    import socket
    from urllib.parse import urlsplit

    h11 = _import("h11")
    parts = urlsplit(a.url)
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
        return run_sync(send, a.n, a.warmup)
    finally:
        sock.close()


def mode_raw_h11_trio(a: argparse.Namespace) -> dict[str, Any]:
    from urllib.parse import urlsplit

    trio = _import("trio")
    h11 = _import("h11")
    parts = urlsplit(a.url)
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
            return await run_async_seq(send, a.n, a.warmup)

    return trio.run(main)


# --- the core alone ----------------------------------------------------------------------


def mode_core_only(a: argparse.Namespace) -> dict[str, Any]:
    """One emails.send through the sans-IO core alone, no I/O at all.

    Per call: the endpoint function builds the Operation, a Call is made (its
    request built: URL, headers, JSON body bytes, the Idempotency-Key from 16
    given bytes), ``start()`` hands out the Send, ``receive()`` of a canned 202
    parses the JSON into the Done value. The driver's parts (``os.urandom``,
    reading the clock) stay out: the bytes and ``now`` are fixed.
    """
    core = _import("poststack_core")
    try:
        from poststack_core import Call, ClientConfig, Done, Response, Send, idempotency_key_from
        from poststack_core.endpoints import emails
    except ImportError as exc:
        raise Unavailable(f"poststack_core lacks the expected API: {exc}") from exc
    del core
    config = ClientConfig(api_key=API_KEY, base_url=a.url)
    response = Response(
        202,
        (("Content-Type", "application/json"), ("Content-Length", "17")),
        b'{"id":"em_bench"}',
    )
    key_bytes = os.urandom(16)
    now = 1_800_000_000.0

    def rng() -> float:
        return 0.5

    def one() -> Any:
        call = Call(
            emails.send(PAYLOAD),
            config,
            new_key=lambda: idempotency_key_from(key_bytes),
            random=rng,
        )
        send = call.start()
        assert isinstance(send, Send)
        done = call.receive(response, now)
        assert isinstance(done, Done)
        return done.value

    return run_sync(one, a.n, a.warmup)


# --- cold imports, each in fresh interpreters ----------------------------------------------

IMPORT_STATEMENTS = {
    "import-poststack": "import poststack",
    "import-core": "import poststack_core",
    "import-and-construct": f"import poststack; poststack.PostStack(api_key={API_KEY!r})",
}


def mode_import(a: argparse.Namespace) -> dict[str, Any]:
    """Wall time of ``python -c STMT`` minus ``python -c pass``, paired, median.

    Runs in a neutral working directory so a checkout's folders never shadow
    the installed package.
    """
    stmt = IMPORT_STATEMENTS[a.mode]
    if a.sdk == "official" and a.mode == "import-core":
        raise Unavailable("the official SDK has no poststack_core")
    check = "import poststack, sys; sys.exit(0 if {cond} else 3)".format(
        cond="'poststack_core' not in sys.modules and __import__('importlib.util').util."
        "find_spec('poststack_core') is None"
        if a.sdk == "official"
        else "__import__('importlib.util').util.find_spec('poststack_core') is not None"
    )
    cwd = tempfile.mkdtemp(prefix="poststack-bench-import-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONDONTWRITE")}

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def run(code: str) -> tuple[float, float]:
        """(wall, CPU) seconds of one fresh interpreter running ``code``."""
        c0, t0 = children_cpu(), time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, check=False
        )
        elapsed, cpu = time.perf_counter() - t0, children_cpu() - c0
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise Unavailable(f"`{code}` failed: {err[-1] if err else proc.returncode}")
        return elapsed, cpu

    try:
        if (
            subprocess.run(
                [sys.executable, "-c", check], cwd=cwd, env=env, capture_output=True, check=False
            ).returncode
            != 0
        ):
            raise Unavailable(f"this interpreter's poststack is not the {a.sdk} SDK (or none)")
        run(stmt)  # writes .pyc files if anything was missing, warms the page cache
        bare, total, delta, cpu_delta = [], [], [], []
        for _ in range(a.n):
            b, b_cpu = run("pass")
            t, t_cpu = run(stmt)
            bare.append(b)
            total.append(t)
            delta.append(t - b)
            cpu_delta.append(t_cpu - b_cpu)
    finally:
        os.rmdir(cwd)
    return {
        "n": a.n,
        "import_ms": statistics.median(delta) * 1e3,
        "import_cpu_ms": statistics.median(cpu_delta) * 1e3,
        "total_ms": statistics.median(total) * 1e3,
        "bare_ms": statistics.median(bare) * 1e3,
    }


def mode_rss(a: argparse.Namespace) -> dict[str, Any]:
    """Peak RSS of a process that imports the SDK and sends with its default client."""
    ps_mod = _official() if a.sdk == "official" else _ours()
    with ps_mod.PostStack(api_key=API_KEY, base_url=a.url) as ps:
        return run_sync(lambda: ps.emails.send(PAYLOAD), a.n, a.warmup)


MODES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "ours-httpx-sync": mode_ours_httpx_sync,
    "ours-requests": mode_ours_requests,
    "ours-httpx-async-seq": lambda a: mode_ours_httpx_async(a, concurrent=False),
    "ours-httpx-async-64": lambda a: mode_ours_httpx_async(a, concurrent=True),
    "ours-trio-seq": lambda a: mode_ours_trio(a, concurrent=False),
    "ours-trio-64": lambda a: mode_ours_trio(a, concurrent=True),
    "raw-httpx": mode_raw_httpx,
    "raw-requests": mode_raw_requests,
    "raw-h11-socket": mode_raw_h11_socket,
    "raw-h11-trio": mode_raw_h11_trio,
    "official-sync": mode_official_sync,
    "official-async-seq": lambda a: mode_official_async(a, concurrent=False),
    "official-async-64": lambda a: mode_official_async(a, concurrent=True),
    "core-only": mode_core_only,
    "import-poststack": mode_import,
    "import-core": mode_import,
    "import-and-construct": mode_import,
    "rss": mode_rss,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--n", type=int, default=1000, help="timed sends (imports: repeats)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument(
        "--sdk",
        choices=("ours", "official"),
        default="ours",
        help="which poststack the import and rss modes expect",
    )
    a = p.parse_args(argv)
    try:
        result = MODES[a.mode](a)
    except Unavailable as exc:
        result = {"unavailable": str(exc)}
    result["mode"] = a.mode
    result["python"] = sys.version.split()[0]
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
