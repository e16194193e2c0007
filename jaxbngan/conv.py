"""Convolutions as image patches times a dense kernel (im2col), shared by the DCGAN nets and the classifier.

On XLA:CPU a native convolution (and its gradient) inside a `lax.scan` or while-loop body runs many
times slower than the same convolution outside a loop (jax-ml/jax#12868), and every jaxbngan run
trains as a `lax.scan` over steps. Here a convolution is strided slices of the padded image stacked
on channels (`patches`, (n, H', W', kh * kw * C)) times the kernel reshaped to (kh * kw * C, F): the
same sums as `lax.conv_general_dilated`, in another order. A stride-s transposed convolution
(`lax.conv_transpose`) is a stride-1 one over the input with s - 1 zeros inserted between pixels;
`conv_transpose` computes it in its sub-pixel form, one patch convolution per output phase, without
the products with zeros.

The modules `Conv` and `ConvTranspose` keep flax's kernel layout (kh, kw, C, F), parameter names
and auto-names (`Conv_0`, `ConvTranspose_0`), so `norms.linear` wraps them as it wraps flax's layers
(spectral norm acts on the (kh * kw * C, F) matrix, as Miyato et al. 2018) and flax's `nn.Conv`
applied to their parameters computes the same function.

Measured (2026-11-30, 2 shared CPU cores, jax 0.10.2): `dcgan-split` (digits 8x8), 10 train steps
in one jitted `lax.scan`, the second call timed, median of 3 runs interleaved with the flax layers':

    inside the scan (unroll=1):    flax nn.Conv/ConvTranspose 1.13 s/step,  this module 0.068 s/step
    scan fully unrolled (unroll=10): flax                    0.094 s/step,  this module 0.066 s/step

(single runs, unroll=1: `dcgan-spectral` 1.11 -> 0.068 s/step, `dcgan-bn-first-shift-reflect` 1.34 ->
0.082 s/step). Transposed convolutions by zero insertion then a patch convolution took 0.18 s/step in the
same scan (one run, busier machine): the sub-pixel form skips their 3/4 of products with zeros.
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


def _phase_taps(k: int, s: int, low: int, r: int) -> tuple[int, int, int]:
    """Output phase r of a stride-s transposed conv along one axis: (first tap, number of taps, input offset).

    Output o = s q + r reads the zero-inserted, `low`-padded input at o + i - low for taps i: only taps
    i = first, first + s, ... meet an input pixel, x[q + offset + t] for the t-th of them.
    """
    first = (low - r) % s
    return first, -(-(k - first) // s), (first + r - low) // s


def conv_transpose(x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
    """'SAME' transposed convolution of x (n, H, W, C) by kernel (kh, kw, C, F): (n, H * sh, W * sw, F).

    Equals `lax.conv_transpose(x, kernel, strides, 'SAME')` (flax's `nn.ConvTranspose`, kernel not
    flipped), a stride-1 convolution over x with s - 1 zeros inserted between pixels and the borders
    padded by lax's rule, in its sub-pixel form: each of the sh * sw output phases is a stride-1 patch
    convolution of x by the kernel taps that meet pixels; the products with inserted zeros are skipped.
    """
    phases = []  # per axis: [(first tap, taps, offset) per phase]
    for k, s in zip(kernel.shape[:2], strides, strict=True):
        total = k + s - 2  # lax's 'SAME' padding of the zero-inserted input
        low = k - 1 if s > k - 1 else -(-total // 2)
        phases.append([_phase_taps(k, s, low, r) for r in range(s)])
    # Pad x so that every phase's window stays inside: pad[axis] = (most before, most after).
    pads = [(max(0, -min(p[2] for p in axis)), max(0, max(p[2] + p[1] - 1 for p in axis))) for axis in phases]
    x_padded = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    height, width = x.shape[1:3]
    rows = []
    for first_h, taps_h, offset_h in phases[0]:
        row = []
        for first_w, taps_w, offset_w in phases[1]:
            sub = kernel[first_h :: strides[0], first_w :: strides[1]]  # (taps_h, taps_w, C, F)
            h0, w0 = pads[0][0] + offset_h, pads[1][0] + offset_w
            window = x_padded[:, h0 : h0 + height + taps_h - 1, w0 : w0 + width + taps_w - 1]
            row.append(patches(window, (taps_h, taps_w), (1, 1)) @ sub.reshape(-1, sub.shape[-1]))  # (n, H, W, F)
        rows.append(jnp.stack(row, axis=3))  # (n, H, W, sw, F)
    y = jnp.stack(rows, axis=2)  # (n, H, sh, W, sw, F)
    return y.reshape(x.shape[0], height * strides[0], width * strides[1], kernel.shape[-1])


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
