"""The sweep directory: a run directory whose members are grid points times seeds.

    config.json    a run's spec, with `grid` (the axes), `seeds` per point and `members` = points x seeds
    metrics.npz    member histories, (members, logs, ...), point-major: `point_rows` picks a point's seeds
    samples.npz    each member's final fakes
    summary.json   per point: its settings, the median and quartiles of every final metric over its seeds,
                   the share of seeds where both players win at the end (with its seed count), diverged seeds
    sweep-*.png    the chosen metric's median per point, and the both-win share per point
                   (a heatmap over two axes, one line per value of the first axis over the second
                   for more, a line for one axis)

Everything else (checkpoints, groups, the one commit point, the lock) is the run directory's
(`rundir`); `extract` writes one point as an ordinary run directory.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxbngan import finals, rundir
from jaxbngan.catalog import with_unit
from jaxbngan.config import ConfigError, error_text, from_dict, to_dict
from jaxbngan.grid import Grid, describe_point, point_config

BOTH_WIN = "both_win"  # the final metric whose mean over seeds is the both-win share


def read_grid(spec: dict[str, Any]) -> Grid | None:
    """The grid of a sweep's spec; None for an ordinary run. ConfigError if config.json's grid is damaged."""
    if not spec.get("grid"):
        return None
    try:
        grid = Grid.from_json(spec["grid"])
    except (ValueError, TypeError) as error:  # a value that is no number, an axis that is no [path, values] pair
        reason = error_text(error)
        raise ConfigError(f"{rundir.SPEC} is damaged: its grid is not [[path, [numbers]], ...] ({reason})") from None
    if not all(values and all(math.isfinite(v) for v in values) for _, values in grid.axes):
        raise ConfigError(f"{rundir.SPEC} is damaged: its grid holds an empty axis or a value that is not finite")
    return grid


def is_sweep(root: Path) -> bool:
    """Whether `root` is a sweep directory."""
    return rundir.is_run_dir(root) and read_grid(rundir.read_spec(root)) is not None


def sweep_spec(run_spec: dict[str, Any], grid: Grid, seeds: int) -> dict[str, Any]:
    """config.json of a sweep: the run's spec, with the grid and the seed count per point."""
    return {**run_spec, "grid": grid.to_json(), "seeds": seeds, "members": seeds * grid.size}


def point_rows(tree: Any, index: int, seeds: int) -> Any:
    """The seeds of point `index` from member-first arrays (point-major)."""
    return jax.tree.map(lambda x: None if x is None else np.asarray(x)[index * seeds : (index + 1) * seeds], tree)


def member_columns(table: dict[str, np.ndarray], grid: Grid, seeds: int) -> dict[str, np.ndarray]:
    """Columns of member rows (`export.columns`: `seed` is the member) with the member's point and seed:
    one column per axis, named by its path, then `seed` within the point."""
    member = table["seed"]
    points = np.array([[point[path] for path in grid.paths] for point in grid.points()])  # (points, axes)
    axes = {path: points[member // seeds, i] for i, path in enumerate(grid.paths)}
    return {**axes, "seed": member % seeds, **{k: v for k, v in table.items() if k != "seed"}}


def find_point(grid: Grid, text: str) -> int:
    """The index of a point named by its index or by `path=value,...` (every axis); ConfigError otherwise."""
    points = grid.points()
    if text.strip().isdigit():
        index = int(text)
        if index >= len(points):
            raise ConfigError(f"point {index} is not in the grid of {len(points)} points (0 to {len(points) - 1})")
        return index
    asked = {}
    for item in text.split(","):
        path, _, value = item.partition("=")
        try:
            asked[path.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--point {text!r}: expected an index or PATH=VALUE,... for every axis") from None
    if set(asked) != set(grid.paths):
        raise ConfigError(f"--point {text!r} must give a value for each axis: {', '.join(grid.paths)}")
    for index, point in enumerate(points):
        if all(math.isclose(point[path], asked[path], rel_tol=1e-9) for path in grid.paths):
            return index
    raise ConfigError(f"--point {text!r} is not a point of the grid; its axes: {_axes_text(grid)}")


def _axes_text(grid: Grid) -> str:
    return "; ".join(f"{path} in {', '.join(f'{v:g}' for v in values)}" for path, values in grid.axes)


def summarize(results: rundir.Results) -> dict[str, Any]:
    """summary.json of a finished sweep: every point's aggregate over its seeds and its both-win share."""
    grid, seeds = read_grid(results.spec), results.spec["seeds"]
    points = []
    for index, point in enumerate(grid.points()):
        history = point_rows(results.history, index, seeds)
        summary = finals.summarize(history, results.steps, results.real)
        healthy = summary["aggregate"][BOTH_WIN]
        points.append(
            {
                "point": point,
                "label": describe_point(point),
                "aggregate": summary["aggregate"],
                "both_win_share": {"share": healthy["mean"], "seeds": healthy["seeds"]},
                "diverged": summary["diverged"],
            }
        )
    return {"grid": grid.to_json(), "seeds": seeds, "steps": results.spec["config"]["steps"], "points": points}


def metric_grid(summary: dict[str, Any], metric: str, stat: str = "median") -> np.ndarray:
    """One statistic of a final metric per point, shaped like the grid."""
    grid = Grid.from_json(summary["grid"])
    if metric not in summary["points"][0]["aggregate"]:
        known = ", ".join(summary["points"][0]["aggregate"])
        raise ConfigError(f"unknown metric {metric!r}; a sweep summarizes {known}")
    return np.array([p["aggregate"][metric][stat] for p in summary["points"]], dtype=float).reshape(grid.shape)


def extract(root: Path, index: int, out: Path) -> Path:
    """Write point `index` of the finished sweep in `root` as an ordinary run directory at `out`."""
    results = rundir.load(root)
    if not results.complete:
        raise ConfigError(f"{root} is not finished; resume it before extracting a point")
    grid, seeds = read_grid(results.spec), results.spec["seeds"]
    point = grid.points()[index]
    spec = {key: value for key, value in results.spec.items() if key not in ("grid", "members", "layout")}
    spec["config"] = to_dict(point_config(from_dict(results.spec["config"]), point))
    spec["extracted_from"] = {"sweep": str(root.resolve()), "point": point}
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not empty; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    rundir.write_json(out / rundir.SPEC, spec)
    shutil.copyfile(root / rundir.POPULATION, out / rundir.POPULATION)
    rundir.write_npz(out / rundir.SAMPLES, {"fakes": point_rows(results.fakes, index, seeds)})
    metrics = {name: point_rows(np.asarray(v), index, seeds) for name, v in results.history._asdict().items()}
    rundir.write_npz(out / rundir.METRICS, {**metrics, "steps": results.steps})  # last: the commit point
    return out


def draw(root: Path, summary: dict[str, Any], metric: str) -> list[Path]:
    """The sweep's figures: `metric`'s median per point (interquartile range as error bars on lines) and
    the both-win share per point."""
    from jaxbngan import plots

    axes, seeds = Grid.from_json(summary["grid"]).axes, summary["seeds"]
    median = metric_grid(summary, metric)
    spread = (metric_grid(summary, metric, "q25"), metric_grid(summary, metric, "q75"))
    share = np.array([p["both_win_share"]["share"] for p in summary["points"]], dtype=float).reshape(median.shape)
    written = [root / f"sweep-{metric}.png", root / "sweep-both-win.png"]
    plots.sweep_figure(
        median,
        axes,
        written[0],
        title=f"final {metric}: median over {seeds} seeds per point",
        label=with_unit(metric),
        spread=spread,
    )
    plots.sweep_figure(
        share,
        axes,
        written[1],
        title=f"share of {seeds} seeds where both players win at the end",
        label="both-win share",
    )
    return written


def report(root: Path, summary: dict[str, Any], metric: str, seconds: float) -> list[str]:
    """Draw a finished sweep's figures and say per point, in lines, what it measured."""
    files = draw(root, summary, metric)
    seeds = summary["seeds"]
    width = max(len(p["label"]) for p in summary["points"])
    lines = [f"final {metric}, median [interquartile range] over {seeds} seeds, and where both players win at the end:"]
    for point in summary["points"]:
        stats, share = point["aggregate"][metric], point["both_win_share"]
        cell = "n/a" if stats["seeds"] == 0 else f"{stats['median']:.4g} [{stats['q25']:.4g}, {stats['q75']:.4g}]"
        diverged = f"; {len(point['diverged'])} diverged" if point["diverged"] else ""
        both = "n/a" if share["seeds"] == 0 else f"{round(share['share'] * share['seeds'])}/{share['seeds']}"
        lines.append(f"  {point['label']:<{width}}  {cell}  both win: {both}{diverged}")
    lines += [
        f"done in {seconds:.0f} s; results in {root}/ (one point as a run: jaxbngan extract {root} --point I)",
        f"figures: {', '.join(str(f) for f in files)}",
    ]
    return lines
