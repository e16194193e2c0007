"""The image study's declarations: its sections, plots, profiles, and the config of an image cell.

Image experiments are `Experiment`s like the 2-D ones (claims with seed-by-seed rules, variants
from the `dcgan-*` presets), run under an `ImageProfile`: the profile sets the data sets with their
seed counts, the steps and batch, and the conv nets' channels, so the same experiment fits a 2-core
CPU or a GPU. The 2-D profiles and their cells are untouched by any of this.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from jaxbngan.config import SHIFT_DIRECTIONS, Config, ConfigError, DataConfig
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

IMAGE_PLOT_KINDS = (*PLOT_KINDS, "images", "brightness", "reward-weights", "quality")


class OpenQuestion(NamedTuple):
    """A question the blog leaves open, the claims of the image study (by id) whose verdicts answer it, and
    where else in the repository evidence on it is measured."""

    question: str
    claims: tuple[str, ...]  # claim ids, `{experiment}.{index}` as in verdicts.json
    elsewhere: str = ""
    figures: tuple[str, ...] = ()  # that evidence's figures, relative to the experiments directory


# The report's first section after the summary answers these from the verdicts it judged.
OPEN_QUESTIONS = (
    OpenQuestion(
        'Does the fix\'s double win return at scale (the blog: it persists "in larger-scale experiments")?',
        ("image_strategies.3", "image_strategies.1", "image_strategies.2"),
        "the long runs of `experiments/image_convergence.py` (`experiments/results-convergence/report.md`, 4 seeds,"
        " 4000 steps) draw the both-win share of each strategy against step",
        ("results-convergence/curves.png",),
    ),
    OpenQuestion(
        "Is it the running averages' lag, and does a faster or unbiased average close it?",
        tuple(f"image_lag.{i}" for i in range(1, 7)),
    ),
    OpenQuestion(
        'Is instance norm blind to what it normalizes away (the blog: it "cannot be tested" on points)?',
        # Instance norm's claims first, each reward's weights in order (the strong weights' claims came last).
        tuple(f"image_shift.{i}" for i in (3, 4, 5, 11, 12, 9, 10, 15, 1, 2, 6, 7, 8, 13, 14)),
    ),
    OpenQuestion(
        "Does BN in later D layers hide higher-order differences?",
        tuple(f"image_later_layers.{i}" for i in range(1, 4)),
        "the moment probe (`experiments/moment_probe.py`, `experiments/results-probe/report.md`, 32 seeds) trains D"
        " alone against fakes matched in mean and variance, with BN in the first or in every layer",
        ("results-probe/accuracy.png",),
    ),
    OpenQuestion(
        "Does G's BN matter for the regimes?",
        tuple(f"image_generator_norm.{i}" for i in range(1, 4)),
    ),
)


def image_samples(variant: str) -> Plot:
    """Real images and each seed's fakes, one row per seed (first data set), as `plots.image_grid` draws."""
    return Plot("images", (variant,))


def brightness(twins: dict[str, str], direction: str = "mean") -> Plot:
    """Histograms over seeds of what the reward did: each rewarded variant's offset along the reward's
    `direction` (`LossConfig.shift_direction`) minus its twin's (same seed, no reward). `twins`: rewarded
    variant -> twin."""
    return _reward_plot("brightness", twins, direction)


def reward_by_weight(twins: dict[str, str], direction: str = "mean") -> Plot:
    """What the reward did against its weight: per D (the sweep a rewarded variant belongs to), the median
    over seeds of its offset along `direction` minus its twin's, one point per weight. `twins`: rewarded
    variant -> twin."""
    return _reward_plot("reward-weights", twins, direction)


def _reward_plot(kind: str, twins: dict[str, str], direction: str) -> Plot:
    if direction not in SHIFT_DIRECTIONS:
        raise ConfigError(f"a {kind} plot's direction must be one of {SHIFT_DIRECTIONS}, got {direction!r}")
    return Plot(kind, tuple(name for pair in twins.items() for name in pair), direction)


def quality(*variants: str) -> Plot:
    """Median Frechet distance and KID over seeds with their 95% intervals, per variant and data set."""
    return Plot("quality", variants)


class ImageSet(NamedTuple):
    """One data set of an image profile, how many seeds each of its cells trains, and which sections run on it."""

    data: DataConfig
    seeds: int
    sections: tuple[str, ...] = ()  # experiments (IMAGE_SECTIONS) that run on this data set; () for every one
    steps: int | None = None  # this data set's own steps and log interval; None: the profile's
    log_every: int | None = None

    def covers(self, experiment: str) -> bool:
        """Whether the experiment called `experiment` runs on this data set."""
        return not self.sections or experiment in self.sections

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
    steps_why: str = ""  # how the steps were chosen, for the report's header

    def seeds_of(self, dataset: str) -> int:
        """Seeds per cell on `dataset`."""
        return next(s.seeds for s in self.sets if s.name == dataset)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets' names, in report order."""
        return tuple(s.name for s in self.sets)

    def datasets_of(self, experiment: Experiment) -> tuple[str, ...]:
        """The data sets `experiment` runs on, in report order."""
        return tuple(s.name for s in self.sets if s.covers(experiment.name))


DIGITS = DataConfig(name="digits", size=1797)
SHAPES_16 = DataConfig(name="shapes", size=4096)  # the data set's default 16x16

# How the images-cpu steps were chosen, shown in its report's header.
CPU_STEPS_WHY = (
    "from the long runs of `experiments/image_convergence.py` (4 seeds, 4000 steps, these widths;"
    " experiments/results-convergence/). On digits, 2000 steps: approach 2's double win forms by step 1500 and"
    " stays, approach 1's holds from the start, and the fix and split calls show none through 4000 steps, so the"
    " last fifth of 2000 steps reads settled regimes; the Frechet distance of split calls and the fix drifts by"
    " 10-20% until step 3400-3900, so quality verdicts can carry the still-moving mark. On 16x16 shapes, 4000"
    " steps: the fix's Frechet distance falls until step 3400 and its double-win share wanders between 0.2 and 0.5"
    " of the seeds through 4000 steps"
)

IMAGE_PROFILES = {
    # A 2-core CPU in about 6.5 hours: digits for every section (63 cells x 8 seeds x 2000 steps, 1 008 000
    # seed-steps at about 85 per second on 2 free cores: 3.3 h, plus compiling about 50 programs), 16x16
    # shapes for the strategies and G's BN at 4000 steps (12 cells x 8 seeds, 384 000 seed-steps: the
    # convergence runs trained 16x16 shapes at 24 seed-steps/s on the loaded CPU, about half the digits rate,
    # so about 2.5 h quiet); --adaptive-seeds 4:16 adds blocks where a claim stays undecided.
    "images-cpu": ImageProfile(
        "images-cpu",
        (
            ImageSet(DIGITS, 8),
            ImageSet(SHAPES_16, 8, ("image_strategies", "image_generator_norm"), steps=4000, log_every=200),
        ),
        steps=2000,
        log_every=100,
        batch_size=64,
        g_channels=(64, 32),
        d_channels=(32, 64),
        metric_samples=512,
        steps_why=CPU_STEPS_WHY,
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
        steps_why="5000 steps at the presets' widths: past every settle step the CPU's long runs measured (by 4000"
        " steps at half widths); not yet measured on a GPU at these widths",
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
        steps=image_set.steps or profile.steps,
        log_every=image_set.log_every or profile.log_every,
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
            for image_set in (s for s in profile.sets if s.covers(experiment.name)):
                config = image_cell_config(variant.config, image_set, profile)
                cell = Cell(variant.name, image_set.name, config, variant.sweep)
                known = cells.setdefault(cell.key, cell)
                if known.config != cell.config:
                    raise ConfigError(f"variant {variant.name!r} is declared twice with different configs")
    return list(cells.values())
