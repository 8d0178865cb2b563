"""What `import poststack_core` loads: nothing that only one feature needs.

The import budget itself (ms above bare Python) is a benchmark
(benchmarks/jobs/startup.py, `ours-import-core`), never a timing here. What
a test can hold for good is the reason it was met: these modules are loaded
by the feature that needs them, on its first use, not by every program that
imports the core.
"""

from __future__ import annotations

import json
import subprocess
import sys

# module: the feature that loads it when it runs.
FEATURE_ONLY = {
    "hashlib": "webhook signatures, bulk keys",
    "_hashlib": "webhook signatures, bulk keys (OpenSSL)",
    "hmac": "webhook signatures",
    "base64": "checking attachments",
    "binascii": "checking attachments",
    "http": "the reason phrase of an error answer without a message",
    "zlib": "a gzip answer",
}

LOADED = "import json, sys; import poststack_core; print(json.dumps(sorted(sys.modules)))"

USED = """
import json, sys
from poststack_core import Call, ClientConfig, Response, plan_send_many, sign, verify
from poststack_core.endpoints import emails

payload = b'{"type": "email.sent"}'
assert verify(payload, sign(payload, "s"), "s")
plan_send_many([{"from": "a@b.c", "to": ["d@e.f"], "text": "hi"}], run_id="r")
email = {"from": "a@b.c", "to": ["d@e.f"], "text": "hi",
         "attachments": [{"filename": "a.txt", "content": "aGk="}]}
call = Call(emails.send(email), ClientConfig("k"), new_key=lambda: "key", random=lambda: 0.5)
call.start()
# 1f8b...: "{}" gzipped. Then an error answer with no message: its phrase is HTTPStatus's.
gzipped = bytes.fromhex("1f8b0800000000000203abae050043bfa6a302000000")
call.receive(Response(503, (("Content-Encoding", "gzip"),), gzipped), 0.0)
call.resume()
call.receive(Response(404, (), b""), 0.0)
print(json.dumps(sorted(sys.modules)))
"""


def _modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_importing_the_core_loads_no_module_only_a_feature_needs() -> None:
    loaded = _modules(LOADED)
    assert "poststack_core" in loaded
    assert sorted(loaded & FEATURE_ONLY.keys()) == []


def test_each_feature_loads_what_it_needs_when_it_runs() -> None:
    # The other half of the promise: the features still work, and load their modules.
    assert _modules(USED) >= FEATURE_ONLY.keys()
