"""Toy 2-D real populations, each made deterministically from a PRNG key.

Every generator returns an (n, 2) float32 array of i.i.d. samples in random order, so any prefix
is itself a random subsample. Mixtures also publish their mode centers and spread, which the
mode-coverage metrics use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def gaussian(key: jax.Array, n: int, *, mean_x: float = 0.0, mean_y: float = 0.0, std: float = 1.0) -> jax.Array:
    """One isotropic Gaussian with mean (mean_x, mean_y) and standard deviation `std`."""
    return jnp.array([[mean_x, mean_y]]) + std * jax.random.normal(key, (n, 2))


def moons(key: jax.Array, n: int, *, noise: float = 0.1) -> jax.Array:
    """Two interleaved half circles (as scikit-learn's make_moons), Gaussian noise `noise`."""
    k_angle, k_side, k_noise = jax.random.split(key, 3)
    angle = jax.random.uniform(k_angle, (n,), maxval=math.pi)
    upper = jax.random.bernoulli(k_side, 0.5, (n,))
    x = jnp.where(upper, jnp.cos(angle), 1.0 - jnp.cos(angle))
    y = jnp.where(upper, jnp.sin(angle), 0.5 - jnp.sin(angle))
    return jnp.stack([x, y], axis=1) + noise * jax.random.normal(k_noise, (n, 2))


def ring8(key: jax.Array, n: int, *, radius: float = 2.0, std: float = 0.2, modes: float = 8) -> jax.Array:
    """`modes` Gaussians (std `std`) evenly on a circle of radius `radius`, endpoint excluded."""
    k_mode, k_noise = jax.random.split(key)
    centers = jnp.asarray(_ring_centers(radius, int(modes)), dtype=jnp.float32)
    mode = jax.random.randint(k_mode, (n,), 0, int(modes))
    return centers[mode] + std * jax.random.normal(k_noise, (n, 2))


def grid25(key: jax.Array, n: int, *, spacing: float = 2.0, std: float = 0.05) -> jax.Array:
    """25 Gaussians (std `std`) on a 5x5 grid with `spacing` between neighbours, centred at 0."""
    k_mode, k_noise = jax.random.split(key)
    centers = jnp.asarray(_grid_centers(spacing), dtype=jnp.float32)
    mode = jax.random.randint(k_mode, (n,), 0, 25)
    return centers[mode] + std * jax.random.normal(k_noise, (n, 2))


def spirals(key: jax.Array, n: int, *, turns: float = 1.5, noise: float = 0.1, scale: float = 2.0) -> jax.Array:
    """Two interleaved Archimedean spirals of `turns` turns, radius up to `scale`, noise `noise`."""
    k_t, k_arm, k_noise = jax.random.split(key, 3)
    t = jnp.sqrt(jax.random.uniform(k_t, (n,)))  # uniform density along the arm
    arm = jax.random.bernoulli(k_arm, 0.5, (n,)).astype(jnp.float32)
    angle = 2 * math.pi * turns * t + math.pi * arm
    points = scale * t[:, None] * jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=1)
    return points + noise * jax.random.normal(k_noise, (n, 2))


def checkerboard(key: jax.Array, n: int, *, cells: float = 4, size: float = 4.0) -> jax.Array:
    """Uniform on the dark squares of a `cells` x `cells` board of side `size`, centred at 0."""
    k_cell, k_pos = jax.random.split(key)
    cells = int(cells)
    dark = np.array([(i, j) for i in range(cells) for j in range(cells) if (i + j) % 2 == 0])
    cell = jnp.asarray(dark, dtype=jnp.float32)[jax.random.randint(k_cell, (n,), 0, len(dark))]
    width = size / cells
    return (cell + jax.random.uniform(k_pos, (n, 2))) * width - size / 2


GENERATORS: dict[str, Callable[..., jax.Array]] = {
    "gaussian": gaussian,
    "moons": moons,
    "ring8": ring8,
    "grid25": grid25,
    "spirals": spirals,
    "checkerboard": checkerboard,
}


class Modes(NamedTuple):
    """Centers (k, 2) and per-mode standard deviation of a Gaussian mixture."""

    centers: np.ndarray
    std: float


def _ring_centers(radius: float, modes: int) -> np.ndarray:
    angles = 2 * np.pi * np.arange(modes) / modes  # endpoint excluded: no duplicated mode
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid_centers(spacing: float) -> np.ndarray:
    ticks = spacing * (np.arange(5) - 2.0)
    return np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)


def point_modes(name: str, params: dict[str, float]) -> Modes | None:
    """Mode centers and spread of the mixture `name` with resolved `params`; None where modes are not defined."""
    if name == "ring8":
        return Modes(_ring_centers(params["radius"], int(params["modes"])), params["std"])
    if name == "grid25":
        return Modes(_grid_centers(params["spacing"]), params["std"])
    if name == "gaussian":
        return Modes(np.array([[params["mean_x"], params["mean_y"]]]), params["std"])
    return None
