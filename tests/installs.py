"""Installing the project as a user would: a clean copy of the tree, fresh virtual environments.

Shared by the packaging and README tests. Installs go through pip with its
usual configuration and cache; nothing is installed into the running
interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What never belongs in a clone, for the rare run outside a git checkout.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".nox", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".work"
)


def source_files() -> list[str] | None:
    """The files a fresh clone of this checkout would have, plus uncommitted ones.

    None outside a git checkout.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    # Deleted in the work tree but not yet committed: gone from the next clone.
    return [
        name
        for name in filter(None, listed.split("\0"))
        if (ROOT / name).exists() or (ROOT / name).is_symlink()
    ]


def clean_copy(dest: Path) -> Path:
    """Copy what a fresh clone of this checkout would hold (uncommitted edits included)."""
    names = source_files()
    if names is None:
        shutil.copytree(ROOT, dest, ignore=_NOT_SOURCE, symlinks=True)
        return dest
    for name in names:
        source, target = ROOT / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


def scripts(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def make_venv(python: str, venv: Path, *, with_pip: bool = False) -> Path:
    """A new virtual environment of ``python``; returns its interpreter."""
    args = [python, "-m", "venv", str(venv)]
    subprocess.run(args if with_pip else [*args, "--without-pip"], check=True, timeout=300)
    return scripts(venv) / ("python.exe" if os.name == "nt" else "python")


def pip_install(venv_python: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """``pip install`` into another environment, with this interpreter's pip (``--python``)."""
    pip = [sys.executable, "-m", "pip", "--python", str(venv_python), "--disable-pip-version-check"]
    return subprocess.run(
        [*pip, "install", "-q", "--no-input", *requirements],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of the test run's POSTSTACK_* or venv variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POSTSTACK_") and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    return {**env, **extra}
