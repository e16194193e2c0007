"""Image populations in G's tanh range, each image with a class label.

Every set returns `Labelled`: (n, H, W, C) float32 images in [-1, 1] and their (n,) int32 labels,
in an order drawn from the PRNG key, so any prefix is itself a random subsample.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxbngan.config import ConfigError

DIGITS = 1797  # images in scikit-learn's copy of the UCI handwritten digits
DIGIT_LEVELS = 16  # its pixels count 0..16 dark cells of a 4x4 block
SHAPE_KINDS = ("circle", "square", "triangle")


class Labelled(NamedTuple):
    """Images (n, H, W, C) in [-1, 1] and their class labels (n,) int32."""

    images: jax.Array
    labels: jax.Array


def shapes(
    key: jax.Array,
    n: int,
    *,
    side: float = 16,
    min_size: float = 0.3,
    max_size: float = 0.8,
    min_intensity: float = 0.3,
    edge: float = 1.0,
    channels: float = 1,
) -> Labelled:
    """Filled circles, squares and triangles of random place, size and brightness on black; class = shape."""
    side = _whole("side", side, 4)
    channels = _whole("channels", channels, 1)
    _check("channels", channels in (1, 3), "must be 1 (grey) or 3 (a random colour per shape)")
    _check("min_size", 0 < min_size <= max_size <= 1, "and max_size need 0 < min_size <= max_size <= 1")
    _check("min_intensity", 0 <= min_intensity <= 1, "must be in [0, 1]")
    _check("edge", edge >= 0, "must be at least 0 (0: hard edges)")
    return _draw_shapes(key, n, side, channels, jnp.array([min_size, max_size, min_intensity, edge], jnp.float32))


@functools.partial(jax.jit, static_argnames=("n", "side", "channels"))
def _draw_shapes(key: jax.Array, n: int, side: int, channels: int, knobs: jax.Array) -> Labelled:
    min_size, max_size, min_intensity, edge = knobs  # traced: changing them does not recompile
    k_kind, k_size, k_place, k_tone = jax.random.split(key, 4)
    kind = jax.random.randint(k_kind, (n, 1, 1), 0, len(SHAPE_KINDS))
    # Each shape fills a box of side 2 * half placed wholly inside the image.
    half = 0.5 * side * jax.random.uniform(k_size, (n, 1, 1), minval=min_size, maxval=max_size)
    place = half[None] + jax.random.uniform(k_place, (2, n, 1, 1)) * (side - 2 * half)[None]  # box centres (x, y)
    tone = jax.random.uniform(k_tone, (n, 1, 1, channels), minval=min_intensity, maxval=1.0)
    ticks = jnp.arange(side, dtype=jnp.float32) + 0.5  # pixel centres
    dx, dy = ticks[None, None, :] - place[0], ticks[None, :, None] - place[1]  # (n, side, side); image y grows down
    # Signed distances in pixels, negative inside; the triangle's apex points up.
    circle = jnp.sqrt(dx * dx + dy * dy) - half
    square = jnp.maximum(jnp.abs(dx), jnp.abs(dy)) - half
    triangle = jnp.maximum(dy - half, (2 * jnp.abs(dx) - dy - half) / math.sqrt(5))
    distance = jnp.where(kind == 0, circle, jnp.where(kind == 1, square, triangle))  # fused: nothing stacked
    soft = jnp.clip(0.5 - distance / jnp.maximum(edge, 1e-6), 0.0, 1.0)  # linear ramp `edge` pixels wide
    cover = jnp.where(edge > 0, soft, (distance <= 0).astype(jnp.float32))
    images = 2 * cover[..., None] * tone - 1  # (n, side, side, channels)
    return Labelled(images, kind.reshape(n).astype(jnp.int32))


def digits(key: jax.Array, n: int) -> Labelled:
    """scikit-learn's 8x8 handwritten digits (1797 images, classes 0-9), pixels 0..16 scaled to [-1, 1]."""
    if n > DIGITS:
        raise ConfigError(f"data set 'digits' has {DIGITS} images; data.size must be at most {DIGITS}, got {n}")
    try:
        from sklearn.datasets import load_digits  # reads the copy inside the wheel; nothing is downloaded
    except ImportError:
        raise ConfigError("data set 'digits' needs scikit-learn: pip install \"jaxbngan[images]\"") from None
    bunch = load_digits()
    order = jax.random.permutation(key, DIGITS)[:n]
    images = jnp.asarray(bunch.images, dtype=jnp.float32)[order, :, :, None] * (2 / DIGIT_LEVELS) - 1
    return Labelled(images, jnp.asarray(bunch.target, dtype=jnp.int32)[order])


IMAGE_SETS: dict[str, Callable[..., Labelled]] = {"shapes": shapes, "digits": digits}
CLASS_NAMES: dict[str, tuple[str, ...]] = {"shapes": SHAPE_KINDS, "digits": tuple("0123456789")}


def _whole(name: str, value: float, low: int) -> int:
    _check(name, value == int(value) and value >= low, f"must be a whole number of at least {low}, got {value}")
    return int(value)


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(f"data set 'shapes': {name} {message}")
