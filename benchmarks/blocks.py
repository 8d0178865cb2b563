"""The official SDK's side of a job against it, in the official SDK's interpreter::

    python benchmarks/blocks.py official-sync --url http://127.0.0.1:PORT

Builds the side's client, then for each count it reads on standard input
runs that many sends and writes one line, ``CPU_SECONDS WALL_SECONDS`` per
send; it ends at the end of its input (see ``jobs/against_official.py``).
Standard library only, like ``worker.py``.
"""

from __future__ import annotations

import argparse
import sys

from jobs.against_official import SIDES, serve_blocks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("side", choices=sorted(SIDES))
    p.add_argument("--url", required=True)
    a = p.parse_args(argv)
    with SIDES[a.side](a.url) as send:
        serve_blocks(send, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
