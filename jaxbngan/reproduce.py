"""Reproduce the blog section by section over many seeds; write a report that gives each claim a verdict.

    python experiments/reproduce.py --quick --out runs/quick        # or: jaxbngan reproduce --quick ...

Each section of the blog is one script in `experiments/` that defines an `Experiment`: the variants
it trains (presets, or presets with a few fields changed), the claims it tests (conditions from
`jaxbngan.verdicts`) and the figures it shows. A cell is one variant on one data set, trained for
every seed from the same seed keys; cells that several sections need run once. Each finished cell is
written to OUT/cells/ at once, so an interrupted run resumes where it stopped. The report (Markdown
and PNG figures) and verdicts.json are rewritten from the cells at the end of every invocation.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jaxbngan import driver, plots, rundir, verdicts
from jaxbngan.config import Config, ConfigError, DataConfig, to_dict
from jaxbngan.data import make_population
from jaxbngan.metrics import VIEWS, Metrics, energy_distance
from jaxbngan.presets import get_preset, with_overrides
from jaxbngan.rundir import aggregate, atomic_path
from jaxbngan.sharding import seed_devices
from jaxbngan.tuning import cpu_cores, use_tuned_xla_flags
from jaxbngan.verdicts import CLOSE_SHIFT, VERDICTS, Condition, Judgement, SeedNumbers, judge, overall

# The report's order: the blog's sections, then the experiments beyond it (scripts in experiments/).
SECTIONS = (
    "baseline",
    "bn_split",
    "shift",
    "joint_batches",
    "running_stats",
    "fix",
    "alternatives",
    "moment_matching",
    "running_average_lag",
    "other_norms",
    "zero_loss_claims",
)
SAMPLE_ROWS = 512  # fakes kept per seed for the scatter grids (noise is i.i.d.: a prefix is a random sample)
SAMPLE_SEEDS = 16  # seeds whose fakes are kept
FIGURE_DPI = 80
VERDICT_COLORS = {"reproduced": "#4caf50", "partly": "#ffb74d", "not reproduced": "#e57373", "untestable": "#bdbdbd"}
NOT_RUN = "-"  # a claim on a data set its experiment does not use


# -- what an experiment declares ---------------------------------------------------------------------


class Variant(NamedTuple):
    """A named config; the profile supplies its data set, steps and logging."""

    name: str
    config: Config


def preset(name: str) -> Variant:
    """The preset `name` as a variant."""
    return Variant(name, get_preset(name).config)


def derived(name: str, base: str, **changes) -> Variant:
    """Preset `base` with changes: a dict replaces fields of that section, anything else a top-level field."""
    config = get_preset(base).config
    sections = {key: value for key, value in changes.items() if isinstance(value, dict)}
    fields = {key: value for key, value in changes.items() if not isinstance(value, dict)}
    return Variant(name, dataclasses.replace(with_overrides(config, **sections), **fields))


class Claim(NamedTuple):
    """One statement tested seed by seed; see `jaxbngan.verdicts` for the rule."""

    statement: str  # what is tested, in our words
    blog: str  # the source's words and numbers
    variants: tuple[str, ...]  # the cells its conditions read, as {0}, {1}, ...
    main: Condition
    sides: tuple[Condition, ...] = ()
    presupposes: Condition | None = None


PLOT_KINDS = ("samples", "losses", "views", "offsets", "gaps", "both-win")


class Plot(NamedTuple):
    """A figure of the report: `kind` is samples, losses, views, offsets, gaps or both-win."""

    kind: str
    variants: tuple[str, ...]
    measure: str = "x_offset"  # for offsets: x_offset or displacement


def samples(variant: str) -> Plot:
    """The blog's figure: real data and fakes, one panel per seed (first data set)."""
    return Plot("samples", (variant,))


def losses(variant: str) -> Plot:
    """G and D loss over training with seed bands (first data set)."""
    return Plot("losses", (variant,))


def views(variant: str) -> Plot:
    """D's loss on the fakes under each normalization view, and where both win (first data set)."""
    return Plot("views", (variant,))


def offsets(*variants: str, measure: str = "x_offset") -> Plot:
    """Histograms over seeds of the fakes' offset, per data set."""
    return Plot("offsets", variants, measure)


def gaps(*variants: str) -> Plot:
    """Median consistency gap over training, per data set."""
    return Plot("gaps", variants)


def both_win_rates(*variants: str) -> Plot:
    """Share of seeds ending with both players winning, per data set."""
    return Plot("both-win", variants)


class Experiment(NamedTuple):
    """One section: what it trains, what it claims and what it shows."""

    name: str  # its script, experiments/<name>.py
    section: str  # the blog's section title, or what the experiment adds
    summary: str  # what is trained and why, for the report
    variants: tuple[Variant, ...]
    claims: tuple[Claim, ...]
    plots: tuple[Plot, ...]
    beyond_blog: bool = False


# -- profiles and cells ------------------------------------------------------------------------------


class Profile(NamedTuple):
    """How much to run: seeds per cell, steps, and the data sets of the blog's and the other sections."""

    name: str
    seeds: int
    steps: int
    log_every: int
    data_size: int
    datasets: tuple[str, ...]
    beyond_datasets: tuple[str, ...]


PROFILES = {
    # Default, meant for a GPU: every verdict on three data sets, 64 seeds each.
    "full": Profile("full", 64, 2000, 50, 2048, ("ring8", "moons", "grid25"), ("ring8", "moons", "grid25")),
    # Under 30 minutes on a 2-core CPU: the blog's setting, 6 seeds, ring8 and moons for the blog's sections.
    "quick": Profile("quick", 6, 2000, 50, 2048, ("ring8", "moons"), ("ring8",)),
    # For tests: every code path, no meaningful numbers.
    "tiny": Profile("tiny", 2, 20, 10, 256, ("ring8", "moons"), ("ring8",)),
}


class Cell(NamedTuple):
    """One variant on one data set, for every seed of the profile."""

    variant: str
    dataset: str
    config: Config

    @property
    def key(self) -> str:
        """`variant@dataset`: the cell's name in the output directory and in the report."""
        return f"{self.variant}@{self.dataset}"


class CellResult(NamedTuple):
    """What a finished cell keeps: per-seed histories, some fakes, and how it was made."""

    history: Metrics  # numpy leaves, (seeds, logs, ...)
    samples: np.ndarray  # (kept seeds, SAMPLE_ROWS, d): final fakes as D sees them
    meta: dict


def datasets_of(experiment: Experiment, profile: Profile) -> tuple[str, ...]:
    """The data sets an experiment runs on under `profile`."""
    return profile.beyond_datasets if experiment.beyond_blog else profile.datasets


def cell_config(config: Config, dataset: str, profile: Profile) -> Config:
    """`config` on `dataset` with the profile's population size, steps and logging."""
    return dataclasses.replace(
        config,
        data=DataConfig(name=dataset, size=profile.data_size),
        steps=profile.steps,
        log_every=profile.log_every,
        reference_size=min(config.reference_size, profile.data_size),
    ).validate()


def plan_cells(experiments: Sequence[Experiment], profile: Profile) -> list[Cell]:
    """Every distinct cell the experiments need, in report order; one name must mean one config."""
    cells: dict[str, Cell] = {}
    for experiment in experiments:
        check_experiment(experiment)
        for variant in experiment.variants:
            for dataset in datasets_of(experiment, profile):
                cell = Cell(variant.name, dataset, cell_config(variant.config, dataset, profile))
                known = cells.setdefault(cell.key, cell)
                if known.config != cell.config:
                    raise ConfigError(f"variant {variant.name!r} is declared twice with different configs")
    return list(cells.values())


def check_experiment(experiment: Experiment) -> None:
    """Catch a mistake in an experiment's declaration before anything trains, not after."""
    names = {v.name for v in experiment.variants}
    used = [n for claim in experiment.claims for n in claim.variants] + [
        n for p in experiment.plots for n in p.variants
    ]
    for name in used:
        if name not in names:
            raise ConfigError(f"experiment {experiment.name}: variant {name!r} is used but not declared")
    for claim in experiment.claims:
        for condition in (claim.main, *claim.sides, *([claim.presupposes] if claim.presupposes else [])):
            try:
                condition.text.format(*claim.variants)
            except IndexError:
                raise ConfigError(
                    f"experiment {experiment.name}: condition {condition.text!r} reads a variant the claim lacks"
                ) from None
    for plot in experiment.plots:
        if plot.kind not in PLOT_KINDS:
            raise ConfigError(f"experiment {experiment.name}: unknown plot kind {plot.kind!r}")


def cell_path(out: Path, cell: Cell) -> Path:
    """Where a finished cell is saved."""
    return out / "cells" / f"{cell.key}.npz"


def run_cell(cell: Cell, seeds: int, seed: int, work: Path, report_block) -> CellResult:
    """Train every seed of a cell with the run driver, and keep what the report needs.

    The driver spreads the seeds over the devices and checkpoints into the run directory `work`,
    so a cell stopped halfway continues from its last checkpoint; `work` is deleted once the cell
    is saved. `report_block(seeds_done, seconds)` hears of each chunk; seeds_done counts part-trained
    seeds by their share of the steps.
    """
    start = time.perf_counter()
    population = np.asarray(make_population(cell.config.data))
    devices = seed_devices(seeds=seeds)
    spec = json.loads(json.dumps({"config": to_dict(cell.config), "seeds": seeds, "seed": seed}))  # as stored
    if rundir.is_run_dir(work):
        saved = rundir.read_spec(work)
        if {key: saved.get(key) for key in spec} != spec or saved["layout"]["devices"] != len(devices):
            rundir.remove(work)  # left by another profile, seed or device count: start the cell afresh
    if rundir.is_run_dir(work):
        layout = driver.Layout(**rundir.read_spec(work)["layout"])
    else:
        layout = driver.plan_layout(cell.config, seeds, devices, driver.sample_shape(population))
        rundir.create(work, {**spec, "layout": dataclasses.asdict(layout)}, population)
    steps = cell.config.steps
    progress = _CellProgress(lambda done: report_block(done / steps, time.perf_counter() - start))
    driver.train(work, cell.config, layout, devices, seed=seed, progress=progress)
    results = rundir.load(work)
    meta = {
        "config": to_dict(cell.config),
        "seeds": seeds,
        "seed": seed,
        "wall_s": time.perf_counter() - start,
        "device": device_text(),
    }
    fakes = results.fakes[:SAMPLE_SEEDS, :SAMPLE_ROWS].astype(np.float16)
    return CellResult(results.history, fakes, meta)


class _CellProgress:
    """The driver's progress interface, passed on as seed counts."""

    def __init__(self, report: Callable[[int], None]):
        self.report = report

    def update(self, seed_steps: int, note: str) -> None:
        self.report(seed_steps)


def save_cell(path: Path, result: CellResult) -> None:
    """Write a cell atomically (compressed npz; meta as a JSON string)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"history.{name}": np.asarray(value) for name, value in result.history._asdict().items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, samples=result.samples, meta=np.array(json.dumps(result.meta)), **arrays)


def load_cell(path: Path, cell: Cell, seeds: int, seed: int) -> CellResult | None:
    """A saved cell, None if there is none; ConfigError if it was made with another config or seeds."""
    if not path.is_file():
        return None
    expected = (json.loads(json.dumps(to_dict(cell.config))), seeds, seed)  # as JSON stores it
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        if (meta["config"], meta["seeds"], meta["seed"]) != expected:
            raise ConfigError(
                f"{path} was made with another config or seeds than this run's {cell.key}; "
                "use another --out or delete that file"
            )
        history = Metrics(**{name: saved[f"history.{name}"] for name in Metrics._fields})
        return CellResult(history, saved["samples"], meta)


class Progress:
    """Cells done / total and an ETA on stderr, one line per block of seeds."""

    def __init__(self, total: int, to_run: int):
        self.total, self.to_run, self.done, self.ran, self.spent = total, to_run, total - to_run, 0, 0.0

    def block(self, cell: Cell, seeds_done: float, seeds: int, elapsed: float) -> None:
        ran = self.ran + seeds_done / seeds
        eta = _duration((self.spent + elapsed) / ran * (self.to_run - ran)) if ran > 0 else "?"
        print(
            f"[{self.done + 1}/{self.total}] {cell.key}: {seeds_done:.1f}/{seeds} seeds, {elapsed:.0f} s"
            f" | about {eta} left",
            file=sys.stderr,
            flush=True,
        )

    def finished(self, elapsed: float) -> None:
        self.done, self.ran, self.spent = self.done + 1, self.ran + 1, self.spent + elapsed


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


# -- numbers -----------------------------------------------------------------------------------------


def consistency_gap(history: Metrics, config: Config) -> np.ndarray:
    """(seeds, logs): |D's loss on the fakes in G's view - in D's own view| (split D step: fake view)."""
    own = "fake" if config.strategy.d_batch == "split" else "joint"
    by_view = np.asarray(history.d_fake_loss_by_view, dtype=float)
    return np.abs(by_view[..., VIEWS.index(config.strategy.g_view)] - by_view[..., VIEWS.index(own)])


class DataStats(NamedTuple):
    """What the numbers of every cell of one data set are measured against."""

    population: np.ndarray
    std: np.ndarray  # (d,)
    energy_reference: float  # energy distance of the data moved CLOSE_SHIFT std along x


def data_stats(config: DataConfig) -> DataStats:
    """The population of a data set and the yardsticks derived from it."""
    population = np.asarray(make_population(config))
    std = population.std(axis=0)
    sample = jnp.asarray(population[:512])
    moved = sample + jnp.asarray([[CLOSE_SHIFT * std[0]] + [0.0] * (population.shape[1] - 1)], dtype=sample.dtype)
    return DataStats(population, std, float(energy_distance(moved, sample)))


def seed_numbers(result: CellResult, config: Config, stats: DataStats) -> SeedNumbers:
    """The final per-seed numbers of a cell, in the units the verdict rules use."""
    last = jax.tree.map(lambda x: np.asarray(x[:, -1], dtype=float), result.history)
    relative = last.offset / stats.std[None]
    gap = consistency_gap(result.history, config)
    return SeedNumbers(
        g_loss=last.g_loss,
        d_loss=last.d_loss,
        x_offset=relative[:, 0],
        displacement=np.linalg.norm(relative, axis=1),
        energy_distance=last.energy_distance,
        energy_reference=stats.energy_reference,
        both_win=np.asarray(result.history.both_win)[:, -1].astype(bool),
        gap=gap[:, -1],
        mean_gap=gap.mean(axis=1),
    )


# -- figures of the report ---------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=FIGURE_DPI)


def offset_histograms(values: dict[str, dict[str, np.ndarray]], path: Path, *, measure: str) -> None:
    """One panel per data set; one histogram over seeds per variant; x-offsets with the shift thresholds dashed."""
    datasets = list(next(iter(values.values())))
    fig = _figure(4.2 * len(datasets), 3.2)
    for i, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), i + 1)
        lines = (-verdicts.SHIFT, verdicts.SHIFT) if measure == "x_offset" else ()
        finite = np.concatenate([v[dataset][np.isfinite(v[dataset])] for v in values.values()] + [[0.0, *lines]])
        bins = np.linspace(finite.min() - 0.1, finite.max() + 0.1, 30)
        for j, (variant, by_dataset) in enumerate(values.items()):
            ax.hist(by_dataset[dataset], bins=bins, alpha=0.55, color=f"C{j}", label=variant)
        for line in lines:
            ax.axvline(line, color="0.3", linestyle="--", linewidth=1)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("x-offset (std of real x)" if measure == "x_offset" else "offset norm (std units)", fontsize=8)
        ax.set_ylabel("seeds", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    _save(fig, path)


def gap_curves(curves: dict[str, dict[str, np.ndarray]], steps: np.ndarray, path: Path) -> None:
    """Median and interquartile band over seeds of the consistency gap during training, per data set."""
    datasets = list(next(iter(curves.values())))
    fig = _figure(4.2 * len(datasets), 3.2)
    for i, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), i + 1)
        for j, (variant, by_dataset) in enumerate(curves.items()):
            low, median, high = np.nanpercentile(by_dataset[dataset], [25, 50, 75], axis=0)
            ax.plot(steps, median, color=f"C{j}", label=variant)
            ax.fill_between(steps, low, high, color=f"C{j}", alpha=0.2, linewidth=0)
        ax.axhline(verdicts.GAP, color="0.3", linestyle="--", linewidth=1)
        ax.set_yscale("symlog", linthresh=1e-3)  # a gap of exactly 0 (no BN) stays on the axis
        ax.set_ylim(bottom=0.0)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("consistency gap", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    _save(fig, path)


def both_win_bars(rates: dict[str, dict[str, float]], path: Path) -> None:
    """Share of seeds ending with both players winning: one group of bars per variant, one bar per data set."""
    variants = list(rates)
    datasets = list(rates[variants[0]])
    fig = _figure(max(5.0, 0.8 * len(variants) * len(datasets)), 3.4)
    ax = fig.add_subplot()
    width = 0.8 / len(datasets)
    for j, dataset in enumerate(datasets):
        positions = np.arange(len(variants)) + (j - (len(datasets) - 1) / 2) * width
        ax.bar(positions, [rates[v][dataset] for v in variants], width, label=dataset, color=f"C{j}")
    ax.set_xticks(np.arange(len(variants)), variants, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("seeds where both win", fontsize=8)
    ax.legend(fontsize=7)
    _save(fig, path)


def verdict_grid(labels: list[str], datasets: list[str], verdicts: list[list[str]], path: Path) -> None:
    """Claims down, data sets (and the overall verdict) across, coloured by verdict."""
    columns = [*datasets, "overall"]
    label_width = 0.06 * max(len(label) for label in labels)  # inches at font size 7
    fig = _figure(label_width + 1.1 * len(columns), 0.9 + 0.28 * len(labels))
    ax = fig.add_subplot()
    for row, cells in enumerate(verdicts):
        for col, verdict in enumerate(cells):
            color = VERDICT_COLORS.get(verdict, "white")
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=color, edgecolor="white", linewidth=2))
            ax.text(col + 0.5, row + 0.5, verdict, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(labels), 0)
    ax.set_xticks(np.arange(len(columns)) + 0.5, columns, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(labels)) + 0.5, labels, fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    _save(fig, path)


# -- the report --------------------------------------------------------------------------------------


class Judged(NamedTuple):
    """A claim with its judgement on each data set."""

    number: str  # "3.1"
    claim: Claim
    by_dataset: dict[str, Judgement]
    verdict: str


def _spread(values: np.ndarray, digits: int = 2) -> str:
    stats = aggregate(values)
    if stats["seeds"] == 0:
        return "n/a"
    median, q25, q75 = (f"{stats[k]:.{digits}f}" for k in ("median", "q25", "q75"))
    return f"{median} [{q25}, {q75}]"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _filled(text: str, variants: Sequence[str]) -> str:
    return text.format(*(f"`{v}`" for v in variants))


def judge_claim(claim: Claim, numbers: dict[str, SeedNumbers]) -> Judgement:
    """Evaluate a claim's conditions on the cells of one data set and apply the verdict rule."""
    cells = [numbers[v] for v in claim.variants]
    presupposed = claim.presupposes.test(*cells) if claim.presupposes else None
    return judge(claim.main.test(*cells), [side.test(*cells) for side in claim.sides], presupposed)


def numbers_table(experiment: Experiment, datasets: Sequence[str], numbers: dict[str, SeedNumbers]) -> list[str]:
    """Median [interquartile range] over seeds of the final numbers of every cell of an experiment."""
    lines = [
        "| variant | data | G loss | D loss | x-offset (std) | offset norm (std) | energy dist. | gap | both win |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant in experiment.variants:
        for dataset in datasets:
            n = numbers[f"{variant.name}@{dataset}"]
            diverged = int(np.sum(~np.isfinite(n.g_loss) | ~np.isfinite(n.d_loss)))
            note = f" ({diverged} diverged)" if diverged else ""
            of_fakes = [_spread(n.x_offset), _spread(n.displacement), _spread(n.energy_distance, 3), _spread(n.gap, 3)]
            row = [f"`{variant.name}`", dataset, _spread(n.g_loss), _spread(n.d_loss, 3), *of_fakes]
            lines.append("| " + " | ".join(row) + f" | {_percent(np.mean(n.both_win))}{note} |")
    return lines


def claim_lines(judged: Judged, datasets: Sequence[str], seeds: int) -> list[str]:
    """A claim's statement, the blog's words, its rule and its verdict per data set."""
    claim = judged.claim
    conditions = [claim.main, *claim.sides]
    rule = "; ".join(
        [f"**{_filled(claim.main.text, claim.variants)}** (main)"]
        + [_filled(side.text, claim.variants) for side in claim.sides]
    )
    lines = [
        f"### {judged.number} {claim.statement} — **{judged.verdict}**",
        "",
        f"- Source: {claim.blog}",
        f"- A seed supports the claim when: {rule}.",
    ]
    if claim.presupposes:
        presupposition = _filled(claim.presupposes.text, claim.variants)
        lines.append(f"- Testable only where this holds in at least half the seeds: {presupposition}.")
    header = ["data", "verdict", "seeds supporting"] + [f"cond. {i + 1}" for i in range(len(conditions))]
    if claim.presupposes:
        header.append("presupposition")
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for dataset in datasets:
        j = judged.by_dataset[dataset]
        row = [dataset, j.verdict, f"{round(j.support * seeds)}/{seeds} ({_percent(j.support)})"]
        row += [_percent(share) for share in j.shares]
        if claim.presupposes:
            row.append(_percent(j.presupposition))
        lines.append("| " + " | ".join(row) + " |")
    legend = ", ".join(f"cond. {i + 1}: {_filled(c.text, claim.variants)}" for i, c in enumerate(conditions))
    return [*lines, "", f"<sub>Share of seeds per condition ({legend}).</sub>", ""]


class Invocation(NamedTuple):
    """How this report was made, for its header."""

    command: str
    profile: Profile
    seed: int
    wall: float  # seconds this invocation took
    trained: int  # cells it trained; the others were loaded


def header_lines(run: Invocation, experiments: Sequence[Experiment], cells: dict[str, CellResult]) -> list[str]:
    """The report header: how it was made."""
    profile, seed = run.profile, run.seed
    blog_sets = dict.fromkeys(d for e in experiments if not e.beyond_blog for d in datasets_of(e, profile))
    beyond_sets = dict.fromkeys(d for e in experiments if e.beyond_blog for d in datasets_of(e, profile))
    compute = sum(c.meta["wall_s"] for c in cells.values())
    data_line = f"{', '.join(blog_sets) or '-'} (blog sections); {', '.join(beyond_sets) or '-'} (beyond the blog)"
    return [
        "# Batch normalization in GANs: the blog's claims over many seeds",
        "",
        f"- Command: `{run.command}`",
        f"- Profile: `{profile.name}`: **{profile.seeds} seeds per cell** (keys `seed_keys({seed}, {profile.seeds})`,"
        f" the same for every variant), {profile.steps} steps, batch = the whole population of {profile.data_size}"
        f" samples unless a variant says otherwise, metrics every {profile.log_every} steps.",
        f"- Data sets: {data_line}.",
        f"- Versions: {versions_text()}.",
        f"- Device: {device_text()}.",
        f"- Wall time: {_duration(run.wall)} for this invocation (it trained {run.trained} of {len(cells)} cells);"
        f" {_duration(compute)} of training in all (each cell's wall time, compilation included, summed over"
        " the invocations that trained them).",
        "",
    ]


RULES_TEXT = f"""## How to read this report

Each claim is tested on every seed. A seed supports a claim when the claim's conditions all hold
for it; the first condition is the claim's main effect, the others are what the source says comes
with it. **Reproduced**: at least 75% of seeds support it. **Partly**: at least 50% do, or the main
effect alone holds in at least 75%. **Not reproduced**: otherwise. **Untestable**: the claim
presupposes something (a failure to cure) that holds in fewer than half the seeds. The overall
verdict over data sets is the common verdict when they agree and "partly" when they do not. The
rules live in `jaxbngan/verdicts.py`.

Numbers are medians over seeds with the interquartile range in brackets. G loss is D's binary
cross-entropy on the fakes in G's view of D (the blog's "G loss"), D loss is D's own objective;
ln 2 = 0.693 is the equilibrium. Offsets are the mean of the fakes minus the mean of the data, in
standard deviations of the data along each axis. "Close to the data" means an energy distance
smaller than that of the data moved {CLOSE_SHIFT} standard deviations along x. The consistency gap is
|D's loss on the same fakes in G's view - in D's own view|: nonzero when G and D play different
games. "Both win" marks a seed whose D loss is below half its G loss, impossible in one consistent
zero-sum game.
"""


def write_report(
    out: Path,
    run: Invocation,
    experiments: Sequence[Experiment],
    results: dict[str, CellResult],
    cells: dict[str, Cell],
) -> Path:
    """Draw the figures and write report.md and verdicts.json from finished cells."""
    profile = run.profile
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    stats = {}
    for cell in cells.values():  # every variant of a data set learns the same population
        if cell.dataset not in stats:
            stats[cell.dataset] = data_stats(cell.config.data)
    numbers = {k: seed_numbers(results[k], cells[k].config, stats[cells[k].dataset]) for k in cells}
    judged_all: list[tuple[Experiment, list[Judged]]] = []
    for e_index, experiment in enumerate(experiments, start=1):
        datasets = datasets_of(experiment, profile)
        judged = []
        for c_index, claim in enumerate(experiment.claims, start=1):
            by_dataset = {d: judge_claim(claim, {v: numbers[f"{v}@{d}"] for v in claim.variants}) for d in datasets}
            verdict = overall([j.verdict for j in by_dataset.values()])
            judged.append(Judged(f"{e_index}.{c_index}", claim, by_dataset, verdict))
        judged_all.append((experiment, judged))

    all_datasets = sorted({d for e in experiments for d in datasets_of(e, profile)}, key=_dataset_order(profile))
    labels, grid = [], []
    for _, judged in judged_all:
        for j in judged:
            labels.append(f"{j.number} {_short(j.claim.statement)}")
            grid.append([j.by_dataset[d].verdict if d in j.by_dataset else NOT_RUN for d in all_datasets] + [j.verdict])
    verdict_grid(labels, all_datasets, grid, figures / "verdicts.png")

    lines = header_lines(run, experiments, results)
    lines += ["## Summary", "", "| claim | " + " | ".join(all_datasets) + " | overall |"]
    lines.append("|" + " --- |" * (len(all_datasets) + 2))
    for _, judged in judged_all:
        for j in judged:
            row = [j.by_dataset[d].verdict if d in j.by_dataset else NOT_RUN for d in all_datasets]
            lines.append(f"| {j.number} {j.claim.statement} | " + " | ".join(row) + f" | **{j.verdict}** |")
    counts = {v: sum(j.verdict == v for _, js in judged_all for j in js) for v in VERDICTS}
    lines += ["", "Overall: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".", ""]
    lines += ["![verdicts per claim and data set](figures/verdicts.png)", "", RULES_TEXT]

    for e_index, (experiment, judged) in enumerate(judged_all, start=1):
        datasets = datasets_of(experiment, profile)
        where = "beyond the blog" if experiment.beyond_blog else "blog section"
        lines += [f"## {e_index}. {experiment.section}", "", f"*{where}, `experiments/{experiment.name}.py`*", ""]
        lines += [experiment.summary, ""]
        lines += numbers_table(experiment, datasets, numbers) + [""]
        for j in judged:
            lines += claim_lines(j, datasets, profile.seeds)
        for p_index, plot in enumerate(experiment.plots, start=1):
            path = figures / f"{experiment.name}-{p_index}-{plot.kind}.png"
            draw_plot(plot, path, experiment, datasets, results, cells, numbers, stats)
            lines += [f"![{plot.kind}: {', '.join(plot.variants)}](figures/{path.name})", ""]

    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines).rstrip() + "\n")
    machine_readable = {
        "command": run.command,
        "profile": profile._asdict(),
        "seed": run.seed,
        "claims": [
            {
                "number": j.number,
                "experiment": experiment.name,
                "statement": j.claim.statement,
                "verdict": j.verdict,
                "by_dataset": {d: j.by_dataset[d]._asdict() for d in j.by_dataset},
            }
            for experiment, judged in judged_all
            for j in judged
        ],
    }
    with atomic_path(out / "verdicts.json") as tmp:
        tmp.write_text(json.dumps(machine_readable, indent=2) + "\n")
    return report


def _dataset_order(profile: Profile):
    order = list(dict.fromkeys(profile.datasets + profile.beyond_datasets))
    return lambda d: order.index(d) if d in order else len(order)


def _short(statement: str, width: int = 60) -> str:
    return statement if len(statement) <= width else statement[: width - 1].rstrip() + "…"


def draw_plot(plot: Plot, path: Path, experiment, datasets, results, cells, numbers, stats) -> None:
    """Draw one figure of an experiment into `path`."""
    first = datasets[0]
    if plot.kind in ("samples", "losses", "views"):
        key = f"{plot.variants[0]}@{first}"
        result = results[key]
        title = f"{plot.variants[0]} on {first}"
        if plot.kind == "samples":
            plots.scatter_grid(result.samples, stats[first].population, path, title=title, max_seeds=SAMPLE_SEEDS)
        else:
            draw = plots.loss_curves if plot.kind == "losses" else plots.view_diagnostic
            draw(result.history, log_steps(cells[key].config), path, title=title)
    elif plot.kind == "offsets":
        values = {v: {d: getattr(numbers[f"{v}@{d}"], plot.measure) for d in datasets} for v in plot.variants}
        offset_histograms(values, path, measure=plot.measure)
    elif plot.kind == "gaps":
        curves = {
            v: {d: consistency_gap(results[f"{v}@{d}"].history, cells[f"{v}@{d}"].config) for d in datasets}
            for v in plot.variants
        }
        gap_curves(curves, log_steps(cells[f"{plot.variants[0]}@{first}"].config), path)
    else:  # check_experiment admits no other kind
        both_win_bars(
            {v: {d: float(np.mean(numbers[f"{v}@{d}"].both_win)) for d in datasets} for v in plot.variants}, path
        )


def log_steps(config: Config) -> np.ndarray:
    """The training step of each log."""
    return config.log_every * np.arange(1, config.steps // config.log_every + 1)


# -- provenance --------------------------------------------------------------------------------------


def device_text() -> str:
    """Backend, device kind and count, and CPU cores."""
    devices = jax.devices()
    flags = os.environ.get("XLA_FLAGS", "") or "none"
    kind = f"{devices[0].device_kind} x {len(devices)}"
    return f"{jax.default_backend()} ({kind}), {cpu_cores()} CPU cores, XLA_FLAGS: {flags}"


def versions_text() -> str:
    """Python and library versions, and the git commit of the code when known."""
    names = ("jax", "jaxlib", "flax", "optax", "numpy", "matplotlib")
    parts = [f"Python {platform.python_version()}"] + [f"{n} {importlib.metadata.version(n)}" for n in names]
    return ", ".join(parts + [f"jaxbngan {git_revision()}"])


def git_revision() -> str:
    """The commit of the checkout this module lives in (with '+ local changes' if dirty), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + local changes' if dirty.strip() else ''}"


# -- entry point -------------------------------------------------------------------------------------


def load_experiments(directory: Path, names: Sequence[str]) -> list[Experiment]:
    """Import `EXPERIMENT` from experiments/<name>.py for each name, in report order."""
    experiments = []
    for name in names:
        path = directory / f"{name}.py"
        if not path.is_file():
            raise ConfigError(f"no experiment script {path}; run from the repository root or pass --experiments DIR")
        spec = importlib.util.spec_from_file_location(f"jaxbngan_experiments.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        experiments.append(module.EXPERIMENT)
    return experiments


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are ConfigErrors: one line on stderr and exit code 2, like every user error."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def parse_args(argv: Sequence[str], prog: str, default_out: str, experiments_dir: str) -> argparse.Namespace:
    """The command line of `main`."""
    parser = _Parser(prog=prog, description="Reproduce the blog's claims over many seeds.")
    parser.add_argument("--out", default=default_out, help=f"output directory (default: {default_out})")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="6 seeds, fewer data sets: under 30 min on a 2-core CPU")
    size.add_argument("--tiny", action="store_true", help="2 seeds, 20 steps: checks the machinery, nothing else")
    parser.add_argument("--seeds", type=int, help="seeds per cell (default: the profile's)")
    parser.add_argument("--seed", type=int, default=0, help="integer the seed keys derive from (default: 0)")
    parser.add_argument("--datasets", help="comma-separated data sets for every section (default: the profile's)")
    parser.add_argument("--only", help=f"comma-separated experiments to run, of: {', '.join(SECTIONS)}")
    parser.add_argument("--experiments", default=experiments_dir, help="directory of the experiment scripts")
    return parser.parse_args(argv)


def resolve_profile(args: argparse.Namespace) -> Profile:
    """The profile named by the flags, with --seeds and --datasets applied."""
    profile = PROFILES["quick" if args.quick else "tiny" if args.tiny else "full"]
    if args.seeds is not None:
        if args.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {args.seeds}")
        profile = profile._replace(seeds=args.seeds)
    if args.datasets:
        chosen = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
        for dataset in chosen:
            make_population(DataConfig(name=dataset, size=2))  # ConfigError for an unknown name
        profile = profile._replace(datasets=chosen, beyond_datasets=chosen)
    return profile


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "jaxbngan reproduce",
    experiments: Sequence[Experiment] | None = None,
    experiments_dir: str | os.PathLike = "experiments",
) -> int:
    """Train the cells not yet in --out, then write the report; exit code 0, 2 on bad input, 130 on Ctrl-C."""
    argv = list(sys.argv[1:] if argv is None else argv)
    default_out = f"runs/{experiments[0].name}" if experiments and len(experiments) == 1 else "runs/reproduce"
    use_tuned_xla_flags()
    try:
        args = parse_args(argv, prog, default_out, str(experiments_dir))
        return _reproduce(args, shlex.join([*shlex.split(prog), *argv]), experiments)
    except ConfigError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished cells are saved, the same command resumes", file=sys.stderr)
        return 130


def _reproduce(args: argparse.Namespace, command: str, given: Sequence[Experiment] | None) -> int:
    start = time.perf_counter()
    profile = resolve_profile(args)
    if given is None:
        names = SECTIONS
        if args.only:
            names = tuple(n.strip() for n in args.only.split(",") if n.strip())
            unknown = [n for n in names if n not in SECTIONS]
            if unknown:
                raise ConfigError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
        given = load_experiments(Path(args.experiments), names)
    elif args.only:
        raise ConfigError("--only applies to the whole reproduction, not to one experiment's script")
    cells = plan_cells(given, profile)
    out = Path(args.out)
    results: dict[str, CellResult] = {}
    for cell in cells:
        found = load_cell(cell_path(out, cell), cell, profile.seeds, args.seed)
        if found is not None:
            results[cell.key] = found
    to_run = [cell for cell in cells if cell.key not in results]
    print(
        f"{len(cells)} cells of {profile.seeds} seeds x {profile.steps} steps: {len(results)} already done,"
        f" {len(to_run)} to run; results in {out}",
        file=sys.stderr,
        flush=True,
    )
    progress = Progress(len(cells), len(to_run))
    for cell in to_run:
        path = cell_path(out, cell)
        work = path.with_suffix(".run")
        report_block = lambda done, spent, c=cell: progress.block(c, done, profile.seeds, spent)  # noqa: E731
        result = run_cell(cell, profile.seeds, args.seed, work, report_block)
        save_cell(path, result)
        rundir.remove(work)
        progress.finished(result.meta["wall_s"])
        results[cell.key] = result
    run = Invocation(command, profile, args.seed, time.perf_counter() - start, len(to_run))
    report = write_report(out, run, given, results, {c.key: c for c in cells})
    print(f"report: {report}", file=sys.stderr)
    return 0


def run_alone(experiment: Experiment) -> None:
    """Entry point of one experiment script: `python experiments/<name>.py [--quick|--tiny] [--out DIR]`."""
    sys.exit(main(sys.argv[1:], prog=f"python experiments/{experiment.name}.py", experiments=[experiment]))
