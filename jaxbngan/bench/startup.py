"""Where a `jaxbngan run` process spends its wall time, a first run (empty compilation cache) and a second.

The parent starts `child` in a fresh interpreter, which runs `cli.main` with timers around the functions
of each phase; a phase's time excludes the phases nested in it, and every compilation (or load from
the cache) counts as the phase `compile`, wherever it happens. What no phase holds is `other`; the
interpreter's own start, before the first line of `child`, is `interpreter`, and its end after `cli.main`
returns (atexit, freeing memory) is `exit`. `imports` include the benchmark package's own, a few modules.
"""

from __future__ import annotations

import functools
import importlib
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

# phase -> the (module, function) pairs it times; a pair not found (moved in a refactor) is listed as missing.
PHASES = {
    "devices": (("jaxbngan.sharding", "seed_devices"),),
    "population and layout": (("jaxbngan.api", "resolve"), ("jaxbngan.api", "plan")),
    "classifier": (("jaxbngan.train", "classifier_for"),),
    "training": (("jaxbngan.driver", "train"),),
    "writing": tuple(
        ("jaxbngan.rundir", name) for name in ("create", "save_checkpoint", "save_group", "finish", "write_summary")
    ),
    "summary": (("jaxbngan.api", "conclude"),),
    "figures": (("jaxbngan.plots", "draw_run"),),
}
COMPILE = "compile"
OUTSIDE_TRAINING_TARGET = 0.25  # the bound on a second run's share of wall time outside training


class _Clock:
    """Exclusive seconds per phase: a nested phase's time, and compilations, are taken out of the enclosing one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.stack: list[str] = []

    def _add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds
        if self.stack:
            self.seconds[self.stack[-1]] = self.seconds.get(self.stack[-1], 0.0) - seconds

    def wrap(self, phase: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(phase)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                self._add(phase, time.perf_counter() - start)

        return timed

    def compiled(self, event: str, seconds: float, **_: Any) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            self._add(COMPILE, seconds)


def child(started: float, spec: dict[str, Any]) -> None:
    """Run `jaxbngan ARGV` (spec["argv"]) in this process, timing its phases; print one record."""
    clock = _Clock()
    import jax

    from jaxbngan import api, cli, cli_results, driver, plots, rundir, sharding, train  # noqa: F401

    imported = time.perf_counter()
    missing = []
    for phase, targets in PHASES.items():
        for module_name, name in targets:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                setattr(module, name, clock.wrap(phase, getattr(module, name)))
            else:
                missing.append(f"{module_name}.{name}")
    jax.monitoring.register_event_duration_secs_listener(clock.compiled)
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            code = cli.main(spec["argv"])
        finally:
            sys.stdout = stdout
    total = time.perf_counter() - started
    phases = {"imports": imported - started, **clock.seconds}
    phases["other"] = total - sum(phases.values())
    record = {"exit": code, "started": started, "seconds": total, "phases": phases, "missing": missing}
    print(RECORD + json.dumps(record), flush=True)


def timed_run(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """`jaxbngan ARGV` in a fresh interpreter: its wall time from the parent's side, and its phases."""
    code = (
        "import time; started = time.perf_counter(); import json, sys; "
        "from jaxbngan.bench.startup import child; child(started, json.loads(sys.argv[1]))"
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
