"""Write the Python blocks of README.md and docs/ as modules for the type checkers.

Each block becomes one module of tests/typing/readme_snippets/, so a snippet
that stops type-checking fails CI the same way library code does. A block
marked ``<!-- continues -->`` is checked together with the blocks it
continues; illustrative blocks are checked too (they are not run, but a reader
still copies them). tests/test_docs.py runs the blocks; tests/docs_snippets.py
parses them for both.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "readme_snippets"

sys.path.insert(0, str(ROOT))
from tests.docs_snippets import pages, program, snippets  # noqa: E402


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    (OUT / "__init__.py").write_text("")
    count = 0
    for page in pages():
        found = snippets(page)
        stem = page.relative_to(ROOT).with_suffix("").as_posix().replace("/", "_").replace("-", "_")
        for snippet in found:
            chain = program(found, snippet)
            header = f"# From {snippet.id} (python block {snippet.index}"
            header += f", after block {chain[0].index})\n" if len(chain) > 1 else ")\n"
            code = "\n".join(s.code for s in chain)
            (OUT / f"{stem.lower()}_{snippet.index}.py").write_text(header + code)
            count += 1
    print(f"wrote {count} snippets to {OUT}")


if __name__ == "__main__":
    main()
