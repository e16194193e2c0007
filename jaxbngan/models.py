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
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxbngan.config import ConfigError, NetworkConfig

Stats = Literal["batch", "running"]
PyTree = dict


def _normalize_batch(x, scale, bias, epsilon):
    n = x.shape[0]
    mean = jnp.sum(x, axis=0) / n
    centered = x - mean[None]
    var = jnp.sum(centered * centered, axis=0) / n  # biased, as Keras and flax
    inv_std = jax.lax.rsqrt(var + epsilon)
    normalized = centered * inv_std[None]
    return normalized * scale[None] + bias[None], mean, var, (normalized, inv_std, scale)


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def batch_norm(
    x: jax.Array, scale: jax.Array, bias: jax.Array, epsilon: float
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Training-mode batch norm: `(y, batch mean, batch variance)`, normalized by the batch's own moments.

    The backward pass is the closed form (Ioffe & Szegedy 2015): two column sums instead of the
    four or more that autodiff of the forward pass makes. The moments returned feed only the
    running averages, so no gradient flows through them.
    """
    y, mean, var, _ = _normalize_batch(x, scale, bias, epsilon)
    return y, mean, var


def _batch_norm_forward(x, scale, bias, epsilon):
    y, mean, var, residuals = _normalize_batch(x, scale, bias, epsilon)
    return (y, mean, var), residuals


def _batch_norm_backward(epsilon, residuals, cotangents):
    normalized, inv_std, scale = residuals
    dy = cotangents[0]
    n = dy.shape[0]
    d_bias = jnp.sum(dy, axis=0)
    d_scale = jnp.sum(dy * normalized, axis=0)
    dx = (scale * inv_std / n)[None] * (n * dy - d_bias[None] - normalized * d_scale[None])
    return dx, d_scale, d_bias


batch_norm.defvjp(_batch_norm_forward, _batch_norm_backward)


class BatchNorm(nn.Module):
    """Keras-style batch norm over axis 0, with the variables of `flax.linen.BatchNorm`.

    Training mode (`use_running_average=False`) normalizes by the batch moments and moves the
    running averages toward them: `avg = momentum * avg + (1 - momentum) * batch_moment`.
    Inference mode normalizes by the running averages and leaves them alone.
    """

    use_running_average: bool
    momentum: float
    epsilon: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features = x.shape[-1]
        running_mean = self.variable("batch_stats", "mean", jnp.zeros, (features,), x.dtype)
        running_var = self.variable("batch_stats", "var", jnp.ones, (features,), x.dtype)
        scale = self.param("scale", nn.initializers.ones, (features,))
        bias = self.param("bias", nn.initializers.zeros, (features,))
        if self.use_running_average:
            inv_std = jax.lax.rsqrt(running_var.value + self.epsilon)
            return (x - running_mean.value[None]) * (scale * inv_std)[None] + bias[None]
        y, mean, var = batch_norm(x, scale, bias, self.epsilon)
        if not self.is_initializing():
            m = self.momentum
            running_mean.value = m * running_mean.value + (1 - m) * mean
            running_var.value = m * running_var.value + (1 - m) * var
        return y


class ReferenceNorm(nn.Module):
    """Virtual batch normalization (Salimans et al. 2016) over a fixed reference batch.

    The input's first `reference_size` rows are the reference batch. Each other row is normalized
    with the moments of the reference batch plus itself (weight 1/(n+1)); the reference rows with
    their own moments. No row depends on any other non-reference row.
    """

    reference_size: int
    epsilon: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        n = self.reference_size
        reference = x[:n]
        ref_mean = jnp.mean(reference, axis=0, keepdims=True)
        ref_sq = jnp.mean(jnp.square(reference), axis=0, keepdims=True)
        mean = (n * ref_mean + x) / (n + 1)
        var = (n * ref_sq + jnp.square(x)) / (n + 1) - jnp.square(mean)
        is_reference = (jnp.arange(x.shape[0]) < n)[:, None]
        mean = jnp.where(is_reference, ref_mean, mean)
        var = jnp.where(is_reference, ref_sq - jnp.square(ref_mean), var)
        y = (x - mean) * jax.lax.rsqrt(var + self.epsilon)
        scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
        bias = self.param("bias", nn.initializers.zeros, (x.shape[-1],))
        return y * scale[None] + bias[None]


class MLP(nn.Module):
    """Dense(w) -> [norm] -> LeakyReLU per hidden layer (norm after the activation if 'post')."""

    config: NetworkConfig
    out_features: int
    reference_size: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, use_running_average: bool) -> jax.Array:
        cfg = self.config
        for width, norm in zip(cfg.hidden, cfg.norms, strict=True):
            # Keras Dense defaults: glorot-uniform kernel, zero bias.
            dense = nn.Dense(width, kernel_init=nn.initializers.glorot_uniform(), bias_init=nn.initializers.zeros)
            if norm == "weight":
                x = nn.WeightNorm(dense)(x)
            elif norm == "spectral":
                # Power iteration refreshes sigma only in training mode, like a BN running average.
                x = nn.SpectralNorm(dense)(x, update_stats=not use_running_average)
            else:
                x = dense(x)
            if cfg.norm_position == "pre":
                x = nn.leaky_relu(self._normalize(norm, x, use_running_average), cfg.leaky_slope)
            else:
                x = self._normalize(norm, nn.leaky_relu(x, cfg.leaky_slope), use_running_average)
        return nn.Dense(self.out_features, kernel_init=nn.initializers.glorot_uniform())(x)

    def _normalize(self, norm: str, x: jax.Array, use_running_average: bool) -> jax.Array:
        cfg = self.config
        if norm == "batch":
            return BatchNorm(use_running_average, cfg.momentum, cfg.epsilon)(x)
        if norm == "layer":
            return nn.LayerNorm(epsilon=cfg.epsilon)(x)
        if norm == "group":
            return nn.GroupNorm(num_groups=cfg.groups, epsilon=cfg.epsilon)(x)
        if norm == "reference":
            return ReferenceNorm(self.reference_size, cfg.epsilon)(x)
        return x  # "none", and "weight"/"spectral", which act on the Dense kernel instead


class Network(NamedTuple):
    """A pure network: `init(key, sample) -> (params, batch_stats)` and
    `apply(params, batch_stats, x, stats) -> (out, batch_stats)`."""

    init: Callable[[jax.Array, jax.Array], tuple[PyTree, PyTree]]
    apply: Callable[..., tuple[jax.Array, PyTree]]


def make_network(config: NetworkConfig, out_features: int, reference_batch: jax.Array | None = None) -> Network:
    """Build the pure init/apply pair of an MLP; `reference_batch` feeds reference-batch norm."""
    uses_reference = "reference" in config.norms
    if uses_reference and reference_batch is None:
        raise ConfigError("reference-batch norm needs a reference batch")
    reference_size = reference_batch.shape[0] if uses_reference else 0
    module = MLP(config, out_features, reference_size)

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
