"""Write README.md's Python snippets to tests/typing/readme_snippets/ for the type checkers.

Each ```python block becomes one module, so a snippet that stops type-checking
fails CI the same way library code does.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "readme_snippets"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    (OUT / "__init__.py").write_text("")
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    count = 0
    for source in sources:
        if not source.exists():
            continue
        for n, block in enumerate(BLOCK.findall(source.read_text()), 1):
            name = f"{source.stem.lower().replace('-', '_')}_{n}.py"
            (OUT / name).write_text(f"# From {source.name}, python block {n}.\n{block}")
            count += 1
    print(f"wrote {count} snippets to {OUT}")


if __name__ == "__main__":
    main()
