"""Every normalization of jaxbngan, shared by the MLPs and the conv nets.

All of them normalize the last axis's features (a point's coordinates, an image's channels):

* batch (`BatchNorm`): over every axis but the last, so per feature over the batch for points
  (n, d) and per channel over (batch, H, W) for images, with running averages in `batch_stats`;
* reference (`ReferenceNorm`, virtual BN): the same axes as batch norm, over a fixed reference
  batch plus the sample itself;
* layer: per sample over all its features (for images: H, W and channels);
* group: per sample over groups of channels (and H, W);
* instance: per sample per channel over H, W (images only: a point has no axis to reduce);
* weight, spectral: reparametrize the kernel of the Dense or Conv layer before them (`linear`).

The init scheme lives here too (`kernel_init`, `dcgan_scale_init`): Keras's defaults or DCGAN's.
`normalize_and_activate` and `linear` are called from inside a module's `nn.compact` method, so
the layers they create are children of that module (and named as if created there).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxbngan.config import NetworkConfig

Initializer = Callable[..., jax.Array]


def _per_feature(v: jax.Array, ndim: int) -> jax.Array:
    """A (features,) vector shaped to broadcast against an `ndim`-axis array: (1, ..., 1, features)."""
    return v.reshape((1,) * (ndim - 1) + (-1,))


def _normalize_batch(x, scale, bias, epsilon):
    axes = tuple(range(x.ndim - 1))  # (0,) for points, (0, 1, 2) for images
    n = math.prod(x.shape[:-1])
    mean = jnp.sum(x, axis=axes, keepdims=True) / n
    centered = x - mean
    var = jnp.sum(centered * centered, axis=axes, keepdims=True) / n  # biased, as Keras and flax
    inv_std = jax.lax.rsqrt(var + epsilon)
    normalized = centered * inv_std
    y = normalized * _per_feature(scale, x.ndim) + _per_feature(bias, x.ndim)
    return y, mean.reshape(-1), var.reshape(-1), (normalized, inv_std, scale)


@jax.custom_vjp
def batch_norm(
    x: jax.Array, scale: jax.Array, bias: jax.Array, epsilon: float | jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Training-mode batch norm over all axes but the last: `(y, batch mean, batch variance)`.

    The backward pass is the closed form (Ioffe & Szegedy 2015), with n the number of values each
    feature's moments average (batch for points, batch * H * W for images): two sums per feature
    instead of the four or more that autodiff of the forward pass makes. The moments returned
    feed only the running averages, so no gradient flows through them. `epsilon` may be traced
    (a sweep's knob); no gradient flows to it either.
    """
    y, mean, var, _ = _normalize_batch(x, scale, bias, epsilon)
    return y, mean, var


def _batch_norm_forward(x, scale, bias, epsilon):
    y, mean, var, residuals = _normalize_batch(x, scale, bias, epsilon)
    return (y, mean, var), (residuals, epsilon)


def _batch_norm_backward(saved, cotangents):
    (normalized, inv_std, scale), epsilon = saved
    dy = cotangents[0]
    axes = tuple(range(dy.ndim - 1))
    n = math.prod(dy.shape[:-1])
    d_bias = jnp.sum(dy, axis=axes, keepdims=True)
    d_scale = jnp.sum(dy * normalized, axis=axes, keepdims=True)
    dx = (_per_feature(scale, dy.ndim) * inv_std / n) * (n * dy - d_bias - normalized * d_scale)
    return dx, d_scale.reshape(-1), d_bias.reshape(-1), jnp.zeros_like(epsilon)


batch_norm.defvjp(_batch_norm_forward, _batch_norm_backward)


def dcgan_scale_init(key: jax.Array, shape: tuple[int, ...], dtype: jnp.dtype = jnp.float32) -> jax.Array:
    """BN scale drawn from N(1, 0.02), as pytorch/examples dcgan's `weights_init` (Radford et al. 2015)."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


class BatchNorm(nn.Module):
    """Keras-style batch norm over every axis but the last, with the variables of `flax.linen.BatchNorm`.

    Training mode (`use_running_average=False`) normalizes by the batch moments and moves the
    running averages toward them: `avg = keep * avg + (1 - keep) * batch_moment`. Inference mode
    normalizes by the running averages and leaves them alone. `running_start` decides `keep`:

    * `zeros`: always `momentum`, from mean 0 and variance 1, so momentum^t of that start is still
      in the average after t updates (Keras, PyTorch and flax do this);
    * `first_batch`: 0 at the first update, which takes the batch's moments whole, then `momentum`;
    * `debiased`: the average is Adam's bias-corrected one, sum_s (1 - m) m^(t-s) x_s / (1 - m^t)
      over the t updates so far; written as an update, the t-th keeps m (1 - m^(t-1)) / (1 - m^t)
      of the previous average (0 at the first).

    The last two count their updates in `batch_stats["count"]` (a float32, exact to 2^24 updates);
    `zeros` keeps no count, so its state tree is what it always was.
    """

    use_running_average: bool
    momentum: float
    epsilon: float
    scale_init: Initializer = nn.initializers.ones
    running_start: str = "zeros"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features = x.shape[-1]
        running_mean = self.variable("batch_stats", "mean", jnp.zeros, (features,), x.dtype)
        running_var = self.variable("batch_stats", "var", jnp.ones, (features,), x.dtype)
        counted = self.running_start != "zeros"
        count = self.variable("batch_stats", "count", jnp.zeros, (), jnp.float32) if counted else None
        scale = self.param("scale", self.scale_init, (features,))
        bias = self.param("bias", nn.initializers.zeros, (features,))
        if self.use_running_average:
            inv_std = jax.lax.rsqrt(running_var.value + self.epsilon)
            return (x - _per_feature(running_mean.value, x.ndim)) * _per_feature(scale * inv_std, x.ndim) + (
                _per_feature(bias, x.ndim)
            )
        y, mean, var = batch_norm(x, scale, bias, self.epsilon)
        if not self.is_initializing():
            keep = self._keep(count.value if counted else None)
            running_mean.value = keep * running_mean.value + (1 - keep) * mean
            running_var.value = keep * running_var.value + (1 - keep) * var
            if counted:
                count.value = count.value + 1
        return y

    def _keep(self, updates_so_far: jax.Array | None) -> jax.Array | float:
        """The share of the running average this update keeps (see the class docstring)."""
        m = self.momentum
        if self.running_start == "zeros":
            return m
        if self.running_start == "first_batch":
            return jnp.where(updates_so_far == 0, 0.0, m)
        # debiased: m (1 - m^t) / (1 - m^(t+1)) with t the updates so far; 0 at t = 0
        return m * (1 - m**updates_so_far) / (1 - m ** (updates_so_far + 1))


class ReferenceNorm(nn.Module):
    """Virtual batch normalization (Salimans et al. 2016) over a fixed reference batch.

    The input's first `reference_size` samples are the reference batch; moments are taken over the
    axes batch norm uses (batch, and H, W for images). Each other sample is normalized with the
    moments of the reference batch plus itself (weight 1/(n+1)); the reference samples with their
    own moments. No sample depends on any other non-reference sample.
    """

    reference_size: int
    epsilon: float

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        n = self.reference_size
        spatial = tuple(range(1, x.ndim - 1))  # () for points, (1, 2) for images
        ref_mean = jnp.mean(x[:n], axis=(0, *spatial), keepdims=True)
        ref_sq = jnp.mean(jnp.square(x[:n]), axis=(0, *spatial), keepdims=True)
        mean = (n * ref_mean + jnp.mean(x, axis=spatial, keepdims=True)) / (n + 1)
        var = (n * ref_sq + jnp.mean(jnp.square(x), axis=spatial, keepdims=True)) / (n + 1) - jnp.square(mean)
        is_reference = (jnp.arange(x.shape[0]) < n).reshape((-1,) + (1,) * (x.ndim - 1))
        mean = jnp.where(is_reference, ref_mean, mean)
        var = jnp.where(is_reference, ref_sq - jnp.square(ref_mean), var)
        y = (x - mean) * jax.lax.rsqrt(var + self.epsilon)
        scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
        bias = self.param("bias", nn.initializers.zeros, (x.shape[-1],))
        return y * _per_feature(scale, x.ndim) + _per_feature(bias, x.ndim)


# Norms with their own learned shift: a layer they follow needs no bias of its own.
SHIFTING_NORMS = ("batch", "layer", "group", "instance", "reference")


def normalize(
    norm: str, x: jax.Array, config: NetworkConfig, use_running_average: bool, reference_size: int = 0
) -> jax.Array:
    """`x` normalized by `norm` (the identity for none, weight and spectral, which act on kernels)."""
    if norm == "batch":
        scale_init = dcgan_scale_init if config.init_scheme == "dcgan" else nn.initializers.ones
        return BatchNorm(use_running_average, config.momentum, config.epsilon, scale_init, config.running_start)(x)
    if norm == "layer":  # per sample over all its features: (d,) or (H, W, C)
        return nn.LayerNorm(epsilon=config.epsilon, reduction_axes=tuple(range(1, x.ndim)))(x)
    if norm == "group":
        return nn.GroupNorm(num_groups=config.groups, epsilon=config.epsilon)(x)
    if norm == "instance":  # per sample per channel over (H, W)
        return nn.InstanceNorm(epsilon=config.epsilon)(x)
    if norm == "reference":
        return ReferenceNorm(reference_size, config.epsilon)(x)
    return x


def normalize_and_activate(
    norm: str, x: jax.Array, config: NetworkConfig, use_running_average: bool, reference_size: int = 0
) -> jax.Array:
    """`norm` then LeakyReLU(`config.leaky_slope`) (0 is ReLU), or the reverse if `norm_position` is 'post'."""
    if config.norm_position == "pre":
        return nn.leaky_relu(normalize(norm, x, config, use_running_average, reference_size), config.leaky_slope)
    return normalize(norm, nn.leaky_relu(x, config.leaky_slope), config, use_running_average, reference_size)


def linear(norm: str, layer: nn.Module, x: jax.Array, use_running_average: bool) -> jax.Array:
    """Apply a Dense or Conv `layer`, its kernel reparametrized first if `norm` is weight or spectral."""
    if norm == "weight":
        return nn.WeightNorm(layer)(x)
    if norm == "spectral":
        # Power iteration refreshes sigma only in training mode, like a BN running average.
        return nn.SpectralNorm(layer)(x, update_stats=not use_running_average)
    return layer(x)


def kernel_init(config: NetworkConfig) -> Initializer:
    """Dense/Conv kernels: Keras's glorot-uniform, or DCGAN's N(0, 0.02) (Radford et al. 2015)."""
    return nn.initializers.normal(0.02) if config.init_scheme == "dcgan" else nn.initializers.glorot_uniform()
