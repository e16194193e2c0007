"""The child side of the start-up benchmark (`bench.startup`): run `jaxbngan ARGV` in this fresh interpreter
with timers around the functions of each phase, and print one record for the parent.

It imports the CLI it times, so it lives apart from the benchmark package the CLI imports: the parent
starts it with `python -c`, never by import.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import time
from typing import Any

from jaxbngan.bench.plan import RECORD

# phase -> the (module, function) pairs it times; a pair not found (moved in a refactor) is listed as missing.
PHASES = {
    "devices": (("jaxbngan.sharding", "seed_devices"),),
    "population and layout": (("jaxbngan.api", "resolve"), ("jaxbngan.api", "plan")),
    "classifier": (("jaxbngan.api", "classifier_for"),),
    "training": (("jaxbngan.driver", "train"),),
    "writing": tuple(
        ("jaxbngan.rundir", name) for name in ("create", "save_checkpoint", "save_group", "finish", "write_summary")
    ),
    "summary": (("jaxbngan.api", "conclude"),),
    "figures": (("jaxbngan.plots", "draw_run"),),
}
COMPILE = "compile"


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
