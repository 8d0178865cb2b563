"""The size cap bounds memory, not only the outcome: peak allocations stay near the cap.

Each runtime reads a body far larger than ``max_response_bytes`` (streamed,
or a gzip bomb) while tracemalloc watches every Python allocation of the
process; the attempt must fail with ``response_too_large`` having held no
more than a few times the cap. The server stops after 256 MiB, so a broken
cap fails the test instead of exhausting the machine.

The client runs in a process of its own, so that the peak is the client's
alone: not the server thread's, nor that of anything an earlier test left
running in the test process. It runs the call twice and measures the second,
so that the modules a library imports on its first request do not count.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faultserver import Action, Endless, FaultServer, Reply

from .runtimes import RUNTIMES, Runtime

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


ROOT = Path(__file__).resolve().parents[2]
CLIENT = """
import json, sys, tracemalloc
from tests.conformance.runtimes import RUNTIMES, Step

name, url, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
[runtime] = [r for r in RUNTIMES if r.name == name]
def call():
    [outcome] = runtime.run(url, [Step("get", ("em_1",))], timeout=30, max_retries=0,
                            max_response_bytes=cap)
    return outcome

call()  # the warm-up: first-use imports and caches
tracemalloc.start()
outcome = call()
_, peak = tracemalloc.get_traced_memory()
error = outcome.error
print(json.dumps({"peak": peak, "error": None if error is None else repr(error),
                  "code": None if error is None else error.code}))
"""


def client_run(runtime: Runtime, url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, runtime.name, url, str(CAP)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("body", BODIES, ids=str)
@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
def test_peak_memory_stays_near_the_cap(runtime: Runtime, body: str) -> None:
    with FaultServer() as server:
        server.script(BODIES[body], BODIES[body])
        result = client_run(runtime, server.url)
    assert result["code"] == "response_too_large", result["error"]
    # The body up to the cap (and, for the bomb, its compressed form) plus buffers.
    peak = result["peak"]
    assert isinstance(peak, int)
    assert peak < 3 * CAP, f"peak {peak / 2**20:.1f} MiB for a cap of {CAP / 2**20:.0f} MiB"
