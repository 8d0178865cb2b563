"""Forked children drop the connections they inherited: one at-fork hook for every transport.

A child made by ``os.fork()`` (gunicorn ``--preload``, Celery prefork,
``multiprocessing`` with the fork start method) holds copies of the
parent's pooled sockets. Reading or writing one in the child interleaves two
processes' requests on one connection, so one process gets the other's
responses. Every transport registers itself here; in the child, right after
the fork and before any other code runs, each one forgets its inherited
connections and will open its own.

What a transport may do then is narrow: close its copies of the file
descriptors (the parent's copies, and so the connections, stay open), and
replace its pools and locks (a lock held by a parent thread at the moment of
the fork would never be released in the child). It must not write to a
socket (no TLS goodbye, no ``shutdown()``, which would end the parent's
connection too) and must not await anything.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "drop_in_forked_children"]


class ForkAware(Protocol):
    def _forget_inherited(self) -> None:
        """In a forked child: drop every inherited connection without touching the parent's."""


_transports: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def drop_in_forked_children(transport: ForkAware) -> None:
    """Have ``transport._forget_inherited()`` run in every child forked from now on."""
    _transports.add(transport)


def _after_fork_in_child() -> None:
    for transport in list(_transports):
        # One transport failing must not leave the others sharing the parent's sockets.
        with contextlib.suppress(Exception):
            transport._forget_inherited()


if hasattr(os, "register_at_fork"):  # POSIX; Windows cannot fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
