"""Developer tasks: ``nox`` runs lint, typecheck and tests (what CI runs)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
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
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict), both as Python 3.10, on the packages and typing tests."""
    session.install("-e", ALL_EXTRAS, "mypy>=1.10", "pyright[nodejs]>=1.1.380")
    session.install("types-requests", "typing_extensions", *CONTRIB_STUBS, *TEST_DEPS)
    session.run("python", "tests/typing/extract_readme.py")
    session.run("mypy", "--strict", "--python-version", "3.10", *TYPED)
    session.run("pyright", "--pythonversion", "3.10", *TYPED)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite against an editable install with every extra."""
    session.install("-e", ALL_EXTRAS, *CONTRIB_TEST_DEPS, *TEST_DEPS)
    session.run("python", "-m", "pytest", *session.posargs)
