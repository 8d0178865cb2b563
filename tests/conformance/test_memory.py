"""The size cap bounds memory, not only the outcome: peak allocations stay near the cap.

Each runtime reads a body far larger than ``max_response_bytes`` (streamed,
or a gzip bomb) while tracemalloc watches every Python allocation of the
process; the attempt must fail with ``response_too_large`` having held no
more than a few times the cap. The server stops after 256 MiB, so a broken
cap fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import gzip
import tracemalloc

import pytest

from tests.faultserver import Action, Endless, FaultServer, Reply

from .runtimes import RUNTIMES, Runtime, Step

CAP = 4 * 1024 * 1024
HUGE = 256 * 1024 * 1024


def _bomb() -> bytes:
    """256 MiB of zeros, gzip-compressed to about 256 KiB."""
    zeros = bytes(16 * 1024 * 1024)
    packer = gzip.compress  # one member per 16 MiB: the core decodes members back to back
    return b"".join(packer(zeros, compresslevel=9) for _ in range(HUGE // len(zeros)))


BOMB = _bomb()
BODIES: dict[str, Action] = {
    "streamed": Endless(200, stop_after=HUGE),
    "gzip_bomb": Reply(200, BOMB, {"Content-Encoding": "gzip"}),
}


@pytest.mark.parametrize("body", BODIES, ids=str)
@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
def test_peak_memory_stays_near_the_cap(runtime: Runtime, body: str) -> None:
    with FaultServer() as server:
        server.script(BODIES[body])
        tracemalloc.start()
        try:
            [outcome] = runtime.run(
                server.url,
                [Step("get", ("em_1",))],
                timeout=30,
                max_retries=0,
                max_response_bytes=CAP,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert outcome.error is not None
    assert outcome.error.code == "response_too_large", repr(outcome.error)
    # The body up to the cap (and, for the bomb, its compressed form) plus buffers.
    assert peak < 3 * CAP, f"peak {peak / 2**20:.1f} MiB for a cap of {CAP / 2**20:.0f} MiB"
