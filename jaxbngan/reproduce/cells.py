"""Cells: one variant on one data set for every seed; planned, trained with the run driver, saved, loaded."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from jaxbngan import driver, rundir
from jaxbngan.classifier import classifier_for
from jaxbngan.config import KNOBS, Config, ConfigError, DataConfig, from_dict, get_field, to_dict
from jaxbngan.data import make_population
from jaxbngan.grid import Grid, point_config
from jaxbngan.metrics import MOMENTS, VIEWS, Metrics
from jaxbngan.reproduce.provenance import device_text, git_revision
from jaxbngan.reproduce.spec import Experiment, Profile, check_experiment, datasets_of
from jaxbngan.rundir import atomic_path
from jaxbngan.seed_layout import Layout, plan_layout, sample_shape
from jaxbngan.sharding import seed_devices
from jaxbngan.sweep import point_rows, sweep_spec

SAMPLE_ROWS = 512  # fakes kept per seed for the scatter grids (noise is i.i.d.: a prefix is a random sample)
SAMPLE_SEEDS = 16  # seeds whose fakes are kept


class Cell(NamedTuple):
    """One variant on one data set, for every seed of the profile."""

    variant: str
    dataset: str
    config: Config
    sweep: str = ""  # cells of one sweep on one data set train as one program (`run_sweep_cells`)

    @property
    def key(self) -> str:
        """`variant@dataset`: the cell's name in the output directory and in the report."""
        return f"{self.variant}@{self.dataset}"


class CellResult(NamedTuple):
    """What a finished cell keeps: per-seed histories, some fakes, and how it was made."""

    history: Metrics  # numpy leaves, (seeds, logs, ...)
    samples: np.ndarray  # (kept seeds, SAMPLE_ROWS, d): final fakes as D sees them
    meta: dict


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
                cell = Cell(variant.name, dataset, cell_config(variant.config, dataset, profile), variant.sweep)
                known = cells.setdefault(cell.key, cell)
                if known.config != cell.config:
                    raise ConfigError(f"variant {variant.name!r} is declared twice with different configs")
    return list(cells.values())


def cell_path(out: Path, cell: Cell) -> Path:
    """Where a finished cell is saved."""
    return out / "cells" / f"{cell.key}.npz"


def run_cell(cell: Cell, seeds: int, seed: int, work: Path, report_block, first_seed: int = 0) -> CellResult:
    """Train every seed of a cell with the run driver, and keep what the report needs.

    The driver spreads the seeds over the devices and checkpoints into the run directory `work`,
    so a cell stopped halfway continues from its last checkpoint; `work` is deleted once the cell
    is saved. `report_block(seeds_done, seconds)` hears of each chunk; seeds_done counts part-trained
    seeds by their share of the steps. With `first_seed` it trains seeds `first_seed` to
    `first_seed + seeds - 1` of the seed keys: a block that `extended` appends to a saved cell.
    """
    return _train_cells([cell], None, seeds, seed, work, report_block, first_seed)[0]


def run_sweep_cells(
    cells: Sequence[Cell], seeds: int, seed: int, work: Path, report_block, first_seed: int = 0
) -> list[CellResult]:
    """Train cells that differ in one knob (`config.KNOBS`) as one sweep program, each with the same seed keys.

    As `run_cell`, for a grid over that knob: `report_block` counts seeds of all the cells together.
    """
    base = cells[0].config
    paths = sorted({path for cell in cells for path in KNOBS if get_field(cell.config, path) != get_field(base, path)})
    if len(paths) != 1:
        raise ConfigError(f"the cells {', '.join(c.key for c in cells)} of one sweep must differ in exactly one knob")
    grid = Grid(((paths[0], tuple(float(get_field(cell.config, paths[0])) for cell in cells)),))
    for cell, point in zip(cells, grid.points(), strict=True):
        if point_config(base, point) != cell.config:
            raise ConfigError(f"{cell.key} differs from {cells[0].key} in more than {paths[0]}")
    return _train_cells(cells, grid, seeds, seed, work, report_block, first_seed)


def _train_cells(
    cells: Sequence[Cell], grid: Grid | None, seeds: int, seed: int, work: Path, report_block, first_seed: int
):
    start = time.perf_counter()
    config = cells[0].config
    members = seeds * len(cells)
    population = np.asarray(make_population(config.data))
    devices = seed_devices(seeds=members)
    spec = {"config": to_dict(config), "seeds": seeds, "seed": seed}
    spec |= {"first_seed": first_seed} if first_seed else {}  # a cell's own seeds keep the spec they always had
    if grid is not None:
        spec = sweep_spec(spec, grid, seeds)
    here = device_text()  # the XLA flags, devices and cores: another's checkpoint would round as another run
    spec = json.loads(json.dumps({**spec, "device": here}))  # as stored
    if rundir.is_run_dir(work):
        saved = rundir.read_spec(work)
        if {key: saved.get(key) for key in spec} != spec or saved["layout"]["devices"] != len(devices):
            print(f"{work} was left by another profile, seed, device or XLA_FLAGS: training it afresh", file=sys.stderr)
            rundir.remove(work)
    if rundir.is_run_dir(work):
        layout = Layout(**rundir.read_spec(work)["layout"])
    else:
        layout = plan_layout(config, members, devices, sample_shape(population))
        rundir.create(work, {**spec, "layout": dataclasses.asdict(layout)}, population)
    steps = config.steps
    progress = _CellProgress(lambda done: report_block(done / steps, time.perf_counter() - start))
    classifier = classifier_for(config.data)
    driver.train(
        work,
        config,
        layout,
        devices,
        seed=seed,
        classifier=classifier,
        progress=progress,
        grid=grid,
        first_seed=first_seed,
    )
    results = rundir.load(work)
    wall_s = time.perf_counter() - start
    kept = []
    for index, cell in enumerate(cells):
        meta = {"config": to_dict(cell.config), "seeds": seeds, "seed": seed, "device": here}
        meta["commit"] = git_revision()  # the code that trained the cell
        # A sweep's wall time is shared evenly by its cells.
        meta |= {"wall_s": wall_s / len(cells)} | ({"sweep": grid.to_json()} if grid else {})
        history = point_rows(results.history, index, seeds)
        fakes = point_rows(results.fakes, index, seeds)[:SAMPLE_SEEDS, :SAMPLE_ROWS].astype(np.float16)
        kept.append(CellResult(history, fakes, meta))
    return kept


class _CellProgress:
    """The driver's progress interface, passed on as seed counts."""

    def __init__(self, report: Callable[[int], None]):
        self.report = report

    def begin(self, seed_steps: int) -> None:
        """Nothing to show: `update` reports every chunk's count."""

    def update(self, seed_steps: int, note: str) -> None:
        self.report(seed_steps)


def save_cell(path: Path, result: CellResult) -> None:
    """Write a cell atomically (compressed npz; meta as a JSON string)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"history.{name}": np.asarray(value) for name, value in result.history._asdict().items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, samples=result.samples, meta=np.array(json.dumps(result.meta)), **arrays)


def load_cell(path: Path, cell: Cell, seeds: int, seed: int, most: int | None = None) -> CellResult | None:
    """A saved cell, None if there is none; ConfigError if it was made with another config or seeds.

    A cell trained with `seeds` seeds and grown by blocks since (`extended`, --adaptive-seeds) is
    accepted with up to `most` seeds, and refused without `most`.
    """
    if not path.is_file():
        return None
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        blocks = meta.get("blocks", [])
        started = meta["seeds"] - sum(block["seeds"] for block in blocks)  # the profile's seeds it was trained with
        # Rebuilt through from_dict, so config fields added since the cell was saved take their
        # defaults, which keep the behaviour the cell was trained with.
        if (from_dict(meta["config"]), started, meta["seed"]) != (cell.config, seeds, seed):
            raise ConfigError(
                f"{path} was made with another config or seeds than this run's {cell.key}; "
                "use another --out or delete that file"
            )
        if most is None and blocks:
            raise ConfigError(
                f"{path} holds {meta['seeds']} seeds, grown by --adaptive-seeds past this run's {seeds};"
                " pass --adaptive-seeds again or use another --out"
            )
        if most is not None and meta["seeds"] > most:
            raise ConfigError(
                f"{path} holds {meta['seeds']} seeds, more than the --adaptive-seeds cap {most};"
                " raise the cap or use another --out"
            )
        logged = saved["history.g_loss"].shape
        per_layer = (len(cell.config.discriminator.layers), len(MOMENTS))  # running_position, running_between
        history = Metrics(
            **{
                # A metric added since the cell was saved reads NaN (the image scores, for a 2-D cell).
                name: saved[f"history.{name}"]
                if f"history.{name}" in saved
                else np.full(logged + _record_shape(name, per_layer), np.nan, np.float32)
                for name in Metrics._fields
            }
        )
        return CellResult(history, saved["samples"], meta)


def _record_shape(name: str, per_layer: tuple[int, int]) -> tuple[int, ...]:
    """The shape of one logged record of a metric that a saved cell may predate."""
    if name.startswith("running_"):
        return per_layer
    return (len(VIEWS),) if name.endswith("_by_view") else ()


def check_same_device(key: str, meta: dict) -> None:
    """Refuse to train more seeds of a saved cell unless this process runs as the one that trained it.

    A block's numbers equal the rows of a bigger run bit for bit only under the same `device_text`:
    the XLA flags, the devices and the cores set how XLA rounds. A plain Python process lacks the
    commands' CPU flags (`tuning.xla_flags`), and its Frechet distances of the same seeds differ
    by up to 5e-4 (docs/devices.md).
    """
    trained, here = meta.get("device", "an unrecorded device"), device_text()
    if trained != here:
        raise ConfigError(
            f"{key} was trained on {trained}, this process runs on {here}: its next seeds would round differently"
            " from a bigger run of it; grow it under the same XLA_FLAGS and cores, or use another --out"
        )


def extended(saved: CellResult, block: CellResult, why: Sequence[str]) -> CellResult:
    """A saved cell with a block of its next seeds appended (trained with `first_seed` = its seed count).

    `meta["blocks"]` records each block: its first seed, size, why it was trained, and by which commit.
    """
    first = saved.meta["seeds"]
    history = jax.tree.map(lambda a, b: np.concatenate([a, b]), saved.history, block.history)
    samples = np.concatenate([saved.samples, block.samples])[:SAMPLE_SEEDS]
    made = {key: block.meta[key] for key in ("commit", "device", "wall_s")}
    record = {"first_seed": first, "seeds": block.meta["seeds"], "why": list(why), **made}
    meta = saved.meta | {
        "seeds": first + block.meta["seeds"],
        "wall_s": saved.meta["wall_s"] + block.meta["wall_s"],
        "blocks": [*saved.meta.get("blocks", []), record],
    }
    return CellResult(history, samples, meta)


class Progress:
    """Cells done / total and an ETA on stderr, one line per block of seeds."""

    def __init__(self, total: int, to_run: int):
        self.total, self.to_run, self.done, self.ran, self.spent = total, to_run, total - to_run, 0, 0.0

    def block(self, cell: Cell, seeds_done: float, seeds: int, elapsed: float, cells: int = 1) -> None:
        """`seeds_done` of the block's `seeds`, which train `cells` cells together (a sweep's as one program)."""
        ran = self.ran + cells * seeds_done / seeds
        eta = duration_text((self.spent + elapsed) / ran * (self.to_run - ran)) if ran > 0 else "?"
        print(
            f"[{self.done + 1}/{self.total}] {cell.key}: {seeds_done:.1f}/{seeds} seeds, {elapsed:.0f} s"
            f" | about {eta} left",
            file=sys.stderr,
            flush=True,
        )

    def finished(self, elapsed: float) -> None:
        self.done, self.ran, self.spent = self.done + 1, self.ran + 1, self.spent + elapsed


def duration_text(seconds: float) -> str:
    """Seconds as minutes past 90 s, for the progress line and the report header."""
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
