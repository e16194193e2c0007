"""How long the image study must train: long runs per strategy, and the step from which their curves settle.

A convergence cell is one `dcgan-*` preset on one image set at one pair of widths (the presets'
DCGAN widths, or a profile's half widths), trained for many more steps than any profile with
metrics every `log_every` steps. Three curves are read from it, each the median (or share) over its
seeds at every log: the double-win share (D's loss below half of G's, `Metrics.both_win`), the
consistency gap (`numbers.consistency_gap`) and the Frechet distance. A curve has *settled by*
step T when, cut at T and at every later log, its last MOVING_WINDOW of logs is not still moving
(`settling.still_moving`, the rule that flags the report's verdicts). A profile's budget is chosen
as at least the latest settle step of the cells its claims rest on.

    python experiments/image_convergence.py --out experiments/results-convergence
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxbngan import compile_cache, rundir
from jaxbngan.config import Config, ConfigError, DataConfig
from jaxbngan.presets import get_preset
from jaxbngan.presets.images import BLOG_ORDER
from jaxbngan.reproduce.cells import Cell, CellResult
from jaxbngan.reproduce.command import add_report_only, train_cells
from jaxbngan.reproduce.figures import new_figure, save_figure
from jaxbngan.reproduce.image_spec import DIGITS, SHAPES_16
from jaxbngan.reproduce.numbers import MOVING_FLOORS, consistency_gap, log_steps
from jaxbngan.reproduce.provenance import cells_commit_text, device_text, git_revision
from jaxbngan.rundir import atomic_path
from jaxbngan.settling import still_moving
from jaxbngan.tuning import use_tuned_xla_flags
from jaxbngan.usage import StrictParser, fail

WIDTHS = {
    "presets": ((128, 64), (64, 128)),  # G's and D's channels as the dcgan presets (pytorch/examples' ratios)
    "half": ((64, 32), (32, 64)),  # the images-cpu profile's
    "tiny": ((8, 4), (4, 8)),  # for tests: the machinery only
}
CURVES = ("both_win_share", "gap", "frechet_distance")
SMOOTHING_LOGS = 5  # logs each curve is averaged over: the median of a few seeds at one log is noisy
# Below these a change between two logs is noise: one seed of four for the share; the report's floors otherwise.
CURVE_FLOORS = {
    "both_win_share": 0.25,
    "gap": MOVING_FLOORS["gap"],
    "frechet_distance": MOVING_FLOORS["frechet_distance"],
}


class ConvergenceSettings(NamedTuple):
    """The long runs: how many seeds, steps, logs and which batch."""

    seeds: int = 4
    steps: int = 4000
    log_every: int = 100
    batch_size: int = 64
    metric_samples: int = 512


TINY = ConvergenceSettings(seeds=2, steps=8, log_every=2, batch_size=16, metric_samples=32)


def tiny_plan(settings: ConvergenceSettings) -> list[Cell]:
    """Two cells in seconds, for tests: no meaningful numbers."""
    data = DataConfig("digits", 256)
    return [convergence_cell(p, data, "digits", "tiny", settings) for p in ("dcgan-running", "dcgan-fix")]


def convergence_cell(preset: str, data: DataConfig, label: str, widths: str, settings: ConvergenceSettings) -> Cell:
    """`preset` on `data` (called `label` in the cell's key) at `widths` (a key of WIDTHS), trained long.

    Every cell steps in the blog's order (G, then D; `presets.images.BLOG_ORDER`), the order of all
    the study's strategies but the two codebase presets, whose order is a question of its own
    (`image_strategies`): those are named `-blog-order`.
    """
    config = get_preset(preset).config
    blog_order = dataclasses.replace(config.strategy, **BLOG_ORDER)
    name = preset if blog_order == config.strategy else f"{preset}-blog-order"
    g_channels, d_channels = WIDTHS[widths]
    config = dataclasses.replace(
        config,
        data=data,
        steps=settings.steps,
        log_every=settings.log_every,
        batch_size=settings.batch_size,
        metric_samples=settings.metric_samples,
        generator=dataclasses.replace(config.generator, channels=g_channels),
        discriminator=dataclasses.replace(config.discriminator, channels=d_channels),
        strategy=blog_order,
    ).validate()
    return Cell(f"{name}-{widths}-widths", label, config)


def curves(result: CellResult, config: Config) -> dict[str, np.ndarray]:
    """The three curves of a cell, one value per log: double-win share, median gap, median Frechet distance,
    each averaged over the last SMOOTHING_LOGS logs."""
    history = result.history
    raw = {
        "both_win_share": np.mean(np.asarray(history.both_win, dtype=float), axis=0),
        "gap": np.nanmedian(consistency_gap(history, config), axis=0),
        "frechet_distance": np.nanmedian(np.asarray(history.frechet_distance, dtype=float), axis=0),
    }
    return {name: trailing_mean(curve, SMOOTHING_LOGS) for name, curve in raw.items()}


def trailing_mean(curve: np.ndarray, span: int) -> np.ndarray:
    """Each value averaged with the up to `span - 1` values before it."""
    sums = np.cumsum(np.concatenate([[0.0], np.asarray(curve, dtype=float)]))
    ends = np.arange(1, len(curve) + 1)
    starts = np.maximum(0, ends - span)
    return (sums[ends] - sums[starts]) / (ends - starts)


def settled_at(curve: np.ndarray, floor: float) -> int | None:
    """The first log index t from which the curve cut at t, and at every later log, is not still moving.

    None when the curve still moves at its last log: the run was too short to say.
    """
    curve = np.asarray(curve, dtype=float)
    moving = [still_moving(curve[: t + 1], floor) for t in range(curve.size)]
    if moving[-1]:
        return None
    last_moving = max((t for t, m in enumerate(moving) if m), default=-1)
    return last_moving + 1


def settle_steps(result: CellResult, config: Config) -> dict[str, int | None]:
    """Per curve, the step it settled by (None: still moving at the end of the run)."""
    steps = log_steps(config)
    found = {}
    for name, curve in curves(result, config).items():
        t = settled_at(curve, CURVE_FLOORS[name])
        found[name] = None if t is None else int(steps[t])
    return found


def curve_budget(settled: Sequence[dict[str, int | None]], curve: str) -> tuple[int | None, int]:
    """Over cells' settle steps (`settle_steps`): the latest step by which `curve` settled where it did (None if
    nowhere), and in how many cells it still moved at the end."""
    steps = [found[curve] for found in settled if found[curve] is not None]
    return (max(steps) if steps else None), len(settled) - len(steps)


def convergence_plan(settings: ConvergenceSettings) -> list[Cell]:
    """The long runs, in the order they answer most: the four blog strategies at the profile's widths on
    digits, the presets' widths and 16x16 shapes where the double win forms (running, fix), then the rest."""
    half, presets = "half", "presets"
    plan = [
        *((p, DIGITS, "digits", half) for p in ("dcgan-running", "dcgan-fix", "dcgan-split", "dcgan-joint")),
        ("dcgan-running", DIGITS, "digits", presets),
        *((p, SHAPES_16, "shapes16", half) for p in ("dcgan-running", "dcgan-fix")),
        *((p, DIGITS, "digits", half) for p in ("dcgan-joint-g-step", "dcgan-standing")),
        ("dcgan-split", SHAPES_16, "shapes16", half),
        ("dcgan-fix", DIGITS, "digits", presets),
    ]
    return [convergence_cell(preset, data, label, widths, settings) for preset, data, label, widths in plan]


def curve_figure(results: dict[str, CellResult], cells: dict[str, Cell], path: Path) -> None:
    """One row per (data set, widths), one column per curve; a line per strategy, each curve's settle step marked."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key, cell in cells.items():
        if key in results:
            groups.setdefault((cell.dataset, cell.variant.split("-")[-2]), []).append(key)
    fig = new_figure(4.2 * len(CURVES), 2.8 * max(1, len(groups)))
    for row, ((dataset, widths), keys) in enumerate(groups.items()):
        for col, name in enumerate(CURVES):
            ax = fig.add_subplot(len(groups), len(CURVES), row * len(CURVES) + col + 1)
            for i, key in enumerate(keys):
                config = cells[key].config
                steps, curve = log_steps(config), curves(results[key], config)[name]
                strategy = cells[key].variant.removesuffix(f"-{widths}-widths")
                ax.plot(steps, curve, color=f"C{i}", lw=1.2, label=strategy)
                settled = settle_steps(results[key], config)[name]
                if settled is not None:
                    ax.axvline(settled, color=f"C{i}", ls=":", lw=0.8)
            ax.set_title(f"{dataset}, {widths} widths: {name.replace('_', ' ')}", fontsize=8)
            ax.set_xlabel("step", fontsize=7)
            ax.tick_params(labelsize=7)
            if name == "gap":
                ax.set_yscale("symlog", linthresh=1e-3)
            if col == 0:
                ax.legend(fontsize=6)
    save_figure(fig, path)


def convergence_table(results: dict[str, CellResult], cells: dict[str, Cell]) -> list[str]:
    """Markdown rows: per cell, the step each curve settled by and its last value."""
    rows = ["| cell | seeds | " + " | ".join(f"{c} settled by (last value)" for c in CURVES) + " |"]
    rows.append("|" + " --- |" * (2 + len(CURVES)))
    for key, cell in cells.items():
        if key not in results:
            rows.append(f"| {key} | not trained |" + " |" * len(CURVES))
            continue
        settled, values = settle_steps(results[key], cell.config), curves(results[key], cell.config)
        entries = [
            f"{'still moving' if settled[c] is None else f'step {settled[c]}'} ({values[c][-1]:.3g})" for c in CURVES
        ]
        rows.append(f"| {key} | {results[key].meta['seeds']} | " + " | ".join(entries) + " |")
    return rows


def budget_lines(results: dict[str, CellResult], cells: dict[str, Cell]) -> list[str]:
    """Per (data set, widths) and curve: the latest step by which the strategies' curves settled, and how many
    still moved at the end of their runs."""
    groups: dict[tuple[str, str], list[dict[str, int | None]]] = {}
    for key, cell in cells.items():
        if key in results:
            groups.setdefault((cell.dataset, cell.variant.split("-")[-2]), []).append(
                settle_steps(results[key], cell.config)
            )
    lines = []
    for (dataset, widths), settled in groups.items():
        parts = []
        for curve in CURVES:
            latest, moving = curve_budget(settled, curve)
            settled_in = len(settled) - moving
            part = f"{curve} settled by step {latest} in {settled_in}" if latest else f"{curve} settled in none"
            parts.append(part + (f", still moving in {moving}" if moving else ""))
        count = f"{len(settled)} strateg{'y' if len(settled) == 1 else 'ies'}"
        lines.append(f"- {dataset}, {widths} widths ({count}): {'; '.join(parts)}.")
    return lines


REPORT_TEXT = (
    "How long the image study must train. Each cell is one `dcgan-*` preset, stepping in the blog's order (G's"
    " step, then D's; `dcgan-split` and `dcgan-running`, whose presets follow their codebases' order, run here as"
    " their `-blog-order` twins), trained {steps} steps with metrics every {log_every}, {seeds} seeds, at the"
    " presets' DCGAN widths (G {presets_g}, D {presets_d}) or the `images-cpu` profile's half widths (G {half_g},"
    " D {half_d}). Three curves are read per cell: the share of seeds where both players win (D's loss below half"
    " of G's), the median consistency gap (|D's loss on the fakes in G's view - in its own view|) and the median"
    " Frechet distance, each averaged over its last {span} logs (a single log of {seeds} seeds is noisy). A curve"
    " has settled by step T when, cut at T and at every later log, its last fifth of logs moves by no more than"
    " 10% of its value or by no more than the floor below which a change is noise ({floors}): the rule that marks"
    " the report's verdicts as still moving. A profile's steps are chosen at or past the latest settle step of the"
    " cells its claims read."
)


def write_convergence_report(out: Path, command: str, results: dict[str, CellResult], cells: dict[str, Cell]) -> Path:
    """report.md and curves.png in `out` from the cells trained so far."""
    settings = next(iter(cells.values())).config
    curve_figure(results, cells, out / "curves.png")
    floors = ", ".join(f"{name} {floor:g}" for name, floor in CURVE_FLOORS.items())
    text = REPORT_TEXT.format(
        span=SMOOTHING_LOGS,
        steps=settings.steps,
        log_every=settings.log_every,
        seeds=next(iter(results.values())).meta["seeds"] if results else "-",
        presets_g=WIDTHS["presets"][0],
        presets_d=WIDTHS["presets"][1],
        half_g=WIDTHS["half"][0],
        half_d=WIDTHS["half"][1],
        floors=floors,
    )
    lines = [
        "# Image study: when the regimes form and the curves settle",
        "",
        f"- Command: `{command}`",
        f"- Cells trained by: {cells_commit_text(results) if results else '-'}; report drawn at {git_revision()}.",
        f"- Device: {device_text()}.",
        "",
        text,
        "",
        "## Budgets",
        "",
        *budget_lines(results, cells),
        "",
        "## Per cell",
        "",
        *convergence_table(results, cells),
        "",
        "![curves](curves.png)",
        "",
    ]
    path = out / "report.md"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    return path


def parse_args(argv: Sequence[str], prog: str) -> argparse.Namespace:
    """The command line of `convergence_main`."""
    parser = StrictParser(prog=prog, description="Long image runs per strategy: when do the regimes form?")
    parser.add_argument("--out", default="experiments/results-convergence", help="output directory")
    parser.add_argument("--tiny", action="store_true", help="two short cells at tiny widths: the machinery only")
    add_report_only(parser)
    compile_cache.add_argument(parser)
    return parser.parse_args(argv)


def convergence_main(argv: Sequence[str] | None = None, prog: str = "python experiments/image_convergence.py") -> int:
    """Train the convergence cells not yet in --out, then write report.md and curves.png; 0, 2 on bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    use_tuned_xla_flags()
    git_revision()  # the code this process imported, before anything trains
    try:
        args = parse_args(argv, prog)
        compile_cache.enable(args.compile_cache)
        settings = TINY if args.tiny else ConvergenceSettings()
        plan = tiny_plan(settings) if args.tiny else convergence_plan(settings)
        out, command = Path(args.out), shlex.join([*shlex.split(prog), *argv])
        with rundir.owned(out, command):
            results, _ = train_cells(plan, out, lambda cell: settings.seeds, 0, train=not args.report_only)
            report = write_convergence_report(out, command, results, {cell.key: cell for cell in plan})
    except ConfigError as error:
        return fail(prog, error)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished cells are saved, the same command resumes", file=sys.stderr)
        return 130
    print(f"report: {report}", file=sys.stderr)
    return 0
