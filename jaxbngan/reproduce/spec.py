"""What an experiment declares (variants, claims, figures) and the profiles that size a reproduction."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from jaxbngan.conditions import Condition
from jaxbngan.config import Config, ConfigError, replace_field
from jaxbngan.presets import get_preset, with_overrides

# The report's order: the blog's sections, then the experiments beyond it (scripts in experiments/).
SECTIONS = (
    "baseline",
    "bn_split",
    "generator_norm",
    "shift",
    "joint_batches",
    "running_stats",
    "fix",
    "alternatives",
    "moment_matching",
    "running_average_lag",
    "other_norms",
    "zero_loss_claims",
    "shift_weight",
)


class Variant(NamedTuple):
    """A named config; the profile supplies its data set, steps and logging."""

    name: str
    config: Config
    sweep: str = ""  # variants with the same tag train as one sweep program per data set


def preset(name: str) -> Variant:
    """The preset `name` as a variant."""
    return Variant(name, get_preset(name).config)


def derived(name: str, base: str, **changes) -> Variant:
    """Preset `base` with changes: a dict replaces fields of that section, anything else a top-level field."""
    config = get_preset(base).config
    sections = {key: value for key, value in changes.items() if isinstance(value, dict)}
    fields = {key: value for key, value in changes.items() if not isinstance(value, dict)}
    return Variant(name, dataclasses.replace(with_overrides(config, **sections), **fields))


def swept(base: str, path: str, values: tuple[float, ...], name: str = "", **changes) -> tuple[Variant, ...]:
    """Preset `base` at each value of the knob `path` (`config.KNOBS`), named `{name}-{value}` (name
    defaults to `{base}-{field}`) and trained as one sweep program per data set; `changes` as `derived`'s."""
    config = derived(base, base, **changes).config
    tag = name or f"{base}-{path.split('.')[-1]}"
    return tuple(Variant(f"{tag}-{value:g}", replace_field(config, path, value), tag) for value in values)


QUOTABLE = ("g_loss", "d_loss")  # the quantities the blog prints numbers for


class Quoted(NamedTuple):
    """A number the blog prints, to be shown beside the measured median of the same quantity."""

    of: int  # which of the claim's variants
    field: str  # a field of `SeedNumbers`: g_loss or d_loss
    value: float
    text: str  # the blog's figure as printed, e.g. "6.62" or "ln 2"


def quoted(field: str, value: float, text: str = "", of: int = 0) -> Quoted:
    """The blog's number for `field` of the claim's variant `of` (text defaults to the value)."""
    return Quoted(of, field, value, text or f"{value:g}")


class Controls(NamedTuple):
    """The controls a shift claim is judged under (`verdicts.control_failures`), each a rewarded variant at the
    claim's weight and its twin without the reward; `moved` reads such a pair as {0}, {1}: its test says
    whether the reward moved G, its difference by how much."""

    weight: float  # the reward weight of the claim and of both controls
    positive: tuple[str, str]  # a D provably blind to the reward's direction: must let it move G
    negative: tuple[str, str]  # a D that sees the direction: must hold G, or move it much less
    moved: Condition


class Claim(NamedTuple):
    """One statement tested seed by seed; see `jaxbngan.verdicts` for the rule."""

    statement: str  # what is tested, in our words
    blog: str  # the source's words and numbers
    variants: tuple[str, ...]  # the cells its conditions read, as {0}, {1}, ...
    main: Condition
    sides: tuple[Condition, ...] = ()
    presupposes: Condition | None = None
    quotes: tuple[Quoted, ...] = ()  # the blog's own numbers for this claim
    describes: tuple[Condition, ...] = ()  # shown beside the verdict's conditions, not judged (an absolute band)
    controls: Controls | None = None  # a shift claim is judged only where both controls behave

    @property
    def cells(self) -> tuple[str, ...]:
        """Every variant the claim reads: its own, then its controls'."""
        controls = (*self.controls.positive, *self.controls.negative) if self.controls else ()
        return (*self.variants, *controls)


class Check(NamedTuple):
    """A statement that holds by an identity of the step code: verified, never counted as a finding.

    On each of its variants the report verifies, on every seed and log, that G's reported loss is
    exactly D's loss on the same fakes in D's own step (where the cell logged it) and that D's loss
    is at least half of G's (no double win at any log).
    """

    statement: str
    identity: str  # why it cannot fail: G's view of D is the computation D's own step makes
    variants: tuple[str, ...]


PLOT_KINDS = ("samples", "losses", "views", "offsets", "gaps", "both-win", "trend", "reward", "positions")


class Plot(NamedTuple):
    """A figure of the report: `kind` is one of PLOT_KINDS (the image report adds its own)."""

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


def reward_effects(twins: dict[str, str]) -> Plot:
    """Histograms over seeds of what the reward did: each rewarded variant's offset in the reward's direction
    minus its twin's (same seed, no reward), per data set. `twins`: rewarded variant -> twin."""
    return Plot("reward", tuple(name for pair in twins.items() for name in pair))


def running_positions(*variants: str) -> Plot:
    """The blog's picture: where D's running means sit between the fake (0) and the real (1) batch means,
    per BN layer over training (median and interquartile band over seeds), per data set."""
    return Plot("positions", variants)


def trend(*variants: str) -> Plot:
    """Along a sweep's variants (in order): the median late consistency gap and the both-win share, per data set."""
    return Plot("trend", variants)


class Experiment(NamedTuple):
    """One section: what it trains, what it claims and what it shows."""

    name: str  # its script, experiments/<name>.py
    section: str  # the blog's section title, or what the experiment adds
    summary: str  # what is trained and why, for the report
    variants: tuple[Variant, ...]
    claims: tuple[Claim, ...]
    plots: tuple[Plot, ...]
    beyond_blog: bool = False
    checks: tuple[Check, ...] = ()  # identities of the step code the report verifies apart from the claims


class Profile(NamedTuple):
    """How much to run: seeds per cell, steps, and the data sets of the blog's and the other sections."""

    name: str
    seeds: int
    steps: int
    log_every: int
    data_size: int
    datasets: tuple[str, ...]
    beyond_datasets: tuple[str, ...]
    leaves_out: tuple[str, ...] = ()  # experiments it skips unless --only names them, and why in `left_out_why`
    left_out_why: str = ""


PROFILES = {
    # Default, meant for a GPU: every verdict on three data sets, 64 seeds each.
    "full": Profile("full", 64, 2000, 50, 2048, ("ring8", "moons", "grid25"), ("ring8", "moons", "grid25")),
    # A few hours on a 2-core CPU: 32 seeds, the blog's sections on three data sets, the others on two.
    "standard": Profile(
        "standard",
        32,
        2000,
        50,
        2048,
        ("ring8", "moons", "grid25"),
        ("ring8", "moons"),
        leaves_out=("shift_weight",),
        left_out_why=(
            "its 24 cells (1.5 M seed-steps, about 45 min on 2 cores) would push the profile past three hours; "
            "the quick report runs it at 6 seeds, and `--standard --only shift_weight` runs it at 32"
        ),
    ),
    # Under 30 minutes on a 2-core CPU: the blog's setting, 6 seeds, ring8 and moons for the blog's sections.
    "quick": Profile("quick", 6, 2000, 50, 2048, ("ring8", "moons"), ("ring8",)),
    # For tests: every code path, no meaningful numbers.
    "tiny": Profile("tiny", 2, 20, 10, 256, ("ring8", "moons"), ("ring8",)),
}


def datasets_of(experiment: Experiment, profile: Profile) -> tuple[str, ...]:
    """The data sets an experiment runs on under `profile`."""
    return profile.beyond_datasets if experiment.beyond_blog else profile.datasets


def check_experiment(experiment: Experiment, kinds: tuple[str, ...] = PLOT_KINDS) -> None:
    """Catch a mistake in an experiment's declaration before anything trains, not after; `kinds`: its plots'."""
    names = {v.name for v in experiment.variants}
    used = [n for claim in experiment.claims for n in claim.cells] + [n for p in experiment.plots for n in p.variants]
    used += [n for check in experiment.checks for n in check.variants]
    for name in used:
        if name not in names:
            raise ConfigError(f"experiment {experiment.name}: variant {name!r} is used but not declared")
    for claim in experiment.claims:
        presupposition = [claim.presupposes] if claim.presupposes else []
        for condition in (claim.main, *claim.sides, *presupposition, *claim.describes):
            try:
                condition.text.format(*claim.variants)
            except IndexError:
                raise ConfigError(
                    f"experiment {experiment.name}: condition {condition.text!r} reads a variant the claim lacks"
                ) from None
        for quote in claim.quotes:
            if not 0 <= quote.of < len(claim.variants) or quote.field not in QUOTABLE:
                raise ConfigError(
                    f"experiment {experiment.name}: a quoted number must name one of the claim's variants and one"
                    f" of {', '.join(QUOTABLE)}, got variant {quote.of} and {quote.field!r}"
                )
    for plot in experiment.plots:
        if plot.kind not in kinds:
            raise ConfigError(f"experiment {experiment.name}: unknown plot kind {plot.kind!r}")
