"""Running the jobs: the official SDK's environment, CPU pinning, the worker processes.

Every job runs once per repeat, in the same order each time (repeat 1 runs
A B C ..., repeat 2 runs A B C ... again), each in a fresh worker process
(``worker.py``) started with the job's interpreter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jobs import JOBS, KIND_REPEATS, KINDS, Job, Profile, official_env
from results import Outcome

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "worker.py"
WORK = HERE / ".work"
OFFICIAL_VENV = WORK / "official-venv"
OFFICIAL_BARE_VENV = WORK / "official-venv-bare"
OFFICIAL_SPEC = "poststack==0.9.0"
OFFICIAL_VERSION = "0.9.0"

log = logging.getLogger("bench")


# --- environments -------------------------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def official_ok(python: Path) -> bool:
    """Whether ``python`` imports the official SDK (and not ours)."""
    code = (
        "import importlib.util as u, importlib.metadata as m, sys; "
        f"sys.exit(0 if m.version('poststack') == {OFFICIAL_VERSION!r} "
        "and u.find_spec('poststack_core') is None else 1)"
    )
    try:
        proc = subprocess.run(
            [str(python), "-c", code],
            check=False,
            capture_output=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
            env=official_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


# Libraries that change how httpx runs under asyncio by being installed at all, so the
# official SDK's venv gets the versions our environment has (issue 17: "both sides'
# environments equal"). httpcore imports trio when it can, and it and anyio ask sniffio
# which event loop runs; without sniffio, httpcore tries `import sniffio` again on every
# lock and cancel scope it makes, a failed import of ~36 µs, several times per request.
MIRRORED = ("trio", "sniffio")


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=official_env(),
    )


def _failure(spec: str, proc: subprocess.CompletedProcess[str]) -> str:
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
    return f"pip install {spec} failed (package index unreachable?): {tail[0]}"


def _mirror(python: Path) -> str | None:
    """Install into ``python``'s venv the MIRRORED libraries ours has, at our versions.

    Returns None when they are in place, else why not.
    """
    ours = versions_in(sys.executable, list(MIRRORED), dict(os.environ))
    theirs = versions_in(str(python), list(MIRRORED), official_env())
    wanted = [f"{d}=={v}" for d, v in ours.items() if v != "-" and theirs.get(d) != v]
    if not wanted:
        return None
    log.info("installing %s into the official SDK's venv ...", " ".join(wanted))
    proc = _pip(python, *wanted)
    return _failure(" ".join(wanted), proc) if proc.returncode != 0 else None


def ensure_official(
    explicit: str | None, skip: bool, bare: bool = False
) -> tuple[Path | None, str]:
    """The official SDK's interpreter, building its venv if needed; or (None, why not).

    Its venv holds ``poststack==0.9.0`` and the MIRRORED libraries of our
    environment; ``bare`` keeps a second venv with the SDK alone, and an
    ``explicit`` interpreter is used as it is.
    """
    if skip:
        return None, "skipped (--no-official)"
    if explicit:
        python = Path(explicit)
        if official_ok(python):
            return python, f"given: {python}"
        return None, f"{python} has no {OFFICIAL_SPEC}"
    venv = OFFICIAL_BARE_VENV if bare else OFFICIAL_VENV
    where = venv.relative_to(ROOT)
    python = venv_python(venv)
    if python.exists() and official_ok(python):
        how = f"reused {where}"
    else:
        log.info("building %s with %s ...", where, OFFICIAL_SPEC)
        shutil.rmtree(venv, ignore_errors=True)
        WORK.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                check=True,
                capture_output=True,
                timeout=300,
                env=official_env(),
            )
            proc = _pip(python, OFFICIAL_SPEC)
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"could not build its venv: {exc!r}"
        if proc.returncode != 0:
            return None, _failure(OFFICIAL_SPEC, proc)
        if not official_ok(python):
            return None, f"{OFFICIAL_SPEC} installed but not importable"
        how = f"built {where}"
    if bare:
        return python, f"{how} (the SDK alone: --official-bare)"
    try:
        why_not = _mirror(python)
    except (OSError, subprocess.SubprocessError) as exc:
        why_not = repr(exc)
    if why_not is not None:
        return None, f"could not give it our {', '.join(MIRRORED)}: {why_not}"
    return python, f"{how}, with our {' and '.join(MIRRORED)}"


def versions_in(python: str, dists: list[str], env: dict[str, str]) -> dict[str, str]:
    """The installed versions of ``dists`` in ``python``'s environment ("-": missing)."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: dist = m.distribution(d)\n"
        "    except m.PackageNotFoundError: out[d] = '-'; continue\n"
        "    url = json.loads(dist.read_text('direct_url.json') or '{}')\n"
        "    editable = url.get('dir_info', {}).get('editable')\n"
        "    out[d] = dist.version + (' (editable install)' if editable else '')\n"
        "print(json.dumps(out))"
    )
    try:
        proc = subprocess.run(
            [python, "-c", code, *dists],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        found: dict[str, str] = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    return found


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return {
        "OS": platform.platform(),
        "CPU": f"{cpu} × {os.cpu_count()} logical CPUs",
        "Memory": mem,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


# --- running workers ----------------------------------------------------------------------


def pinning() -> tuple[int | None, int | None]:
    """(server CPU, worker CPU): split across two CPUs when the machine has them."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[-1], cpus[0]


def run_job(
    job: Job,
    prof: Profile,
    url: str,
    pythons: dict[str, str],
    envs: dict[str, dict[str, str]],
    cpu: int | None,
) -> dict[str, Any]:
    """One run of ``job`` in a fresh worker: its figures, or {"error"/"unavailable": why}."""
    n, warmup = KINDS[job.kind](prof)
    cmd = [pythons[job.env], str(WORKER), job.key, "--url", url]
    cmd += ["--n", str(n), "--warmup", str(warmup)]
    preexec = None
    if cpu is not None:

        def preexec() -> None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cpu})

    proc = subprocess.run(
        cmd,
        check=False,
        capture_output=True,
        text=True,
        timeout=3600,
        env=envs[job.env],
        cwd=tempfile.gettempdir(),
        preexec_fn=preexec,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return {"error": f"bad worker output: {lines[-1][:200]!r}"}
    return result


def run_all(
    prof: Profile,
    url: str,
    pythons: dict[str, str | None],
    envs: dict[str, dict[str, str]],
    official_reason: str,
    only: set[str] | None,
) -> dict[str, Outcome]:
    """Every job once per repeat, interleaved; a job that failed once is not run again."""
    _, worker_cpu = pinning()
    outcomes = {j.key: Outcome() for j in JOBS}
    for job in JOBS:
        if only and job.key not in only:
            outcomes[job.key].unavailable = "not selected (--only)"
        elif pythons.get(job.env) is None:
            outcomes[job.key].unavailable = f"official SDK {official_reason}"
    ready = {k: v for k, v in pythons.items() if v is not None}
    for rep in range(prof.repeats):
        t0 = time.perf_counter()
        for job in JOBS:
            out = outcomes[job.key]
            if out.unavailable or out.error:
                continue
            if job.kind in KIND_REPEATS and rep >= KIND_REPEATS[job.kind](prof):
                continue
            result = run_job(job, prof, url, ready, envs, worker_cpu)
            if "unavailable" in result:
                out.unavailable = result["unavailable"]
            elif "error" in result:
                out.error = result["error"]
                log.warning("%s: FAILED %s", job.key, result["error"])
            else:
                out.values.append(result)
        log.info("repeat %d/%d done in %.1f s", rep + 1, prof.repeats, time.perf_counter() - t0)
    return outcomes
