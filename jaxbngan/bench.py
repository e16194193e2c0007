"""Step throughput: seed scaling, execution variants, peers measured in the same run, the roofline.

    python benchmarks/throughput.py            # the full run: about 11 minutes on a 2-core CPU
    jaxbngan bench --quick --peers none        # every section at a toy size, in well under a minute

Each measurement runs in a worker subprocess (`python -m jaxbngan.bench --worker SPEC`): XLA_FLAGS
(host device count, CPU fusion) act only before JAX starts, and a worker's peak RSS is its own.
Workers get the XLA_FLAGS of their variant (the tuned ones from `tuning.xla_flags` unless they
compare others), never the caller's. The
parent never starts a JAX backend; it gathers the workers' records into `*.partial.json` after each
worker, so an interrupted run keeps what it measured, and writes the results JSON and the plot at
the end.

A timing is one or more chained calls of a compiled program (the state goes in, the advanced state
comes out) lasting about `--seconds`; each figure is the median of `--reps` timings after a warm-up.
Compilation is timed on its own (trace, lower and compile). The `end_to_end` section times what a
user waits for instead: the CLI driver's whole job (compilation, training with metrics every
`log_every` steps and a checkpoint per chunk, results written) on the preset's own step count.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan import driver, rundir, tuning
from jaxbngan.config import Config, ConfigError, to_dict
from jaxbngan.presets import get_preset, with_overrides
from jaxbngan.sharding import per_device, seed_devices, shard_seeds
from jaxbngan.train import Run, make_run, seed_keys

PRESETS = ("no-bn", "bn-split", "fix")
CPU_SEEDS = (1, 4, 16, 64, 256, 1024)
ACCELERATOR_SEEDS = (*CPU_SEEDS, 4096, 16384)
WIDTHS = (1, 2, 4, 8, 16)
WIDTH_SEEDS = 64  # seed count of the width comparison
VARIANT_SEEDS = (1, 16, 256)  # seed counts of the XLA-flag comparison
LOGGING_SEEDS = 4
FULL_VMAP_MAX_SEEDS = 256  # the naive one-program vmap is compared up to here (memory)
END_TO_END_ACCELERATOR_SEEDS = 1024  # the accelerator target's run; a CPU runs one seed per core
SECTIONS = ("sweep", "widths", "variants", "end_to_end")  # besides the reference worker, which always runs
PEERS = ("torch", "torch-compile", "keras")
PEER_SCRIPTS = {"torch": "torch_step.py", "torch-compile": "torch_step.py", "keras": "keras_step.py"}
PEER_MODULES = {"torch": "torch", "torch-compile": "torch", "keras": "tensorflow"}
FOCUS = "bn-split"  # the preset of the width, flag, logging, end-to-end and peer-ratio comparisons
RECORD = "BENCH "  # worker stdout lines carrying a record start with this
MEMORY_SHARE = 0.5  # a program is skipped when XLA says it needs more than this share of free memory


class Settings(NamedTuple):
    """What one benchmark run measures, resolved from the command line."""

    presets: tuple[str, ...]
    sections: tuple[str, ...]
    seeds: tuple[int, ...] | None  # None: the backend's default list
    widths: tuple[int, ...]
    width_seeds: int
    variant_seeds: tuple[int, ...]
    logging_seeds: int
    end_to_end_seeds: int | None  # None: one per core on a CPU, END_TO_END_ACCELERATOR_SEEDS elsewhere
    seconds: float
    reps: int
    size: int | None  # population (= batch) size; None: the presets' own
    log_every: int | None
    peers: tuple[str, ...]
    out: Path
    device: str | None
    machine_scale: float  # matrix side and array length scale of the hardware probes
    quick: bool


# -- command line -------------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from jaxbngan.cli import OneLineParser  # errors as one line, as every command's

    parser = OneLineParser(
        prog="jaxbngan bench",
        description="Time the full train step (G step + D step) over seed counts, execution variants and peers.",
    )
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets (default: %(default)s)")
    parser.add_argument("--seeds", help="comma-separated seed counts (default: 1..1024 on CPU, up to 16384 elsewhere)")
    parser.add_argument("--seconds", type=float, help="length of one timing in seconds (default 1.5; quick 0.05)")
    parser.add_argument("--reps", type=int, default=3, help="timings per figure, median reported (at least 3)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated from {', '.join(PEERS)}, or none")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated from %(default)s; the machine probe, FLOP count, naive loop and logging cost always run",
    )
    parser.add_argument("--out", default="benchmarks/results", help="results folder (default: %(default)s)")
    parser.add_argument("--device", help="device name in the file names (default: detected, e.g. cpu-2core-amd-epyc)")
    parser.add_argument("--quick", action="store_true", help="toy sizes: a population of 128, 1 and 2 seeds")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _int_list(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{what} must be positive integers, got {text!r}")
    return tuple(sorted(set(values)))


def _settings(args: argparse.Namespace) -> Settings:
    presets = tuple(p.strip() for p in args.presets.split(",") if p.strip())
    if not presets:
        raise ConfigError("--presets names no preset")
    for name in presets:
        get_preset(name)
    peers = () if args.peers.strip() == "none" else tuple(p.strip() for p in args.peers.split(",") if p.strip())
    for peer in peers:
        if peer not in PEERS:
            raise ConfigError(f"unknown peer {peer!r}; choose from {', '.join(PEERS)} or none")
    sections = tuple(p.strip() for p in args.sections.split(",") if p.strip())
    for section in sections:
        if section not in SECTIONS:
            raise ConfigError(f"unknown section {section!r}; choose from {', '.join(SECTIONS)}")
    if args.reps < 3:
        raise ConfigError(f"--reps must be at least 3 (a median of fewer says little), got {args.reps}")
    seconds = args.seconds if args.seconds is not None else (0.05 if args.quick else 1.5)
    if not seconds > 0:
        raise ConfigError(f"--seconds must be positive, got {seconds}")
    seeds = _int_list(args.seeds, "--seeds") if args.seeds else ((1, 2) if args.quick else None)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ConfigError(f"--out {args.out} exists and is not a folder")
    if args.device is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", args.device):
        raise ConfigError(f"--device must be letters, digits, '.', '_' or '-', got {args.device!r}")
    return Settings(
        presets=presets,
        sections=sections,
        seeds=seeds,
        widths=(1, 2) if args.quick else WIDTHS,
        width_seeds=2 if args.quick else WIDTH_SEEDS,
        variant_seeds=(2,) if args.quick else VARIANT_SEEDS,
        logging_seeds=2 if args.quick else LOGGING_SEEDS,
        end_to_end_seeds=2 if args.quick else None,
        seconds=seconds,
        reps=args.reps,
        size=128 if args.quick else None,
        log_every=5 if args.quick else None,
        peers=peers,
        out=Path(args.out),
        device=args.device,
        machine_scale=0.25 if args.quick else 1.0,
        quick=args.quick,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (`jaxbngan bench ARGS`); returns the process exit code."""
    try:
        args = _parse(argv)
        settings = None if args.worker else _settings(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.worker:
        _work(json.loads(args.worker))
        return 0
    return _orchestrate(settings, argv if argv is not None else sys.argv[1:])


# -- worker side: everything that touches JAX devices ---------------------------------------------------


def _emit(section: str, record: dict[str, Any]) -> None:
    print(RECORD + json.dumps({"section": section, **record}), flush=True)


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _config(preset: str, params: dict[str, Any]) -> Config:
    config = get_preset(preset).config
    if params.get("size") is not None:
        config = with_overrides(config, data={"size": params["size"]})
    if params.get("log_every") is not None:
        config = dataclasses.replace(config, log_every=params["log_every"], steps=params["log_every"])
    return config


def _compile(fn: Callable, *args: Any) -> tuple[Any, float]:
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


def _timings(call: Callable[[Any], Any], state: Any, seconds: float, reps: int) -> tuple[list[float], int]:
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


def _steps_per_call(seeds: int, guess: float, seconds: float) -> int:
    # A call of about a third of a timing hides dispatch at 1 seed and stays short at 1024.
    return max(1, min(1000, round(seconds / 3 * guess / seeds)))


def _advance(run: Run, steps: int, unroll: int = 1) -> Callable:
    """One seed's state after `steps` train steps under `lax.scan`, nothing logged."""

    def advance(state):
        body = lambda s, _: (run.strategy.train_step(s)[0], None)  # noqa: E731
        return jax.lax.scan(body, state, None, length=steps, unroll=unroll)[0]

    return advance


def _seed_split(seeds: int) -> list[jax.Device]:
    """The most visible devices that split `seeds` evenly (the driver shards seeds in equal blocks)."""
    count = max(d for d in range(1, len(jax.devices()) + 1) if seeds % d == 0)
    return seed_devices(count)


def _measure(
    fn: Callable, states: Any, seeds: int, steps: int, params: dict[str, Any], *, output_state: bool = True
) -> dict[str, Any]:
    """Compile `fn` (states -> states, or (states, extra)), check it fits, time it; one record."""
    compiled, compile_s = _compile(fn, states)
    program_bytes = _program_bytes(compiled)
    record: dict[str, Any] = {"seeds": seeds, "steps_per_call": steps, "compile_s": compile_s}
    record["program_bytes"] = program_bytes
    if program_bytes is not None and program_bytes > MEMORY_SHARE * _free_bytes():
        return {**record, "skipped": f"needs {program_bytes / 2**30:.1f} GiB, over half the free memory"}
    call = compiled if output_state else (lambda s: compiled(s)[0])
    times, calls = _timings(call, states, params["seconds"], params["reps"])
    median = statistics.median(times)
    return {
        **record,
        "calls": calls,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": seeds * steps * calls / median,
        "max_rss_bytes": _max_rss_bytes(),
    }


def _driver_cell(
    preset: str,
    seeds: int,
    params: dict[str, Any],
    *,
    width: int | None = None,
    unroll: int | None = None,
    vmap_one: bool = False,
) -> dict[str, Any]:
    """The CLI driver's layout: per device, `lax.map` over blocks of `width` vmapped seeds, a scan inside.

    `width` and `unroll` default to the driver's choices; `vmap_one` runs width-1 blocks as a vmap
    of one seed, as the driver did before `tuning.map_seeds`.
    """
    run = make_run(_config(preset, params))
    devices = _seed_split(seeds)
    per = seeds // len(devices)
    width = width or tuning.vmap_width(jax.default_backend(), per)
    unroll = unroll or tuning.scan_unroll(jax.default_backend())
    steps = _steps_per_call(seeds, params["guess"][preset], params["seconds"])
    advance = _advance(run, steps, unroll)
    states = shard_seeds(jax.vmap(run.strategy.init)(seed_keys(0, seeds)), devices)
    if vmap_one:
        program = per_device(lambda s: jax.lax.map(advance, s, batch_size=1), devices)
    else:
        program = per_device(lambda s: tuning.map_seeds(advance, s, width), devices)
    record = _measure(program, states, seeds, steps, params)
    layout = {"preset": preset, "width": min(width, per), "devices": len(devices), "unroll": unroll}
    return {**layout, "vmap_one": vmap_one, **record}


def _full_vmap_cell(preset: str, seeds: int, params: dict[str, Any]) -> dict[str, Any]:
    """The naive layout: one vmap over every seed on the default device."""
    run = make_run(_config(preset, params))
    steps = _steps_per_call(seeds, params["guess"][preset], params["seconds"])
    states = jax.vmap(run.strategy.init)(seed_keys(0, seeds))
    record = _measure(jax.vmap(_advance(run, steps)), states, seeds, steps, params)
    return {"preset": preset, "width": seeds, "devices": 1, **record}


def _end_to_end_cell(preset: str, seeds: int, params: dict[str, Any]) -> dict[str, Any]:
    """Wall time of the CLI driver's whole job, `reps` times: layout, compilation, every chunk, results written.

    Each repetition builds and compiles its programs afresh, as a new `jaxbngan run` does.
    """
    config = _config(preset, params)
    devices = seed_devices(seeds=seeds)
    times = []
    for _ in range(params["reps"]):
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            layout = driver.plan_layout(config, seeds, devices, data_dim=2)
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
        "max_rss_bytes": _max_rss_bytes(),
    }


def _naive_loop(run: Run, step: Any, compile_s: float, params: dict[str, Any]) -> dict[str, Any]:
    """The naive JAX peer: a Python loop calling the jitted single-seed step."""
    state = run.strategy.init(jax.random.key(0))
    times, calls = _timings(lambda s: step(s)[0], state, params["seconds"], params["reps"])
    median = statistics.median(times)
    return {
        "seeds": 1,
        "compile_s": compile_s,
        "calls": calls,
        "times_s": times,
        "median_s": median,
        "seed_steps_per_s": calls / median,
    }


def _logging_cells(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The driver layout with and without the metrics every `log_every` steps, same steps per call."""
    config = _config(FOCUS, params)
    run, log_every = make_run(config), config.log_every
    seeds = params["logging_seeds"]
    devices = _seed_split(seeds)
    width = tuning.vmap_width(jax.default_backend(), seeds // len(devices))
    states = shard_seeds(jax.vmap(run.strategy.init)(seed_keys(0, seeds)), devices)
    plain = per_device(lambda s: tuning.map_seeds(_advance(run, log_every), s, width), devices)
    logged = per_device(lambda s: tuning.map_seeds(lambda x: run.segments(x, 1), s, width), devices)
    records = []
    for name, program, output_state in (("without", plain, True), ("with", logged, False)):
        record = _measure(program, states, seeds, log_every, params, output_state=output_state)
        records.append({"preset": FOCUS, "logging": name, "log_every": log_every, "width": width, **record})
    return records


def matmul_flops(config: Config, batch: int, data_dim: int) -> int:
    """FLOPs of one train step's matrix products, counted by hand from the layer sizes.

    Forward 1x, weight gradients 1x, input gradients 1x each layer's multiply-adds (2 FLOPs each);
    D's weight gradients in G's step and the first layers' input gradients are not needed.
    Elementwise work (BN, activations, Adam) is left out.
    """
    g_sizes = (config.noise_dim, *config.generator.hidden, data_dim)
    d_sizes = (data_dim, *config.discriminator.hidden, 1)
    g = sum(a * b for a, b in zip(g_sizes, g_sizes[1:], strict=False))
    d = sum(a * b for a, b in zip(d_sizes, d_sizes[1:], strict=False))
    g_first, d_first = g_sizes[0] * g_sizes[1], d_sizes[0] * d_sizes[1]
    d_rows_in_g_step = 2 * batch if config.strategy.g_view == "joint" else batch
    g_step = batch * (g + g + (g - g_first)) + d_rows_in_g_step * (d + d)  # G fwd+bwd, D fwd + input grads
    d_step = 2 * batch * (d + d + (d - d_first))  # fake and real rows: fwd, weight and input grads
    return 2 * (g_step + d_step)


def _cost_and_naive_loop(preset: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One seed's jitted step: its FLOPs and bytes (XLA's count, the hand count, the least bytes), then
    the naive loop's timing."""
    config = _config(preset, params)
    run = make_run(config)
    state = run.strategy.init(jax.random.key(0))
    step, compile_s = _compile(run.strategy.train_step, state)
    analysis = step.cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    state_bytes = sum(leaf.nbytes for leaf in jax.tree.leaves(jax.random.key_data(state.key)))
    state_bytes += sum(leaf.nbytes for leaf in jax.tree.leaves(state._replace(key=None)))
    batch, data_dim = run.population.shape
    cost = {
        "preset": preset,
        "batch": batch,
        "flops_xla": analysis.get("flops"),
        "bytes_accessed_xla": analysis.get("bytes accessed"),
        "flops_matmul_by_hand": matmul_flops(config, batch, data_dim),
        # The state is read and written once and the real batch read once; activations could stay in cache.
        "least_bytes": 2 * state_bytes + run.population.nbytes,
        "state_bytes": state_bytes,
    }
    return cost, {"preset": preset, **_naive_loop(run, step, compile_s, params)}


def _median_time(fn: Callable, arg: Any, repeat: int, reps: int = 5, chained: bool = False) -> float:
    """Median seconds per call of `fn(arg)` (or of `arg = fn(arg)` when `chained`), over `reps` runs of `repeat`."""
    out = jax.block_until_ready(fn(arg))
    arg = out if chained else arg
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(repeat):
            out = fn(arg)
            arg = out if chained else arg
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / repeat)
    return statistics.median(times)


def _machine(scale: float) -> dict[str, Any]:
    """This device's matmul rate (a large square product, and the step's own shape) and memory bandwidth."""
    key = jax.random.key(0)
    side = int(2048 * scale)
    square = jax.random.normal(key, (side, side))
    square_s = _median_time(jax.jit(lambda a: a @ a), square, repeat=5)
    # The step's shape, (2048, 64) @ (64, 64), chained through an orthogonal matrix so values stay finite.
    rows, chain = int(2048 * scale), 100
    q, _ = jnp.linalg.qr(jax.random.normal(key, (64, 64)))
    chained = jax.jit(lambda x: jax.lax.fori_loop(0, chain, lambda _, y: y @ q, x))
    chained_s = _median_time(chained, jax.random.normal(key, (rows, 64)), repeat=3)
    # 256 MiB of float32 at scale 1, far beyond any cache, updated in place: a fresh output buffer
    # would time the kernel's page zeroing instead of the memory.
    length = int(64 * 2**20 * scale)
    stream = jax.jit(lambda x: x * 1.0001 + 1.0, donate_argnums=0)
    stream_s = _median_time(stream, jnp.ones((length,)), repeat=3, chained=True)
    return {
        "matmul_flops_per_s": 2 * side**3 / square_s,
        "matmul_side": side,
        "step_shape_matmul_flops_per_s": 2 * rows * 64 * 64 * chain / chained_s,
        "memory_bytes_per_s": 2 * 4 * length / stream_s,  # read once, written once
        "stream_bytes": 4 * length,
    }


def _probe() -> dict[str, Any]:
    devices = jax.devices()
    backend = jax.default_backend()
    cpu_model = _cpu_model()
    cores = tuning.cpu_cores()
    if backend == "cpu":
        name = f"cpu-{cores}core-{_slug(cpu_model)}"
    else:
        name = f"{backend}-{_slug(devices[0].device_kind)}"
    return {
        "backend": backend,
        "device_name": name,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "cores": cores,
        "cpu_model": cpu_model,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _work(spec: dict[str, Any]) -> None:
    """Run one worker job and print its records."""
    job, params = spec["job"], {**spec["params"], "guess": spec["guess"]}
    if job == "probe":
        _emit("probe", _probe())
    elif job == "reference":
        _emit("machine", _machine(params["machine_scale"]))
        for preset in params["presets"]:
            cost, loop = _cost_and_naive_loop(preset, params)
            _emit("cost", cost)
            _emit("naive_loop", loop)
        for record in _logging_cells(params):
            _emit("logging", record)
    elif job == "sweep":
        for seeds in params["seeds"]:
            _emit("throughput", _driver_cell(params["preset"], seeds, params))
    elif job == "widths":
        seeds = params["width_seeds"]
        seeds_per_device = seeds // len(_seed_split(seeds))
        for width in sorted({min(w, seeds_per_device) for w in params["widths"]}):
            _emit("widths", _driver_cell(FOCUS, seeds, params, width=width))
        _emit("unroll", _driver_cell(FOCUS, seeds, params, unroll=4))
        for count in sorted({1, seeds}):  # width-1 blocks as a plain loop (the driver's) or a vmap of one seed
            for vmap_one in (False, True):
                _emit("width_one", _driver_cell(FOCUS, count, params, width=1, vmap_one=vmap_one))
        for count in sorted({s for s in params["seeds"] if s <= FULL_VMAP_MAX_SEEDS} | {seeds}):
            _emit("full_vmap", _full_vmap_cell(FOCUS, count, params))
    elif job == "end_to_end":
        _emit("end_to_end", _end_to_end_cell(FOCUS, params["end_to_end_seeds"], params))
    elif job == "variant":
        for seeds in params["variant_seeds"]:
            _emit("variants", {"variant": params["variant"], **_driver_cell(FOCUS, seeds, params)})
    else:
        raise ValueError(f"unknown worker job {job!r}")


# -- parent side: plan, run workers, collect, summarize, plot -------------------------------------------


class Job(NamedTuple):
    """One worker subprocess: a title for the progress line, its command (less the JSON spec), spec, environment."""

    title: str
    argv: list[str]
    spec: dict[str, Any]
    env: dict[str, str]


def _jax_job(title: str, job: str, params: dict[str, Any], flags: tuple[str, ...]) -> Job:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env["XLA_FLAGS"] = " ".join(flags)
    argv = [sys.executable, "-m", "jaxbngan.bench", "--worker"]
    return Job(f"{title} [XLA_FLAGS: {' '.join(flags) or 'none'}]", argv, {"job": job, "params": params}, env)


def _peer_job(peer: str, params: dict[str, Any], configs: dict[str, dict], backend: str) -> Job | str:
    """The peer's subprocess on jaxbngan's kind of device (`backend`), or a one-line reason it cannot run."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "peers" / PEER_SCRIPTS[peer]
    if not script.exists():
        return f"{peer}: skipped, {script.parent} is not here (peers live in the repository checkout)"
    if importlib.util.find_spec(PEER_MODULES[peer]) is None:
        return f"{peer}: skipped, {PEER_MODULES[peer]} is not installed (pip install '.[peers]')"
    spec = {
        "peer": peer,
        "configs": configs,
        "size": params["size"],
        "seconds": params["seconds"],
        "reps": params["reps"],
        "compile": peer == "torch-compile",
        "device": backend,
    }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    return Job(f"peer {peer}", [sys.executable, str(script)], spec, env)


def _run_job(job: Job, on_record: Callable[[dict[str, Any]], None], guess: dict[str, float]) -> str | None:
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


def _describe(record: dict[str, Any]) -> str:
    section = record["section"]
    if section == "machine":
        return (
            f"matmul {record['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"step-shaped matmul {record['step_shape_matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"memory {record['memory_bytes_per_s'] / 1e9:.1f} GB/s"
        )
    if section == "cost":
        return f"{record['preset']}: {record['flops_matmul_by_hand'] / 1e6:.0f} MFLOP/step (matmuls, by hand)"
    if "skipped" in record:
        return f"{record.get('preset', record.get('peer'))}: skipped, {record['skipped']}"
    what = [record.get("peer") or record.get("variant") or record.get("layout") or "", record.get("preset", "")]
    for field in ("seeds", "width", "devices", "unroll", "logging"):
        if field in record:
            what.append(f"{field}={record[field]}")
    compile_s = f", compile {record['compile_s']:.1f} s" if record.get("compile_s") is not None else ""
    return f"{' '.join(w for w in what if w)}: {record['seed_steps_per_s']:.0f} seed-steps/s{compile_s}"


def _orchestrate(settings: Settings, argv: list[str]) -> int:
    results: dict[str, Any] = {
        "command": "jaxbngan bench " + " ".join(argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_start": list(os.getloadavg()),
        "other_python_processes_start": _other_pythons(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings._asdict().items()},
        "errors": [],
        "notes": [],
    }
    probe: dict[str, Any] = {}
    error = _run_job(_jax_job("probe", "probe", {}, ()), probe.update, {})
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    probe.pop("section")
    backend = probe["backend"]
    results["probe"] = probe
    device = settings.device or probe["device_name"]
    settings.out.mkdir(parents=True, exist_ok=True)
    json_path = settings.out / f"throughput-{device}.json"
    plot_path = settings.out / f"throughput-{device}.png"
    # Records go to a partial file as they come and replace the results of an earlier run only at
    # the end: an interrupted run loses nothing, and never leaves half of itself in their place.
    partial_path = settings.out / f"throughput-{device}.partial.json"
    flags = tuning.xla_flags(backend, probe["cores"])
    results["xla_flags"] = list(flags)
    params = _worker_params(settings, settings.seeds or (CPU_SEEDS if backend == "cpu" else ACCELERATOR_SEEDS))
    jobs: list[Job | str] = [_jax_job("machine, FLOPs, naive loop, logging", "reference", params, flags)]
    if "sweep" in settings.sections:
        for preset in settings.presets:
            jobs.append(_jax_job(f"sweep {preset}", "sweep", {**params, "preset": preset}, flags))
    if FOCUS not in settings.presets:
        results["notes"].append(f"the width, XLA-flag and end-to-end comparisons need {FOCUS} among the presets")
    elif "widths" in settings.sections:
        jobs.append(_jax_job(f"widths, unroll and full vmap ({FOCUS})", "widths", params, flags))
    if FOCUS in settings.presets and "variants" in settings.sections and backend == "cpu":
        for name, variant_flags in _variants(probe["cores"], settings.quick).items():
            jobs.append(_jax_job(f"variant {name}", "variant", {**params, "variant": name}, variant_flags))
    if FOCUS in settings.presets and "end_to_end" in settings.sections:
        seeds = settings.end_to_end_seeds or (probe["cores"] if backend == "cpu" else END_TO_END_ACCELERATOR_SEEDS)
        jobs.append(_jax_job(f"end to end ({FOCUS})", "end_to_end", {**params, "end_to_end_seeds": seeds}, flags))
    configs = {p: to_dict(_config(p, params)) for p in settings.presets}
    jobs += [_peer_job(peer, params, configs, backend) for peer in settings.peers]
    print(f"jaxbngan bench on {device} ({backend}, jax {probe['jax']}); records so far in {partial_path}")

    def collect(record: dict[str, Any]) -> None:
        print(f"    {_describe(record)}", flush=True)
        section = record.pop("section")
        if section == "machine":
            results["machine"] = record
        else:
            results.setdefault(section, []).append(record)

    for index, job in enumerate(jobs, start=1):
        if isinstance(job, str):
            print(f"[{index}/{len(jobs)}] {job}")
            results["notes"].append(job)
            continue
        print(f"[{index}/{len(jobs)}] {job.title}", flush=True)
        guess = {r["preset"]: r["seed_steps_per_s"] for r in results.get("naive_loop", [])}
        start, others = time.perf_counter(), _other_pythons()
        error = _run_job(job, collect, guess)
        # Other work on the machine slows a worker down: keep who else ran, to judge its figures by.
        results.setdefault("jobs", []).append(
            {
                "title": job.title,
                "seconds": time.perf_counter() - start,
                "other_python_processes_before": others,
                "other_python_processes_after": _other_pythons(),
                "load_average_after": list(os.getloadavg()),
            }
        )
        if error:
            print(f"    failed: {error}", flush=True)
            results["errors"].append(error)
        rundir.write_json(partial_path, results)
        if index == 1 and {r["preset"] for r in results.get("naive_loop", [])} != set(settings.presets):
            print("error: the reference worker failed, so nothing sizes the timings", file=sys.stderr)
            return 1
    results["load_average_end"] = list(os.getloadavg())
    results["other_python_processes_end"] = _other_pythons()
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["summary"] = summarize(results)
    rundir.write_json(json_path, results)
    partial_path.unlink()
    plot(results, plot_path)
    print(_table(results))
    print(f"wrote {json_path} and {plot_path}")
    return 1 if results["errors"] else 0


def _other_pythons() -> int | None:
    """How many other Python processes run on this machine (they would share its cores); None off Linux."""
    try:
        count = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    count += b"python" in (entry / "cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue  # the process ended meanwhile
        return count
    except OSError:
        return None


def _worker_params(settings: Settings, seeds: tuple[int, ...]) -> dict[str, Any]:
    """What every JAX worker needs to know, as JSON-ready values."""
    return {
        "presets": list(settings.presets),
        "size": settings.size,
        "log_every": settings.log_every,
        "seconds": settings.seconds,
        "reps": settings.reps,
        "machine_scale": settings.machine_scale,
        "logging_seeds": settings.logging_seeds,
        "seeds": list(seeds),
        "widths": list(settings.widths),
        "width_seeds": settings.width_seeds,
        "variant_seeds": list(settings.variant_seeds),
    }


def _variants(cores: int, quick: bool) -> dict[str, tuple[str, ...]]:
    """The CPU XLA_FLAGS compared: none, YNN fusion of reductions/elementwise off, one device per core, both."""
    devices = f"--xla_force_host_platform_device_count={cores}"
    variants = {
        "default": (),
        "device-per-core": (devices,),
        "ynn-reduce-eltwise-off": (tuning.CPU_YNN_FUSION_OFF,),
        "both": (devices, tuning.CPU_YNN_FUSION_OFF),
    }
    return dict(list(variants.items())[:2]) if quick else variants


# -- summary, table and plot ----------------------------------------------------------------------------


def _rate(records: list[dict[str, Any]], **match: Any) -> float | None:
    for record in records:
        if all(record.get(k) == v for k, v in match.items()) and "seed_steps_per_s" in record:
            return record["seed_steps_per_s"]
    return None


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Roofline fractions, ratios to every peer and the issue's targets, from the collected records."""
    machine = results.get("machine", {})
    peak, bandwidth = machine.get("matmul_flops_per_s"), machine.get("memory_bytes_per_s")
    sweep = results.get("throughput", [])
    summary: dict[str, Any] = {"presets": {}}
    for cost in results.get("cost", []):
        preset = cost["preset"]
        flops = cost["flops_matmul_by_hand"]
        entry: dict[str, Any] = {"flops_per_step_by_hand": flops, "flops_per_step_xla": cost["flops_xla"]}
        if peak and bandwidth:
            entry["compute_bound_seed_steps_per_s"] = peak / flops
            entry["least_bytes_bound_seed_steps_per_s"] = bandwidth / cost["least_bytes"]
            entry["xla_bytes_bound_seed_steps_per_s"] = bandwidth / cost["bytes_accessed_xla"]
            bound = min(entry["compute_bound_seed_steps_per_s"], entry["least_bytes_bound_seed_steps_per_s"])
        timed = [r for r in sweep if r["preset"] == preset and "seed_steps_per_s" in r]
        rates = {r["seeds"]: r["seed_steps_per_s"] for r in timed}
        entry["seed_steps_per_s"] = rates
        entry["program_bytes_per_device"] = {r["seeds"]: r["program_bytes"] for r in timed}
        entry["worker_max_rss_bytes"] = {r["seeds"]: r["max_rss_bytes"] for r in timed}
        if peak and bandwidth:
            entry["roofline_fraction"] = {s: rate / bound for s, rate in rates.items()}
        compiles = [r["compile_s"] for r in sweep if r["preset"] == preset]
        entry["compile_s_max"] = max(compiles) if compiles else None
        peers = {"naive-jax-loop": _rate(results.get("naive_loop", []), preset=preset)}
        for peer in PEERS:
            peers[peer] = _rate(results.get("peers", []), peer=peer, preset=preset)
        entry["peer_seed_steps_per_s"] = peers
        entry["ratio_to_peer"] = {
            peer: {s: rate / peer_rate for s, rate in rates.items()} for peer, peer_rate in peers.items() if peer_rate
        }
        summary["presets"][preset] = entry
    end_to_end = results.get("end_to_end", [])
    if end_to_end:
        summary["end_to_end"] = end_to_end[0]
    focus = summary["presets"].get(FOCUS)
    if focus and focus["seed_steps_per_s"]:
        on_cpu = results.get("probe", {}).get("backend", "cpu") == "cpu"
        summary["targets"] = _cpu_targets(summary, focus) if on_cpu else _accelerator_targets(focus, end_to_end)
    return summary


def _cpu_targets(summary: dict[str, Any], focus: dict[str, Any]) -> dict[str, Any]:
    """Issue 5's CPU targets: 500 seed-steps/s at every seed count, 3x PyTorch eager, compiles under 5 s."""
    torch_ratios = focus["ratio_to_peer"].get("torch", {})
    return {
        "min_bn_split_seed_steps_per_s": min(focus["seed_steps_per_s"].values()),
        "bn_split_at_least_500_everywhere": min(focus["seed_steps_per_s"].values()) >= 500,
        "min_ratio_to_torch_eager": min(torch_ratios.values()) if torch_ratios else None,
        "max_compile_s": max(e["compile_s_max"] or 0.0 for e in summary["presets"].values()),
    }


def _accelerator_targets(focus: dict[str, Any], end_to_end: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 5's accelerator targets: 100,000 seed-steps/s from 1024 seeds on, and 1024 seeds of 2000
    steps in under 25 s, compilation included (the slowest end-to-end repetition)."""
    many = [rate for seeds, rate in focus["seed_steps_per_s"].items() if seeds >= END_TO_END_ACCELERATOR_SEEDS]
    targets: dict[str, Any] = {
        "min_bn_split_seed_steps_per_s_from_1024_seeds": min(many) if many else None,
        "bn_split_at_least_100000_from_1024_seeds": min(many) >= 100_000 if many else None,
    }
    full_size = [r for r in end_to_end if r.get("seeds", 0) >= END_TO_END_ACCELERATOR_SEEDS and r.get("steps") == 2000]
    if full_size and "times_s" in full_size[0]:
        slowest = max(full_size[0]["times_s"])
        targets["end_to_end_1024_seeds_2000_steps_max_s"] = slowest
        targets["end_to_end_under_25_s"] = slowest < 25
    return targets


def _table(results: dict[str, Any]) -> str:
    """The run's key figures as plain text: seed scaling, peers, widths, XLA flags, logging, roofline."""
    summary = results.get("summary", {}).get("presets", {})
    seeds = sorted({s for entry in summary.values() for s in entry["seed_steps_per_s"]})
    lines = ["", "seed-steps/s (median), jaxbngan's driver layout with the tuned XLA_FLAGS"]
    lines.append(f"{'preset':<10}" + "".join(f"{s:>8}" for s in seeds) + f"{'compile':>9}  roofline  MiB/device")
    for preset, entry in summary.items():
        rates = entry["seed_steps_per_s"]
        row = f"{preset:<10}" + "".join(f"{rates[s]:>8.0f}" if s in rates else f"{'-':>8}" for s in seeds)
        fractions = entry.get("roofline_fraction", {})
        span = f"{min(fractions.values()):.0%}-{max(fractions.values()):.0%}" if fractions else "-"
        program = entry["program_bytes_per_device"].get(max(rates, default=None))
        memory = f"{program / 2**20:.0f} at {max(rates)}" if program else "-"
        lines.append(row + f"{entry['compile_s_max'] or 0:>8.1f}s  {span:>8}  {memory}")
    backend = results.get("probe", {}).get("backend", "cpu")
    lines += ["", f"peers on the {backend}, one seed at a time: seed-steps/s, and jaxbngan's ratio at 1 seed / at best"]
    for preset, entry in summary.items():
        for peer, rate in entry["peer_seed_steps_per_s"].items():
            ratios = entry["ratio_to_peer"].get(peer)
            if rate and ratios:
                at_one = f"x{ratios[1]:.1f}" if 1 in ratios else "-"
                lines.append(f"{preset:<10}{peer:<16}{rate:>8.0f}   {at_one} / x{max(ratios.values()):.1f}")
    skipped = {f"{r['peer']}: {r['skipped']}" for r in results.get("peers", []) if "skipped" in r}
    lines += [f"  skipped {reason}" for reason in sorted(skipped)]
    whole = results.get("summary", {}).get("end_to_end")
    if whole and "seed_steps_per_s" in whole:
        lines += [
            "",
            f"{FOCUS} end to end (the CLI driver's whole job: compilation, metrics, checkpoints): "
            f"{whole['seeds']} seeds x {whole['steps']} steps in {whole['median_s']:.1f} s (median), "
            f"{whole['seed_steps_per_s']:.0f} seed-steps/s",
        ]
    sections = ("widths", "width_one", "full_vmap")
    layouts = [r for section in sections for r in results.get(section, []) if "seed_steps_per_s" in r]
    variants = [r for r in results.get("variants", []) if "seed_steps_per_s" in r]
    for rows, label in ((layouts, "layout"), (variants, "XLA_FLAGS variant")):
        if rows:
            lines += ["", f"{FOCUS}: seed-steps/s by {label}"]
        for r in rows:
            name = r.get("variant") or (
                f"width {r['width']}{' (vmap)' if r['vmap_one'] else ''} x{r['devices']} devices"
                if "unroll" in r
                else "one vmap of all seeds"
            )
            lines.append(f"  {name:<24} seeds {r['seeds']:>5}: {r['seed_steps_per_s']:>6.0f}")
    logging = {r["logging"]: r["seed_steps_per_s"] for r in results.get("logging", [])}
    if len(logging) == 2:
        ratio = logging["with"] / logging["without"]
        lines += ["", f"{FOCUS} with the metrics every log_every steps: x{ratio:.2f} the rate without"]
    machine = results.get("machine")
    if machine:
        lines.append(
            f"machine: matmul {machine['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"memory {machine['memory_bytes_per_s'] / 1e9:.1f} GB/s"
        )
    targets = results.get("summary", {}).get("targets")
    if targets:
        lines += ["", f"targets: {json.dumps(targets)}"]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Seed-steps/s against seeds (log-log) with peers and roofline; widths; XLA-flag variants."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 5), layout="constrained")
    FigureCanvasAgg(fig)
    scaling, widths, variants = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 1.3]})
    summary = results.get("summary", {}).get("presets", {})
    for preset, entry in summary.items():
        rates = sorted((int(s), r) for s, r in entry["seed_steps_per_s"].items())
        if rates:
            scaling.plot(*zip(*rates, strict=True), marker="o", label=f"{preset} (driver layout)")
    full = sorted((r["seeds"], r["seed_steps_per_s"]) for r in results.get("full_vmap", []) if "seed_steps_per_s" in r)
    if full:
        scaling.plot(*zip(*full, strict=True), marker="x", linestyle="--", label=f"{FOCUS}, one full-width vmap")
    whole = results.get("summary", {}).get("end_to_end")
    if whole and "seed_steps_per_s" in whole:
        scaling.plot(
            [whole["seeds"]],
            [whole["seed_steps_per_s"]],
            marker="*",
            markersize=12,
            linestyle="none",
            color="black",
            label=f"{FOCUS}, end to end ({whole['steps']} steps, compilation and metrics)",
        )
    focus = summary.get(FOCUS, {})
    peer_colors = iter(["0.35", "tab:brown", "tab:purple", "tab:olive", "tab:cyan"])
    for peer, rate in focus.get("peer_seed_steps_per_s", {}).items():
        if rate:
            scaling.axhline(rate, color=next(peer_colors), linestyle="-.", label=f"{FOCUS}, {peer}, one seed at a time")
    if "compute_bound_seed_steps_per_s" in focus:
        bound = focus["compute_bound_seed_steps_per_s"]
        scaling.axhline(bound, color="tab:red", linewidth=2, label=f"{FOCUS}, matmul peak bound")
    scaling.set(xscale="log", yscale="log", xlabel="seeds", ylabel="seed-steps / s", title="throughput against seeds")
    low, high = scaling.get_ylim()
    scaling.set_ylim(low / 5, high * 1.2)  # room for the legend below the lines
    scaling.legend(fontsize="x-small", loc="lower left", ncols=2)
    scaling.grid(True, which="both", alpha=0.3)
    rows = [r for r in results.get("widths", []) if "seed_steps_per_s" in r]
    if rows:
        seeds = rows[0]["seeds"]
        bars = [(f"{r['width']} x{r['devices']}", r["seed_steps_per_s"]) for r in rows]
        full = _rate(results.get("full_vmap", []), seeds=seeds)
        bars += [(f"full ({seeds})", full)] if full else []
        widths.bar(*zip(*bars, strict=True), color="tab:blue")
        widths.set(xlabel="vmap width x devices", ylabel="seed-steps / s", title=f"{FOCUS}, {seeds} seeds")
    rows = [r for r in results.get("variants", []) if "seed_steps_per_s" in r]
    if rows:
        names = list(dict.fromkeys(r["variant"] for r in rows))
        counts = sorted({r["seeds"] for r in rows})
        step = 0.8 / len(counts)
        for i, seeds in enumerate(counts):
            heights = [_rate(rows, variant=n, seeds=seeds) or 0.0 for n in names]
            variants.bar(np.arange(len(names)) + i * step, heights, step, label=f"{seeds} seeds")
        variants.set_xticks(np.arange(len(names)) + 0.4 - step / 2, names, rotation=20, fontsize="small")
        variants.set(ylabel="seed-steps / s", title=f"{FOCUS}, XLA_FLAGS variants")
        variants.legend(fontsize="small")
    device = results.get("probe", {}).get("device_name", "")
    fig.suptitle(f"jaxbngan train-step throughput on {device}")
    with rundir.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
