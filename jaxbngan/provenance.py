"""Where a run's code came from: package versions and, from a git checkout, the commit and whether it was dirty.

Recorded in every run's config.json, so a result can be traced to the code that made it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jax

from jaxbngan import __version__

PACKAGE_DIR = Path(__file__).resolve().parent
GIT_TIMEOUT = 5.0  # seconds; a hung git must not hold up a run


def versions() -> dict[str, str]:
    """Versions of jaxbngan, JAX and Python."""
    return {"jaxbngan": __version__, "jax": jax.__version__, "python": sys.version.split()[0]}


def git_state(package_dir: Path = PACKAGE_DIR) -> dict[str, str | bool] | None:
    """{'commit': sha, 'dirty': bool} of the checkout `package_dir` is tracked in; None outside one.

    None also when git is missing or fails, and when the package is an untracked copy inside some
    other repository (an install into a virtual environment kept in a project's checkout). Dirty
    means tracked files differ from the commit; untracked files (run directories) do not count.
    """
    tracked = _git(package_dir, "ls-files", "--error-unmatch", "__init__.py")
    commit = _git(package_dir, "rev-parse", "--verify", "HEAD")
    changes = _git(package_dir, "status", "--porcelain", "--untracked-files=no")
    if tracked is None or commit is None or changes is None:
        return None
    return {"commit": commit.strip(), "dirty": bool(changes.strip())}


def _git(cwd: Path, *args: str) -> str | None:
    """Stdout of `git ARGS` run in `cwd`, or None if it cannot run or fails."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
