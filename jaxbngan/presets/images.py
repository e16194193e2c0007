"""Presets on images: DCGAN conv nets trained the way the codebases people copy handle batch norm.

Every preset shares the DCGAN defaults of Radford et al. 2015 as pytorch/examples `dcgan/main.py`
sets them: N(0, 0.02) kernels and N(1, 0.02) BN scales, BN momentum 0.9 in our convention
(PyTorch's 0.1) and epsilon 1e-5, Adam(2e-4, 0.5, 0.999, 1e-8), batches of 64 sampled from the
population, the non-saturating G loss, 100-dimensional noise, ReLU in G and LeakyReLU(0.2) in D,
BN in every G layer but the output. They differ in D's normalization and in the strategy choices
(`jaxbngan.strategies`). A preset that names a codebase runs its order of the two steps; the others
run the blog's (G's step first). Sources are summarized in `shared/references/dcgan.md`.
"""

from __future__ import annotations

from collections.abc import Callable

from jaxbngan.config import Config, DataConfig, LossConfig, NetworkConfig, OptimizerConfig, StrategyConfig

# The blog's weight of the shift term, reused per unit of mean brightness (pixels in [-1, 1]);
# not calibrated on images yet.
BRIGHTNESS_WEIGHT = 0.005
DIGITS = DataConfig(name="digits", size=1797)  # scikit-learn's 8x8 digits, all 1797 of them
G_CHANNELS = (128, 64)
D_CHANNELS = (64, 128)
DCGAN_RULE = ("none", "batch")  # no BN in D's first layer, BN in every other
# The orders of a step (`StrategyConfig` fields), as `derived` variants take them.
BLOG_ORDER = {"order": "g_first", "d_calls": "fake_first", "g_noise": "same"}
PYTORCH_ORDER = {"order": "d_first", "d_calls": "real_first", "g_noise": "same"}
KERAS_GAN_ORDER = {"order": "d_first", "d_calls": "real_first", "g_noise": "fresh"}


def _network(
    channels: tuple[int, ...], norms: tuple[str, ...], leaky_slope: float, padding: str = "zeros"
) -> NetworkConfig:
    return NetworkConfig(
        architecture="dcgan",
        hidden=(),
        channels=channels,
        norms=norms,
        momentum=0.9,
        epsilon=1e-5,
        leaky_slope=leaky_slope,
        padding=padding,
        init_scheme="dcgan",
    )


def _config(
    d_norms: tuple[str, ...] = DCGAN_RULE,
    d_batch: str = "split",
    g_view: str = "fake",
    standing_stats: bool = False,
    shift: bool = False,
    d_padding: str = "zeros",
    order: dict[str, str] = BLOG_ORDER,
) -> Config:
    return Config(
        data=DIGITS,
        generator=_network(G_CHANNELS, ("batch",) * len(G_CHANNELS), leaky_slope=0.0),
        discriminator=_network(D_CHANNELS, d_norms, leaky_slope=0.2, padding=d_padding),
        strategy=StrategyConfig(d_batch=d_batch, g_view=g_view, standing_stats=standing_stats, **order),
        loss=LossConfig(g_loss="nonsaturating", shift_weight=BRIGHTNESS_WEIGHT if shift else 0.0),
        optimizer=OptimizerConfig(learning_rate=2e-4, b1=0.5, b2=0.999, eps=1e-8),
        steps=2000,
        batch_size=64,
        noise_dim=100,
        log_every=100,
    )


def split(shift: bool = False) -> Config:
    """pytorch/examples `dcgan/main.py`, in its order: D's step first, D(real) then D(fake.detach())
    as two calls; then G's step, where D, just updated and still in training mode, scores the same
    fakes, and that third update of its running averages is kept. G makes the fakes once, in
    training mode, so its statistics move once a step. Not followed: pytorch sums the two BCEs
    where we average them (D's gradient is halved; Adam is nearly blind to the scale)."""
    return _config(shift=shift, order=PYTORCH_ORDER)


def joint() -> Config:
    """The blog's approach 1 on images: one D call on real+fake; G sees D on a fake-only batch."""
    return _config(d_batch="joint")


def running() -> Config:
    """Keras-GAN `dcgan.py` under TF2, in its order: D's step first, split calls on real then fake
    images; then G's step on fresh noise through the combined model, where the frozen D
    (`trainable=False`) runs BN in inference mode, so G is trained against D's running averages,
    last moved by the fake batch. Not followed: Keras-GAN makes D's step two optimizer steps
    (`train_on_batch` on reals, then on fakes) on half batches, and makes D's fakes with
    `generator.predict` (G's running averages); here D takes one step on full batches of fakes made
    with G's batch moments, as in every preset."""
    return _config(g_view="running", order=KERAS_GAN_ORDER)


def fix() -> Config:
    """The blog's fix ('How Do We Actually Fix This?'): joint D batch, running statistics in G's step."""
    return _config(d_batch="joint", g_view="running")


def joint_g_step() -> Config:
    """google/compare_gan v3: joint real+fake D calls (its default; split is 'deprecated_split_disc_calls'),
    D in training mode on the joint batch in G's step too."""
    return _config(d_batch="joint", g_view="joint")


def standing() -> Config:
    """The fix with standing statistics: D's averages recomputed from the current joint batch before
    G's step, after the accumulated moments of compare_gan v3 and BigGAN (which use them to evaluate)."""
    return _config(d_batch="joint", g_view="running", standing_stats=True)


def bn_first(shift: bool = False, d_padding: str = "zeros") -> Config:
    """Against the DCGAN rule: BN also in D's first layer, split calls as pytorch/examples.

    With D's borders padded by reflection instead of zeros, a brightness shift adds the same
    constant to every position of each first-layer channel, which BN removes exactly (the blog's
    blind spot); zero padding lets the shift differ at the borders.
    """
    return _config(d_norms=("batch", "batch"), shift=shift, d_padding=d_padding)


def d_norm(norm: str, shift: bool = False) -> Config:
    """D normalized another way, where the DCGAN rule puts BN (layer, instance) or, for kernel norms
    (spectral, Miyato et al. 2018), in every layer; none drops D's normalization. Kurach et al. 2019
    compare these in D."""
    norms = (norm, norm) if norm == "spectral" else ("none", norm)
    return _config(d_norms=norms, shift=shift)


BUILDERS: dict[str, tuple[Callable[[], Config], str]] = {
    "dcgan-split": (
        split,
        "DCGAN rule in D, D's step first (real, then fake), then G's on the same fakes, D in training mode"
        " (pytorch/examples)",
    ),
    "dcgan-joint": (joint, "DCGAN rule in D, joint real+fake D batch, fake-only batch in G's step"),
    "dcgan-running": (
        running,
        "DCGAN rule in D, D's step first (real, then fake), then G's on fresh noise against D's running averages"
        " (Keras-GAN, TF2)",
    ),
    "dcgan-fix": (fix, "DCGAN rule in D, joint D batch + running averages in G's step (the blog's fix)"),
    "dcgan-joint-g-step": (joint_g_step, "DCGAN rule in D, joint batch in both steps (compare_gan v3)"),
    "dcgan-standing": (standing, "the fix with D's averages recomputed from the joint batch before G's step"),
    "dcgan-bn-first": (bn_first, "BN in every D layer, the first too (against the DCGAN rule), split D calls"),
    "dcgan-no-d-norm": (lambda: d_norm("none"), "no normalization in D, BN in G"),
    "dcgan-layer": (lambda: d_norm("layer"), "layer norm in D where the DCGAN rule puts BN"),
    "dcgan-instance": (lambda: d_norm("instance"), "instance norm in D where the DCGAN rule puts BN"),
    "dcgan-spectral": (lambda: d_norm("spectral"), "spectral norm on every D layer"),
    "dcgan-split-shift": (lambda: split(shift=True), "dcgan-split + reward for G's mean brightness"),
    "dcgan-bn-first-shift": (lambda: bn_first(shift=True), "dcgan-bn-first + reward for G's mean brightness"),
    "dcgan-bn-first-shift-reflect": (
        lambda: bn_first(shift=True, d_padding="reflect"),
        "dcgan-bn-first-shift with D's borders padded by reflection instead of zeros",
    ),
    "dcgan-instance-shift": (lambda: d_norm("instance", shift=True), "dcgan-instance + reward for G's mean brightness"),
    "dcgan-no-d-norm-shift": (lambda: d_norm("none", shift=True), "dcgan-no-d-norm + reward for G's mean brightness"),
}
