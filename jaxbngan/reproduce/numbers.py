"""The per-seed numbers of a finished cell, in the units the verdict rules use, and a claim judged on them."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan.conditions import SeedNumbers
from jaxbngan.config import Config, DataConfig
from jaxbngan.data import make_population
from jaxbngan.finals import divergence_steps
from jaxbngan.metrics import MOMENTS, VIEWS, Metrics, energy_distance
from jaxbngan.reproduce.cells import CellResult
from jaxbngan.reproduce.spec import Claim, Controls
from jaxbngan.settling import still_moving, window_ends, window_start
from jaxbngan.verdicts import (
    CLOSE_SHIFTS,
    LN2,
    ROBUST,
    THRESHOLDS,
    Judgement,
    Thresholds,
    control_failures,
    judge,
    not_judged,
)


def consistency_gap(history: Metrics, config: Config) -> np.ndarray:
    """(seeds, logs): |D's loss on the fakes in G's view - in D's own view| (split D step: fake view)."""
    own = "fake" if config.strategy.d_batch == "split" else "joint"
    by_view = np.asarray(history.d_fake_loss_by_view, dtype=float)
    return np.abs(by_view[..., VIEWS.index(config.strategy.g_view)] - by_view[..., VIEWS.index(own)])


def logit_gap(history: Metrics, config: Config) -> np.ndarray:
    """(seeds, logs): the consistency gap in D's mean logit on the fakes instead of its cross-entropy."""
    return consistency_gap(history._replace(d_fake_loss_by_view=history.d_fake_logit_by_view), config)


def late_mean(per_log: np.ndarray) -> np.ndarray:
    """(seeds,): a (seeds, logs) quantity averaged over the last MOVING_WINDOW of the logs (`settling.window_start`)."""
    per_log = np.asarray(per_log, dtype=float)
    return per_log[:, window_start(per_log.shape[1]) :].mean(axis=1)


class DataStats(NamedTuple):
    """What the numbers of every cell of one data set are measured against."""

    population: np.ndarray
    std: np.ndarray  # (d,)
    energy_reference: dict  # {close shift in std (CLOSE_SHIFTS): energy distance of the data moved that far along x}


def data_stats(config: DataConfig) -> DataStats:
    """The population of a data set and the yardsticks derived from it."""
    population = np.asarray(make_population(config))
    std = population.std(axis=0)
    sample = jnp.asarray(population[:512])
    references = {}
    for close in CLOSE_SHIFTS:
        along_x = [close * std[0]] + [0.0] * (population.shape[1] - 1)
        references[close] = float(energy_distance(sample + jnp.asarray([along_x], dtype=sample.dtype), sample))
    return DataStats(population, std, references)


def double_wins(history: Metrics) -> dict[str, np.ndarray]:
    """Per seed, each reading of "both players win" (`verdicts.DOUBLE_WIN_READINGS`).

    `half`: D's loss below half of G's (the blog's footnote 4); `ln2`: D's loss below ln 2 while
    G's is above it. `end`: at the last log; `late`: in at least ROBUST of the second half's logs.
    """
    g, d = np.asarray(history.g_loss, dtype=float), np.asarray(history.d_loss, dtype=float)
    with np.errstate(invalid="ignore"):
        by_log = {"half": d < 0.5 * g, "ln2": (d < LN2) & (g > LN2)}
    late = slice(g.shape[1] // 2, None)
    found = {}
    for reading, flags in by_log.items():
        found[f"{reading}-end"] = flags[:, -1]
        found[f"{reading}-late"] = flags[:, late].mean(axis=1) >= ROBUST
    return found


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
        late_gap=late_mean(gap),
        late_logit_gap=late_mean(logit_gap(result.history, config)),
        double_win=double_wins(result.history),
        diverged=diverged_seeds(result, config, stats.population),
        mean_position=last.running_position[..., MOMENTS.index("mean")],
    )


def diverged_seeds(result: CellResult, config: Config, population: np.ndarray) -> np.ndarray:
    """(seeds,) bool: the seed diverged at some log, by the run directory's rule (`finals.divergence_steps`)."""
    return divergence_steps(result.history, log_steps(config), population) >= 0


def common_seeds(cells: list) -> list:
    """Cells' numbers cut to the seeds they all have, so they pair seed by seed.

    Seed i has the same key in every cell (`--adaptive-seeds` grows cells by their next seeds), so
    the first n seeds of each pair; a number that is not per seed (a data set's yardstick) is kept whole.
    """
    count = min(len(cell.diverged) for cell in cells)

    def cut(value):
        if isinstance(value, dict):
            return {key: cut(item) for key, item in value.items()}
        return value[:count] if np.ndim(value) else value

    return [type(cell)(*(cut(value) for value in cell)) for cell in cells]


def kept_seeds(cells) -> np.ndarray:
    """(seeds,) bool: the seeds that diverged in none of the cells."""
    return ~np.logical_or.reduce([np.asarray(cell.diverged, dtype=bool) for cell in cells])


def judge_claim(claim: Claim, numbers: dict, thresholds: Thresholds = THRESHOLDS) -> Judgement:
    """Evaluate a claim's conditions on the cells of one data set and apply the verdict rule.

    Seeds that diverged in any of the claim's variants are left out (`verdicts.judge`). A claim with
    controls is not judged where they fail (`verdicts.control_failures`); `numbers` then holds their cells too.
    """
    cells = [numbers[v] for v in claim.variants]
    presupposed = claim.presupposes.test(*cells, t=thresholds) if claim.presupposes else None
    main = claim.main.test(*cells, t=thresholds)
    sides = [side.test(*cells, t=thresholds) for side in claim.sides]
    judgement = judge(main, sides, presupposed, ~kept_seeds(cells))
    if claim.controls is None:
        return judgement
    failures = control_failures(*control_numbers(claim.controls, numbers, thresholds))
    return not_judged(judgement, claim.controls.weight, failures) if failures else judgement


def control_numbers(controls: Controls, numbers: dict, thresholds: Thresholds = THRESHOLDS) -> tuple[np.ndarray, ...]:
    """(moved, effect) per kept seed of the positive control, then of the negative: the arguments of
    `verdicts.control_failures`. Each pair leaves out the seeds that diverged in it."""
    found = []
    for pair in (controls.positive, controls.negative):
        cells = [numbers[v] for v in pair]
        kept = kept_seeds(cells)
        moved = np.asarray(controls.moved.test(*cells, t=thresholds), dtype=bool)[kept]
        found += [moved, np.asarray(controls.moved.difference(*cells), dtype=float)[kept]]
    return tuple(found)


def described_shares(claim: Claim, numbers: dict) -> list[float]:
    """The share of the kept seeds (none diverged) for each of a claim's descriptive conditions.

    A condition may read NaN on a seed where its quantity was not logged (a cell older than the metric):
    the share is over the seeds where it was, NaN (shown as n/a) where it was on none.
    """
    cells = [numbers[v] for v in claim.variants]
    kept = kept_seeds(cells)
    shares = []
    for condition in claim.describes:
        held = np.asarray(condition.test(*cells), dtype=float)[kept]
        shares.append(float(np.nanmean(held)) if np.isfinite(held).any() else np.nan)
    return shares


# The metric whose settling each cell is judged on, with the change below which a move is noise.
MOVING_FLOORS = {"energy_distance": 0.002, "frechet_distance": 0.05, "gap": 0.01}


class Settling(NamedTuple):
    """Whether a cell's main metrics were still moving over the last logs (`settling.still_moving`)."""

    metric: str  # energy_distance (points) or frechet_distance (images)
    metric_moving: bool
    gap_moving: bool
    change: float  # relative change of the metric's median over the window
    gap_change: float  # absolute change of the gap's median over the window

    @property
    def moving(self) -> bool:
        """Either metric still moved."""
        return self.metric_moving or self.gap_moving


def settling(result: CellResult, config: Config, diverged: np.ndarray) -> Settling:
    """The median over the non-diverged seeds of the main metric and the gap at each log, judged for movement."""
    history = result.history
    kept = ~np.asarray(diverged, dtype=bool)
    metric = (
        "energy_distance" if np.isfinite(np.asarray(history.energy_distance, dtype=float)).any() else "frechet_distance"
    )
    curves = {
        metric: np.asarray(getattr(history, metric), dtype=float)[kept],
        "gap": consistency_gap(history, config)[kept],
    }
    medians = {
        name: np.nanmedian(values, axis=0) if values.size else np.full(values.shape[1:], np.nan)
        for name, values in curves.items()
    }
    first, last = window_ends(medians[metric])
    gap_first, gap_last = window_ends(medians["gap"])
    return Settling(
        metric,
        still_moving(medians[metric], MOVING_FLOORS[metric]),
        still_moving(medians["gap"], MOVING_FLOORS["gap"]),
        (last - first) / abs(first) if first else float("nan"),
        gap_last - gap_first,
    )


class CheckResult(NamedTuple):
    """An identity of the step code verified on one cell: how many logs of how many seeds obey it."""

    logs: int  # seeds x logs
    equal: int | None  # logs where G's reported loss is exactly D's own loss on the fakes (None: not logged)
    largest: float | None  # the largest |G's loss - D's own loss on the fakes| / |G's loss| over the logs
    bounded: int  # logs where D's loss is at least half of G's (no double win)


def verify_identity(history: Metrics) -> CheckResult:
    """Count the logs where the check's identity and its consequence hold, on every seed of a cell."""
    g = np.asarray(history.g_loss, dtype=np.float64)
    own = np.asarray(history.d_fake_loss, dtype=np.float64)
    bounded = int(np.sum(~np.asarray(history.both_win, dtype=bool)))
    if not np.isfinite(own).any():
        return CheckResult(int(g.size), None, None, bounded)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(g - own) / np.abs(g)
    largest = float(np.nanmax(np.where(g == own, 0.0, relative)))
    return CheckResult(int(g.size), int(np.sum(g == own)), largest, bounded)


def log_steps(config: Config) -> np.ndarray:
    """The training step of each log."""
    return config.log_every * np.arange(1, config.steps // config.log_every + 1)
