"""Timing shared by the peer steps, which run as `python PEER_step.py SPEC_JSON` from `jaxbngan bench`.

SPEC holds jaxbngan configs as dicts (`configs`, by preset), the population size, `seconds` per
timing, `reps`, `compile` and `device`: the JAX backend jaxbngan runs on ("cpu", "gpu" or "tpu"),
which the peer runs on too or not at all, so that every ratio compares two programs on one device. A
peer prints one `BENCH {json}` record per preset: the median of `reps` timings, each of as many
single-seed steps as last about `seconds`, after a first step (tracing, compilation, reported as
`compile_s`) and a warm-up. The real batch is standard normal data: the values do not change the
work, the shapes do.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

RECORD = "BENCH "
DATA_DIM = 2  # every jaxbngan data set is 2-D
WARMUP_STEPS = 5


class Unsupported(ValueError):
    """A config feature this peer does not implement."""


def check_supported(config: dict[str, Any]) -> None:
    """Raise Unsupported unless `config` uses only what the peers implement: the blog's MLPs with BN or nothing."""
    problems = []
    if config["batch_size"] is not None:
        problems.append("minibatches")
    if any(norm != "none" for norm in config["generator"]["norms"]):
        problems.append("a normalized G")
    if any(norm not in ("none", "batch") for norm in config["discriminator"]["norms"]):
        problems.append("norms other than BN in D")
    if config["discriminator"]["norm_position"] != "pre":
        problems.append("BN after the activation")
    if config["loss"]["moment_matching"] or config["loss"]["label_smoothing"]:
        problems.append("moment matching or label smoothing")
    if not config["strategy"]["keep_g_step_stats"]:
        problems.append("dropping D's statistics update of the G step")
    if config["strategy"].get("standing_stats"):
        problems.append("standing statistics")
    if config["strategy"].get("order", "g_first") != "g_first" or config["strategy"].get("d_calls") == "real_first":
        problems.append("another order of the steps or of D's calls than the blog's")
    if problems:
        raise Unsupported("not implemented in the peers: " + ", ".join(problems))


def run(
    version: str,
    use_device: Callable[[str], Any],
    make_step: Callable[[dict[str, Any], int, bool, Any], Callable[[], Any]],
) -> None:
    """Time `make_step(config, batch, compile, target)()` for every preset of the spec in argv; print the records.

    `use_device(spec["device"])` returns the peer's handle of that device (`target`), or raises
    Unsupported when the peer cannot run there; then every preset is recorded as skipped.
    """
    spec = json.loads(sys.argv[1])
    try:
        target, no_device = use_device(spec["device"]), None
    except Unsupported as error:
        target, no_device = None, error
    for preset, config in spec["configs"].items():
        record = {"section": "peers", "peer": spec["peer"], "version": version, "preset": preset}
        record |= {"seeds": 1, "device": spec["device"]}
        try:
            if no_device is not None:
                raise no_device
            check_supported(config)
            step = make_step(config, spec["size"] or config["data"]["size"], spec["compile"], target)
        except Unsupported as error:
            print(RECORD + json.dumps({**record, "skipped": str(error)}), flush=True)
            continue
        print(RECORD + json.dumps({**record, **time_step(step, spec["seconds"], spec["reps"])}), flush=True)


def time_step(step: Callable[[], Any], seconds: float, reps: int) -> dict[str, Any]:
    """Time `step() -> (loss, ...)`: its first call, a warm-up, then `reps` timings of about `seconds`."""
    start = time.perf_counter()
    float(step()[0])  # first step: tracing and compilation, where the framework has them
    first_s = time.perf_counter() - start
    # Warm up for a timing's length (at least WARMUP_STEPS steps): eager frameworks settle over
    # several steps (allocator, kernel selection); the warm-up's rate sizes the timings.
    start, steps = time.perf_counter(), 0
    while steps < WARMUP_STEPS or time.perf_counter() - start < seconds:
        float(step()[0])
        steps += 1
    calls = max(1, round(seconds * steps / (time.perf_counter() - start)))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(calls):
            out = step()
        float(out[0])  # wait for the last step
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "compile_s": first_s,
        "warmup_steps": steps,
        "calls": calls,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": calls / median,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
