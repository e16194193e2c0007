"""The worker side: each job runs in its own subprocess, times its layouts and prints their records.

Everything here touches JAX devices; the parent only reads the records (`plan.RECORD` lines).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import jax

from jaxbngan import driver, seed_layout, tuning
from jaxbngan.bench import dcgan, roofline, startup
from jaxbngan.bench.plan import FOCUS, FULL_VMAP_MAX_SEEDS, preset_config
from jaxbngan.bench.timing import (
    advance,
    compile_timed,
    driver_layout,
    emit,
    max_rss_bytes,
    measure,
    naive_loop,
    seed_split,
    steps_per_call,
)
from jaxbngan.sharding import per_device, seed_devices, shard_seeds
from jaxbngan.train import make_run, seed_keys


def _driver_cell(
    preset: str,
    seeds: int,
    params: dict[str, Any],
    *,
    width: int | None = None,
    unroll: int | None = None,
    vmap_one: bool = False,
) -> dict[str, Any]:
    """The CLI driver's layout for `preset` (see `timing.driver_layout`)."""
    run = make_run(preset_config(preset, params))
    record = driver_layout(run, seeds, params["guess"][preset], params, width=width, unroll=unroll, vmap_one=vmap_one)
    return {"preset": preset, **record}


def _full_vmap_cell(preset: str, seeds: int, params: dict[str, Any]) -> dict[str, Any]:
    """The naive layout: one vmap over every seed on the default device."""
    run = make_run(preset_config(preset, params))
    steps = steps_per_call(seeds, params["guess"][preset], params["seconds"])
    states = jax.vmap(run.strategy.init)(seed_keys(0, seeds))
    record = measure(jax.vmap(advance(run, steps)), states, seeds, steps, params)
    return {"preset": preset, "width": seeds, "devices": 1, **record}


def _end_to_end_cell(preset: str, seeds: int, params: dict[str, Any]) -> dict[str, Any]:
    """Wall time of the CLI driver's whole job, `reps` times: layout, compilation, every chunk, results written.

    Each repetition builds and compiles its programs afresh, as a new `jaxbngan run` does.
    """
    config = preset_config(preset, params)
    devices = seed_devices(seeds=seeds)
    times = []
    for _ in range(params["reps"]):
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            layout = seed_layout.plan_layout(config, seeds, devices, 2)
            driver.train(Path(root), config, layout, devices, seed=0)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "preset": preset,
        "layout": "end-to-end",
        "seeds": seeds,
        "steps": config.steps,
        "log_every": config.log_every,
        "devices": len(devices),
        "group_size": layout.group_size,
        "chunk_steps": layout.chunk_steps,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": seeds * config.steps / median,
        "max_rss_bytes": max_rss_bytes(),
    }


def _startup_argv(params: dict[str, Any]) -> list[str]:
    """`jaxbngan run FOCUS` with the end-to-end section's seeds, at the run's population size and steps."""
    argv = ["run", FOCUS, "--seeds", str(params["end_to_end_seeds"])]
    if params.get("size") is not None:
        argv += ["--set", f"data.size={params['size']}"]
    if params.get("log_every") is not None:
        argv += ["--steps", str(params["log_every"]), "--set", f"log_every={params['log_every']}"]
    return argv


def _logging_cells(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The driver layout with and without the metrics every `log_every` steps, same steps per call."""
    config = preset_config(FOCUS, params)
    run, log_every = make_run(config), config.log_every
    seeds = params["logging_seeds"]
    devices = seed_split(seeds)
    width = tuning.vmap_width(jax.default_backend(), seeds // len(devices))
    states = shard_seeds(jax.vmap(run.strategy.init)(seed_keys(0, seeds)), devices)
    # Partitioned, as `measure` compiles ahead of time (see `timing.driver_layout`).
    plain = per_device(lambda s: tuning.map_seeds(advance(run, log_every), s, width), devices, separate=False)
    logged = per_device(lambda s: tuning.map_seeds(lambda x: run.segments(x, 1), s, width), devices, separate=False)
    records = []
    for name, program, output_state in (("without", plain, True), ("with", logged, False)):
        record = measure(program, states, seeds, log_every, params, output_state=output_state)
        records.append({"preset": FOCUS, "logging": name, "log_every": log_every, "width": width, **record})
    return records


def _cost_and_naive_loop(preset: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One seed's jitted step: its FLOPs and bytes, then the naive loop's timing."""
    config = preset_config(preset, params)
    run = make_run(config)
    state = run.strategy.init(jax.random.key(0))
    step, compile_s = compile_timed(run.strategy.train_step, state)
    cost = roofline.step_cost(preset, config, run, state, step)
    return cost, {"preset": preset, **naive_loop(run, step, compile_s, params)}


def work(spec: dict[str, Any]) -> None:
    """Run one worker job and print its records."""
    job, params = spec["job"], {**spec["params"], "guess": spec["guess"]}
    if job == "probe":
        emit("probe", roofline.probe())
    elif job == "reference":
        emit("machine", roofline.machine(params["machine_scale"]))
        for preset in params["presets"]:
            cost, loop = _cost_and_naive_loop(preset, params)
            emit("cost", cost)
            emit("naive_loop", loop)
        for record in _logging_cells(params):
            emit("logging", record)
    elif job == "sweep":
        for seeds in params["seeds"]:
            emit("throughput", _driver_cell(params["preset"], seeds, params))
    elif job == "widths":
        seeds = params["width_seeds"]
        seeds_per_device = seeds // len(seed_split(seeds))
        for width in sorted({min(w, seeds_per_device) for w in params["widths"]}):
            emit("widths", _driver_cell(FOCUS, seeds, params, width=width))
        for unroll in (1, 4):  # against the driver's 2 (the same for every layout, so seeds keep their numbers)
            emit("unroll", _driver_cell(FOCUS, seeds, params, unroll=unroll))
        for count in sorted({1, seeds}):  # width-1 blocks as a plain loop (the driver's) or a vmap of one seed
            for vmap_one in (False, True):
                emit("width_one", _driver_cell(FOCUS, count, params, width=1, vmap_one=vmap_one))
        for count in sorted({s for s in params["seeds"] if s <= FULL_VMAP_MAX_SEEDS} | {seeds}):
            emit("full_vmap", _full_vmap_cell(FOCUS, count, params))
    elif job == "end_to_end":
        emit("end_to_end", _end_to_end_cell(FOCUS, params["end_to_end_seeds"], params))
    elif job == "startup":
        for record in startup.first_and_second(_startup_argv(params), params["reps"]):
            emit("startup", record)
    elif job == "variant":
        for seeds in params["variant_seeds"]:
            emit("variants", {"variant": params["variant"], **_driver_cell(FOCUS, seeds, params)})
    elif job == "dcgan":
        for record in dcgan.cells(params["preset"], params["data"], params):
            emit("dcgan", record)
    else:
        raise ValueError(f"unknown worker job {job!r}")
