"""Where a `jaxbngan run` process spends its wall time, a first run (empty compilation cache) and a second.

The parent starts `child` in a fresh interpreter, which runs `cli.main` with timers around the functions
of each phase; a phase's time excludes the phases nested in it, and every compilation (or load from
the cache) counts as the phase `compile`, wherever it happens. What no phase holds is `other`; the
interpreter's own start, before the first line of `child`, is `interpreter`, and its end after `cli.main`
returns (atexit, freeing memory) is `exit`. `imports` include the benchmark package's own, a few modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jaxbngan.bench.jobs import PACKAGE_ROOT
from jaxbngan.bench.plan import RECORD

OUTSIDE_TRAINING_TARGET = 0.25  # the bound on a second run's share of wall time outside training


def timed_run(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """`jaxbngan ARGV` in a fresh interpreter: its wall time from the parent's side, and its phases."""
    code = (
        "import time; started = time.perf_counter(); import json, sys; "
        "from jaxbngan.bench.startup_child import child; child(started, json.loads(sys.argv[1]))"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps({"argv": argv})], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.startswith(RECORD)]
    if result.returncode != 0 or not lines:
        tail = result.stderr.strip().splitlines()
        raise RuntimeError(f"jaxbngan {' '.join(argv)}: exit {result.returncode}: {tail[-1] if tail else ''}")
    record = json.loads(lines[-1][len(RECORD) :])
    record["phases"]["interpreter"] = record.pop("started") - start  # CLOCK_MONOTONIC is shared by processes
    record["phases"]["exit"] = wall - record["phases"]["interpreter"] - record["seconds"]
    record["wall_s"] = wall
    training = record["phases"].get("training", 0.0)
    record["outside_training_share"] = 1 - training / wall
    return record


def first_and_second(argv: list[str], reps: int) -> list[dict[str, Any]]:
    """`reps` pairs of runs of `jaxbngan ARGV --out DIR --compile-cache CACHE`, each pair with a new cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("XLA_FLAGS", None)  # the command tunes its own, as a user's run does
    records = []
    for rep in range(reps):
        with tempfile.TemporaryDirectory() as root:
            for run in ("first", "second"):
                out = Path(root) / run
                record = timed_run([*argv, "--out", str(out), "--compile-cache", str(Path(root) / "xla")], env)
                records.append({"run": run, "rep": rep, **record})
    return records
