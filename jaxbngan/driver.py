"""The chunked multi-seed driver: a Python loop over jitted chunks of steps, with progress and checkpoints.

Seeds run in groups sized to fit memory (`seed_layout`); a group is spread over the devices, and
each device loops over blocks of `tuning.vmap_width` seeds (`tuning.map_seeds`), so a CPU keeps each
block in cache while a GPU vmaps its whole share at once. A group runs chunk after chunk, each chunk
one jitted call that advances every seed by `chunk_steps` steps; between chunks progress is reported
and the group's state is checkpointed, so a stopped run resumes bit for bit. A finished group's
histories and final samples go to the run directory, and the next group starts from fresh keys.

A seed's numbers do not depend on the layout: on a CPU every seed runs the same one-device program
(each device its own copy, `tuning.separate_programs`; one seed at a time; the step scan unrolled
by `tuning.scan_unroll`, which depends on the backend alone), whatever the devices, seeds, group
size and first seed, for points and conv nets with their image scores alike. The process sets the
rest: its XLA flags and cores decide how XLA rounds that program, so a plain Python process,
without the commands' `tuning.xla_flags`, gives other last bits (docs/devices.md). On a GPU the
vmap width is each device's share of a group, which can change rounding; the run records it in
config.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxbngan import rundir
from jaxbngan.classifier import Classifier
from jaxbngan.config import Config, ConfigError
from jaxbngan.grid import Grid, member_inputs
from jaxbngan.progress import Progress
from jaxbngan.seed_layout import Layout
from jaxbngan.sharding import gather_seeds, per_device, seed_sharding, shard_seeds, writes_files
from jaxbngan.train import make_run, seed_keys
from jaxbngan.tuning import map_seeds, scan_unroll


def train(
    root: Path,
    config: Config,
    layout: Layout,
    devices: list[jax.Device],
    *,
    seed: int,
    population: np.ndarray | None = None,
    classifier: Classifier | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
    grid: Grid | None = None,
    first_seed: int = 0,
) -> bool:
    """Run (or continue) every group of a run directory; True when all are done, False if stopped at `deadline`.

    `population` is own data, None for the config's named data set; `classifier` scores image runs
    (`classifier.classifier_for`); `deadline` is a `time.monotonic()` value after which the run
    stops at the next checkpoint. With a `grid`, the layout's seeds are the sweep's members, its
    points times its seeds (`grid.member_inputs`); a run without one is a sweep of one point, so
    both compile the same chunk. `first_seed` offsets the seed keys: the run trains seeds
    `first_seed`, `first_seed + 1`, ... of `seed_keys(seed, ...)`, as rows of a bigger run would.
    """
    if len(devices) != layout.devices:
        raise ConfigError(f"this run is laid out for {layout.devices} devices; pass --devices {layout.devices}")
    if rundir.is_complete(root):
        return True  # finished before
    chunk = make_chunk(config, layout, devices, population, classifier)
    members = _member_inputs(config, layout, seed, grid, first_seed)
    logs, chunk_logs = config.steps // config.log_every, layout.chunk_steps // config.log_every
    first, saved = _resume_point(root, chunk, members, layout)
    if progress is not None:
        progress.begin(_seed_steps(layout, config, first, saved.logs_done if saved else 0))
    for group in range(first, layout.groups):
        if saved is not None:
            state, history, done = chunk.restore(saved.state), saved.history, saved.logs_done
            saved = None
        else:
            state, history, done = chunk.init(_rows(members, group, layout.group_size)), None, 0
        while done < logs:
            state, metrics = chunk.advance(state)
            history = _appended(history, gather_seeds(metrics))  # (group, logs so far, ...) in every process
            done += chunk_logs
            if done < logs:
                _save_checkpoint(root, group, done, gather_seeds(state), history)
            else:
                _save_group(root, group, layout.real_seeds(group), history, gather_seeds(chunk.sample(state)))
            if progress is not None:
                progress.update(_seed_steps(layout, config, group, done), _where(layout, config, group, done))
            finished = group == layout.groups - 1 and done == logs
            if deadline is not None and time.monotonic() >= deadline and not finished:
                return False
    if writes_files():
        rundir.finish(root, config.log_every * np.arange(1, logs + 1))
    return True


class Chunk(NamedTuple):
    """A group's jitted steps, each over every device's seeds: start it, advance it by a chunk, sample it."""

    init: Callable[[Any], Any]  # (keys, knobs) of the group's members -> state
    state_shape: Callable[[Any], Any]  # the same -> ShapeDtypeStructs of the state, nothing run
    advance: Callable[[Any], tuple[Any, Any]]  # state -> (state, metrics of chunk_logs logs); donates the state
    sample: Callable[[Any], jax.Array]  # state -> final fakes
    restore: Callable[[Any], Any]  # a checkpoint's state, committed to the sharding a fresh one has


def make_chunk(
    config: Config,
    layout: Layout,
    devices: list[jax.Device],
    population: np.ndarray | None,
    classifier: Classifier | None,
) -> Chunk:
    """The jitted pieces of a group on `devices`, each device vmapping `layout.width` seeds at a time."""
    platform = devices[0].platform
    width = layout.width(platform)
    run = make_run(config, population, classifier=classifier, unroll=scan_unroll(platform))
    chunk_logs = layout.chunk_steps // config.log_every

    def init_seeds(members):  # (keys, knobs)
        return map_seeds(lambda member: run.strategy.init(*member), members, width)

    def advance_seeds(states):
        return map_seeds(lambda state: run.segments(state, chunk_logs), states, width)

    def sample_seeds(states):
        return map_seeds(run.sample_fakes, states, width)

    # Restored states are committed to the seeds' sharding like fresh ones: the chunk's input types
    # include their sharding, and a resumed run must not compile the chunk a second time.
    split = seed_sharding(devices)
    init = per_device(init_seeds, devices)
    return Chunk(
        init=lambda members: init(shard_seeds(members, devices)),
        state_shape=lambda members: jax.eval_shape(init_seeds, members),
        advance=per_device(advance_seeds, devices, donate=True),
        sample=per_device(sample_seeds, devices),
        restore=lambda state: jax.device_put(state, split),
    )


def _member_inputs(
    config: Config, layout: Layout, seed: int, grid: Grid | None, first_seed: int
) -> tuple[jax.Array, Any]:
    """(keys, knobs) of every slot of the run: its members, then the seeds that pad the last group."""
    slots = layout.groups * layout.group_size
    seed_index, knobs = member_inputs(config, grid, layout.seeds // (grid.size if grid else 1), slots)
    return seed_keys(seed, slots, first_seed)[seed_index], jax.tree.map(jax.numpy.asarray, knobs)


def _resume_point(root: Path, chunk: Chunk, members: Any, layout: Layout) -> tuple[int, rundir.Checkpoint | None]:
    """The first group without written results, and its checkpoint if one was saved."""
    first = rundir.finished_groups(root)
    if first == layout.groups:
        return first, None
    template = chunk.state_shape(_rows(members, 0, layout.group_size))
    saved = rundir.load_checkpoint(root, template)
    if saved is not None and saved.group != first:
        saved = None  # left over from a group whose results are already written
    return first, saved


def _save_checkpoint(root: Path, group: int, logs_done: int, state: Any, history: Any) -> None:
    if writes_files():
        rundir.save_checkpoint(root, group, logs_done, state, history)


def _save_group(root: Path, group: int, kept: int, history: Any, fakes: jax.Array) -> None:
    """Write a finished group's results, without the seeds that only pad it."""
    if writes_files():
        rundir.save_group(root, group, jax.tree.map(lambda x: x[:kept], history), fakes[:kept])


def _rows(tree: Any, group: int, size: int) -> Any:
    """The members of group `group` of `size` members."""
    return jax.tree.map(lambda x: x[group * size : (group + 1) * size], tree)


def _where(layout: Layout, config: Config, group: int, logs_done: int) -> str:
    note = f"step {logs_done * config.log_every}/{config.steps}"
    return f"group {group + 1}/{layout.groups}, {note}" if layout.groups > 1 else note


def _seed_steps(layout: Layout, config: Config, group: int, logs_done: int) -> int:
    """Seed-steps of kept seeds trained when `group` has logged `logs_done` times."""
    logs = config.steps // config.log_every
    return round((group * layout.group_size + layout.real_seeds(group) * logs_done / logs) * config.steps)


def _appended(history: Any, new: Any) -> Any:
    """`new` logs after those of `history` (None before the first chunk)."""
    return new if history is None else jax.tree.map(lambda a, b: np.concatenate([a, b], axis=1), history, new)
