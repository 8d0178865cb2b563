"""A fast local HTTP server for the benchmarks, on a free loopback port.

``POST /emails`` answers ``202`` with ``{"id":"em_bench"}`` and keeps the
connection alive. The server is nginx from the system's packages when
``nginx`` is installed (one worker, generated config in a temp dir, nothing
written outside it), else a small asyncio server in a subprocess. Either way
the server is named in the output, because the numbers depend on it.

Run it by hand to poke at it::

    python benchmarks/server.py            # prints the URL, Ctrl-C stops it
    python benchmarks/server.py --fallback # force the asyncio server
"""

# ruff: noqa: PLW1509

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESPONSE_BODY = b'{"id":"em_bench"}'

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;

events {{
    worker_connections 4096;
    multi_accept on;
}}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    client_body_buffer_size 64k;
    client_max_body_size 1m;
    default_type application/json;

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /emails {{
            if ($request_method != POST) {{
                return 405 '{{"error":"method not allowed"}}';
            }}
            return 202 '{{"id":"em_bench"}}';
        }}
        location / {{
            return 404 '{{"error":"not found"}}';
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    for path in NGINX_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("nginx")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cpu: int | None):  # type: ignore[no-untyped-def]
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None

    def preexec() -> None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})

    return preexec


def probe(port: int, timeout: float = 5.0) -> None:
    """Send two POSTs with a body on one connection; raise unless both get 202."""
    body = b'{"from":"a@example.com","to":["b@example.com"],"subject":"x","html":"<p>x</p>"}'
    req = (
        b"POST /emails HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                for _ in range(2):
                    s.sendall(req)
                    data = b""
                    while RESPONSE_BODY not in data:
                        chunk = s.recv(65536)
                        if not chunk:
                            raise ConnectionError("server closed the keep-alive connection")
                        data += chunk
                    if not data.startswith(b"HTTP/1.1 202"):
                        raise RuntimeError(f"unexpected reply: {data[:80]!r}")
                return
        except (ConnectionRefusedError, TimeoutError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class BenchServer:
    """A running server: ``name``, ``port``, ``base_url``; ``stop()`` ends it."""

    def __init__(self, name: str, port: int, proc: subprocess.Popen[bytes], tmp: str | None):
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._proc = proc
        self._tmp = tmp

    def stop(self) -> None:
        if self._proc.poll() is None:
            # SIGQUIT is nginx's graceful stop; SIGTERM for the fallback server.
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> BenchServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_nginx(nginx: str, cpu: int | None = None) -> BenchServer:
    version = (
        subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
        .stderr.strip()
        .replace("nginx version: ", "")
    )
    last_error = ""
    for _ in range(5):
        tmp = tempfile.mkdtemp(prefix="poststack-bench-nginx-")
        port = free_port()
        conf = Path(tmp, "nginx.conf")
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        errlog = os.path.join(tmp, "error.log")
        proc = subprocess.Popen(
            [nginx, "-p", tmp, "-c", str(conf), "-e", errlog],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_pin(cpu),
        )
        try:
            probe(port, timeout=5.0)
        except Exception as exc:
            server = BenchServer("nginx", port, proc, None)
            server.stop()
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            with contextlib.suppress(OSError):
                stderr += Path(errlog).read_text()
            last_error = f"{exc!r}: {stderr.strip()}"
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        return BenchServer(f"{version} (1 worker, return 202)", port, proc, tmp)
    raise RuntimeError(f"nginx did not start: {last_error}")


def start_fallback(cpu: int | None = None, why: str = "nginx not installed") -> BenchServer:
    last_error = ""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve-fallback", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_pin(cpu),
        )
        try:
            probe(port, timeout=10.0)
        except Exception as exc:
            BenchServer("", port, proc, None).stop()
            last_error = repr(exc)
            continue
        impl = sys.implementation.name
        return BenchServer(
            f"asyncio raw-protocol server ({impl} {sys.version.split()[0]}; {why})",
            port,
            proc,
            None,
        )
    raise RuntimeError(f"fallback server did not start: {last_error}")


def start_server(*, force_fallback: bool = False, cpu: int | None = None) -> BenchServer:
    """Start nginx if installed (else the asyncio fallback) and return it running."""
    if force_fallback:
        return start_fallback(cpu, "fallback forced")
    nginx = find_nginx()
    if nginx is None:
        return start_fallback(cpu, "nginx not installed")
    try:
        return start_nginx(nginx, cpu)
    except RuntimeError as exc:
        print(f"[bench] nginx failed, using the fallback server: {exc}", file=sys.stderr)
        return start_fallback(cpu, "nginx failed to start")


# --- the fallback server ----------------------------------------------------------

_OK = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(RESPONSE_BODY)).encode() + b"\r\n\r\n" + RESPONSE_BODY
)
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
    b'Content-Length: 21\r\n\r\n{"error":"not found"}'
)


def serve_fallback(port: int) -> None:
    """A minimal HTTP/1.1 keep-alive server: enough for the benchmark, no more."""
    import asyncio

    class Proto(asyncio.Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            self.transport = transport
            self.buf = b""
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def data_received(self, data: bytes) -> None:
            buf = self.buf + data
            out = []
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = buf[:end]
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                        break
                total = end + 4 + length
                if len(buf) < total:
                    break
                request_line = head.split(b"\r\n", 1)[0]
                ok = request_line.startswith(b"POST /emails ")
                out.append(_OK if ok else _NOT_FOUND)
                buf = buf[total:]
            self.buf = buf
            if out:
                self.transport.write(b"".join(out))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Proto, "127.0.0.1", port, backlog=4096)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "--serve-fallback":
        serve_fallback(int(argv[1]))
        return 0

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server = start_server(force_fallback="--fallback" in argv)
    print(f"{server.name} listening on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
