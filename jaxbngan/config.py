"""Frozen, hashable configuration dataclasses: one place for every knob of a run.

Defaults are the blog's Keras setting (see `../shared/seeds/README.md`): full-population
batches of 2048, 2000 steps, Dense(64)-LeakyReLU(0.01) MLPs, BN momentum 0.99 and epsilon 1e-3,
Adam(1e-3, 0.9, 0.999, 1e-7).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

NORMS = ("none", "batch", "layer", "group", "weight", "spectral", "reference")
NormKind = Literal["none", "batch", "layer", "group", "weight", "spectral", "reference"]
D_BATCHES = ("split", "joint")
G_VIEWS = ("fake", "running", "joint")
G_LOSSES = ("minimax", "nonsaturating")
MAX_STEPS = 2**31 - 1


class ConfigError(ValueError):
    """A configuration value that cannot describe a valid run."""


@dataclass(frozen=True)
class DataConfig:
    """Which real population to learn; `params` overrides the generator's keyword defaults."""

    name: str = "ring8"
    size: int = 2048
    seed: int = 0  # the population is shared by all training seeds
    params: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class NetworkConfig:
    """An MLP: Dense(width) -> [norm] -> LeakyReLU per hidden layer, then Dense(out)."""

    hidden: tuple[int, ...] = (64, 64)
    norms: tuple[NormKind, ...] = ("none", "none")  # one entry per hidden layer
    norm_position: Literal["pre", "post"] = "pre"  # norm before (blog, DCGAN) or after activation
    momentum: float = 0.99  # Keras: the running average keeps 99% per update
    epsilon: float = 1e-3  # Keras BatchNormalization default
    groups: int = 8  # for group norm
    leaky_slope: float = 0.01


@dataclass(frozen=True)
class StrategyConfig:
    """The three choices that decide which BN statistics D uses and which updates survive."""

    # How D sees real and fake in its own update: two calls (Keras order: fake, then real)
    # or one call on the concatenation.
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


@dataclass(frozen=True)
class LossConfig:
    """Objectives of both players."""

    g_loss: Literal["minimax", "nonsaturating"] = "minimax"  # blog: zero-sum minimax
    shift_weight: float = 0.0  # blog's shift experiment: G loss -= w * mean(fake[:, 0])
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
    _require(
        len(net.hidden) >= 1 and all(isinstance(w, int) and w > 0 for w in net.hidden),
        f"{who}.hidden must be positive widths, got {net.hidden!r}",
    )
    _require(
        len(net.norms) == len(net.hidden),
        f"{who}.norms needs one entry per hidden layer ({len(net.hidden)}), got {net.norms!r}",
    )
    for norm in net.norms:
        _require(norm in NORMS, f"{who}.norms: unknown norm {norm!r}; choose from {NORMS}")
    _require(net.norm_position in ("pre", "post"), f"{who}.norm_position must be 'pre' or 'post'")
    _require(0.0 <= net.momentum < 1.0, f"{who}.momentum must be in [0, 1), got {net.momentum}")
    _require(net.epsilon > 0, f"{who}.epsilon must be positive, got {net.epsilon}")
    if "group" in net.norms:
        _require(
            net.groups > 0
            and all(w % net.groups == 0 for w, n in zip(net.hidden, net.norms, strict=True) if n == "group"),
            f"{who}.groups={net.groups} must divide every group-normed width {net.hidden}",
        )


def validate(config: Config) -> None:
    """Check a config before anything is traced, so mistakes read as one line, not a JAX trace."""
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
