"""Certificate verification is on in every runtime: an untrusted server is a connect error."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from poststack import PostStackConnectionError, PostStackTimeoutError
from tests.selfsigned import self_signed_certificate

from .runtimes import RUNTIMES, Runtime, Step


@pytest.fixture(scope="module")
def untrusted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A TLS server on loopback with a self-signed certificate; yields its port."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            # The client refuses our certificate: the handshake fails on our side too.
            with conn, contextlib.suppress(OSError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
def test_untrusted_certificate_is_a_connect_error(untrusted_server: int, runtime: Runtime) -> None:
    [outcome] = runtime.run(
        f"https://127.0.0.1:{untrusted_server}",
        [Step("get", ("em_1",))],
        timeout=10,
        max_retries=0,
    )
    error = outcome.error
    assert type(error) is PostStackConnectionError
    assert (error.status_code, error.code) == (0, "connect_error")  # nothing was sent
    causes = []
    cause: BaseException | None = error
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or (
            cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        )
    text = " ".join(str(c) for c in causes)
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text, text


@pytest.fixture(scope="module")
def silent_tls_server() -> Iterator[int]:
    """Accepts connections, reads the TLS hello, and never answers; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)  # kept open, unanswered, until the module's tests end

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
def test_a_tls_handshake_that_never_completes_times_out(
    silent_tls_server: int, runtime: Runtime
) -> None:
    [outcome] = runtime.run(
        f"https://127.0.0.1:{silent_tls_server}",
        [Step("get", ("em_1",))],
        timeout=0.5,
        max_retries=0,
    )
    error = outcome.error
    assert type(error) is PostStackTimeoutError, repr(error)
    assert 0.5 <= outcome.seconds < 3.0
