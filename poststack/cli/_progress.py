"""How ``send-many`` shows its progress: a live bar, plain lines, JSON lines, or nothing.

A bar (``rich`` when it is installed, ``pip install "poststack[cli]>=1"``, else a
plain one-line bar) needs a terminal; plain lines suit logs and CI. Every
display gets :class:`~poststack.Progress` values, one after each chunk, from
one thread at a time, and draws at most a few times a second.
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any, Protocol

from poststack import Progress

BAR_WIDTH = 30
BAR_REFRESH = 0.1  # seconds between redraws of a bar
LINE_EVERY = 2.0  # seconds between plain progress lines
JSON_EVERY = 1.0


def duration(seconds: float | None) -> str:
    """``3m10s``, ``1h02m``, ``45s``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def summary_line(progress: Progress) -> str:
    """``1200/5000 sent (24%), 0 failed, 0 skipped, 20.1 emails/s, ETA 3m10s``."""
    percent = 100 * progress.done // progress.total if progress.total else 100
    parts = [f"{progress.sent}/{progress.total} sent ({percent}%)", f"{progress.failed} failed"]
    if progress.skipped:
        parts.append(f"{progress.skipped} skipped")
    parts.append(f"{progress.rate:.1f} emails/s")
    parts.append(f"ETA {duration(progress.eta)}")
    return ", ".join(parts)


def progress_json(progress: Progress) -> dict[str, Any]:
    return {
        "sent": progress.sent,
        "failed": progress.failed,
        "skipped": progress.skipped,
        "total": progress.total,
        "rate": round(progress.rate, 3),
        "elapsed": round(progress.elapsed, 3),
        "eta": None if progress.eta is None else round(progress.eta, 3),
    }


class Display(Protocol):
    def update(self, progress: Progress) -> None: ...

    def close(self) -> None: ...


class Quiet:
    """``--progress none``."""

    def update(self, progress: Progress) -> None:
        pass

    def close(self) -> None:
        pass


class _Throttled:
    """Shows every ``every`` seconds at most, and always the last state."""

    every = 1.0

    def __init__(self) -> None:
        self._shown_at = -float("inf")
        self._last: Progress | None = None
        self._last_shown: Progress | None = None

    def update(self, progress: Progress) -> None:
        self._last = progress
        now = time.monotonic()
        if now - self._shown_at >= self.every or progress.remaining == 0:
            self._shown_at = now
            self._last_shown = progress
            self.show(progress)

    def close(self) -> None:
        if self._last is not None and self._last is not self._last_shown:
            self.show(self._last)
        self.finish()

    def show(self, progress: Progress) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class Lines(_Throttled):
    """Plain lines on stderr, for logs: ``poststack: 1200/5000 sent (24%), ...``."""

    every = LINE_EVERY

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream

    def show(self, progress: Progress) -> None:
        print(f"poststack: {summary_line(progress)}", file=self._stream, flush=True)


class JsonLines(_Throttled):
    """``--json``: ``{"event": "progress", ...}`` lines on stdout."""

    every = JSON_EVERY

    def show(self, progress: Progress) -> None:
        print(json.dumps({"event": "progress", **progress_json(progress)}), flush=True)


class PlainBar(_Throttled):
    """One line redrawn in place: ``[#####.....] 1200/5000 sent (24%), ...``."""

    every = BAR_REFRESH

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream
        self._drawn = False

    def show(self, progress: Progress) -> None:
        share = progress.done / progress.total if progress.total else 1.0
        filled = round(BAR_WIDTH * share)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        # \r back to the start of the line, \x1b[K clears what a longer line left.
        self._stream.write(f"\r[{bar}] {summary_line(progress)}\x1b[K")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


class RichBar(_Throttled):
    """A ``rich`` progress bar on stderr: bar, sent, failed, rate and ETA."""

    every = BAR_REFRESH

    def __init__(self, total: int) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("[bold]sending"),
            BarColumn(),
            TextColumn("{task.fields[sent]}/{task.total} sent"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]} emails/s"),
            TextColumn("ETA {task.fields[eta]}"),
            console=Console(file=sys.stderr),
            auto_refresh=False,
        )
        self._task = self._bar.add_task("send", total=total, sent=0, failed=0, rate="0.0", eta="?")
        self._bar.start()

    def show(self, progress: Progress) -> None:
        self._bar.update(
            self._task,
            completed=progress.done,
            sent=progress.sent,
            failed=progress.failed + progress.skipped,
            rate=f"{progress.rate:.1f}",
            eta=duration(progress.eta),
        )
        self._bar.refresh()

    def finish(self) -> None:
        self._bar.stop()


def choose(mode: str, *, json_output: bool, total: int, stream: IO[str]) -> Display:
    """The display for ``--progress MODE`` (``auto``: a bar on a terminal, else lines)."""
    if json_output:
        return JsonLines()
    if mode == "none":
        return Quiet()
    if mode == "auto":
        mode = "bar" if stream.isatty() else "lines"
    if mode == "lines":
        return Lines(stream)
    try:
        return RichBar(total)
    except ImportError:
        return PlainBar(stream)
