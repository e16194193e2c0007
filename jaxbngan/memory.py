"""The memory model of a run: a seed's device bytes, what a device may fill, and runs that cannot fit.

`seed_layout.plan_layout` sizes groups of seeds with it; `check_fits` refuses a run before it starts.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import jax
import numpy as np

from jaxbngan import rundir
from jaxbngan.config import Config, ConfigError
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.train import make_run

FLOAT_BYTES = 4
MEMORY_SAFETY = 2  # estimate / XLA's own count: 2-4x on CPU (tests/test_driver.py measures it)
HOST_MEMORY_SHARE = 0.5  # of the available host memory, when devices report none of their own
DEVICE_MEMORY_SHARE = 0.8  # of an accelerator's free memory


class SeedMemory(NamedTuple):
    """Estimated device bytes of one seed."""

    resident: int  # held by every seed of a group through a chunk: state in and out, metrics, samples
    working: int  # needed while the seed's step runs: activations, gradients, the metrics' pairwise distances


def seed_memory(config: Config, data_shape: int | tuple[int, ...]) -> SeedMemory:
    """A seed's memory: by formula for MLPs on points (`data_shape` their dimension), else XLA's own count.

    For images (`data_shape` one image's (H, W, C)) no formula is kept per architecture: one seed's
    logged segment is compiled and `memory_analysis()` gives its state, outputs and temporaries.
    """
    if isinstance(data_shape, tuple):
        return compiled_seed_memory(config, data_shape)
    return _mlp_seed_memory(config, data_shape)


def compiled_seed_memory(config: Config, sample_shape: tuple[int, ...]) -> SeedMemory:
    """XLA's count of one seed's bytes: state in and out, a whole run of metrics and samples, and temporaries.

    The segment is compiled on a zero population of the run's size and shape (no classifier: its
    features on `metric_samples` images are a small share of the temporaries).
    """
    run = make_run(config, np.zeros((config.data.size, *sample_shape), np.float32))
    state = jax.eval_shape(run.strategy.init, jax.random.key(0))
    stats = jax.jit(lambda s: run.segments(s, 1)).lower(state).compile().memory_analysis()
    state_bytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(state) if hasattr(leaf, "size"))
    per_log = max(stats.output_size_in_bytes - state_bytes, 0)
    samples = math.prod(jax.eval_shape(run.sample_fakes, state).shape) * FLOAT_BYTES
    resident = 2 * state_bytes + (config.steps // config.log_every) * per_log + samples
    return SeedMemory(resident, stats.temp_size_in_bytes)


def _mlp_seed_memory(config: Config, data_dim: int) -> SeedMemory:
    batch = config.batch_size or config.data.size
    g_hidden, d_hidden = sum(config.generator.hidden), sum(config.discriminator.hidden)
    g_dims = (config.noise_dim, *config.generator.hidden, data_dim)
    d_dims = (data_dim, *config.discriminator.hidden, 1)
    params = _dense_params(g_dims) + _dense_params(d_dims) + 4 * (g_hidden + d_hidden)  # + norm scales, stats
    per_log = 6 + 2 * data_dim + len(VIEWS)  # floats of one Metrics record
    logs = config.steps // config.log_every  # a chunk's metrics are at most the whole history
    resident = 2 * 3 * params + logs * per_log + batch * data_dim  # Adam: params and two moments

    d_row = data_dim + d_hidden + 1
    g_rows = 2 * batch if config.strategy.g_view == "joint" else batch
    train_step = batch * (sum(g_dims)) + g_rows * d_row + 2 * batch * d_row  # G step, then D on fake and real
    m = min(config.metric_samples, batch)
    evaluation = 3 * m * m * (data_dim + 1) + 4 * batch * d_row  # energy distance; D under each view
    working = MEMORY_SAFETY * (train_step + evaluation)
    return SeedMemory(FLOAT_BYTES * resident, FLOAT_BYTES * working)


def _dense_params(dims: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in zip(dims[:-1], dims[1:], strict=True))


def memory_budget(devices: list[jax.Device], *, whole: bool = False) -> int:
    """Bytes one device may fill: a share of its free memory where it reports it, else of the host's.

    With `whole`, all of that free memory: what a seed can never exceed.
    """
    stats = devices[0].memory_stats()
    if stats and "bytes_limit" in stats:
        share = 1.0 if whole else DEVICE_MEMORY_SHARE
        return int(share * (stats["bytes_limit"] - stats.get("bytes_in_use", 0)))
    share = 1.0 if whole else HOST_MEMORY_SHARE
    return int(share * _available_host_memory() / len(devices))


def results_bytes(config: Config, seeds: int, data_shape: int | tuple[int, ...]) -> int:
    """Host bytes the merge at the end holds: every seed's history and samples, read and written at once."""
    per_sample = math.prod(data_shape) if isinstance(data_shape, tuple) else data_shape
    columns = data_shape[-1] if isinstance(data_shape, tuple) else data_shape  # of offset and std_ratio
    layers = 2 * 2 * len(config.discriminator.layers)  # running_position and running_between
    per_log = len(Metrics._fields) + 2 * columns + len(VIEWS) + layers  # floats of one Metrics record, at most
    per_seed = (config.steps // config.log_every) * per_log + rundir.SAMPLE_ROWS * per_sample
    return 2 * FLOAT_BYTES * seeds * per_seed


def check_fits(
    config: Config, seeds: int, devices: list[jax.Device], data_shape: int | tuple[int, ...], memory: SeedMemory
) -> None:
    """Refuse a run whose results cannot fit the host's memory, or whose one seed (`memory`) cannot fit a device."""
    results, host = results_bytes(config, seeds, data_shape), _available_host_memory()
    if results > host:
        raise ConfigError(
            f"the results of {seeds} seeds x {config.steps // config.log_every} logs need about {_size(results)} "
            f"of host memory at the end, more than the {_size(host)} available; run fewer seeds, or log less often"
        )
    one = sum(memory)
    room = memory_budget(devices, whole=True)
    if one > room:
        raise ConfigError(
            f"one seed needs about {_size(one)} of {devices[0].platform} memory, more than the {_size(room)} free "
            "per device; use a smaller batch, smaller networks, fewer metric_samples or fewer logs"
        )


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000:
            return f"{count:.3g} {unit}"
        count /= 1000
    return f"{count:.3g} PB"


def _available_host_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
