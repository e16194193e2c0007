"""The seed axis spread over devices and processes: a one-axis mesh named `seeds`.

Seeds are independent experiments, so nothing is ever reduced across this axis (BN layers carry
no `axis_name`): `per_device` runs each device's block of seeds where it lives, and the compiled
program holds no collective. One process or many, the code is the same:

    initialize_distributed()  # first thing; joins a multi-process run if JAXBNGAN_DISTRIBUTED=1
    devices = seed_devices()  # every device of every process, process by process
    keys = shard_seeds(seed_keys(0, 64), devices)  # device i holds seeds [i * 64 // n, (i + 1) * 64 // n)
    states = per_device(jax.vmap(run.strategy.init), devices)(keys)
    chunk = per_device(lambda s: tuning.map_seeds(lambda x: run.segments(x, k), s, width), devices)
    states, history = chunk(states)
    history = gather_seeds(history)  # numpy, all seeds, on every process; process 0 writes

Process p owns the p-th contiguous block of devices, hence of seeds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxbngan.config import ConfigError
from jaxbngan.tuning import separate_programs

SEED_AXIS = "seeds"
DISTRIBUTED_ENV = "JAXBNGAN_DISTRIBUTED"
NUM_PROCESSES_ENV = "JAXBNGAN_NUM_PROCESSES"
PROCESS_ID_ENV = "JAXBNGAN_PROCESS_ID"
_SEEDS_FIRST = PartitionSpec(SEED_AXIS)


def initialize_distributed(
    enable: bool | None = None,
    *,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> bool:
    """Join a multi-process run when asked (`enable`, else JAXBNGAN_DISTRIBUTED=1); True if joined.

    Call it before anything touches JAX devices. Settings not given come from JAX_COORDINATOR_ADDRESS,
    JAXBNGAN_NUM_PROCESSES and JAXBNGAN_PROCESS_ID, or are detected by JAX itself on SLURM, Open MPI,
    Kubernetes and Cloud TPU.
    """
    if enable is None:
        enable = _env_flag(DISTRIBUTED_ENV)
    if not enable:
        return False
    if jax.distributed.is_initialized():
        return True
    if num_processes is None:
        num_processes = _env_int(NUM_PROCESSES_ENV)
    if process_id is None:
        process_id = _env_int(PROCESS_ID_ENV)
    try:
        jax.distributed.initialize(coordinator_address, num_processes, process_id)
    except (RuntimeError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"cannot join the multi-process run: {reason}") from error
    return True


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def seed_devices(limit: int | None = None, *, seeds: int | None = None) -> list[jax.Device]:
    """The devices seeds are spread over, process by process: all of them, or `limit` in all.

    With several processes each one brings the same number of its own devices (`limit` must be a
    multiple of the process count), so every process takes part in every program. Given `seeds`
    and no `limit`, no more devices than seeds (rounded up to a multiple of the process count):
    a device without a seed of its own would train a padding seed whose results are thrown away.
    """
    by_process = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    total, processes = len(by_process), jax.process_count()
    if limit is None and seeds is not None and 1 <= seeds < total:
        limit = -(-seeds // processes) * processes
    if limit is None:
        return by_process
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= total:
        raise ConfigError(f"--devices must be between 1 and {total} (visible devices), got {limit}")
    if limit % processes:
        raise ConfigError(f"--devices {limit} must be a multiple of the {processes} processes (each brings as many)")
    per_process = limit // processes
    local = [[d for d in by_process if d.process_index == process] for process in range(processes)]
    if min(map(len, local)) < per_process:
        raise ConfigError(f"--devices {limit} needs {per_process} devices on every process; one has fewer")
    return [d for devices in local for d in devices[:per_process]]


def seed_mesh(devices: list[jax.Device]) -> Mesh:
    """A one-axis mesh, `seeds`, over `devices`."""
    if not devices:
        raise ConfigError("no devices to spread the seeds over")
    return Mesh(np.array(devices), (SEED_AXIS,))


def seed_sharding(devices: list[jax.Device]) -> NamedSharding:
    """Split a leading seed axis over `devices`; every other axis stays whole."""
    return NamedSharding(seed_mesh(devices), _SEEDS_FIRST)


def per_device(
    fn: Callable, devices: list[jax.Device], *, separate: bool | None = None, donate: bool = False
) -> Callable:
    """`fn` run on each device's own block of seeds (leading axis of every argument and output).

    `fn` sees only its device's seeds, never names the `seeds` axis, and nothing crosses devices.
    `separate` (default: `tuning.separate_programs` of the devices' backend): each device runs its own
    copy of the one-device program, the very program a `--devices 1` run compiles, so a seed's
    numbers do not depend on how many devices share the run. Otherwise one jitted program
    partitioned over the mesh, compiled once (what `jax.jit(...).lower` needs):
    XLA optimizes a partitioned program through other passes than a one-device program, and on a
    CPU the two round the train step differently (docs/devices.md). `donate`: the first
    argument's buffers are reused for the outputs.
    """
    donated = (0,) if donate else ()
    if separate is None:
        separate = separate_programs(devices[0].platform)
    if not separate:
        mapped = jax.shard_map(fn, mesh=seed_mesh(devices), in_specs=_SEEDS_FIRST, out_specs=_SEEDS_FIRST)
        return jax.jit(mapped, donate_argnums=donated)
    program = jax.jit(fn, donate_argnums=donated)
    sharding = seed_sharding(devices)
    local = [d for d in devices if d.process_index == jax.process_index()]

    def run(*args: Any) -> Any:
        args = shard_seeds(args, devices)
        blocks = {d: [] for d in local}  # each device's block of every argument leaf
        for leaf in jax.tree.leaves(args):
            for shard in leaf.addressable_shards:
                blocks[shard.device].append(shard.data)
        treedef = jax.tree.structure(args)
        calls = [lambda d=d: program(*jax.tree.unflatten(treedef, blocks[d])) for d in local]
        if len(calls) == 1:
            outputs = [calls[0]()]
        else:  # one thread per device, so the first call's compilations run side by side
            with ThreadPoolExecutor(len(calls)) as pool:
                outputs = list(pool.map(lambda call: call(), calls))
        return jax.tree.map(lambda *parts: _assemble(parts, len(devices), sharding), *outputs)

    return run


def _assemble(parts: tuple[jax.Array, ...], devices: int, sharding: NamedSharding) -> jax.Array:
    """One global array, seeds first, from each local device's block of it."""
    shape = (parts[0].shape[0] * devices, *parts[0].shape[1:])
    return jax.make_array_from_single_device_arrays(shape, sharding, list(parts))


def shard_seeds(tree: Any, devices: list[jax.Device]) -> Any:
    """Place every leaf (leading axis = seeds, a multiple of len(devices)) across `devices`.

    Host values must be the same on every process (e.g. `seed_keys(seed, count)`): each process
    copies only the seeds of its own devices. Arrays that are already global are resharded.
    """
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return tree
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else "scalar" for leaf in leaves}
    if len(sizes) != 1 or "scalar" in sizes:
        raise ConfigError(f"every leaf needs the same leading seed axis, got sizes {sorted(sizes, key=str)}")
    seeds = sizes.pop()
    if seeds % len(devices):
        raise ConfigError(
            f"{seeds} seeds cannot be split evenly over {len(devices)} devices; "
            f"use a multiple of {len(devices)} seeds or fewer devices (--devices)"
        )
    sharding = seed_sharding(devices)
    return jax.tree.map(lambda leaf: _place(leaf, sharding), tree)


def _place(leaf: Any, sharding: NamedSharding) -> jax.Array:
    if _is_key(leaf):  # typed PRNG keys travel as their raw uint32 data
        return jax.random.wrap_key_data(_place(jax.random.key_data(leaf), sharding), impl=jax.random.key_impl(leaf))
    if isinstance(leaf, jax.Array):
        if leaf.sharding.is_equivalent_to(sharding, leaf.ndim):
            return leaf
        if not leaf.is_fully_addressable:  # global already: let XLA move the blocks
            return jax.device_put(leaf, sharding)
    host = np.asarray(leaf)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def gather_seeds(tree: Any) -> Any:
    """Every seed's values on every process, as numpy arrays (keys stay keys, on the default device)."""

    def gather(leaf):
        if _is_key(leaf):
            return jax.random.wrap_key_data(gather(jax.random.key_data(leaf)), impl=jax.random.key_impl(leaf))
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            return multihost_utils.process_allgather(leaf, tiled=True)
        return np.asarray(leaf)

    return jax.tree.map(gather, tree)


def _is_key(leaf: Any) -> bool:
    return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def writes_files() -> bool:
    """Whether this process writes results: process 0 of a multi-process run, or the only one."""
    return jax.process_index() == 0
