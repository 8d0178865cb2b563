"""Developer tasks.

``nox`` runs lint, typecheck and the tests on the oldest and the newest supported
Python; ``nox -s tests`` runs the tests on every supported Python, and
``nox -s bench_smoke`` a short run of the benchmarks. ``.ci/run`` runs all of
them. The supported Pythons are the classifiers in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"  # nox.project reads pyproject.toml
PYPROJECT = nox.project.load_toml("pyproject.toml")
# "3.10", "3.11", ...: one place says which Pythons we support (the classifiers).
PYTHONS = nox.project.python_versions(PYPROJECT)
OLDEST, NEWEST = PYTHONS[0], PYTHONS[-1]

nox.options.sessions = [
    "lint",
    "typecheck",
    f"tests-{OLDEST}",
    f"tests-{NEWEST}",
    f"tests_arq-{OLDEST}",
    f"tests_arq-{NEWEST}",
]
nox.options.reuse_existing_virtualenvs = True
# A Python that is not installed skips its session with a message naming it
# (also on CI: .ci/run installs what it can first, and says what it could not),
# and nox never downloads an interpreter by itself.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

TEST_DEPS = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    # tests/test_packaging.py: pyproject.toml on 3.10, classifier names, sdist + wheel.
    "tomli>=2; python_version < '3.11'",
    "trove-classifiers",
    "build>=1.2",
]
TYPED = ["poststack_core", "poststack", "tests/typing"]
# Every extra of pyproject.toml: the framework integrations (poststack.contrib)
# are tested and type-checked against the real frameworks.
EXTRAS = list(PYPROJECT["project"]["optional-dependencies"])
ALL_EXTRAS = ".[{}]".format(",".join(EXTRAS))
# Extras whose requirements conflict with the others' get a tests session of their
# own: arq wants redis-py < 6 and Celery's Redis transport >= 6.4, so pip could only
# install both by picking an old Celery whose kombu then refuses the old redis-py.
# (Type checking needs no working Redis transport: it installs them all together.)
OWN_SESSION = {"arq": "tests/contrib/test_arq.py"}
TEST_EXTRAS = ".[{}]".format(",".join(e for e in EXTRAS if e not in OWN_SESSION))
# uvicorn serves the FastAPI app that receives the sandbox's webhooks; Starlette's
# TestClient wants httpx2; the OpenTelemetry tests export spans to the SDK's in-memory
# exporter. redis-server (for the Celery tests) comes from apt (.ci/run).
CONTRIB_TEST_DEPS = ["uvicorn>=0.29", "httpx2", "opentelemetry-sdk>=1.20"]
# Type information for frameworks that ship none (stubs matching Django 5.2).
CONTRIB_STUBS = ["django-stubs>=5.2,<6", "celery-types"]
# The web inbox's browser tests (tests/browser) drive Debian's /usr/bin/chromium
# through Playwright; Playwright's own browser download is never used.
BROWSER_TEST_DEPS = ["playwright>=1.45"]


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
    # opentelemetry-sdk: docs/observability.md's snippets use it, as a reader's app would.
    session.install(
        "types-requests",
        "typing_extensions",
        "httpx2",
        "opentelemetry-sdk>=1.20",
        *CONTRIB_STUBS,
        *TEST_DEPS,
    )
    session.run("python", "tests/typing/extract_readme.py")
    session.run("mypy", "--strict", "--python-version", OLDEST, *TYPED)
    session.run("pyright", "--pythonversion", OLDEST, *TYPED)
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


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite against an editable install with every extra (but arq's)."""
    session.install("-e", TEST_EXTRAS, *CONTRIB_TEST_DEPS, *BROWSER_TEST_DEPS, *TEST_DEPS)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=[OLDEST, NEWEST])
def tests_arq(session: nox.Session) -> None:
    """The arq integration's tests, in an environment of arq's own (see OWN_SESSION)."""
    session.install("-e", ".[arq]", *TEST_DEPS)
    # tests/contrib/conftest.py: here a missing arq fails the run instead of skipping.
    env = {"POSTSTACK_TEST_EXTRA": "arq"}
    session.run("python", "-m", "pytest", *(session.posargs or [OWN_SESSION["arq"]]), env=env)


# --- benchmarks (benchmarks/run.py) ---------------------------------------------------------
# matplotlib is installed only here, for the chart: it is no dependency of the SDK;
# opentelemetry-sdk for the job that measures what tracing costs.
BENCH_DEPS = (
    "httpx", "httpx2", "requests", "urllib3", "trio", "h11", "aiohttp", "matplotlib",
    "opentelemetry-sdk",
)  # fmt: skip


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
    """Full benchmark: writes benchmarks/RESULTS.md, ratios.png and results.json."""
    _bench(session)


@nox.session
def bench_smoke(session: nox.Session) -> None:
    """A few hundred sends through every runtime (CI): the report goes to a file, one line here."""
    _bench(session, "--quick")
