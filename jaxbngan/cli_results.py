"""The `jaxbngan` commands that read finished work: the end-of-run summary, `plot`, `compare`, `extract`, `export`.

Like `jaxbngan.cli`, they import JAX and matplotlib only inside the functions that need them.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from jaxbngan.catalog import FINAL_METRICS, OFFSET_UNIT, with_unit
from jaxbngan.config import ConfigError

COMPARE_FIGURE = "compare.png"
LN2 = math.log(2)  # D's loss when it cannot tell real from fake


def conclude(root: Path, seconds: float, args: argparse.Namespace) -> None:
    """Write the summary (unless a previous call did) and the figures of a complete run; print the headline numbers."""
    from jaxbngan import api, plots, rundir
    from jaxbngan.sharding import writes_files

    if not writes_files():
        return  # process 0 of a multi-process run writes and reports
    results, summary = api.conclude(root, seconds)
    if args.kind == "sweep":
        from jaxbngan import sweep

        for line in sweep.report(root, summary, args.metric, seconds):
            print(line)
        return
    figures = plots.draw_run(root, results)
    print(f"final metrics over {summary['seeds']} seeds, median [interquartile range]:")
    for name, stats in summary["aggregate"].items():
        print(f"  {with_unit(name):<20} {_cell(stats)}")
    diverged = summary["diverged"]
    if diverged:
        shown = ", ".join(f"seed {d['seed']} at step {d['step']}" for d in diverged[:10])
        more = f" and {len(diverged) - 10} more" if len(diverged) > 10 else ""
        print(f"diverged (left out above): {shown}{more}")
    files = sorted(p.name for p in root.iterdir() if p.name != rundir.LOCK)
    print(f"done in {seconds:.0f} s; results in {root}/: {', '.join(files)}")
    print(f"figures: {', '.join(str(f) for f in figures)}")
    for line in measured(summary, images=results.real.ndim == 4):
        print(line)


def measured(summary: dict[str, Any], *, images: bool) -> list[str]:
    """What the run measured, in three lines: the offset in std; D's loss against ln 2, with how many
    seeds end near it (the report's tolerance); how often both players win."""
    from jaxbngan.verdicts import EQUILIBRIUM_TOLERANCE

    aggregate = summary["aggregate"]
    offset, d_loss = aggregate["offset_x"], aggregate["d_loss"]
    both, share = aggregate["both_win"], aggregate["both_win_share"]
    if offset["seeds"] == 0 or d_loss["seeds"] == 0:
        return ["measured: no seed has a finite final offset and D loss"]
    healthy = [seed["d_loss"] for seed in summary["per_seed"] if seed["diverged_at"] is None]
    near = sum(abs(loss - LN2) < EQUILIBRIUM_TOLERANCE for loss in healthy if loss is not None)
    what = "brightness offset (channel 0)" if images else "x-offset"
    return [
        f"measured: median {what} {offset['median']:+.3g} {OFFSET_UNIT} [IQR {offset['q25']:+.3g}, "
        f"{offset['q75']:+.3g}]",
        f"D's final loss: median {d_loss['median']:.3g} [IQR {d_loss['q25']:.3g}, {d_loss['q75']:.3g}]; "
        f"near ln 2 = {LN2:.3f} (within {EQUILIBRIUM_TOLERANCE}: D cannot tell real from fake) in {near} of "
        f"{d_loss['seeds']} seeds; further below, D tells them apart (0: it wins outright)",
        f"both players win (D loss < G loss / 2): at the end in {both['mean']:.0%} of {both['seeds']} seeds, "
        f"over the run at {share['mean']:.0%} of the logs (mean over seeds)",
    ]


def _cell(stats: dict[str, float]) -> str:
    if stats["seeds"] == 0:
        return "n/a"
    return f"{stats['median']:.4g} [{stats['q25']:.4g}, {stats['q75']:.4g}]"


# -- plot and compare -------------------------------------------------------------------------------


def plot(args: argparse.Namespace) -> int:
    from jaxbngan import plots, rundir, sweep

    if sweep.is_sweep(args.run_dir):  # the sweep's own figures; a point's: `jaxbngan extract`, then plot that
        if args.seeds is not None:
            raise ConfigError("--seeds is for a run; take a point of the sweep out with `jaxbngan extract` first")
        figures = sweep.draw(args.run_dir, rundir.read_summary(args.run_dir), metric(args.metric or "d_loss"))
        print(f"figures: {', '.join(str(f) for f in figures)}")
        return 0
    if args.metric is not None:
        raise ConfigError("--metric chooses a sweep's heatmap; a run's figures show every metric")
    results = rundir.load(args.run_dir)
    figures = plots.draw_run(args.run_dir, results, seeds=args.seeds)
    if not results.complete:
        seeds = results.history.g_loss.shape[0]
        print(f"{args.run_dir} is partial: {seeds} of {results.spec['seeds']} seeds have started")
    print(f"figures: {', '.join(str(f) for f in figures)}")
    return 0


def compare(args: argparse.Namespace) -> int:
    from jaxbngan import finals, plots, rundir

    out = args.out or args.run_dirs[0] / COMPARE_FIGURE
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out must name a .png file (the figure is a PNG), got {str(out)!r}")
    by_run, specs = {}, {}
    for name, root in zip(_labels(args.run_dirs), args.run_dirs, strict=True):
        results = rundir.load(root)
        if not results.complete:
            raise ConfigError(f"{root} has not finished; continue it with `{rundir.resume_command(root)}`")
        for label, history in _entries(name, results):  # a sweep's points count as runs
            label = label if label not in by_run else f"{label} ({sum(k.startswith(label) for k in by_run) + 1})"
            healthy = finals.divergence_steps(history, results.steps, results.real) < 0
            metrics = finals.final_metrics(history, results.real)
            by_run[label] = {metric: metrics[metric][healthy] for metric in _chosen(args.metrics, metrics)}
            specs[label] = results.spec
    labels = list(by_run)
    if len(labels) < 2:
        raise ConfigError(
            "compare needs two or more runs (a sweep counts as its points); one run's numbers are in its summary.json"
        )
    differences = _run_differences(specs)
    if differences:
        print(f"jaxbngan: warning: the runs differ in {differences}", file=sys.stderr)
    rows = {
        with_unit(name): [_cell(finals.aggregate(by_run[label][name])) for label in labels]
        for name in next(iter(by_run.values()))
    }
    rows["seeds"] = [str(len(next(iter(by_run[label].values())))) for label in labels]
    first = max(map(len, rows)) + 2
    width = 2 + max(len(text) for text in [*labels, *(cell for cells in rows.values() for cell in cells)])
    print("final metrics, median [interquartile range] over seeds (diverged seeds left out)")
    print(f"{'':<{first}}" + "".join(f"{label:>{width}}" for label in labels))
    for name, cells in rows.items():
        print(f"{name:<{first}}" + "".join(f"{cell:>{width}}" for cell in cells))
    plots.compare_runs({label: {with_unit(k): v for k, v in metrics.items()} for label, metrics in by_run.items()}, out)
    print(f"figure: {out}")
    return 0


def _entries(name: str, results: Any) -> list[tuple[str, Any]]:
    """(label, history) of a run, or of each point of a sweep (`name[path=value, ...]`)."""
    from jaxbngan import sweep
    from jaxbngan.grid import describe_point

    grid = sweep.read_grid(results.spec)
    if grid is None:
        return [(name, results.history)]
    seeds = results.spec["seeds"]
    return [
        (f"{name}[{describe_point(point)}]", sweep.point_rows(results.history, index, seeds))
        for index, point in enumerate(grid.points())
    ]


def metric(name: str) -> str:
    """A final metric's name, checked before anything long runs."""
    if name not in FINAL_METRICS:
        raise ConfigError(f"unknown metric {name!r}; `jaxbngan explain` lists them: {', '.join(FINAL_METRICS)}")
    return name


def extract(args: argparse.Namespace) -> int:
    from jaxbngan import rundir, sweep
    from jaxbngan.grid import describe_point

    if not sweep.is_sweep(args.sweep_dir):
        raise ConfigError(f"{args.sweep_dir} is not a sweep directory (its config.json has no grid)")
    grid = sweep.read_grid(rundir.read_spec(args.sweep_dir))
    index = sweep.find_point(grid, args.point)
    out = args.out or args.sweep_dir / f"point-{index}"
    sweep.extract(args.sweep_dir, index, out)
    print(f"point {index} ({describe_point(grid.points()[index])}) of {args.sweep_dir} as a run: {out}/")
    conclude(out, 0.0, argparse.Namespace(kind="run"))
    return 0


def _chosen(asked: list[str] | None, metrics: dict[str, Any]) -> list[str]:
    """The metrics `--metrics` names, in its order (all when not given); an unknown name is a one-line error."""
    for name in asked or []:
        if name not in metrics:
            raise ConfigError(f"--metrics: unknown metric {name!r}; choose from {', '.join(metrics)}")
    return asked or list(metrics)


def _run_differences(specs: dict[str, dict[str, Any]]) -> str:
    """'steps (a: 20, b: 40); data (...)' for what differs between the runs that compare sets side by side,
    other than what they are compared for (their presets and settings): the data and the run's length."""
    found = []
    for what, value in (
        ("data", lambda spec: spec.get("data")),
        ("steps", lambda spec: spec["config"].get("steps")),
    ):
        values = {label: value(spec) for label, spec in specs.items()}
        if len(set(map(str, values.values()))) > 1:
            found.append(f"{what} ({', '.join(f'{label}: {v}' for label, v in values.items())})")
    return "; ".join(found)


def name_list(text: str) -> list[str]:
    """`--metrics d_loss,offset_x` as ['d_loss', 'offset_x']."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected names like d_loss,offset_x, got {text!r}")
    return names


def _labels(roots: list[Path]) -> list[str]:
    names = [root.resolve().name for root in roots]
    return names if len(set(names)) == len(names) else [str(root) for root in roots]


# -- plot --seeds, and export -----------------------------------------------------------------------


def seed_list(text: str) -> list[int]:
    """`--seeds 0,3,7` as [0, 3, 7] (ranges are checked against the run by `plots.draw_run`)."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected seed indices like 0,3,7, got {text!r}")
    return seeds


def export(args: argparse.Namespace) -> int:
    from jaxbngan import export

    written = export.export_run(args.run_dir, args.format, args.out)
    print(f"{args.format}: {written}")
    return 0
