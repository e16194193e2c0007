"""Provenance for the report and each cell: device, versions, the code's git commit."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import jax

from jaxbngan.tuning import cpu_cores


def device_text() -> str:
    """Backend, device kind and count, and CPU cores."""
    devices = jax.devices()
    flags = os.environ.get("XLA_FLAGS", "") or "none"
    kind = f"{devices[0].device_kind} x {len(devices)}"
    return f"{jax.default_backend()} ({kind}), {cpu_cores()} CPU cores, XLA_FLAGS: {flags}"


def versions_text() -> str:
    """Python and library versions, and the git commit of the code when known."""
    names = ("jax", "jaxlib", "flax", "optax", "numpy", "matplotlib")
    parts = [f"Python {platform.python_version()}"] + [f"{n} {importlib.metadata.version(n)}" for n in names]
    return ", ".join(parts + [f"jaxbngan {git_revision()}"])


@functools.cache
def git_revision() -> str:
    """The commit of the checkout this module lives in (with '+ local changes' if dirty), or 'unknown'.

    Read once per process: the code a process runs is what it imported when it started, so the
    commands call this before they train (`command.run_command`), and a commit made while they
    train does not relabel the cells they save.

    Results being written into the checkout's report folders (`experiments/results*`) are not
    changes of the code: a cell trained into a clean checkout names its commit alone.
    """
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":(exclude)experiments/results*"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + local changes' if dirty.strip() else ''}"


def cells_commit_text(results: dict) -> str:
    """Which commits trained the cells of a report, with how many cells each (`CellResult.meta["commit"]`)."""
    unrecorded = "no commit recorded"
    counts: dict[str, int] = {}
    for result in results.values():
        commit = result.meta.get("commit", unrecorded)
        counts[commit] = counts.get(commit, 0) + 1
    parts = [
        f"{commit} ({count} cell{'s' if count > 1 else ''})"
        for commit, count in sorted(counts.items(), key=lambda item: -item[1])
    ]
    note = (
        f" ({unrecorded}: trained before cells recorded it; `git log` on a cell's file names the commit that added it)"
        if unrecorded in counts
        else ""
    )
    return ", ".join(parts) + note
