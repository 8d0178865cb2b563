"""One benchmark job, run in a fresh process; prints one JSON object.

    python benchmarks/worker.py JOB --url http://127.0.0.1:PORT --n 2000 --warmup 200

The runner (``runner.py``) starts this script once per job and repeat, with
the interpreter the job needs: our jobs run in the benchmark's own
environment, the official SDK's jobs in its separate virtual environment,
because both distributions are called ``poststack``. So this script and the
``jobs`` package use the standard library only.

The output is the job's figures (see ``jobs/_measure.py``) plus ``job`` and
``python``; a job that cannot run in this interpreter prints
``{"unavailable": "<reason>"}`` and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys

from jobs import JOB_BY_KEY, Context, Unavailable


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("job", choices=sorted(JOB_BY_KEY))
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--n", type=int, default=1000, help="timed sends (imports: repeats)")
    p.add_argument("--warmup", type=int, default=100)
    a = p.parse_args(argv)
    try:
        result = JOB_BY_KEY[a.job].measure(Context(a.url, a.n, a.warmup))
    except Unavailable as exc:
        result = {"unavailable": str(exc)}
    result["job"] = a.job
    result["python"] = sys.version.split()[0]
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
