"""poststack_core must stay embeddable: importing it loads no I/O library at all."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = [
    "socket",
    "ssl",
    "select",
    "selectors",
    "asyncio",
    "trio",
    "anyio",
    "sniffio",
    "httpx",
    "httpcore",
    "h11",
    "requests",
    "urllib3",
    "threading",
    "random",
    "logging",
    "email",
    "poststack.transports",
]

PROBE = """
import json, sys
import poststack_core
import poststack_core.endpoints.emails
import poststack_core.types
# Use it, too: some modules are imported lazily on first use.
from poststack_core import Call, ClientConfig, Response, verify, construct_event, sign
from poststack_core.endpoints import emails
op = emails.send({"from": "a@b.c", "to": ["d@e.f"]})
call = Call(op, ClientConfig("k"), new_key=lambda: "key", random=lambda: 0.5)
call.start()
call.receive(Response(503, (("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),), b"{}"), 1e9)
call.resume()
call.receive(Response(202, (), b'{"id": "em_1"}'), 0.0)
payload = b'{"type": "email.sent"}'
construct_event(payload, sign(payload, "s"), "s")
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_and_using_the_core_loads_no_io_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "poststack_core" in loaded
    bad = sorted(
        name for name in loaded if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert bad == []


def test_the_core_reads_no_clock_and_draws_no_randomness_of_its_own() -> None:
    # "time" is loaded by the interpreter itself, so check the source instead.
    import re
    from pathlib import Path

    import poststack_core

    root = Path(poststack_core.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(time|random|os|secrets|uuid|datetime\.now)\b", re.M)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if pattern.search(path.read_text()) or "datetime.now" in path.read_text()
    ]
    assert offenders == []
