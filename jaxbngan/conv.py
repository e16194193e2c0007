"""Convolutions as image patches times a dense kernel (im2col), shared by the DCGAN nets and the classifier.

On XLA:CPU a native convolution (and its gradient) inside a `lax.scan` or while-loop body runs many
times slower than the same convolution outside a loop (jax-ml/jax#12868), and every jaxbngan run
trains as a `lax.scan` over steps. Here a convolution is strided slices of the padded image stacked
on channels (`patches`, (n, H', W', kh * kw * C)) times the kernel reshaped to (kh * kw * C, F): the
same sums as `lax.conv_general_dilated`, in another order. A stride-s transposed convolution is a
stride-1 one over the input with s - 1 zeros inserted between pixels (`lax.pad`'s interior padding),
exactly what `lax.conv_transpose` computes.

The modules `Conv` and `ConvTranspose` keep flax's kernel layout (kh, kw, C, F), parameter names
and auto-names (`Conv_0`, `ConvTranspose_0`), so `norms.linear` wraps them as it wraps flax's layers
(spectral norm acts on the (kh * kw * C, F) matrix, as Miyato et al. 2018) and flax's `nn.Conv`
applied to their parameters computes the same function.

Measured on 2 shared CPU cores, `dcgan-split`, 10 train steps in one jitted `lax.scan` (unroll=1),
median of 3 interleaved runs: see the table in the lead's report (filled in below once measured).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxbngan.norms import Initializer

Pads = tuple[tuple[int, int], tuple[int, int]]  # (low, high) for H and W


def same_pads(size: tuple[int, int], kernel_size: tuple[int, int], strides: tuple[int, int]) -> Pads:
    """Zero padding of 'SAME' (output ceil(size / stride)), as `lax.conv_general_dilated` pads it."""
    return tuple(lax.padtype_to_pads(size, kernel_size, strides, "SAME"))


def reflect_pads(kernel_size: tuple[int, int]) -> Pads:
    """Reflection padding as flax's `nn.Conv(padding='REFLECT')`: (k - 1) // 2 before, k // 2 after."""
    return tuple(((k - 1) // 2, k // 2) for k in kernel_size)


def patches(x: jax.Array, kernel_size: tuple[int, int], strides: tuple[int, int]) -> jax.Array:
    """The kh x kw windows of an (already padded) image, 'VALID', stacked on channels: (n, H', W', kh * kw * C).

    Channel index (i * kw + j) * C + c holds tap (i, j) of input channel c: the order of a
    (kh, kw, C, F) kernel reshaped to (kh * kw * C, F).
    """
    (kh, kw), (sh, sw) = kernel_size, strides
    out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    return jnp.concatenate(
        [
            x[:, i : i + (out_h - 1) * sh + 1 : sh, j : j + (out_w - 1) * sw + 1 : sw, :]
            for i in range(kh)
            for j in range(kw)
        ],
        axis=-1,
    )


def conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding: str = "zeros") -> jax.Array:
    """'SAME'-size convolution of x (n, H, W, C) by kernel (kh, kw, C, F), borders padded with zeros or a reflection.

    Equals `lax.conv_general_dilated(x, kernel, strides, 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))`
    for zeros, and flax's `nn.Conv(padding='REFLECT')` for reflect: (n, ceil(H / sh), ceil(W / sw), F).
    """
    kernel_size = kernel.shape[:2]
    if padding == "zeros":
        pads = same_pads(x.shape[1:3], kernel_size, strides)
        x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    elif padding == "reflect":
        x = jnp.pad(x, ((0, 0), *reflect_pads(kernel_size), (0, 0)), mode="reflect")
    else:
        raise ValueError(f"padding must be 'zeros' or 'reflect', not {padding!r}")
    return patches(x, kernel_size, strides) @ kernel.reshape(-1, kernel.shape[-1])


def conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
    """'SAME' transposed convolution of x (n, H, W, C) by kernel (kh, kw, C, F): (n, H * sh, W * sw, F).

    Equals `lax.conv_transpose(x, kernel, strides, 'SAME')` (flax's `nn.ConvTranspose`, kernel not
    flipped): sh - 1 and sw - 1 zeros between pixels, the borders padded as `lax.conv_transpose` pads
    them, then a stride-1 'VALID' patch convolution.
    """
    config = [(0, 0, 0)]
    for k, s in zip(kernel.shape[:2], strides, strict=True):
        total = k + s - 2  # lax's 'SAME' rule for transposed convolutions
        low = k - 1 if s > k - 1 else -(-total // 2)
        config.append((low, total - low, s - 1))
    x = lax.pad(x, jnp.zeros((), x.dtype), [*config, (0, 0, 0)])
    return patches(x, kernel.shape[:2], (1, 1)) @ kernel.reshape(-1, kernel.shape[-1])


def _add_bias(layer: nn.Module, y: jax.Array) -> jax.Array:
    """y plus the layer's (features,) bias parameter if it has one."""
    if not layer.use_bias:
        return y
    return y + layer.param("bias", nn.initializers.zeros, (layer.features,)).reshape(1, 1, 1, -1)


class Conv(nn.Module):
    """`conv` as a layer with flax's `nn.Conv` parameters: kernel (kh, kw, C, features), optional bias."""

    features: int
    kernel_size: Sequence[int]
    strides: Sequence[int] = (1, 1)
    padding: str = "zeros"  # or "reflect"
    use_bias: bool = True
    kernel_init: Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # (n, H, W, C) -> (n, ceil(H / sh), ceil(W / sw), features)
        kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
        y = conv(x, kernel, tuple(self.strides), self.padding)
        return _add_bias(self, y)


class ConvTranspose(nn.Module):
    """`conv_transpose` as a layer with flax's `nn.ConvTranspose` parameters: kernel (kh, kw, C, features)."""

    features: int
    kernel_size: Sequence[int]
    strides: Sequence[int] = (1, 1)
    use_bias: bool = True
    kernel_init: Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # (n, H, W, C) -> (n, H * sh, W * sw, features)
        kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
        y = conv_transpose(x, kernel, tuple(self.strides))
        return _add_bias(self, y)
