"""Presets on 2-D points: each experiment of the blog (and its alternatives), with the blog's MLPs.

Each builder's docstring cites the blog section it reproduces.
"""

from __future__ import annotations

from collections.abc import Callable

from jaxbngan.config import Config, LossConfig, NetworkConfig, StrategyConfig

SHIFT_WEIGHT = 0.005  # the blog's hand-tuned weight of the shift term
BN = ("batch", "batch")


def _config(
    d_norms: tuple[str, ...] = ("none", "none"),
    d_batch: str = "split",
    g_view: str = "fake",
    shift: bool = False,
    moment_matching: bool = False,
    standing_stats: bool = False,
) -> Config:
    return Config(
        discriminator=NetworkConfig(norms=d_norms),
        strategy=StrategyConfig(d_batch=d_batch, g_view=g_view, standing_stats=standing_stats),
        loss=LossConfig(shift_weight=SHIFT_WEIGHT if shift else 0.0, moment_matching=moment_matching),
    )


def no_bn(shift: bool = False) -> Config:
    """'Setting The Stage' (and 'Encouraging Distribution Shift' with shift): no normalization."""
    return _config(shift=shift)


def bn_split(shift: bool = False) -> Config:
    """'Introducing Batch Normalization' / 'Encouraging Distribution Shift': BN in D, split batches."""
    return _config(BN, shift=shift)


def joint(shift: bool = False) -> Config:
    """'How Do We Fix This?' (approach 1): joint D batch, G sees D on a fake-only batch."""
    return _config(BN, d_batch="joint", shift=shift)


def running(shift: bool = False) -> Config:
    """'A Step Back' (approach 2): split D batches, G sees D with running statistics."""
    return _config(BN, g_view="running", shift=shift)


def fix(shift: bool = False) -> Config:
    """'How Do We Actually Fix This?': joint D batch and running statistics in the G step."""
    return _config(BN, d_batch="joint", g_view="running", shift=shift)


def fix_standing() -> Config:
    """Beyond the blog ('It's Not Over Yet' suspects lagging running averages): the fix with
    standing statistics, D's averages recomputed from the current joint batch before each G step."""
    return _config(BN, d_batch="joint", g_view="running", standing_stats=True)


def joint_g_step(shift: bool = False) -> Config:
    """ "It's Not Over Yet", first alternative: joint batches with batch statistics in both steps."""
    return _config(BN, d_batch="joint", g_view="joint", shift=shift)


def dcgan(shift: bool = False) -> Config:
    """ "It's Not Over Yet", DCGAN rule: no BN in D's first layer, split batches."""
    return _config(("none", "batch"), shift=shift)


def moment_matching(layers: str) -> Config:
    """'A Bonus Experiment': fakes matched to the real mean/variance; BN in D's first or all layers.

    The blog does not print this step; we read it as approach 1 (joint D batch, fake-only view),
    the setting whose failure it says moment matching repairs when BN is in the first layer only.
    """
    norms = ("batch", "none") if layers == "first" else BN
    return _config(norms, d_batch="joint", moment_matching=True)


def other_norm(norm: str, shift: bool = False) -> Config:
    """ "It's Not Over Yet", 'Don't use BN': layer/group/weight/spectral/reference norm in D."""
    return _config((norm, norm), shift=shift)


BUILDERS: dict[str, tuple[Callable[[], Config], str]] = {
    "no-bn": (
        no_bn,
        "no normalization: D near ln 2 and fakes on the data in 6/6 seeds on ring8, 0/6 on moons "
        "[baseline.1: partly at 6 seeds, quick]",
    ),
    "no-bn-shift": (
        lambda: no_bn(shift=True),
        "no normalization + shift term: the fakes stay put in 6/6 seeds on ring8, 3/6 on moons "
        "[shift.2: undecided at 6 seeds, quick]",
    ),
    "bn-split": (
        bn_split,
        "BN in D, split batches: fakes further off than without BN in 6/6 seeds on ring8, 4/6 on moons; D near ln 2 "
        "in 0/6 and 3/6 (blog: shifted at ln 2) "
        "[bn_split.1: undecided at 6 seeds, quick]",
    ),
    "bn-split-shift": (
        lambda: bn_split(shift=True),
        "BN split + shift term: G moves right in 6/6 seeds on ring8 and moons, but D stays near ln 2 only on moons "
        "(3/6); on ring8 D wins and G's saturated loss leaves the shift term in charge "
        "[shift.1: undecided at 6 seeds, quick]",
    ),
    "joint": (
        joint,
        "approach 1, joint D batch: both players 'win' in 6/6 seeds on ring8 and moons, median G 5.45 / D 0.000 "
        "on ring8 (blog: G 6.62 / D 0.17) "
        "[joint_batches.1: undecided at 6 seeds, quick]",
    ),
    "joint-shift": (lambda: joint(shift=True), "approach 1 + shift term"),
    "running": (
        running,
        "approach 2, running stats in G's step: both 'win' in 4/6 seeds on ring8, 6/6 on moons, median D 0.001-0.002 "
        "(blog: G 4.23 / D 0.007) "
        "[running_stats.1: undecided at 6 seeds, quick]",
    ),
    "running-shift": (lambda: running(shift=True), "approach 2 + shift term"),
    "fix": (
        fix,
        "the blog's fix, joint D batch + running stats in G's step: no double win in 4/6 seeds on ring8, 6/6 on "
        "moons, but consistent and close to the data in 0/6 "
        "[fix.1: undecided at 6 seeds, quick]",
    ),
    "fix-shift": (
        lambda: fix(shift=True),
        "the fix + shift term: the fakes stay put in only 2/6 seeds on ring8 and on moons (blog: immune) "
        "[fix.2: undecided at 6 seeds, quick]",
    ),
    "fix-standing": (
        fix_standing,
        "the fix with D's averages recomputed from the joint batch before G's step: smaller gap than the fix in "
        "6/6 seeds on ring8 "
        "[running_average_lag.3: undecided at 6 seeds, quick]",
    ),
    "joint-g-step": (joint_g_step, "joint batch with batch stats in the G step too"),
    "joint-g-step-shift": (lambda: joint_g_step(shift=True), "joint batch in both steps + shift term"),
    "dcgan": (dcgan, "no BN in D's first layer (DCGAN rule)"),
    "dcgan-shift": (
        lambda: dcgan(shift=True),
        "no BN in D's first layer + shift term: the fakes stay put in 6/6 seeds on ring8 and moons "
        "[alternatives.3: undecided at 6 seeds, quick]",
    ),
    "moment-matching-first": (
        lambda: moment_matching("first"),
        "moment matching, BN in D's first layer only: no double win in 5/6 seeds on ring8, 6/6 on moons "
        "[moment_matching.1: undecided at 6 seeds, quick]",
    ),
    "moment-matching-all": (
        lambda: moment_matching("all"),
        "moment matching, BN in all D layers, joint D batch: both 'win' in 6/6 seeds on ring8 and moons "
        "[moment_matching.2: undecided at 6 seeds, quick]",
    ),
    "layer-norm": (lambda: other_norm("layer"), "layer norm in D"),
    "layer-norm-shift": (lambda: other_norm("layer", shift=True), "layer norm in D + shift term"),
    "group-norm": (lambda: other_norm("group"), "group norm (8 groups) in D"),
    "weight-norm": (lambda: other_norm("weight"), "weight norm in D"),
    "spectral-norm": (lambda: other_norm("spectral"), "spectral norm in D"),
    "reference-norm": (lambda: other_norm("reference"), "reference-batch (virtual) BN in D"),
    "reference-norm-shift": (lambda: other_norm("reference", shift=True), "reference-batch BN + shift term"),
}
