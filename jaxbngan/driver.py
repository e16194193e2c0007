"""The chunked multi-seed driver: a Python loop over jitted chunks of steps, with progress and checkpoints.

Seeds run in groups sized to fit memory; a group is spread over the devices, and each device
loops over blocks of `tuning.vmap_width` seeds (`tuning.map_seeds`), so a CPU keeps each block in cache
while a GPU vmaps its whole share at once. A group runs chunk after chunk, each chunk one jitted
call that advances every seed by `chunk_steps` steps; between chunks the progress bar is redrawn
and the group's state is checkpointed, so a stopped run resumes bit for bit. A finished group's
histories and final samples go to the run directory, and the next group starts from fresh keys.

Groups are a multiple of the device count. Seeds that do not fill the last group are padded with
extra seeds (the next keys of the same sequence) whose results are discarded; every group has the
same shape, so the chunk function is traced once per run.

A seed's numbers do not depend on the layout: on a CPU every seed runs the same one-device program
(each device its own copy, `tuning.separate_programs`; one seed at a time; the step scan unrolled
by `tuning.scan_unroll`, which depends on the backend alone), whatever the devices, seeds and group
size. On a GPU the vmap width is each device's share of a group, which can change rounding; the
run records it in config.json.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

import jax
import numpy as np

from jaxbngan import rundir
from jaxbngan.config import Config, ConfigError
from jaxbngan.grid import Grid, member_inputs
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.sharding import gather_seeds, per_device, seed_sharding, shard_seeds, writes_files
from jaxbngan.train import make_run, seed_keys
from jaxbngan.tuning import map_seeds, scan_unroll, vmap_width

FLOAT_BYTES = 4
MEMORY_SAFETY = 2  # estimate / XLA's own count: 2-4x on CPU (tests/test_driver.py measures it)
HOST_MEMORY_SHARE = 0.5  # of the available host memory, when devices report none of their own
DEVICE_MEMORY_SHARE = 0.8  # of an accelerator's free memory
BLOCKS_PER_GROUP = 16  # caps a group at 16 vmap blocks per device, so chunks stay short on a CPU
CHUNKS_PER_GROUP = 10  # the default chunk length aims at this many progress updates per group


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


def sample_shape(population: np.ndarray | jax.Array) -> int | tuple[int, ...]:
    """What `plan_layout` needs of the data: a point's dimension, or one image's (H, W, C)."""
    return population.shape[1] if population.ndim == 2 else tuple(population.shape[1:])


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
    per_log = len(Metrics._fields) + 2 * columns + len(VIEWS)  # floats of one Metrics record, at most
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


class Progress:
    """A progress line on stderr: redrawn in place on a terminal, else printed every `interval` seconds.

    The rate, and the ETA from it, appear once the first chunk is timed: from the start of the
    run, so compilation included, until a second chunk gives the rate of training alone. `close`
    ends with the total time and the overall rate.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.total = total  # seed-steps
        self.stream = stream or sys.stderr
        self.interval = interval
        self.clock = clock
        self.live = self.stream.isatty()
        self.origin = (clock(), 0)  # (time, done) where this invocation started (`begin`)
        self.first: tuple[float, int] | None = None  # (time, done) after the first chunk, which compiles
        self.done = 0
        self.printed = -math.inf
        self.pending = ""  # the latest line, until it is printed

    def begin(self, done: int) -> None:
        """Start the clock at `done` seed-steps: 0 for a new run, where it stopped for a resumed one."""
        self.origin = (self.clock(), done)
        self.done = done

    def update(self, done: int, note: str) -> None:
        """Report `done` of `total` seed-steps; `note` says where in the run that is."""
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
            rate, speed = self._rate(self.origin, now, done), "first chunk, compilation included"
        else:
            rate, speed = self._rate(self.first, now, done), None
        self.done = done
        self.pending = self._line(done, note, rate, speed)
        if self.live:
            self.stream.write("\r" + self.pending.ljust(100))
        elif now - self.printed >= self.interval or done >= self.total:
            self._print_pending()
            self.printed = now
        self.stream.flush()

    def close(self) -> None:
        """End the live line, or print the latest state if it was not printed yet; then the total time and rate."""
        if self.live:
            self.stream.write("\n")
        self._print_pending()
        if self.first is not None:
            now = self.clock()
            trained = self.done - self.origin[1]
            rate = self._rate(self.origin, now, self.done)
            self.stream.write(
                f"trained {trained:,} seed-steps in {_clock(now - self.origin[0])}: "
                f"{rate:,.0f} seed-steps/s, compilation included\n"
            )
        self.stream.flush()

    @staticmethod
    def _rate(since: tuple[float, int], now: float, done: int) -> float:
        return (done - since[1]) / max(now - since[0], 1e-9)

    def _print_pending(self) -> None:
        if self.pending and not self.live:
            self.stream.write(self.pending + "\n")
        self.pending = ""

    def _line(self, done: int, note: str, rate: float, speed: str | None) -> str:
        share = done / self.total
        bar = "#" * round(20 * share)
        eta = _clock((self.total - done) / rate) if rate > 0 else "?"
        measured = f" ({speed})" if speed else ""
        return f"[{bar:<20}] {100 * share:5.1f}% | {note} | {rate:,.0f} seed-steps/s{measured} | ETA {eta}"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def train(
    root: Path,
    config: Config,
    layout: Layout,
    devices: list[jax.Device],
    *,
    seed: int,
    population: np.ndarray | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
    grid: Grid | None = None,
) -> bool:
    """Run (or continue) every group of a run directory; True when all are done, False if stopped at `deadline`.

    `population` is own data, None for the config's named data set; `deadline` is a
    `time.monotonic()` value after which the run stops at the next checkpoint. With a `grid`,
    the layout's seeds are the sweep's members, its points times its seeds (`grid.member_inputs`);
    a run without one is a sweep of one point, so both compile the same chunk.
    """
    if len(devices) != layout.devices:
        raise ConfigError(f"this run is laid out for {layout.devices} devices; pass --devices {layout.devices}")
    if rundir.is_complete(root):
        return True  # finished before
    platform = devices[0].platform
    width = layout.width(platform)
    run = make_run(config, population, unroll=scan_unroll(platform))
    logs, chunk_logs = config.steps // config.log_every, layout.chunk_steps // config.log_every

    # Each runs over one device's seeds, `width` of them vmapped at a time.
    def init_seeds(members):  # (keys, knobs)
        return map_seeds(lambda member: run.strategy.init(*member), members, width)

    def advance_seeds(states):
        return map_seeds(lambda state: run.segments(state, chunk_logs), states, width)

    def sample_seeds(states):
        return map_seeds(run.sample_fakes, states, width)

    # Restored states are committed to the seeds' sharding like fresh ones: the chunk's input types
    # include their sharding, and a resumed run must not compile the chunk a second time.
    seeds_split = seed_sharding(devices)
    init = per_device(init_seeds, devices)
    advance = per_device(advance_seeds, devices, donate=True)
    sample = per_device(sample_seeds, devices)
    slots = layout.groups * layout.group_size
    seed_index, knobs = member_inputs(config, grid, layout.seeds // (grid.size if grid else 1), slots)
    members = (seed_keys(seed, slots)[seed_index], jax.tree.map(jax.numpy.asarray, knobs))

    first = rundir.finished_groups(root)
    saved = None
    if first < layout.groups:
        template = jax.eval_shape(init_seeds, _rows(members, 0, layout.group_size))
        saved = rundir.load_checkpoint(root, template)
        if saved is not None and saved.group != first:
            saved = None  # left over from a group whose results are already written
    if hasattr(progress, "begin"):  # optional in a progress object: reproduce's cells report seed counts only
        progress.begin(_seed_steps(layout, config, first, saved.logs_done if saved is not None else 0))
    for group in range(first, layout.groups):
        if saved is not None:
            state, history, done = jax.device_put(saved.state, seeds_split), saved.history, saved.logs_done
            saved = None
        else:
            group_members = _rows(members, group * layout.group_size, (group + 1) * layout.group_size)
            state, history, done = init(shard_seeds(group_members, devices)), None, 0
        while done < logs:
            state, metrics = advance(state)
            metrics = gather_seeds(metrics)  # (group, chunk_logs, ...), every process holds all seeds
            history = metrics if history is None else jax.tree.map(_along_logs, history, metrics)
            done += chunk_logs
            if done < logs:
                checkpoint = gather_seeds(state)
                if writes_files():
                    rundir.save_checkpoint(root, group, done, checkpoint, history)
            else:
                kept = layout.real_seeds(group)
                fakes = gather_seeds(sample(state))[:kept]
                if writes_files():
                    rundir.save_group(root, group, jax.tree.map(lambda x, k=kept: x[:k], history), fakes)
            if progress is not None:
                note = f"step {done * config.log_every}/{config.steps}"
                if layout.groups > 1:
                    note = f"group {group + 1}/{layout.groups}, {note}"
                progress.update(_seed_steps(layout, config, group, done), note)
            finished = group == layout.groups - 1 and done == logs
            if deadline is not None and time.monotonic() >= deadline and not finished:
                return False
    if writes_files():
        rundir.finish(root, config.log_every * np.arange(1, logs + 1))
    return True


def _rows(tree, start: int, stop: int):
    return jax.tree.map(lambda x: x[start:stop], tree)


def _seed_steps(layout: Layout, config: Config, group: int, logs_done: int) -> int:
    """Seed-steps of kept seeds trained when `group` has logged `logs_done` times."""
    logs = config.steps // config.log_every
    return round((group * layout.group_size + layout.real_seeds(group) * logs_done / logs) * config.steps)


def _along_logs(history: np.ndarray, new: np.ndarray) -> np.ndarray:
    return np.concatenate([history, new], axis=1)
