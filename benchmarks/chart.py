"""ratios.png: every ratio of the report as a bar on a log scale around 1×."""

from __future__ import annotations

from pathlib import Path

from results import CheckResult


def draw_chart(checks: list[CheckResult], path: Path) -> str | None:
    """Draw the ratios into ``path``; or say why not (matplotlib missing, no ratio)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (nox -s bench installs it)"
    rows = [r for r in checks if r.check.den is not None or r.check.unit == "×"]
    if not any(r.value is not None for r in rows):
        return "no ratio could be computed"
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.5))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows, strict=True):
        v = r.value
        c = r.check
        if v is None:
            ax.text(1.03, y, "not available", va="center", fontsize=8, color="#757575")
            if c.limit is not None:
                ax.plot(
                    [c.limit, c.limit],
                    [y - 0.4, y + 0.4],
                    color="black",
                    linestyle="--",
                    linewidth=1.5,
                )
            continue
        if c.op is None:
            color = "#9e9e9e"
        elif r.verdict.startswith("PASS"):
            color = "#2e7d32"
        else:
            color = "#c62828"
        # Log scale, bars grow from 1× either way: 0.5× and 2× look equally far from parity.
        ax.barh(y, v.median - 1.0, left=1.0, color=color, height=0.6)
        ax.errorbar(
            v.median,
            y,
            xerr=[[v.median - v.lo], [v.hi - v.median]],
            fmt="none",
            ecolor="black",
            capsize=3,
            linewidth=1,
        )
        if c.limit is not None:
            ax.plot(
                [c.limit, c.limit], [y - 0.4, y + 0.4], color="black", linestyle="--", linewidth=1.5
            )
        ax.text(max(v.hi, 1.0) * 1.03, y, f"{v.median:.2f}×", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [
            r.check.label + (f"  [{r.check.op} {r.check.limit:g}]" if r.check.op else "")
            for r in rows
        ],
        fontsize=8,
    )
    ax.axvline(1.0, color="#555555", linewidth=0.8)
    seen = [x for r in rows if r.value for x in (r.value.lo, r.value.hi) if x > 0]
    seen += [r.check.limit for r in rows if r.check.limit]
    ax.set_xscale("log")
    ax.set_xlim(min([*seen, 1.0]) / 1.3, max([*seen, 1.0]) * 1.6)
    ticks = [
        t
        for t in (0.125, 0.25, 0.5, 0.7, 1, 1.5, 2, 4, 8, 16, 32, 64)
        if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]
    ]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}×" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("ratio (median of per-repeat pairs; whiskers min–max; dashed: target)")
    ax.set_title(
        "poststack: ratios to the official SDK and to library floors\n"
        "green: target met, red: missed, grey: informative",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
