"""The package tells the truth: its metadata, what the sdist and wheel hold, and every extra.

The static checks read pyproject.toml. The rest builds the sdist and the wheel
from a clean copy of the tree (``python -m build``: the wheel is built from the
sdist, so the sdist is complete), installs the wheel with each extra into a
fresh virtual environment of the interpreter running the tests, and uses the
extra there for real against a sandbox; and installs a clean clone into the
oldest supported Python (``Requires-Python``).
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import poststack
from poststack.testing import Sandbox
from tests.installs import (
    ROOT,
    clean_copy,
    make_venv,
    pip_install,
    scripts,
    source_files,
    user_env,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = sorted(PROJECT["optional-dependencies"])
# The Pythons we promise, from the classifiers: noxfile.py tests on the same list.
PYTHONS = sorted(
    (
        c.rsplit(" :: ", 1)[1]
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ),
    key=Version,
)
OFFICIAL_SDK = Version("0.9.0")  # what PyPI's "poststack" was before this SDK


# --- metadata, from pyproject.toml ----------------------------------------------------------


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for top in ("poststack", "poststack_core"):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT).parts
            if parts[:2] == ("poststack", "transports"):
                continue  # the symlink to transports/, mapped by package-dir
            found.add(".".join(parts))
    for init in (ROOT / "transports").rglob("__init__.py"):
        found.add(".".join(("poststack", *init.parent.relative_to(ROOT).parts)))
    assert found == listed
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"poststack.transports": "transports"}


def test_typed_markers_exist() -> None:
    for folder in ("poststack", "poststack_core", "transports"):
        assert (ROOT / folder / "py.typed").is_file()


def test_the_version_is_written_once_and_is_above_the_sdk_it_replaces() -> None:
    assert "version" not in PROJECT
    assert PROJECT["dynamic"] == ["version"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "poststack._version.__version__"
    version = Version(poststack.__version__)
    assert version >= Version("1.0.0") > OFFICIAL_SDK
    # A pre-release is invisible to a plain `pip install poststack`, which would
    # then keep installing 0.9.0.
    assert not version.is_prerelease
    files = source_files()
    if files is None:
        pytest.skip("not a git checkout: no list of the source files")
    written = [
        name
        for name in files
        if name.endswith((".py", ".toml", ".cfg"))
        and not (ROOT / name).is_symlink()
        and re.search(r"""(?m)^\s*_*version_*\s*=\s*["']\d""", (ROOT / name).read_text("utf-8"))
    ]
    assert written == ["poststack/_version.py"]


def test_the_changelog_has_unreleased_and_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in text
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert headings[0] == ("Unreleased", "")
    version, date = headings[1]
    assert version == poststack.__version__, "the newest release in CHANGELOG.md"
    assert date, "a release has a date"
    for name, _ in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", text, re.M), f"a link for {name}"


def test_requires_python_and_the_classifiers_agree() -> None:
    assert PROJECT["requires-python"] == f">={PYTHONS[0]}"
    minors = [int(v.split(".")[1]) for v in PYTHONS]
    assert minors == list(range(minors[0], minors[-1] + 1)), "every minor version in between"
    assert len(PYTHONS) >= 2, "nox tests the oldest and the newest"
    assert sys.version_info[:2] >= tuple(map(int, PYTHONS[0].split(".")))


def test_classifiers_are_real_trove_classifiers() -> None:
    from trove_classifiers import classifiers

    unknown = [c for c in PROJECT["classifiers"] if c not in classifiers]
    assert unknown == []
    # With an SPDX license expression, a License :: classifier is an error.
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_license_and_project_urls() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "Permission is hereby granted, free of charge" in text
    urls = PROJECT["urls"]
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_the_celery_extra_brings_the_redis_transport() -> None:
    # Kombu's Redis transport imports `packaging`, which only celery[redis] declares.
    assert PROJECT["optional-dependencies"]["celery"] == ["celery[redis]>=5.3"]


def test_no_install_line_can_fall_back_to_the_sdk_this_one_replaces() -> None:
    """Every `pip install poststack...` we tell users asks for >=1, or installs a path."""
    files = source_files()
    if files is None:
        pytest.skip("not a git checkout: no list of the source files")
    # The name as a requirement: not a path (.../poststack) nor a script (.venv/bin/poststack).
    requirement = re.compile(r"(?<![\w./-])poststack(\[[\w,]+\])?([<>=!~][^\"'\s`]*)?")
    loose = []
    for name in files:
        if not name.endswith((".md", ".py", ".toml")) or name.startswith("tests/"):
            continue
        for number, line in enumerate((ROOT / name).read_text("utf-8").splitlines(), 1):
            if "pip install" not in line:
                continue
            command = line.split("pip install", 1)[1].split("&&", 1)[0]
            for found in requirement.finditer(command):
                if not (found[2] or "").startswith(">=1"):
                    loose.append(f"{name}:{number}: {line.strip()}")
    assert loose == []


# --- the sdist and the wheel ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel built from a clean copy of the tree, the wheel from the sdist."""
    work = tmp_path_factory.mktemp("dist")
    source = clean_copy(work / "source")
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("poststack-*.whl")
    return wheel


def test_the_wheel_holds_the_packages_metadata_and_license(dist: Path) -> None:
    wheel = wheel_of(dist)
    assert wheel.name == f"poststack-{poststack.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"poststack-{poststack.__version__}.dist-info"
        metadata = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    for typed in ("poststack", "poststack/transports", "poststack_core"):
        assert f"{typed}/py.typed" in names
    assert f"{info}/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))]

    assert metadata["Name"] == "poststack"
    assert metadata["Version"] == poststack.__version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == f">={PYTHONS[0]}"
    assert sorted(metadata.get_all("Provides-Extra")) == EXTRAS
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert urls == PROJECT["urls"]
    assert "Python :: 3.13" in " ".join(metadata.get_all("Classifier"))
    assert metadata.get_payload().startswith("# poststack")  # the README, as Markdown
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "poststack = poststack.cli:main" in entry_points
    assert "poststack = poststack.testing.pytest_plugin" in entry_points


def test_the_sdist_holds_docs_tests_changelog_and_license(dist: Path) -> None:
    (sdist,) = dist.glob("poststack-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    tracked = {
        p.relative_to(ROOT).as_posix()
        for folder in ("tests", "docs")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and "readme_snippets" not in p.parts
        and not p.name.endswith(".pyc")
    }
    assert tracked - names == set()
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names


# --- every extra in a fresh virtual environment ------------------------------------------

# What each extra's module does in a fresh venv that has only poststack[extra]:
# one email to the sandbox, with the subject the test gives it. An extra without
# an entry here is only imported (its module, named after it): give a new extra
# an entry that uses it.
SEND = """
import os
EMAIL = {"from": "hello@yourdomain.com", "to": ["user@example.com"],
         "subject": os.environ["SUBJECT"], "text": "Hi"}
"""
ASGI_DRIVER = """
import asyncio, httpx

async def drive(app):
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.post("/send")
            assert response.status_code == 200, response.text

asyncio.run(drive(app))
"""
EXTRA_CHECKS: dict[str, str] = {
    "requests": SEND
    + """
from poststack import PostStack
from poststack.transports.requests import RequestsTransport
transport = RequestsTransport()
with PostStack(transport=transport) as ps:
    ps.emails.send(EMAIL)
transport.close()
""",
    "trio": SEND
    + """
import trio
from poststack import AsyncPostStack
from poststack.transports.trio import TrioTransport

async def main():
    transport = TrioTransport()
    async with AsyncPostStack(transport=transport) as ps:
        await ps.emails.send(EMAIL)
    await transport.aclose()

trio.run(main)
""",
    "aiohttp": SEND
    + """
import asyncio
from poststack import AsyncPostStack
from poststack.transports.aiohttp import AiohttpTransport

async def main():
    transport = AiohttpTransport()
    async with AsyncPostStack(transport=transport) as ps:
        await ps.emails.send(EMAIL)
    await transport.aclose()

asyncio.run(main())
""",
    "django": SEND
    + """
import django
from django.conf import settings
settings.configure(EMAIL_BACKEND="poststack.contrib.django.EmailBackend")
django.setup()
from django.core.mail import send_mail
assert send_mail(EMAIL["subject"], "Hi", EMAIL["from"], EMAIL["to"]) == 1
""",
    "flask": SEND
    + """
from flask import Flask
from poststack.contrib.flask import PostStack
app = Flask("smoke")
extension = PostStack(app)
with app.app_context():
    extension.emails.send(EMAIL)
""",
    "starlette": SEND
    + """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from poststack.contrib.starlette import get_client, lifespan

async def send(request):
    result = await get_client(request).emails.send(EMAIL)
    return JSONResponse({"id": result["id"]})

app = Starlette(lifespan=lifespan(), routes=[Route("/send", send, methods=["POST"])])
"""
    + ASGI_DRIVER,
    "fastapi": SEND
    + """
from fastapi import FastAPI
from poststack.contrib.fastapi import PostStackClient, lifespan

app = FastAPI(lifespan=lifespan())

@app.post("/send")
async def send(ps: PostStackClient) -> dict:
    return {"id": (await ps.emails.send(EMAIL))["id"]}
"""
    + ASGI_DRIVER,
    # The API alone (no SDK): instrumenting changes nothing, and the email goes out.
    "opentelemetry": SEND
    + """
from poststack import PostStack
from poststack.contrib.opentelemetry import PostStackInstrumentor
PostStackInstrumentor().instrument(propagate=True)
with PostStack() as ps:
    assert ps.emails.send(EMAIL)["id"].startswith("em_")
PostStackInstrumentor().uninstrument()
""",
    # The command line sends from a CSV file, drawing its bar with rich.
    "cli": SEND
    + """
import csv
import rich
from poststack.cli import main
with open("rows.csv", "w", newline="") as out:
    csv.writer(out).writerows([["email"], ["user@example.com"]])
argv = ["send-many", "rows.csv", "--from", EMAIL["from"], "--subject", EMAIL["subject"]]
assert main([*argv, "--text", "Hi", "--progress", "bar"]) == 0
""",
    # A real worker (in a thread) takes the task from a real Redis and sends.
    "celery": SEND
    + """
from celery import Celery
from celery.contrib.testing.worker import start_worker
from poststack.contrib.celery import register
app = Celery("smoke", broker=os.environ["REDIS_URL"], backend=os.environ["REDIS_URL"])
send_email = register(app)
with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
    assert send_email.delay(EMAIL).get(timeout=120)["id"].startswith("em_")
""",
    # RQ's forking Worker, in burst mode: it runs what is queued, then returns.
    "rq": SEND
    + """
from redis import Redis
from rq import Queue, Worker
from poststack.contrib.rq import enqueue_email
redis = Redis.from_url(os.environ["REDIS_URL"])
queue = Queue("smoke-rq", connection=redis)
job = enqueue_email(queue, EMAIL)
Worker([queue], connection=redis).work(burst=True)
assert job.return_value()["id"].startswith("em_")
""",
    # arq's worker, in burst mode, with the module's startup and shutdown hooks.
    "arq": SEND
    + """
import asyncio
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from poststack.contrib.arq import enqueue_email, send_email, shutdown, startup

async def main():
    settings = RedisSettings.from_dsn(os.environ["REDIS_URL"])
    redis = await create_pool(settings, default_queue_name="smoke-arq")
    job = await enqueue_email(redis, EMAIL)
    worker = Worker(functions=[send_email], redis_settings=settings, burst=True,
                    on_startup=startup, on_shutdown=shutdown, queue_name="smoke-arq")
    await worker.main()
    await worker.close()
    assert (await job.result(timeout=60))["id"].startswith("em_")
    await redis.aclose()

asyncio.run(main())
""",
    # A Dramatiq worker (its threads in this process) on a Redis broker of its own.
    "dramatiq": SEND
    + """
import dramatiq
from dramatiq.brokers.redis import RedisBroker
from poststack.contrib.dramatiq import with_poststack
broker = RedisBroker(url=os.environ["REDIS_URL"], namespace="smoke-dramatiq")

@with_poststack(broker=broker, queue_name="smoke")
def send(client, key, email):
    assert client.emails.send(email, idempotency_key=key)["id"].startswith("em_")

worker = dramatiq.Worker(broker, worker_threads=1)
worker.start()
send.send(EMAIL)
broker.join("smoke")
worker.stop()
""",
}
# The extras whose checks need a Redis (the redis_url fixture).
REDIS_EXTRAS = {"celery", "rq", "arq", "dramatiq"}
BASE_CHECK = (
    SEND
    + """
import sys
import poststack
with poststack.PostStack() as ps:
    ps.emails.send(EMAIL)
optional = ("requests", "trio", "django", "flask", "starlette", "fastapi", "celery", "rq",
            "arq", "dramatiq", "opentelemetry")
assert not [m for m in optional if m in sys.modules], "the base install imported an extra"
"""
)


def extra_module(extra: str) -> str:
    """The module an extra is for, named after it: in contrib, in transports, or a subpackage."""
    contrib = ROOT / "poststack" / "contrib"
    if (contrib / f"{extra}.py").exists() or (contrib / extra / "__init__.py").exists():
        return f"poststack.contrib.{extra}"
    if (ROOT / "transports" / f"{extra}.py").exists():
        return f"poststack.transports.{extra}"
    if (ROOT / "poststack" / extra / "__init__.py").exists():
        return f"poststack.{extra}"
    raise AssertionError(
        f"extra {extra!r} is for no poststack.contrib, poststack.transports or poststack "
        "module: add its check to EXTRA_CHECKS in tests/test_packaging.py"
    )


def test_every_extra_has_a_check() -> None:
    assert set(EXTRA_CHECKS) - set(EXTRAS) == set(), "a check for an extra that is gone"
    for extra in EXTRAS:
        extra_module(extra)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.contrib.harness import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def run_in(venv_python: Path, code: str, sb: Sandbox, subject: str, **env: str) -> None:
    done = subprocess.run(
        [str(venv_python), "-c", code],
        capture_output=True,
        text=True,
        env=user_env(
            POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url, SUBJECT=subject, **env
        ),
        cwd=venv_python.parent,  # nothing of the checkout on sys.path
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert subject in [email.subject for email in sb.outbox]


def test_the_wheel_alone_sends_and_imports_no_extra(
    dist: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    python = make_venv(sys.executable, tmp_path / "venv")
    installed = pip_install(python, str(wheel_of(dist)))
    assert installed.returncode == 0, installed.stderr
    run_in(python, BASE_CHECK, sandbox, "base install")
    version = subprocess.run(
        [str(scripts(tmp_path / "venv") / "poststack"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == f"poststack {poststack.__version__}"


@pytest.mark.parametrize("extra", EXTRAS)
def test_each_extra_works_in_a_fresh_venv(
    extra: str, dist: Path, tmp_path: Path, sandbox: Sandbox, request: pytest.FixtureRequest
) -> None:
    python = make_venv(sys.executable, tmp_path / "venv")
    installed = pip_install(python, f"{wheel_of(dist)}[{extra}]")
    assert installed.returncode == 0, installed.stderr[-4000:]
    env = {"REDIS_URL": request.getfixturevalue("redis_url")} if extra in REDIS_EXTRAS else {}
    code = EXTRA_CHECKS.get(extra, f"import {extra_module(extra)}")
    # Every extra's module imports, then its check sends an email.
    run_in(python, f"import {extra_module(extra)}\n{code}", sandbox, f"extra {extra}", **env)


# --- Requires-Python ----------------------------------------------------------------------


def interpreter(version: str) -> str | None:
    """A working ``python<version>``: on PATH, else one that pyenv has (active or not)."""
    candidates = [shutil.which(f"python{version}")]
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")):
        if root:
            candidates += sorted(
                map(str, Path(root).glob(f"versions/{version}.*/bin/python{version}"))
            )
    for found in filter(None, candidates):
        probe = subprocess.run([found, "-c", "import venv"], capture_output=True, check=False)
        if probe.returncode == 0:
            return found
    return None


def test_a_clean_clone_installs_and_runs_on_the_oldest_supported_python(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    oldest = interpreter(PYTHONS[0])
    if oldest is None:
        if os.environ.get("CI"):
            pytest.fail(f"python{PYTHONS[0]} is not on PATH (.ci/run provides it)")
        pytest.skip(f"python{PYTHONS[0]} is not installed")
    clone = clean_copy(tmp_path / "clone")
    python = make_venv(oldest, tmp_path / "venv", with_pip=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(clone)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-4000:]
    check = (
        BASE_CHECK + f"\nassert sys.version_info[:2] == {tuple(map(int, PYTHONS[0].split('.')))}"
    )
    run_in(python, check, sandbox, f"python {PYTHONS[0]}")


def test_an_older_python_is_refused_by_requires_python(dist: Path, tmp_path: Path) -> None:
    major, minor = map(int, PYTHONS[0].split("."))
    older = interpreter(f"{major}.{minor - 1}")
    if older is None:
        pytest.skip(f"no python{major}.{minor - 1} here to try")
    python = make_venv(older, tmp_path / "venv", with_pip=True)
    refused = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel_of(dist))],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode != 0
    assert "Requires-Python" in refused.stderr or "requires a different Python" in refused.stderr
    assert SpecifierSet(PROJECT["requires-python"]).contains(f"{major}.{minor - 1}") is False
