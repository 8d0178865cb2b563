"""Real loopback parts the sandbox tests use: a webhook receiver and an SSE reader."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

KEY = "sk_test_sandbox"
MESSAGE: dict[str, Any] = {
    "from": "Acme <hello@yourdomain.com>",
    "to": ["ada@example.org"],
    "subject": "Welcome",
    "html": "<h1>Hi Ada</h1>",
    "text": "Hi Ada",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP server on a loopback port that records every POST it gets.

    ``statuses`` are the answers to give, in order (then 200). ``wait_for``
    waits on a condition the handler notifies: no sleeping, no polling.
    """

    url: str = ""
    received: list[Received] = field(default_factory=list[Received])
    statuses: list[int] = field(default_factory=list[int])
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.received) >= n, timeout):
                raise TimeoutError(f"expected {n} webhook POSTs, got {len(self.received)}")
            return list(self.received)


def serve_receiver() -> tuple[Receiver, ThreadingHTTPServer, threading.Thread]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.changed:
                status = state.statuses.pop(0) if state.statuses else 200
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                state.changed.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    return state, server, thread


def receiver_fixture() -> Iterator[Receiver]:
    state, server, thread = serve_receiver()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class StreamEvent:
    event: str
    data: Any


class EventStream:
    """Reads a sandbox's ``/_sandbox/stream`` on a thread; ``next`` waits on a queue."""

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None) -> None:
        self._events: queue.Queue[StreamEvent | None] = queue.Queue()
        self.comments: list[str] = []
        self.status: int | None = None
        self.content_type: str | None = None
        self._connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=30.0))
        self._thread = threading.Thread(
            target=self._read, args=(f"{base_url}/_sandbox/stream", headers or {}), daemon=True
        )
        self._thread.start()
        if not self._connected.wait(10):
            raise TimeoutError("the event stream did not open")

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type")
                event = "message"
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                        if line.startswith(": connected"):
                            self._connected.set()
                        else:
                            self._events.put(StreamEvent("comment", line[1:].strip()))
                    elif line.startswith("event:"):
                        event = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        self._events.put(StreamEvent(event, json.loads(line[5:])))
        except httpx.HTTPError:
            pass
        finally:
            self._connected.set()
            self._events.put(None)

    def next(self, timeout: float = 10.0) -> StreamEvent:
        item = self._events.get(timeout=timeout)
        if item is None:
            raise EOFError("the event stream ended")
        return item

    def next_of(self, kind: str, timeout: float = 10.0) -> StreamEvent:
        """The next event of this kind (comments and other kinds skipped)."""
        while True:
            item = self.next(timeout)
            if item.event == kind:
                return item

    def ended(self, timeout: float = 10.0) -> bool:
        """Whether the stream ends within ``timeout`` (events before the end are dropped)."""
        try:
            while self._events.get(timeout=timeout) is not None:
                pass
        except queue.Empty:
            return False
        return True

    def close(self) -> None:
        self._client.close()
        self._thread.join(10)


class SandboxProcess:
    """``poststack sandbox --json`` in a child process; its JSON lines read on a thread."""

    def __init__(self, *args: str, expect_start: bool = True) -> None:
        import os
        import subprocess
        import sys

        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "poststack", "sandbox", "--json", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        self.started: dict[str, Any] = self.next() if expect_start else {}

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next(self, timeout: float = 60.0) -> dict[str, Any]:
        line = self._lines.get(timeout=timeout)
        if line is None:
            assert self.proc.stderr is not None
            raise EOFError(f"the sandbox exited: {self.proc.stderr.read()}")
        event: dict[str, Any] = json.loads(line)
        return event

    def next_of(self, kind: str, timeout: float = 60.0) -> dict[str, Any]:
        while True:
            event = self.next(timeout)
            if event["event"] == kind:
                return event

    @property
    def base_url(self) -> str:
        return str(self.started["base_url"])

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit status and what it wrote to stderr."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(60)
        assert self.proc.stderr is not None
        error = self.proc.stderr.read()
        self._close()
        return status, error

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        self.proc.kill()
        self.proc.wait(60)
        self._close()

    def _close(self) -> None:
        self._reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
