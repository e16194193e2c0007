"""The MLP of the blog's 2-D experiments: Dense(w) -> [norm] -> LeakyReLU per hidden layer, Dense(out)."""

from __future__ import annotations

import flax.linen as nn
import jax

from jaxbngan.config import NetworkConfig
from jaxbngan.norms import kernel_init, linear, normalize_and_activate


class MLP(nn.Module):
    """Dense(w) -> [norm] -> LeakyReLU per hidden layer (norm after the activation if 'post')."""

    config: NetworkConfig
    out_features: int
    reference_size: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, use_running_average: bool) -> jax.Array:
        cfg = self.config
        for width, norm in zip(cfg.hidden, cfg.norms, strict=True):
            # Keras Dense: a bias even before a norm, zero at init.
            dense = nn.Dense(width, kernel_init=kernel_init(cfg), bias_init=nn.initializers.zeros)
            x = linear(norm, dense, x, use_running_average)
            x = normalize_and_activate(norm, x, cfg, use_running_average, self.reference_size)
        return nn.Dense(self.out_features, kernel_init=kernel_init(cfg))(x)
