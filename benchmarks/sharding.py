"""Seed-steps per second with the seed axis sharded over 1, 2, 4 and 8 devices.

    python benchmarks/sharding.py                                  # bn-split, 64 seeds: about 3 minutes on 2 cores
    python benchmarks/sharding.py --seeds 8 --steps 5 --rounds 1   # a smoke run

Each timing runs in its own worker subprocess: on a CPU, XLA makes that many host devices
(`--xla_force_host_platform_device_count`, which acts only before JAX starts); on a GPU or TPU the
first N real devices are used and larger counts are skipped. A worker runs the driver's composition
(`per_device` over `tuning.map_seeds` blocks of `tuning.vmap_width` seeds, the step scan unrolled by
`tuning.scan_unroll`, state donated) as one of two programs (`--programs`): each device its own copy
of the one-device program (the driver's on a CPU, `tuning.separate_programs`) or one program
partitioned over the devices. It times the first call (compilation included: the separate programs
compile once per device, side by side) and then one call of one logged segment. Each round runs
every device count and program once, so load from other work on a shared machine falls on all alike;
a figure is the median over `--rounds`. The JSON under benchmarks/results/ is rewritten after each
worker, so an interrupted run keeps what it measured.
Workers get the project's XLA flags for their backend (`tuning.xla_flags`) on top of any XLA_FLAGS
already set.

Forced host devices share the machine's cores: on a small CPU this measures what sharding costs,
not a speed-up. The speed-up is for machines with several accelerators.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

RESULTS = Path(__file__).resolve().parent / "results"


def measure(devices: int, preset: str, seeds: int, steps: int, program: str) -> dict:
    """Worker side: time the first call (compilation included), then one chunk of `steps` steps of `seeds` seeds
    on `devices` devices, as `program` ("separate" per-device programs or one "partitioned" program)."""
    import jax

    from jaxbngan import get_preset, make_run, seed_keys
    from jaxbngan.sharding import per_device, seed_devices, shard_seeds
    from jaxbngan.tuning import map_seeds, scan_unroll, vmap_width

    config = dataclasses.replace(get_preset(preset).config, steps=steps, log_every=steps)
    chosen = seed_devices(devices)
    platform = chosen[0].platform
    width = vmap_width(platform, seeds // devices)
    unroll = scan_unroll(platform)  # as the driver chooses it
    run = make_run(config, unroll=unroll)
    separate = program == "separate"

    def init_seeds(keys):
        return map_seeds(run.strategy.init, keys, width)

    def advance_seeds(states):
        return map_seeds(lambda state: run.segments(state, 1), states, width)

    states = per_device(init_seeds, chosen, separate=separate)(shard_seeds(seed_keys(0, seeds), chosen))
    advance = per_device(advance_seeds, chosen, separate=separate, donate=True)
    start = time.perf_counter()
    states, _ = jax.block_until_ready(advance(states))  # compiles, and warms up
    first_call_s = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(advance(states))
    return {
        "seconds": time.perf_counter() - start,
        "first_call_s": first_call_s,
        "program": program,
        "seeds_per_device": seeds // devices,
        "vmap_width": width,
        "scan_unroll": unroll,
        "backend": jax.default_backend(),
        "device_kind": chosen[0].device_kind,
        "jax": jax.__version__,
    }


def visible(platform: str) -> int:
    """How many devices of `platform` a fresh process sees (CPU: any number can be forced)."""
    if platform == "cpu":
        return sys.maxsize
    probe = "import jax; print(jax.device_count())"
    env = {**os.environ, "JAX_PLATFORMS": platform}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=True, text=True)
    return int(done.stdout)


def worker_env(platform: str, devices: int) -> dict[str, str]:
    """The worker's environment: on a CPU the project's XLA flags (`tuning.xla_flags`) for `devices` devices."""
    from jaxbngan.tuning import xla_flags

    env = {**os.environ, "JAX_PLATFORMS": platform}
    if platform == "cpu":
        inherited = re.sub(r"--xla_force_host_platform_device_count=\d+", "", env.get("XLA_FLAGS", "")).split()
        env["XLA_FLAGS"] = " ".join(dict.fromkeys([*inherited, *xla_flags("cpu", devices)]))
    return env


def results_name(timing: dict) -> str:
    if timing["backend"] == "cpu":
        return f"sharding-cpu-{os.cpu_count()}core.json"
    return f"sharding-{timing['backend']}-{re.sub(r'[^a-z0-9]+', '-', timing['device_kind'].lower()).strip('-')}.json"


def note(backend: str) -> str:
    if backend == "cpu":
        cores = os.cpu_count()
        return (
            f"{cores} CPU cores: up to {cores} devices each device has a core of its own; beyond that the "
            "forced host devices share the cores, so those figures show the overhead of sharding, not a "
            "speed-up. More devices pay off on machines with several accelerators."
        )
    return "real devices: each one runs its own seeds, so seed-steps/s should grow with the device count."


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="bn-split")
    parser.add_argument("--seeds", type=int, default=64, help="a multiple of every device count")
    parser.add_argument("--steps", type=int, default=25, help="steps per timed call (one logged segment)")
    parser.add_argument("--rounds", type=int, default=3, help="timings per device count (one per round)")
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--platform", default="cpu", help="cpu (forced host devices), gpu or tpu")
    parser.add_argument(
        "--programs",
        default="separate,partitioned",
        help="comma-separated: each device its own one-device program (the CPU driver's), or one partitioned program",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-program", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    programs = args.programs.split(",")
    if not programs or set(programs) - {"separate", "partitioned"}:
        parser.error(f"--programs takes separate and/or partitioned, got {args.programs}")
    if min(args.seeds, args.steps, args.rounds, *args.devices) < 1 or any(args.seeds % n for n in args.devices):
        parser.error("counts must be positive and --seeds a multiple of every --devices count")
    if args.worker is not None:
        print(json.dumps(measure(args.worker, args.preset, args.seeds, args.steps, args.worker_program)))
        return 0

    from jaxbngan.rundir import write_json

    available = visible(args.platform)
    counts = [n for n in args.devices if n <= available]
    report = {
        "benchmark": "seed axis sharded over devices (benchmarks/sharding.py)",
        "command": " ".join(["python benchmarks/sharding.py", *argv]),
        "preset": args.preset,
        "seeds": args.seeds,
        "steps_per_call": args.steps,
        "rounds": args.rounds,
        "cpu_cores": os.cpu_count(),
        "xla_flags": worker_env(args.platform, 1).get("XLA_FLAGS", "").replace("count=1", "count=N"),
        "skipped": [f"{n} devices: only {available} visible" for n in args.devices if n > available],
        "results": [],
    }
    cells = [(n, program) for n in counts for program in programs]
    timings: dict[tuple[int, str], list[dict]] = {cell: [] for cell in cells}
    args.out.mkdir(parents=True, exist_ok=True)
    path = None
    for round_ in range(args.rounds):
        for devices, program in cells:
            command = [sys.executable, __file__, *argv, "--worker", str(devices), "--worker-program", program]
            load = os.getloadavg()[0]
            done = subprocess.run(command, env=worker_env(args.platform, devices), capture_output=True, text=True)
            if done.returncode:
                sys.stderr.write(done.stderr[-3000:])
                print(f"error: the worker for {devices} devices failed (its error is above)", file=sys.stderr)
                return 1
            timing = json.loads(done.stdout.strip().splitlines()[-1])
            timing["load"] = load
            timings[devices, program].append(timing)
            report["results"] = summarize(timings, args.seeds * args.steps)
            report["note"] = note(timing["backend"])
            path = args.out / results_name(timing)
            write_json(path, report)  # atomic: an interrupted run never leaves a half-written file
            print(
                f"round {round_ + 1}/{args.rounds}, {devices} device(s), {program}: "
                f"{args.seeds * args.steps / timing['seconds']:.0f} seed-steps/s",
                flush=True,
            )
    for row in report["results"]:
        print(
            f"{row['devices']} device(s), {row['program']}: {row['seed_steps_per_s']:.0f} seed-steps/s "
            f"(x{row['ratio_to_first']:.2f}), first call {row['first_call_s']:.1f} s"
        )
    if path is not None:
        print(f"results: {path}")
    return 0


def summarize(timings: dict[tuple[int, str], list[dict]], seed_steps: int) -> list[dict]:
    """Per device count and program: median time over rounds, seed-steps/s, its ratio to the first cell's."""
    rows = []
    for (devices, program), runs in timings.items():
        if not runs:
            continue
        median = statistics.median(run["seconds"] for run in runs)
        rows.append(
            {
                "devices": devices,
                "program": program,
                "seeds_per_device": runs[0]["seeds_per_device"],
                "vmap_width": runs[0]["vmap_width"],
                "scan_unroll": runs[0]["scan_unroll"],
                "times_s": [round(run["seconds"], 4) for run in runs],
                "median_s": round(median, 4),
                "seed_steps_per_s": round(seed_steps / median, 1),
                "first_call_s": round(statistics.median(run["first_call_s"] for run in runs), 3),
                # Other work on the machine skews timings: the 1-minute load average before each
                # worker (it includes this benchmark's previous worker) shows when it did.
                "load_before": [round(run["load"], 2) for run in runs],
                "device_kind": runs[0]["device_kind"],
                "jax": runs[0]["jax"],
            }
        )
    for row in rows:
        row["ratio_to_first"] = round(row["seed_steps_per_s"] / rows[0]["seed_steps_per_s"], 3)
    return rows


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
