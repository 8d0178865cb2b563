"""transports._runtime.IdleCheck: when an idle connection must not carry another request.

Real sockets on loopback. Each case runs twice: with ``select.poll`` (Linux,
macOS) and without it, as on Windows, where the check falls back to
``select.select``.
"""

from __future__ import annotations

import select
import socket
import struct
from collections.abc import Iterator

import pytest

from poststack.transports._runtime import IdleCheck


@pytest.fixture(params=["poll", "select"])
def pair(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[socket.socket, socket.socket]]:
    """(client, server): a connected TCP pair on loopback; without poll() for "select"."""
    if request.param == "select":
        monkeypatch.delattr(select, "poll")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with client, server:
        yield client, server


def test_a_healthy_idle_connection_is_not_stale(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    check = IdleCheck(client)
    assert not check.stale()
    server.sendall(b"x")  # something arrives, is read: the connection is quiet again
    assert client.recv(1) == b"x"
    assert not check.stale()


def test_bytes_the_server_sent_unasked_make_it_stale(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    check = IdleCheck(client)
    server.sendall(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
    _wait_readable(client)
    assert check.stale()


def test_a_server_that_closed_or_reset_makes_it_stale(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    check = IdleCheck(client)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    server.close()  # a reset, not a FIN
    _wait_readable(client)
    assert check.stale()


def test_a_socket_closed_on_our_side_is_stale(pair: tuple[socket.socket, socket.socket]) -> None:
    client, _ = pair
    check = IdleCheck(client)
    client.close()
    assert check.stale()


def _wait_readable(sock: socket.socket) -> None:
    # Loopback delivers at once, but not within the sender's call: wait for it (an event,
    # not a sleep), then look with the check, which never waits.
    readable, _, _ = select.select([sock], [], [], 10)
    assert readable
