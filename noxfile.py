"""Developer tasks: ``nox`` runs lint, typecheck, tests and the benchmark smoke (what CI runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "bench_smoke"]
nox.options.reuse_existing_virtualenvs = True

TEST_DEPS = ["pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100"]
TYPED = ["poststack_core", "poststack", "tests/typing"]
# Every extra: the framework integrations (poststack.contrib) are tested and
# type-checked against the real frameworks.
ALL_EXTRAS = ".[requests,trio,django,flask,starlette,fastapi,celery]"
# uvicorn serves the FastAPI app that receives the sandbox's webhooks; Starlette's
# TestClient wants httpx2. redis-server (for the Celery tests) comes from apt (.ci/run).
CONTRIB_TEST_DEPS = ["uvicorn>=0.29", "httpx2"]
# Type information for frameworks that ship none (stubs matching Django 5.2).
CONTRIB_STUBS = ["django-stubs>=5.2,<6", "celery-types"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.17,<0.18")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict), both as Python 3.10, on the packages and typing tests."""
    session.install("-e", ALL_EXTRAS, "mypy>=1.10", "pyright[nodejs]>=1.1.380")
    # httpx2: the transports accept its clients, and the checkers must see its types.
    session.install("types-requests", "typing_extensions", "httpx2", *CONTRIB_STUBS, *TEST_DEPS)
    session.run("python", "tests/typing/extract_readme.py")
    session.run("mypy", "--strict", "--python-version", "3.10", *TYPED)
    session.run("pyright", "--pythonversion", "3.10", *TYPED)
    # Type completeness as a user's checker sees the installed package: pyright cannot
    # read the editable install, so a plain one goes to a folder of its own. setuptools
    # would copy files a stale build/ still holds, hence the clean-up.
    site = Path(session.create_tmp()).resolve() / "verifytypes-site"
    shutil.rmtree("build", ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    session.run("python", "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), ".")
    shutil.rmtree("build", ignore_errors=True)
    session.chdir(site.parent)  # away from the source tree, which would shadow the install
    session.run(
        "pyright", "--verifytypes", "poststack", "--ignoreexternal", env={"PYTHONPATH": str(site)}
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite against an editable install with every extra."""
    session.install("-e", ALL_EXTRAS, *CONTRIB_TEST_DEPS, *TEST_DEPS)
    session.run("python", "-m", "pytest", *session.posargs)


# --- benchmarks (benchmarks/run.py) ---------------------------------------------------------
# matplotlib is installed only here, for the chart: it is no dependency of the SDK.
BENCH_DEPS = ("httpx", "requests", "trio", "h11", "matplotlib")


def _bench(session: nox.Session, *args: str) -> None:
    session.install(*BENCH_DEPS)
    session.install(".")
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
