"""nox sessions for poststack."""

from __future__ import annotations

import nox

# --- benchmarks (benchmarks/run.py) ---------------------------------------------------------
# matplotlib is installed only here, for the chart: it is no dependency of the SDK.
BENCH_DEPS = ("httpx", "requests", "trio", "h11", "matplotlib")


def _bench(session: nox.Session, *args: str) -> None:
    session.install(*BENCH_DEPS)
    try:
        session.install(".")
    except nox.command.CommandFailed:
        # Before the SDK is buildable the harness still runs: our rows say "not available".
        session.warn("could not install poststack itself; its rows will be 'not available'")
    else:
        # A wheel whose package list misses a subpackage imports only partly; measure the
        # source tree (editable) then, and say so, rather than report nothing.
        probe = "import poststack, poststack_core; poststack.PostStack"
        try:
            session.run("python", "-I", "-c", probe, silent=True)  # -I: not the checkout
        except nox.command.CommandFailed:
            session.warn("the built wheel of poststack is incomplete; installing it editable")
            session.install("-e", ".")
    command = " ".join(
        ["nox -s", session.name, *(["--", *session.posargs] if session.posargs else [])]
    )
    session.run(
        "python",
        "benchmarks/run.py",
        *args,
        *session.posargs,
        env={"POSTSTACK_BENCH_COMMAND": command},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Full benchmark: writes benchmarks/RESULTS.md and benchmarks/ratios.png."""
    _bench(session)


@nox.session
def bench_smoke(session: nox.Session) -> None:
    """A few hundred sends through every runtime, no timing assertions (CI)."""
    _bench(session, "--quick")
