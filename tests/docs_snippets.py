"""The Python blocks of README.md and docs/**/*.md, with the markers that say how to run them.

One parser for the two users: tests/test_docs.py runs the blocks, and
tests/typing/extract_readme.py hands them to the type checkers. The markers
are HTML comments on the nearest non-blank line above a block's opening
fence (invisible on a rendered page, easy to grep):

- ``<!-- illustrative: why -->``: the block is not run (it is still
  type-checked); the reason says why it cannot run here.
- ``<!-- continues -->``: the block goes on from the block before it, as one
  program (a page's steps that build on each other).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```(python|py|python3)\s*$")
_MARKER = re.compile(r"^<!--\s*(illustrative|continues)\s*(?::\s*(.*?))?\s*-->$")


@dataclass(frozen=True, slots=True)
class Snippet:
    """One ```python block of a Markdown page."""

    page: str  # relative to the repository root, e.g. "docs/flask.md"
    line: int  # the line of the first line of code (1-based)
    code: str
    marker: str | None  # "illustrative", "continues" or None
    reason: str  # the illustrative marker's reason ("" otherwise)
    index: int  # 1 for the page's first Python block, 2 for the next, ...

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line - 1}"  # the fence's line, as an editor shows it

    @property
    def filename(self) -> str | None:
        """``name.py`` when the block starts with the comment ``# name.py`` (a file to save)."""
        first = self.code.split("\n", 1)[0]
        found = re.fullmatch(r"#\s*([A-Za-z_]\w*\.py)\s*", first)
        return found[1] if found else None


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def snippets(page: Path, root: Path = ROOT) -> list[Snippet]:
    """The Python blocks of one page (a file under ``root``), in order."""
    lines = page.read_text(encoding="utf-8").split("\n")
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        if not _FENCE.match(lines[i]):
            i += 1
            continue
        start = i + 1
        end = next((j for j in range(start, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"{page.name}:{i + 1}: a ```python block that is never closed")
        above = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(above)
        if above.startswith("<!--") and marker is None:
            raise ValueError(f"{page.name}:{i}: unknown snippet marker {above!r}")
        found.append(
            Snippet(
                page=page.relative_to(root).as_posix(),
                line=start + 1,
                code="\n".join(lines[start:end]) + "\n",
                marker=marker[1] if marker else None,
                reason=(marker[2] or "") if marker else "",
                index=len(found) + 1,
            )
        )
        i = end + 1
    return found


def all_snippets() -> list[Snippet]:
    return [snippet for page in pages() for snippet in snippets(page)]


def program(page_snippets: list[Snippet], snippet: Snippet) -> list[Snippet]:
    """The blocks that run as one program to run ``snippet``: it, after the ones it continues."""
    chain = [snippet]
    position = page_snippets.index(snippet)
    while chain[0].marker == "continues":
        if position == 0:
            raise ValueError(f"{snippet.id}: marked 'continues' but no block comes before it")
        position -= 1
        chain.insert(0, page_snippets[position])
    return chain
