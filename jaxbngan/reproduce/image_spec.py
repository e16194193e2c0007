"""The image study's declarations: its sections, plots, profiles, and the config of an image cell.

Image experiments are `Experiment`s like the 2-D ones (claims with seed-by-seed rules, variants
from the `dcgan-*` presets), run under an `ImageProfile`: the profile sets the data sets with their
seed counts, the steps and batch, and the conv nets' channels, so the same experiment fits a 2-core
CPU or a GPU. The 2-D profiles and their cells are untouched by any of this.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from jaxbngan.config import Config, ConfigError, DataConfig
from jaxbngan.reproduce.cells import Cell
from jaxbngan.reproduce.spec import PLOT_KINDS, Experiment, Plot, check_experiment

# The image report's order (scripts in experiments/).
IMAGE_SECTIONS = (
    "image_strategies",
    "image_generator_norm",
    "image_lag",
    "image_shift",
    "image_later_layers",
    "image_norm_ranking",
)

IMAGE_PLOT_KINDS = (*PLOT_KINDS, "images", "brightness", "quality")


def image_samples(variant: str) -> Plot:
    """Real images and each seed's fakes, one row per seed (first data set), as `plots.image_grid` draws."""
    return Plot("images", (variant,))


def brightness(twins: dict[str, str]) -> Plot:
    """Histograms over seeds of what the reward did: each rewarded variant's brightness minus its twin's
    (same seed, no reward). `twins`: rewarded variant -> twin."""
    return Plot("brightness", tuple(name for pair in twins.items() for name in pair))


def quality(*variants: str) -> Plot:
    """Median Frechet distance and KID over seeds with their 95% intervals, per variant and data set."""
    return Plot("quality", variants)


class ImageSet(NamedTuple):
    """One data set of an image profile and how many seeds each of its cells trains."""

    data: DataConfig
    seeds: int

    @property
    def name(self) -> str:
        """The data set's name: the second half of a cell's key."""
        return self.data.name


class ImageProfile(NamedTuple):
    """How much to run: data sets with their seeds, steps, batch, and the widths of G and D."""

    name: str
    sets: tuple[ImageSet, ...]
    steps: int
    log_every: int
    batch_size: int
    g_channels: tuple[int, ...]  # G's conv layers, one entry per layer of the dcgan presets
    d_channels: tuple[int, ...]
    metric_samples: int  # fakes and reals behind each image score (KID and Frechet depend on it)

    def seeds_of(self, dataset: str) -> int:
        """Seeds per cell on `dataset`."""
        return next(s.seeds for s in self.sets if s.name == dataset)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets' names, in report order."""
        return tuple(s.name for s in self.sets)


DIGITS = DataConfig(name="digits", size=1797)
SHAPES_8 = DataConfig(name="shapes", size=2048, params=(("side", 8.0),))  # 8x8 like digits: same nets, same cost
SHAPES_16 = DataConfig(name="shapes", size=4096)  # the data set's default 16x16

IMAGE_PROFILES = {
    # A 2-core CPU in about 1.5 to 2 hours: 48 cells (24 variants x 2 data sets), 336 000 seed-steps,
    # 42 compilations (the lag sweep's 4 momenta compile once per data set).
    # Measured with `run_cell` on dcgan-split@digits, 4 seeds x 1500 steps at these widths took 178 CPU
    # seconds on a loaded machine, about 28 of them compiling and setting up, the rest 40 seed-steps per
    # CPU second: 60-80 seed-steps/s on 2 free cores, so 4200-5600 s of steps and about 1200 s of setup.
    "images-cpu": ImageProfile(
        "images-cpu",
        (ImageSet(DIGITS, 12), ImageSet(SHAPES_8, 8)),
        steps=700,
        log_every=70,
        batch_size=64,
        g_channels=(64, 32),
        d_channels=(32, 64),
        metric_samples=512,
    ),
    # A GPU: the presets' DCGAN widths, 64 seeds per cell, shapes at their default 16x16.
    "images-gpu": ImageProfile(
        "images-gpu",
        (ImageSet(DIGITS, 128), ImageSet(SHAPES_16, 64)),
        steps=5000,
        log_every=250,
        batch_size=64,
        g_channels=(128, 64),
        d_channels=(64, 128),
        metric_samples=512,  # digits has 1797 images: its real-vs-real floor can score at most 898 per half
    ),
    # For tests: every code path in seconds, no meaningful numbers.
    "tiny": ImageProfile(
        "tiny",
        (ImageSet(DataConfig("digits", 256), 2), ImageSet(DataConfig("shapes", 256, params=(("side", 8.0),)), 2)),
        steps=6,
        log_every=3,
        batch_size=16,
        g_channels=(8, 4),
        d_channels=(4, 8),
        metric_samples=32,
    ),
}


def image_cell_config(config: Config, image_set: ImageSet, profile: ImageProfile) -> Config:
    """A `dcgan-*` config on `image_set` with the profile's steps, batch, widths and metric samples."""
    return dataclasses.replace(
        config,
        data=image_set.data,
        steps=profile.steps,
        log_every=profile.log_every,
        batch_size=profile.batch_size,
        generator=dataclasses.replace(config.generator, channels=profile.g_channels),
        discriminator=dataclasses.replace(config.discriminator, channels=profile.d_channels),
        metric_samples=profile.metric_samples,
    ).validate()


def plan_image_cells(experiments: list[Experiment], profile: ImageProfile) -> list[Cell]:
    """Every distinct image cell the experiments need, in report order; one name must mean one config."""
    cells: dict[str, Cell] = {}
    for experiment in experiments:
        check_experiment(experiment, IMAGE_PLOT_KINDS)
        for variant in experiment.variants:
            for image_set in profile.sets:
                config = image_cell_config(variant.config, image_set, profile)
                cell = Cell(variant.name, image_set.name, config, variant.sweep)
                known = cells.setdefault(cell.key, cell)
                if known.config != cell.config:
                    raise ConfigError(f"variant {variant.name!r} is declared twice with different configs")
    return list(cells.values())
