"""How a run's seeds are split into groups that fit memory, and its steps into chunks between checkpoints.

Groups are a multiple of the device count. Seeds that do not fill the last group are padded with
extra seeds (the next keys of the same sequence) whose results are discarded; every group has the
same shape, so the chunk function is traced once per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np

from jaxbngan.config import Config, ConfigError
from jaxbngan.memory import SeedMemory, check_fits, memory_budget, seed_memory
from jaxbngan.tuning import vmap_width

BLOCKS_PER_GROUP = 16  # caps a group at 16 vmap blocks per device, so chunks stay short on a CPU
CHUNKS_PER_GROUP = 10  # the default chunk length aims at this many progress updates per group


def sample_shape(population: np.ndarray | jax.Array) -> int | tuple[int, ...]:
    """What `plan_layout` needs of the data: a point's dimension, or one image's (H, W, C)."""
    return population.shape[1] if population.ndim == 2 else tuple(population.shape[1:])


def group_per_device(seeds_per_device: int, memory: SeedMemory, budget: int, backend: str) -> int:
    """Seeds per device in one group: the most that fit `budget` bytes, balanced over the groups needed.

    A group of g seeds on a device holds g residents and runs `vmap_width(backend, g)` seeds at a
    time. At least one seed always runs, even if the estimate says it does not fit.
    """

    def fits(g: int) -> bool:
        return g * memory.resident + vmap_width(backend, g) * memory.working <= budget

    low, high = 1, seeds_per_device
    while low < high:  # largest g in [1, seeds_per_device] that fits; `fits` is monotone in g
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    largest = min(low, BLOCKS_PER_GROUP * vmap_width(backend, low))
    groups = math.ceil(seeds_per_device / largest)
    return math.ceil(seeds_per_device / groups)


def default_chunk_logs(logs: int) -> int:
    """Logs per chunk: the largest divisor of `logs` that still gives about CHUNKS_PER_GROUP chunks."""
    target = max(1, logs // CHUNKS_PER_GROUP)
    divisors = set()
    for small in range(1, math.isqrt(logs) + 1):  # divisors come in pairs around the square root
        if logs % small == 0:
            divisors |= {small, logs // small}
    return max(d for d in divisors if d <= target)


@dataclass(frozen=True)
class Layout:
    """How a run's seeds are split into groups and its steps into chunks."""

    seeds: int
    group_size: int  # a multiple of `devices`; the last group is padded with discarded seeds
    chunk_steps: int  # a multiple of log_every that divides steps
    devices: int

    @property
    def groups(self) -> int:
        """How many groups the seeds need."""
        return math.ceil(self.seeds / self.group_size)

    def real_seeds(self, group: int) -> int:
        """Seeds of `group` that are kept (the rest pad it)."""
        return min(self.group_size, self.seeds - group * self.group_size)

    def width(self, backend: str) -> int:
        """Seeds each device vmaps at a time (`tuning.vmap_width`)."""
        return vmap_width(backend, self.group_size // self.devices)


def plan_layout(
    config: Config,
    seeds: int,
    devices: list[jax.Device],
    data_shape: int | tuple[int, ...],
    *,
    group_size: int | None = None,
    chunk_steps: int | None = None,
) -> Layout:
    """Choose groups (from the memory estimate unless given) and chunks (about ten per group unless given).

    `data_shape` is a point's dimension, or one image's (H, W, C).
    """
    count = len(devices)
    if seeds < 1:
        raise ConfigError(f"--seeds must be positive, got {seeds}")
    memory = seed_memory(config, data_shape)
    check_fits(config, seeds, devices, data_shape, memory)
    if group_size is None:
        budget = memory_budget(devices)
        backend = devices[0].platform
        group_size = count * group_per_device(math.ceil(seeds / count), memory, budget, backend)
    elif group_size < 1 or group_size % count:
        raise ConfigError(f"--group-size must be a positive multiple of the device count ({count}), got {group_size}")
    elif group_size > count * math.ceil(seeds / count):  # a bigger group would only train padding seeds
        raise ConfigError(
            f"--group-size must be at most {count * math.ceil(seeds / count)} (the seeds, rounded up to a "
            f"multiple of the {count} devices), got {group_size}"
        )
    logs = config.steps // config.log_every
    if chunk_steps is None:
        chunk_steps = default_chunk_logs(logs) * config.log_every
    elif chunk_steps < 1 or chunk_steps % config.log_every or config.steps % chunk_steps:
        raise ConfigError(
            f"--chunk-steps must be a multiple of log_every ({config.log_every}) that divides steps "
            f"({config.steps}), got {chunk_steps}"
        )
    return Layout(seeds=seeds, group_size=group_size, chunk_steps=chunk_steps, devices=count)
