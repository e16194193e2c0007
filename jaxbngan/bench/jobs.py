"""Worker subprocesses seen from the parent: what to run, with which environment, and reading their records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from jaxbngan.bench.plan import RECORD

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding jaxbngan/ (and benchmarks/ in a checkout)


class Job(NamedTuple):
    """One worker subprocess: a title for the progress line, its command (less the JSON spec), spec, environment."""

    title: str
    argv: list[str]
    spec: dict[str, Any]
    env: dict[str, str]


def jax_job(title: str, job: str, params: dict[str, Any], flags: tuple[str, ...]) -> Job:
    """A JAX worker (`python -m jaxbngan.bench --worker SPEC`) running `job` under the XLA_FLAGS `flags`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    env["XLA_FLAGS"] = " ".join(flags)
    argv = [sys.executable, "-m", "jaxbngan.bench", "--worker"]
    return Job(f"{title} [XLA_FLAGS: {' '.join(flags) or 'none'}]", argv, {"job": job, "params": params}, env)


def run_job(job: Job, on_record: Callable[[dict[str, Any]], None], guess: dict[str, float]) -> str | None:
    """Run a worker, passing each record on as it arrives; a one-line error if it failed.

    `guess` (seed-steps/s by preset, from the naive loop) sizes the worker's calls.
    """
    command = [*job.argv, json.dumps({**job.spec, "guess": guess})]
    with subprocess.Popen(
        command, env=job.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    ) as process:
        for line in process.stdout:
            if line.startswith(RECORD):
                on_record(json.loads(line[len(RECORD) :]))
        stderr = process.stderr.read()
    if process.returncode == 0:
        return None
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return f"{job.title}: exit {process.returncode}: {lines[-1] if lines else 'no message'}"
