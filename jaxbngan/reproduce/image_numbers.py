"""The per-seed numbers of a finished image cell, and what they are measured against on each data set."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from jaxbngan.classifier import classifier_for
from jaxbngan.config import Config, DataConfig
from jaxbngan.data import labelled_population
from jaxbngan.image_conditions import ImageNumbers
from jaxbngan.image_metrics import noise_floor
from jaxbngan.metrics import MOMENTS
from jaxbngan.reproduce.cells import CellResult
from jaxbngan.reproduce.numbers import consistency_gap, diverged_seeds, double_wins, late_mean, logit_gap


class ImageStats(NamedTuple):
    """One image data set: its population, the unit of brightness, and the scores of real against real."""

    population: np.ndarray  # (n, H, W, C)
    pixel_std: float  # std of all the data's pixels: the unit of the brightness offset
    floor_frechet: float  # one half of the data scored against the other, at the cells' sample count
    floor_kid: float
    floor_coverage: float
    floor_samples: int


def image_stats(data: DataConfig, samples: int) -> ImageStats:
    """The population of an image data set and its yardsticks; `samples`: the cells' `metric_samples`."""
    population, labels = labelled_population(data)
    floor, used = noise_floor(population, labels, classifier_for(data), samples=samples)
    population = np.asarray(population)
    return ImageStats(
        population,
        float(population.std()),
        float(floor.frechet),
        float(floor.kid),
        float(floor.class_coverage),
        used,
    )


def image_seed_numbers(result: CellResult, config: Config, stats: ImageStats) -> ImageNumbers:
    """The final per-seed numbers of an image cell, in the units the image conditions use."""
    last = jax.tree.map(lambda x: np.asarray(x[:, -1], dtype=float), result.history)
    gap = consistency_gap(result.history, config)
    channel_std = stats.population.std(axis=(0, 1, 2))  # what `std_ratio` divides by, per channel
    return ImageNumbers(
        g_loss=last.g_loss,
        d_loss=last.d_loss,
        both_win=np.asarray(result.history.both_win)[:, -1].astype(bool),
        gap=gap[:, -1],
        late_gap=late_mean(gap),
        late_logit_gap=late_mean(logit_gap(result.history, config)),
        brightness=last.offset.mean(axis=1) / stats.pixel_std,  # offset is per channel; channels weigh alike
        contrast=((last.std_ratio - 1) * channel_std).mean(axis=1) / stats.pixel_std,
        frechet=last.frechet_distance,
        kid=last.kid,
        coverage=last.mode_coverage,
        class_kl=last.class_kl,
        double_win=double_wins(result.history),
        diverged=diverged_seeds(result, config, stats.population),
        mean_position=last.running_position[..., MOMENTS.index("mean")],
    )
