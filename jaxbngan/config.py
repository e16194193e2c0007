"""Frozen, hashable configuration dataclasses: one place for every knob of a run.

Defaults are the blog's Keras setting (see `../shared/seeds/README.md`): full-population
batches of 2048, 2000 steps, Dense(64)-LeakyReLU(0.01) MLPs, BN momentum 0.99 and epsilon 1e-3,
Adam(1e-3, 0.9, 0.999, 1e-7).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

NORMS = ("none", "batch", "layer", "group", "instance", "weight", "spectral", "reference")
NormKind = Literal["none", "batch", "layer", "group", "instance", "weight", "spectral", "reference"]
ARCHITECTURES = ("mlp", "dcgan")
INIT_SCHEMES = ("keras", "dcgan")
SAMPLE_STATS = ("batch", "running")
PADDINGS = ("zeros", "reflect")
RUNNING_STARTS = ("zeros", "first_batch", "debiased")  # how BN running averages start (`norms.BatchNorm`)
DATA_KINDS = ("points", "images")  # populations (n, d) and (n, H, W, C)
D_BATCHES = ("split", "joint")
G_VIEWS = ("fake", "joint", "running")  # the one order of the views, as metrics store them
ORDERS = ("g_first", "d_first")
D_CALLS = ("fake_first", "real_first")
G_NOISES = ("same", "fresh")
G_LOSSES = ("minimax", "nonsaturating")
MAX_STEPS = 2**31 - 1
# The continuous fields that change no array shape and no program structure. Every run takes them
# as traced inputs (`TrainState.knobs`), not as constants, so one compiled program serves every
# point of a sweep and a sweep's point runs the very program of a run alone.
KNOBS = (
    "generator.momentum",
    "generator.epsilon",
    "generator.leaky_slope",
    "discriminator.momentum",
    "discriminator.epsilon",
    "discriminator.leaky_slope",
    "loss.shift_weight",
    "loss.label_smoothing",
    "optimizer.learning_rate",
    "optimizer.b1",
    "optimizer.b2",
    "optimizer.eps",
)


class ConfigError(ValueError):
    """A configuration value that cannot describe a valid run."""


def error_text(error: Exception) -> str:
    """The first line of an exception's message (its type's name if it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@dataclass(frozen=True)
class DataConfig:
    """Which real population to learn; `params` overrides the generator's keyword defaults."""

    name: str = "ring8"
    size: int = 2048
    seed: int = 0  # the population is shared by all training seeds
    params: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class NetworkConfig:
    """One player's network: an MLP for points or a DCGAN conv net for images.

    MLP: Dense(width) -> [norm] -> LeakyReLU per entry of `hidden`, then Dense(out).
    DCGAN (`jaxbngan.convnets`): one conv layer per entry of `channels` (G: a Dense projection and
    ConvTransposes, then an output ConvTranspose to the image's channels; D: strided Convs, then
    Dense(1)).
    """

    architecture: Literal["mlp", "dcgan"] = "mlp"
    hidden: tuple[int, ...] = (64, 64)  # MLP widths; () for dcgan
    channels: tuple[int, ...] = ()  # dcgan: channels per conv layer; () for the MLP
    norms: tuple[NormKind, ...] = ("none", "none")  # one entry per hidden (MLP) or conv (dcgan) layer
    norm_position: Literal["pre", "post"] = "pre"  # norm before (blog, DCGAN) or after activation
    momentum: float = 0.99  # Keras: the running average keeps 99% per update
    epsilon: float = 1e-3  # Keras BatchNormalization default
    groups: int = 8  # for group norm
    leaky_slope: float = 0.01  # 0 is ReLU (DCGAN's G)
    # How a DCGAN discriminator's convs pad the borders: zeros (pytorch/examples) or a reflection.
    # Zeros let a constant shift of a channel differ at the borders, where BN cannot remove it.
    padding: Literal["zeros", "reflect"] = "zeros"
    # Kernels glorot-uniform and BN scale 1 (Keras), or N(0, 0.02) kernels and N(1, 0.02) BN scales (DCGAN).
    init_scheme: Literal["keras", "dcgan"] = "keras"
    # How BN's running averages start: at mean 0, variance 1 and uncorrected (Keras, PyTorch, flax),
    # at the first batch's moments, or debiased as Adam's moments are (divided by 1 - momentum^t).
    running_start: Literal["zeros", "first_batch", "debiased"] = "zeros"

    @property
    def layers(self) -> tuple[int, ...]:
        """Widths (MLP) or channels (DCGAN) of the layers that `norms` normalize."""
        return self.hidden if self.architecture == "mlp" else self.channels


@dataclass(frozen=True)
class StrategyConfig:
    """The choices that decide which BN statistics D uses, which updates survive, and in what order."""

    # How D sees real and fake in its own update: two calls (in the order `d_calls`) or one call
    # on the concatenation.
    d_batch: Literal["split", "joint"] = "split"
    # Which statistics D normalizes the fakes with while G is trained: the fake-only batch
    # (Keras `training=True`), the running averages (`training=False`), or a joint real+fake
    # batch with the loss on the fake half.
    g_view: Literal["fake", "running", "joint"] = "fake"
    # Whether D's running-average update made during the G step is kept (Keras and PyTorch do).
    keep_g_step_stats: bool = True
    # "Standing statistics": before G's step, D's running averages are replaced by the moments of
    # the current joint real+fake batch (a momentum-0 update), so the `running` view cannot lag.
    standing_stats: bool = False
    # Which statistics G normalizes with when samples are drawn for metrics and figures: its
    # batch's own moments (as pytorch/examples, which never calls `.eval()`) or its running
    # averages (inference mode, as the TensorFlow DCGAN tutorial draws its figures). Training
    # always uses the batch's moments.
    sample_stats: Literal["batch", "running"] = "batch"
    # Which batch split D calls see first: the fakes (the blog's Keras code) or the reals
    # (pytorch/examples, Keras-GAN). The second call is the last to move the running averages.
    d_calls: Literal["fake_first", "real_first"] = "fake_first"
    # Which player steps first: G, then D on the fakes G made before its update (the blog), or D,
    # then G against the D just updated (pytorch/examples, Keras-GAN).
    order: Literal["g_first", "d_first"] = "g_first"
    # With order="d_first": G's step scores the very fakes D was trained on (pytorch/examples) or
    # fakes of fresh noise (Keras-GAN's combined model). Either way G's statistics move once a step.
    g_noise: Literal["same", "fresh"] = "same"


@dataclass(frozen=True)
class LossConfig:
    """Objectives of both players."""

    g_loss: Literal["minimax", "nonsaturating"] = "minimax"  # blog: zero-sum minimax
    # Blog's shift experiment: G loss -= w * mean(fake[:, 0]) on points, w * mean(fake) (brightness) on images.
    shift_weight: float = 0.0
    label_smoothing: float = 0.0  # one-sided: real label 1 - s in D's loss
    moment_matching: bool = False  # blog bonus: fakes standardized to the real mean/variance


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam for both players, Keras defaults."""

    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-7


@dataclass(frozen=True)
class Config:
    """Everything that defines one run of one seed."""

    data: DataConfig = field(default_factory=DataConfig)
    generator: NetworkConfig = field(default_factory=NetworkConfig)
    discriminator: NetworkConfig = field(default_factory=NetworkConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    steps: int = 2000
    batch_size: int | None = None  # None: the whole population every step (blog)
    noise_dim: int = 2
    log_every: int = 50
    metric_samples: int = 512  # samples per side for the energy distance
    reference_size: int = 256  # reference batch of the virtual-BN discriminator

    def validate(self) -> Config:
        """Raise ConfigError naming the first invalid field; return self otherwise."""
        validate(self)
        return self


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _validate_network(net: NetworkConfig, who: str) -> None:
    _require(net.architecture in ARCHITECTURES, f"{who}.architecture: {net.architecture!r} not in {ARCHITECTURES}")
    mlp = net.architecture == "mlp"
    layers, unused, kind = ("hidden", "channels", "hidden") if mlp else ("channels", "hidden", "conv")
    _require(
        len(net.layers) >= 1 and all(isinstance(w, int) and w > 0 for w in net.layers),
        f"{who}.{layers} must be positive sizes for architecture {net.architecture!r}, got {net.layers!r}",
    )
    _require(
        getattr(net, unused) == (),
        f"{who}.{unused} is unused by architecture {net.architecture!r}; set it to (), got {getattr(net, unused)!r}",
    )
    _require(
        len(net.norms) == len(net.layers),
        f"{who}.norms needs one entry per {kind} layer ({len(net.layers)}), got {net.norms!r}",
    )
    for norm in net.norms:
        _require(norm in NORMS, f"{who}.norms: unknown norm {norm!r}; choose from {NORMS}")
    _require(
        not mlp or "instance" not in net.norms,
        f"{who}.norms: instance norm normalizes an image's channels over H, W; a point's features have no such axes",
    )
    _require(net.padding in PADDINGS, f"{who}.padding: {net.padding!r} not in {PADDINGS}")
    _require(net.init_scheme in INIT_SCHEMES, f"{who}.init_scheme: {net.init_scheme!r} not in {INIT_SCHEMES}")
    _require(net.running_start in RUNNING_STARTS, f"{who}.running_start: {net.running_start!r} not in {RUNNING_STARTS}")
    _require(net.norm_position in ("pre", "post"), f"{who}.norm_position must be 'pre' or 'post'")
    _require(0.0 <= net.momentum < 1.0, f"{who}.momentum must be in [0, 1), got {net.momentum}")
    _require(net.epsilon > 0, f"{who}.epsilon must be positive, got {net.epsilon}")
    if "group" in net.norms:
        _require(
            net.groups > 0
            and all(w % net.groups == 0 for w, n in zip(net.layers, net.norms, strict=True) if n == "group"),
            f"{who}.groups={net.groups} must divide every group-normed width {net.layers}",
        )


def check_types(config: Any, prefix: str = "") -> None:
    """Raise ConfigError naming the first field whose value is not of its declared type (`steps="100"`)."""
    hints = _type_hints(type(config))
    for item in dataclasses.fields(config):
        value, path, expected = getattr(config, item.name), prefix + item.name, hints[item.name]
        if dataclasses.is_dataclass(expected):
            _require(
                isinstance(value, expected),
                f"{path} must be a {expected.__name__} (a dict of its fields), got {value!r}",
            )
            check_types(value, f"{path}.")
        elif not _has_type(value, expected):  # the message only when needed: grids check thousands of configs
            raise ConfigError(f"{path} must be {_type_name(expected)}, got {value!r}")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (string annotations), and asked for every config checked


def _has_type(value: Any, expected: Any) -> bool:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, option) for option in args)
    if origin is Literal:
        return isinstance(value, str)  # which strings: `validate` names the choices
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_has_type(v, args[0]) for v in value)
        return len(value) == len(args) and all(_has_type(v, a) for v, a in zip(value, args, strict=True))
    if isinstance(value, (bool, np.bool_)):
        return expected is bool
    if expected is int:
        return isinstance(value, numbers.Integral)
    if expected is float:
        return isinstance(value, numbers.Real) and math.isfinite(value)
    return isinstance(value, expected)


def _type_name(expected: Any) -> str:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is type(None):
        return "None"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(option) for option in args)
    if origin is Literal or expected is str:
        return "a string"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis and typing.get_origin(args[0]) is tuple:
            return f"a tuple of ({', '.join(_type_name(a) for a in typing.get_args(args[0]))}) pairs"
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a tuple of {_type_name(args[0]).removeprefix('a ').removeprefix('an ')}s"
        return f"a tuple ({', '.join(_type_name(a) for a in args)})"
    return {bool: "True or False", int: "an integer", float: "a finite number"}.get(expected, expected.__name__)


def validate(config: Config) -> None:
    """Check a config before anything is traced, so mistakes read as one line, not a JAX trace."""
    check_types(config)
    _require(config.data.size >= 2, f"data.size must be at least 2, got {config.data.size}")
    _require(config.steps > 0, f"steps must be positive, got {config.steps}")
    _require(
        config.steps <= MAX_STEPS, f"steps must be at most {MAX_STEPS} (Adam counts steps in int32), got {config.steps}"
    )
    _require(config.log_every > 0, f"log_every must be positive, got {config.log_every}")
    _require(
        config.steps % config.log_every == 0,
        f"steps ({config.steps}) must be a multiple of log_every ({config.log_every})",
    )
    if config.batch_size is not None:
        _require(config.batch_size >= 2, f"batch_size must be at least 2, got {config.batch_size}")
        _require(
            config.batch_size <= config.data.size,
            f"batch_size ({config.batch_size}) exceeds the population size ({config.data.size})",
        )
    _require(config.noise_dim > 0, f"noise_dim must be positive, got {config.noise_dim}")
    _require(config.metric_samples >= 2, "metric_samples must be at least 2")
    _validate_network(config.generator, "generator")
    _validate_network(config.discriminator, "discriminator")
    _require("reference" not in config.generator.norms, "reference-batch norm is for D only")
    _require(config.generator.padding == "zeros", "generator.padding: G's transposed convs pad with zeros only")
    _require(
        config.discriminator.padding == "zeros" or config.discriminator.architecture == "dcgan",
        "discriminator.padding is for conv layers; the MLP has none",
    )
    if "reference" in config.discriminator.norms:
        _require(
            2 <= config.reference_size <= config.data.size,
            f"reference_size must be in [2, data.size], got {config.reference_size}",
        )
    s = config.strategy
    _require(s.d_batch in D_BATCHES, f"strategy.d_batch: {s.d_batch!r} not in {D_BATCHES}")
    _require(s.g_view in G_VIEWS, f"strategy.g_view: {s.g_view!r} not in {G_VIEWS}")
    _require(
        not s.standing_stats or s.g_view == "running",
        "strategy.standing_stats refreshes the running averages, so it needs g_view='running'",
    )
    _require(s.order in ORDERS, f"strategy.order: {s.order!r} not in {ORDERS}")
    _require(s.d_calls in D_CALLS, f"strategy.d_calls: {s.d_calls!r} not in {D_CALLS}")
    _require(s.g_noise in G_NOISES, f"strategy.g_noise: {s.g_noise!r} not in {G_NOISES}")
    _require(
        s.d_batch == "split" or s.d_calls == "fake_first",
        "strategy.d_calls orders D's two split calls; d_batch='joint' makes one call",
    )
    _require(
        s.order == "d_first" or s.g_noise == "same",
        "strategy.g_noise='fresh' draws new noise for G's step after D's; it needs order='d_first'",
    )
    _require(
        s.order == "g_first" or not s.standing_stats,
        "strategy.standing_stats refreshes the averages before a G step that comes first; it needs order='g_first'",
    )
    _require(s.sample_stats in SAMPLE_STATS, f"strategy.sample_stats: {s.sample_stats!r} not in {SAMPLE_STATS}")
    _require(config.loss.g_loss in G_LOSSES, f"loss.g_loss: {config.loss.g_loss!r} not in {G_LOSSES}")
    _require(0.0 <= config.loss.label_smoothing < 1.0, "loss.label_smoothing must be in [0, 1)")
    _require(
        config.loss.shift_weight >= 0,
        f"loss.shift_weight must not be negative (the term pushes fakes along +x), got {config.loss.shift_weight}",
    )
    opt = config.optimizer
    _require(opt.learning_rate > 0, "optimizer.learning_rate must be positive")
    _require(0 <= opt.b1 < 1 and 0 <= opt.b2 < 1, f"optimizer.b1 and b2 must be in [0, 1), got {opt.b1}, {opt.b2}")
    _require(opt.eps > 0, f"optimizer.eps must be positive (Adam divides by sqrt(v) + eps), got {opt.eps}")


def data_kind(shape: tuple[int, ...]) -> str:
    """'points' for a population shaped (n, d), 'images' for (n, H, W, C); ConfigError otherwise."""
    _require(len(shape) in (2, 4), f"data must be (n, d) points or (n, H, W, C) images, got shape {tuple(shape)}")
    return DATA_KINDS[0] if len(shape) == 2 else DATA_KINDS[1]


def validate_for_data(config: Config, shape: tuple[int, ...], name: str | None = None) -> None:
    """Check that both networks fit a population of `shape` (of data set `name`): MLPs for points, DCGANs for images."""
    kind = data_kind(shape)
    validate_for_kind(config, kind, name or f"{kind} of shape {tuple(shape[1:])}")


def validate_for_kind(config: Config, kind: str, what: str) -> None:
    """Check that both networks fit data of `kind` ("points" or "images"), `what` naming the data in the message."""
    fitting = "mlp" if kind == "points" else "dcgan"
    for who, net in (("generator", config.generator), ("discriminator", config.discriminator)):
        _require(
            net.architecture == fitting,
            f"{who}.architecture={net.architecture!r} cannot model {kind} ({what}): use a preset made for {kind} "
            f"(`jaxbngan list`), or architecture {fitting!r}",
        )


def get_field(config: Config, path: str) -> Any:
    """The value of a dotted field path (`steps`, `discriminator.momentum`)."""
    value: Any = config
    for name in path.split("."):
        value = getattr(value, name)
    return value


def replace_field(config: Any, path: str, value: Any) -> Any:
    """`config` with the dotted field `path` set to `value` (no validation: `value` may be traced)."""
    name, _, rest = path.partition(".")
    return dataclasses.replace(config, **{name: replace_field(getattr(config, name), rest, value) if rest else value})


def knob_values(config: Config) -> dict[str, float]:
    """The config's value of every knob, keyed by its dotted path."""
    return {path: get_field(config, path) for path in KNOBS}


def with_knobs(config: Config, knobs: dict[str, Any]) -> Config:
    """`config` with its knobs replaced by `knobs` (traced scalars inside a step): the config a step runs."""
    for path, value in knobs.items():
        config = replace_field(config, path, value)
    return config


def to_dict(config: Config) -> dict[str, Any]:
    """A JSON-ready nested dict of a config."""
    return dataclasses.asdict(config)


def from_dict(values: dict[str, Any]) -> Config:
    """Rebuild a Config from `to_dict` output (lists become tuples again)."""
    sections = {
        "data": DataConfig,
        "generator": NetworkConfig,
        "discriminator": NetworkConfig,
        "strategy": StrategyConfig,
        "loss": LossConfig,
        "optimizer": OptimizerConfig,
    }
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key in sections:
            kwargs[key] = sections[key](**{k: _tupled(v) for k, v in value.items()})
        else:
            kwargs[key] = value
    return Config(**kwargs)


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value
