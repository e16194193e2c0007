"""A grid of settings as one sweep against the same settings as separate runs, compilation included.

    python benchmarks/grid_vs_runs.py              # 16 points x 16 seeds, 200 steps: ~15 min on 2 cores
    python benchmarks/grid_vs_runs.py --points 4 --seeds 4 --steps 20 --rounds 1  # a smoke run

One round trains the grid twice, in one process and in alternating order: as one sweep
(`driver.train` with a grid: one compilation, every point's seeds in the same chunks) and as one
run per point (`driver.train` per point config: a compilation per run). Each is timed from the
config to the finished run directory, compilation and the results' writing included, as a user
waits for them. The axis is D's BN momentum, spaced evenly from 0.5 to 0.999. The figure is the
median over rounds of (time of the separate runs) / (time of the sweep), each round's two timings
taken back to back, so load from other work falls on both. The JSON under benchmarks/results/ is
rewritten after each round.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from jaxbngan.tuning import use_tuned_xla_flags  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="fix")
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: benchmarks/results/...)")
    args = parser.parse_args(argv)
    use_tuned_xla_flags()  # one CPU device per core, as `jaxbngan run` has
    import jax
    import numpy as np

    from jaxbngan import driver, rundir, seed_layout
    from jaxbngan.bench.roofline import probe
    from jaxbngan.config import to_dict
    from jaxbngan.data import make_population
    from jaxbngan.grid import Grid, point_config
    from jaxbngan.presets import get_preset
    from jaxbngan.sharding import seed_devices

    config = dataclasses.replace(get_preset(args.preset).config, steps=args.steps, log_every=args.steps // 4)
    momenta = tuple(float(m) for m in np.round(np.linspace(0.5, 0.999, args.points), 4))
    grid = Grid((("discriminator.momentum", momenta),))
    population = np.asarray(make_population(config.data))

    def timed_run(work: Path, config, seeds: int, grid=None) -> float:
        start = time.perf_counter()
        devices = seed_devices(seeds=seeds)
        layout = seed_layout.plan_layout(config, seeds, devices, seed_layout.sample_shape(population))
        rundir.create(work, {"config": to_dict(config), "seeds": seeds}, population)
        driver.train(work, config, layout, devices, seed=0, grid=grid)
        return time.perf_counter() - start

    def as_sweep(tmp: Path) -> float:
        return timed_run(tmp / "sweep", config, args.points * args.seeds, grid)

    def as_runs(tmp: Path) -> float:
        return sum(timed_run(tmp / f"run{i}", point_config(config, p), args.seeds) for i, p in enumerate(grid.points()))

    machine = probe()
    out = args.out or RESULTS / f"grid-vs-runs-{machine['device_name']}.json"
    record = {
        "what": "seconds to train a grid of D's BN momentum as one sweep vs one run per point, compilation included",
        "command": "python benchmarks/grid_vs_runs.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "preset": args.preset,
        "points": args.points,
        "seeds": args.seeds,
        "steps": args.steps,
        "device": machine["device_name"],
        "cpu_model": machine["cpu_model"],
        "jax_devices": f"{len(jax.devices())} x {jax.devices()[0].device_kind}",
        "rounds": [],
    }
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            order = (as_sweep, as_runs) if index % 2 == 0 else (as_runs, as_sweep)
            times = {fn.__name__: fn(Path(tmp)) for fn in order}
        record["rounds"].append({"sweep_s": times["as_sweep"], "runs_s": times["as_runs"]})
        ratios = [r["runs_s"] / r["sweep_s"] for r in record["rounds"]]
        record["median_ratio_runs_to_sweep"] = statistics.median(ratios)
        record["median_sweep_s"] = statistics.median(r["sweep_s"] for r in record["rounds"])
        record["median_runs_s"] = statistics.median(r["runs_s"] for r in record["rounds"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(
            f"round {index + 1}/{args.rounds}: sweep {times['as_sweep']:.1f} s, {args.points} runs "
            f"{times['as_runs']:.1f} s; median ratio so far {record['median_ratio_runs_to_sweep']:.2f}",
            flush=True,
        )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
