"""G and D as pure functions whose normalization state goes in and comes out explicitly.

`make_network` returns `Network(init, apply)`:

    params, batch_stats = net.init(key, sample)
    out, new_batch_stats = net.apply(params, batch_stats, x, stats="batch")    # training mode
    out, same_batch_stats = net.apply(params, batch_stats, x, stats="running")  # inference mode

`stats="batch"` normalizes with the statistics of `x` itself and returns the updated running
averages (Keras `training=True`); `stats="running"` normalizes with the stored averages and
returns the state unchanged (`training=False`). Nothing is mutated: a caller that ignores the
returned state has visibly dropped the update. `batch_stats` is flax's collection of that name:
BN running means/variances and, for spectral norm, the power-iteration vector and sigma.

The modules: `jaxbngan.mlp` (points), `jaxbngan.convnets` (DCGAN, images); their norms, shared,
in `jaxbngan.norms`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxbngan.config import ConfigError, NetworkConfig
from jaxbngan.convnets import DCGANDiscriminator, DCGANGenerator
from jaxbngan.mlp import MLP
from jaxbngan.norms import BatchNorm, ReferenceNorm, batch_norm

__all__ = ["BatchNorm", "Network", "PyTree", "ReferenceNorm", "Stats", "batch_norm", "make_network"]

Stats = Literal["batch", "running"]
PyTree = dict


class Network(NamedTuple):
    """A pure network: `init(key, sample) -> (params, batch_stats)` and
    `apply(params, batch_stats, x, stats) -> (out, batch_stats)`."""

    init: Callable[[jax.Array, jax.Array], tuple[PyTree, PyTree]]
    apply: Callable[..., tuple[jax.Array, PyTree]]


def _module(config: NetworkConfig, out_shape: tuple[int, ...], reference_size: int) -> nn.Module:
    if config.architecture == "mlp":
        return MLP(config, out_shape[0], reference_size)
    if len(out_shape) == 3:  # an image out: the generator
        return DCGANGenerator(config, out_shape)
    return DCGANDiscriminator(config, out_shape[0], reference_size)


def make_network(
    config: NetworkConfig, out_shape: int | tuple[int, ...], reference_batch: jax.Array | None = None
) -> Network:
    """Build the pure init/apply pair of a network whose output per sample has `out_shape`.

    An MLP maps (batch, d) to (batch, out). With `architecture="dcgan"`, an (H, W, C) `out_shape`
    makes the DCGAN generator (noise to images) and an int the discriminator (images to logits).
    `reference_batch` feeds reference-batch norm.
    """
    out_shape = (out_shape,) if isinstance(out_shape, int) else tuple(out_shape)
    uses_reference = "reference" in config.norms
    if uses_reference and reference_batch is None:
        raise ConfigError("reference-batch norm needs a reference batch")
    reference_size = reference_batch.shape[0] if uses_reference else 0
    module = _module(config, out_shape, reference_size)

    def with_reference(x: jax.Array) -> jax.Array:
        return jnp.concatenate([reference_batch, x]) if uses_reference else x

    def without_reference(out: jax.Array) -> jax.Array:
        return out[reference_size:]

    def init(key: jax.Array, sample: jax.Array) -> tuple[PyTree, PyTree]:
        variables = module.init(key, with_reference(sample), use_running_average=False)
        return variables["params"], variables.get("batch_stats", {})

    def apply(params: PyTree, batch_stats: PyTree, x: jax.Array, stats: Stats) -> tuple[jax.Array, PyTree]:
        variables = {"params": params, "batch_stats": batch_stats}
        if stats == "batch":
            out, updated = module.apply(
                variables, with_reference(x), use_running_average=False, mutable=["batch_stats"]
            )
            return without_reference(out), updated.get("batch_stats", {})
        if stats == "running":
            out = module.apply(variables, with_reference(x), use_running_average=True)
            return without_reference(out), batch_stats
        raise ConfigError(f"stats must be 'batch' or 'running', got {stats!r}")

    return Network(init, apply)
