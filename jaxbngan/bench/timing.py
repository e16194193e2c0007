"""How a worker times a compiled program: chained calls, the median of several timings, memory checks,
and the CLI driver's layout of seeds over devices."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

from jaxbngan import tuning
from jaxbngan.bench.plan import MEMORY_SHARE, RECORD
from jaxbngan.sharding import per_device, seed_devices, shard_seeds
from jaxbngan.train import Run, seed_keys


def emit(section: str, record: dict[str, Any]) -> None:
    """Print one record for the parent, tagged with its section."""
    print(RECORD + json.dumps({"section": section, **record}), flush=True)


def max_rss_bytes() -> int:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def compile_timed(fn: Callable, *args: Any) -> tuple[Any, float]:
    """`fn` jitted, lowered and compiled for `args`, and the seconds that took."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    return compiled, time.perf_counter() - start


def _program_bytes(compiled: Any) -> int | None:
    """Bytes XLA allocates for one device's share of a program: arguments, outputs and scratch."""
    stats = compiled.memory_analysis()
    if stats is None:
        return None
    return (
        stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes - stats.alias_size_in_bytes
    )


def _free_bytes() -> int:
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return stats["bytes_limit"] - stats.get("bytes_in_use", 0)
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def timings(call: Callable[[Any], Any], state: Any, seconds: float, reps: int) -> tuple[list[float], int]:
    """`reps` wall times, each of `calls` chained calls sized to last about `seconds`.

    A first call warms up (allocations); the calls of the next quarter timing, at least one, size the
    timings, so a slow first call cannot shrink them.
    """
    state = jax.block_until_ready(call(state))
    done, start = 0, time.perf_counter()
    while done == 0 or time.perf_counter() - start < seconds / 4:
        state = jax.block_until_ready(call(state))
        done += 1
    calls = max(1, round(seconds * done / (time.perf_counter() - start)))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(calls):
            state = call(state)
        jax.block_until_ready(state)
        times.append(time.perf_counter() - start)
    return times, calls


def steps_per_call(seeds: int, guess: float, seconds: float) -> int:
    """Steps scanned per call, from a guess of the seed-steps/s."""
    # A call of about a third of a timing hides dispatch at 1 seed and stays short at 1024.
    return max(1, min(1000, round(seconds / 3 * guess / seeds)))


def advance(run: Run, steps: int, unroll: int = 1) -> Callable:
    """One seed's state after `steps` train steps under `lax.scan`, nothing logged."""

    def advance(state):
        body = lambda s, _: (run.strategy.train_step(s)[0], None)  # noqa: E731
        return jax.lax.scan(body, state, None, length=steps, unroll=unroll)[0]

    return advance


def seed_split(seeds: int) -> list[jax.Device]:
    """The most visible devices that split `seeds` evenly (the driver shards seeds in equal blocks)."""
    count = max(d for d in range(1, len(jax.devices()) + 1) if seeds % d == 0)
    return seed_devices(count)


def measure(
    fn: Callable, states: Any, seeds: int, steps: int, params: dict[str, Any], *, output_state: bool = True
) -> dict[str, Any]:
    """Compile `fn` (states -> states, or (states, extra)), check it fits, time it; one record."""
    compiled, compile_s = compile_timed(fn, states)
    program_bytes = _program_bytes(compiled)
    record: dict[str, Any] = {"seeds": seeds, "steps_per_call": steps, "compile_s": compile_s}
    record["program_bytes"] = program_bytes
    if program_bytes is not None and program_bytes > MEMORY_SHARE * _free_bytes():
        return {**record, "skipped": f"needs {program_bytes / 2**30:.1f} GiB, over half the free memory"}
    call = compiled if output_state else (lambda s: compiled(s)[0])
    times, calls = timings(call, states, params["seconds"], params["reps"])
    median = statistics.median(times)
    return {
        **record,
        "calls": calls,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": seeds * steps * calls / median,
        "max_rss_bytes": max_rss_bytes(),
    }


def driver_layout(
    run: Run,
    seeds: int,
    guess: float,
    params: dict[str, Any],
    *,
    width: int | None = None,
    unroll: int | None = None,
    vmap_one: bool = False,
) -> dict[str, Any]:
    """The CLI driver's layout: per device, `lax.map` over blocks of `width` vmapped seeds, a scan inside.

    `guess` (seed-steps/s) sizes the calls. `width` and `unroll` default to the driver's choices;
    `vmap_one` runs width-1 blocks as a vmap of one seed, as the driver did before `tuning.map_seeds`.
    """
    devices = seed_split(seeds)
    per = seeds // len(devices)
    width = width or tuning.vmap_width(jax.default_backend(), per)
    unroll = unroll or tuning.scan_unroll(jax.default_backend())
    steps = steps_per_call(seeds, guess, params["seconds"])
    step_scan = advance(run, steps, unroll)
    states = shard_seeds(jax.vmap(run.strategy.init)(seed_keys(0, seeds)), devices)
    # Compiled ahead of time, so partitioned; the driver's separate per-device programs on a CPU run as
    # fast once compiled (benchmarks/sharding.py times both).
    if vmap_one:
        program = per_device(lambda s: jax.lax.map(step_scan, s, batch_size=1), devices, separate=False)
    else:
        program = per_device(lambda s: tuning.map_seeds(step_scan, s, width), devices, separate=False)
    record = measure(program, states, seeds, steps, params)
    layout = {"width": min(width, per), "devices": len(devices), "unroll": unroll}
    return {**layout, "vmap_one": vmap_one, **record}


def naive_loop(run: Run, step: Any, compile_s: float, params: dict[str, Any]) -> dict[str, Any]:
    """The naive JAX peer: a Python loop calling the jitted single-seed step."""
    state = run.strategy.init(jax.random.key(0))
    times, calls = timings(lambda s: step(s)[0], state, params["seconds"], params["reps"])
    median = statistics.median(times)
    return {
        "seeds": 1,
        "compile_s": compile_s,
        "calls": calls,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": calls / median,
    }
