"""What a run produces, and the statistics over it: outcomes, medians, target verdicts.

Pure functions over plain data: ``run.py --render`` rebuilds a report from a
``results.json`` with them, without measuring anything.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from targets import Check


@dataclass
class Outcome:
    """One job's figures, one dict per repeat; or why it has none."""

    values: list[dict[str, Any]] = field(default_factory=list)
    unavailable: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Stat:
    median: float
    lo: float
    hi: float
    n: int


def stat(xs: list[float]) -> Stat | None:
    return Stat(statistics.median(xs), min(xs), max(xs), len(xs)) if xs else None


def metric(outcomes: dict[str, Outcome], key: str, name: str) -> list[float]:
    """Job ``key``'s metric ``name``, one value per repeat."""
    return [float(v[name]) for v in outcomes[key].values if name in v]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    value: Stat | None
    verdict: str  # "PASS ...", "MISS ...", "info", "not available: ..."


def evaluate(check: Check, outcomes: dict[str, Outcome]) -> CheckResult:
    keys = [check.num[0]] + ([check.den[0]] if check.den else [])
    for key in keys:
        out = outcomes[key]
        if out.error:
            return CheckResult(check, None, f"not available: {key} failed")
        if out.unavailable or not out.values:
            return CheckResult(check, None, f"not available: {key}")
    nums = metric(outcomes, *check.num)
    if check.den:
        dens = metric(outcomes, *check.den)
        # Pair by pair: repeat i of one with repeat i of the other, run side by side.
        xs = [a / b for a, b in zip(nums, dens, strict=False) if b]
    else:
        xs = nums
    s = stat(xs)
    if s is None:
        return CheckResult(check, None, "not available: no data")
    if check.op is None or check.limit is None:
        return CheckResult(check, s, "info")
    ok = s.median <= check.limit if check.op == "<=" else s.median >= check.limit
    margin = abs(s.median - check.limit) / check.limit * 100
    verdict = f"PASS ({margin:.0f} % margin)" if ok else f"MISS (by {margin:.0f} %)"
    return CheckResult(check, s, verdict)
