"""The per-seed numbers of a finished cell, in the units the verdict rules use, and a claim judged on them."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan.config import Config, DataConfig
from jaxbngan.data import make_population
from jaxbngan.metrics import VIEWS, Metrics, energy_distance
from jaxbngan.reproduce.cells import CellResult
from jaxbngan.reproduce.spec import Claim
from jaxbngan.verdicts import CLOSE_SHIFT, Judgement, SeedNumbers, judge


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


def judge_claim(claim: Claim, numbers: dict[str, SeedNumbers]) -> Judgement:
    """Evaluate a claim's conditions on the cells of one data set and apply the verdict rule."""
    cells = [numbers[v] for v in claim.variants]
    presupposed = claim.presupposes.test(*cells) if claim.presupposes else None
    return judge(claim.main.test(*cells), [side.test(*cells) for side in claim.sides], presupposed)


def log_steps(config: Config) -> np.ndarray:
    """The training step of each log."""
    return config.log_every * np.arange(1, config.steps // config.log_every + 1)
