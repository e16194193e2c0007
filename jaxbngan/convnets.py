"""DCGAN conv nets (Radford et al. 2015; pytorch/examples `dcgan/main.py`) for (H, W, C) images.

* G: noise -> Dense -> reshape (h0, w0, channels[0]) -> [norm] -> ReLU, then per further entry of
  `channels` ConvTranspose -> [norm] -> ReLU, then ConvTranspose(C) -> tanh: exactly (H, W, C).
* D: per entry of `channels` Conv -> [norm] -> LeakyReLU, then flatten -> Dense(1).

The activation is LeakyReLU(`leaky_slope`): DCGAN's presets set 0 (ReLU) for G and 0.2 for D.
All kernels are 4x4 with 'SAME' padding, as pytorch/examples; D's borders are padded with zeros
or a reflection (`padding`). The convolutions are `jaxbngan.conv`'s (patches times a dense kernel,
fast inside `lax.scan` on CPU), with flax's parameter layout and names. The number of stride-2 layers comes
from the image shape (`halvings`): H and W are halved while both stay even and at least 4 (DCGAN
starts from 4x4), at most once per layer; the remaining layers keep stride 1. So 8x8 starts G
at 4x4, 16x16 at 4x4, 28x28 at 7x7 (28 -> 14 -> 7), 32x32 at 4x4, given enough layers. As
pytorch/examples, a conv followed by a norm with its own shift (batch, layer, group, instance,
reference) has no bias.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxbngan.config import NetworkConfig
from jaxbngan.conv import Conv, ConvTranspose
from jaxbngan.norms import SHIFTING_NORMS, kernel_init, linear, normalize_and_activate

KERNEL = (4, 4)  # pytorch/examples dcgan


def halvings(height: int, width: int, layers: int) -> int:
    """How many of `layers` stride-2 layers fit a (height, width) image: halve while even, halves >= 4."""
    count = 0
    while count < layers and height % 2 == 0 and width % 2 == 0 and height >= 8 and width >= 8:
        height, width, count = height // 2, width // 2, count + 1
    return count


def _strides(height: int, width: int, layers: int) -> tuple[int, ...]:
    """Per layer: 2 for the first `halvings` layers, 1 for the rest."""
    s = halvings(height, width, layers)
    return (2,) * s + (1,) * (layers - s)


def _has_bias(config: NetworkConfig, norm: str) -> bool:
    return not (config.norm_position == "pre" and norm in SHIFTING_NORMS)


class DCGANGenerator(nn.Module):
    """Noise (batch, noise_dim) -> images (batch, H, W, C) in [-1, 1]."""

    config: NetworkConfig
    image_shape: tuple[int, int, int]

    @nn.compact
    def __call__(self, z: jax.Array, use_running_average: bool) -> jax.Array:
        cfg = self.config
        height, width, colors = self.image_shape
        strides = _strides(height, width, len(cfg.channels))  # one per ConvTranspose, the output's included
        h0, w0 = height // 2 ** strides.count(2), width // 2 ** strides.count(2)
        c0, norm0 = cfg.channels[0], cfg.norms[0]
        project = nn.Dense(h0 * w0 * c0, kernel_init=kernel_init(cfg), use_bias=_has_bias(cfg, norm0))
        x = linear(norm0, project, z, use_running_average)
        x = normalize_and_activate(norm0, x.reshape(z.shape[0], h0, w0, c0), cfg, use_running_average)
        for features, norm, stride in zip(cfg.channels[1:], cfg.norms[1:], strides[:-1], strict=True):
            conv = ConvTranspose(
                features, KERNEL, (stride, stride), use_bias=_has_bias(cfg, norm), kernel_init=kernel_init(cfg)
            )
            x = normalize_and_activate(norm, linear(norm, conv, x, use_running_average), cfg, use_running_average)
        out = ConvTranspose(colors, KERNEL, (strides[-1],) * 2, kernel_init=kernel_init(cfg))(x)
        return jnp.tanh(out)  # (batch, H, W, C)


class DCGANDiscriminator(nn.Module):
    """Images (batch, H, W, C) -> logits (batch, out_features)."""

    config: NetworkConfig
    out_features: int
    reference_size: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, use_running_average: bool) -> jax.Array:
        cfg = self.config
        strides = _strides(x.shape[1], x.shape[2], len(cfg.channels))
        for features, norm, stride in zip(cfg.channels, cfg.norms, strides, strict=True):
            conv = Conv(
                features,
                KERNEL,
                (stride, stride),
                cfg.padding,
                use_bias=_has_bias(cfg, norm),
                kernel_init=kernel_init(cfg),
            )
            x = linear(norm, conv, x, use_running_average)
            x = normalize_and_activate(norm, x, cfg, use_running_average, self.reference_size)
        return nn.Dense(self.out_features, kernel_init=kernel_init(cfg))(x.reshape(x.shape[0], -1))
