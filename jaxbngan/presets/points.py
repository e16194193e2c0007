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
    "no-bn": (no_bn, "no normalization: the baseline that learns the data"),
    "no-bn-shift": (lambda: no_bn(shift=True), "no normalization + shift term: D notices, no shift"),
    "bn-split": (bn_split, "BN in D, split real/fake batches (blog default): shifted samples at ln 2"),
    "bn-split-shift": (lambda: bn_split(shift=True), "BN split + shift term: G shifts, D is blind"),
    "joint": (joint, "approach 1, joint D batch: both players 'win' (blog: G 6.62 / D 0.17)"),
    "joint-shift": (lambda: joint(shift=True), "approach 1 + shift term"),
    "running": (running, "approach 2, running stats in G step: both 'win' (blog: G 4.23 / D 0.007)"),
    "running-shift": (lambda: running(shift=True), "approach 2 + shift term"),
    "fix": (fix, "joint D batch + running stats in the G step: the blog's fix"),
    "fix-shift": (lambda: fix(shift=True), "the fix + shift term: immune to the shift"),
    "fix-standing": (fix_standing, "the fix with D's averages recomputed from the joint batch before G's step"),
    "joint-g-step": (joint_g_step, "joint batch with batch stats in the G step too"),
    "joint-g-step-shift": (lambda: joint_g_step(shift=True), "joint batch in both steps + shift term"),
    "dcgan": (dcgan, "no BN in D's first layer (DCGAN rule)"),
    "dcgan-shift": (lambda: dcgan(shift=True), "no BN in D's first layer + shift term"),
    "moment-matching-first": (lambda: moment_matching("first"), "moment matching, BN in D's first layer only"),
    "moment-matching-all": (lambda: moment_matching("all"), "moment matching, BN in all D layers"),
    "layer-norm": (lambda: other_norm("layer"), "layer norm in D"),
    "layer-norm-shift": (lambda: other_norm("layer", shift=True), "layer norm in D + shift term"),
    "group-norm": (lambda: other_norm("group"), "group norm (8 groups) in D"),
    "weight-norm": (lambda: other_norm("weight"), "weight norm in D"),
    "spectral-norm": (lambda: other_norm("spectral"), "spectral norm in D"),
    "reference-norm": (lambda: other_norm("reference"), "reference-batch (virtual) BN in D"),
    "reference-norm-shift": (lambda: other_norm("reference", shift=True), "reference-batch BN + shift term"),
}
