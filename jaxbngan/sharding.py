"""The seed axis spread over devices: a one-axis mesh named `seeds` and NamedSharding.

Seeds are independent experiments, so nothing is ever reduced across this axis (BN layers carry
no `axis_name`); jit then runs each device's seeds where they live, with no communication.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxbngan.config import ConfigError


def seed_devices(limit: int | None = None) -> list[jax.Device]:
    """The devices seeds are spread over: all visible ones, or the first `limit`."""
    devices = jax.devices()
    if limit is None:
        return devices
    if not 1 <= limit <= len(devices):
        raise ConfigError(f"--devices must be between 1 and {len(devices)} (visible devices), got {limit}")
    return devices[:limit]


def seed_mesh(devices: list[jax.Device]) -> Mesh:
    """A one-axis mesh, `seeds`, over `devices`."""
    return Mesh(np.array(devices), ("seeds",))


def seed_sharding(devices: list[jax.Device]) -> NamedSharding:
    """Split a leading seed axis over `devices`; every other axis stays whole."""
    return NamedSharding(seed_mesh(devices), PartitionSpec("seeds"))


def per_device(fn: Callable, devices: list[jax.Device]) -> Callable:
    """Run `fn` on each device's own block of seeds (leading axis of every argument and output)."""
    return jax.shard_map(fn, mesh=seed_mesh(devices), in_specs=PartitionSpec("seeds"), out_specs=PartitionSpec("seeds"))


def shard_seeds(tree, devices: list[jax.Device]):
    """Place every leaf (leading axis = seeds, a multiple of len(devices)) across `devices`."""
    seeds = jax.tree.leaves(tree)[0].shape[0]
    if seeds % len(devices):
        raise ConfigError(f"{seeds} seeds cannot be split evenly over {len(devices)} devices")
    return jax.device_put(tree, seed_sharding(devices))
