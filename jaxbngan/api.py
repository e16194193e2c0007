"""`jaxbngan.run`: many seeds from Python, with the command line's driver, returned as numpy arrays.

    import jaxbngan
    results = jaxbngan.run("joint", seeds=64)  # as `jaxbngan run joint --seeds 64`
    results.history.d_loss  # (64, logs)
    results.frame()  # with pandas: one row per (seed, logged step)

It lays seeds out as `jaxbngan run` does (`seed_layout.plan_layout`: groups sized to memory, spread
over `sharding.seed_devices`, chunks with progress on stderr), so it is as fast as the command
line, unlike one `jax.vmap` over every seed on one device. With `out` the run directory stays (and
a call with the same arguments continues it after an interruption); without, it lives in a
temporary directory removed once the results are loaded.

A run's life is written here once, for `run` and for the command line alike: `resolve` (preset
or config, data, overrides; `jaxbngan.request`) -> `Request` (with seeds) -> `open_run` (new or continued, settings
compared by `run_changes`, the directory locked, laid out by `plan`, created) -> `train` ->
`conclude`. The command line only turns flags into these calls and prints.

On a CPU, `jaxbngan run` gives JAX one device per core by setting XLA_FLAGS before JAX starts its
backend. `run` cannot: the backend may already be running, and the flags then do nothing. Importing
jaxbngan does not start it, so call `jaxbngan.tuning.use_tuned_xla_flags()` before your first JAX
computation for the command line's layout and numbers: the flags also change how XLA:CPU rounds
reductions, so without them a seed's last bits differ from the command line's; `run` says on stderr
when it has fewer CPU devices than cores.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxbngan import compile_cache, driver, export, finals, provenance, rundir, seed_layout, sweep
from jaxbngan.arguments import check_run_arguments
from jaxbngan.classifier import classifier_for
from jaxbngan.config import Config, ConfigError, to_dict, validate_for_data, validate_for_kind
from jaxbngan.data import data_set_kind, make_population
from jaxbngan.grid import Grid, parse_axes
from jaxbngan.metrics import Metrics
from jaxbngan.presets import get_preset
from jaxbngan.progress import ProgressLine
from jaxbngan.request import Request, Source, make_request, resolve, saved_source
from jaxbngan.sharding import seed_devices, writes_files
from jaxbngan.tuning import cpu_cores, scan_unroll, separate_programs


class Results(NamedTuple):
    """A finished run (or sweep) as numpy arrays; a sweep's arrays lead with the grid's axes, then seeds."""

    history: Metrics  # every logged metric, each (seeds, logs, ...); a sweep's (*grid.shape, seeds, logs, ...)
    steps: np.ndarray  # (logs,) the step each log was taken after
    fakes: np.ndarray  # (seeds, rows, ...) final samples of every seed (at most rundir.SAMPLE_ROWS rows)
    real: np.ndarray  # (n, ...) the real data
    config: Config
    summary: dict[str, Any]  # final metrics per seed and over seeds, diverged seeds (as summary.json)
    spec: dict[str, Any]  # what config.json records: preset, seeds, layout, versions, git commit, device
    out: Path | None  # the run directory, None when it was temporary
    grid: Grid | None = None  # a sweep's axes

    def frame(self) -> Any:
        """Every logged metric as a pandas DataFrame, one row per (seed, step) (`jaxbngan.export.columns`);
        a sweep's rows also name their point, one column per axis."""
        if self.grid is None:
            return export.frame(export.columns(self.history, self.steps, export.data_dim_of(self.real)))
        members = jax.tree.map(lambda x: x.reshape(-1, *x.shape[self.grid.ndim + 1 :]), self.history)
        table = export.columns(members, self.steps, export.data_dim_of(self.real))
        return export.frame(sweep.member_columns(table, self.grid, self.spec["seeds"]))


def run(
    config_or_preset: Config | str,
    seeds: int = 64,
    *,
    out: str | os.PathLike | None = None,
    data: str | os.PathLike | np.ndarray | dict[str, Any] | None = None,
    devices: int | None = None,
    progress: bool = True,
    seed: int = 0,
    group_size: int | None = None,
    chunk_steps: int | None = None,
    axes: dict[str, list[float]] | None = None,
    **overrides: Any,
) -> Results:
    """Train `seeds` seeds of a preset (or Config) with the CLI's driver; return their histories and samples.

    `axes` makes it a sweep, as `jaxbngan sweep`: {config path: values} for fields of `config.KNOBS`;
    every point of the grid trains the same seeds in one program, and the results' arrays lead with
    the grid's axes (`Results.grid`), then the seeds.
    `data`: a data set name, an (n, d) array, or a .npy/.npz/.csv file (default: the config's), or a
    dict of data fields to override, `data={"name": "moons", "size": 512}`.
    `devices`: use at most that many (default: all, no more than `seeds`). `overrides` replace
    config fields: `steps=500`, or a section's fields as a dict, `loss={"shift_weight": 0.01}`.
    `out`: keep the run directory there (default: a temporary one, removed after loading).
    Bad input raises `ConfigError` before anything is traced or written.
    """
    check_run_arguments(
        config_or_preset,
        seeds,
        out=out,
        data=data,
        devices=devices,
        progress=progress,
        seed=seed,
        group_size=group_size,
        chunk_steps=chunk_steps,
        axes=axes,
        overrides=overrides,
    )
    if isinstance(data, dict):  # a data-section override, as `data.size=512` on the command line
        data, overrides = None, {**overrides, "data": data}
    if jax.process_count() > 1:
        raise ConfigError("jaxbngan.run trains in one process; for a multi-process run use the `jaxbngan run` command")
    compile_cache.enable()  # $JAXBNGAN_COMPILE_CACHE moves it or turns it off
    source = resolve(config_or_preset, data, overrides)
    grid = (
        None if axes is None else parse_axes(source.config, [_axis_text(path, values) for path, values in axes.items()])
    )
    request = make_request(source, seeds, seed, grid)
    layout_asked = LayoutAsked(devices, group_size, chunk_steps)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="jaxbngan-") as tmp:
            return _run_into(Path(tmp), request, layout_asked, progress, keep=False)
    return _run_into(Path(out), request, layout_asked, progress, keep=True)


def _axis_text(path: str, values: Any) -> str:
    """An `axes` entry as `--axis` would give it."""
    values = [values] if isinstance(values, (int, float)) else list(values)
    return f"{path}={','.join(repr(float(v)) if isinstance(v, (int, float)) else str(v) for v in values)}"


# -- laying out, recording and training a request ---------------------------------------------------


def plan(
    request: Request, devices: list[jax.Device], *, group_size: int | None = None, chunk_steps: int | None = None
) -> tuple[seed_layout.Layout, np.ndarray]:
    """The layout of a new run on `devices`, and the population it learns."""
    config = request.source.config
    population = request.source.population
    if population is None:  # the mismatch first: the data set's own limits (digits' size) would hide it
        validate_for_kind(config, data_set_kind(config.data.name), f"data set {config.data.name!r}")
    population = np.asarray(population if population is not None else make_population(config.data))
    validate_for_data(config, population.shape, request.source.data)
    layout = seed_layout.plan_layout(
        config,
        request.members,
        devices,
        seed_layout.sample_shape(population),
        group_size=group_size,
        chunk_steps=chunk_steps,
    )
    return layout, population


def run_spec(request: Request, layout: seed_layout.Layout, devices: list[jax.Device]) -> dict[str, Any]:
    """What config.json records about a new run."""
    platform = devices[0].platform
    spec = {
        "preset": request.source.preset,
        "summary": request.source.summary,
        "data": request.source.data,
        "seeds": request.seeds,
        "seed": request.seed,
        "layout": dataclasses.asdict(layout),
        # Choices that change a seed's rounding; on a CPU none depends on the layout (docs/devices.md).
        "execution": {
            "vmap_width": layout.width(platform),
            "scan_unroll": scan_unroll(platform),
            "programs": "separate" if separate_programs(platform) else "partitioned",
        },
        "config": to_dict(request.source.config),
        "versions": provenance.versions(),
        "git": provenance.git_state(),  # None outside a checkout
        "device": f"{platform}: {len(devices)} x {devices[0].device_kind}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return spec if request.grid is None else sweep.sweep_spec(spec, request.grid, request.seeds)


def run_changes(root: Path, spec: dict[str, Any], request: Request, layout: dict[str, int | None]) -> list[str]:
    """How `request` (and the `layout` values given, None for any) differs from the run in `root`: 'key: a -> b'."""
    config = json.loads(json.dumps(to_dict(request.source.config)))
    changes = [f"{key}: {before!r} -> {after!r}" for key, before, after in _differences(spec["config"], config)]
    asked = {"preset": request.source.preset, "data": request.source.data, "seeds": request.seeds}
    asked["seed"] = request.seed
    changes += [f"{name}: {spec[name]!r} -> {value!r}" for name, value in asked.items() if spec[name] != value]
    if sweep.read_grid(spec) != request.grid:
        changes.append(f"grid: {_grid_text(sweep.read_grid(spec))} -> {_grid_text(request.grid)}")
    own = request.source.population
    if spec["data"] == request.source.data and own is not None:
        if not np.array_equal(rundir.read_population(root), own):
            changes.append(f"data: the values in {request.source.data} changed")
    for name, value in layout.items():
        if value is not None and value != spec["layout"][name]:
            changes.append(f"{name}: {spec['layout'][name]!r} -> {value!r}")
    return changes


def _grid_text(grid: Grid | None) -> str:
    return "none" if grid is None else "; ".join(f"{p}={','.join(f'{v:g}' for v in vs)}" for p, vs in grid.axes)


def _differences(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    found = []
    for key in before:
        if isinstance(before[key], dict):
            found += _differences(before[key], after[key], f"{prefix}{key}.")
        elif before[key] != after[key]:
            found.append((f"{prefix}{key}", before[key], after[key]))
    return found


def grid_size_line(request: Request) -> str:
    """A sweep's size, said before it is planned: points, seeds, members and the seed-steps they train."""
    grid, steps = request.grid, request.source.config.steps
    shape = " x ".join(map(str, grid.shape))
    return (
        f"sweep: a grid of {shape} = {grid.size:,} points x {request.seeds} seeds = {request.members:,} members, "
        f"{request.members * steps:,} seed-steps (the progress line gives the time left after the first chunk)"
    )


def describe(session: Session, shown_root: Path | None) -> list[str]:
    """What a run is about to do, in a few lines: preset, data, seeds, layout (padding seeds named), where.

    `shown_root`: the directory named as where results go; None for a temporary one.
    """
    request, layout, devices = session.request, session.layout, session.devices
    source, config = request.source, request.source.config
    platform = devices[0].platform
    padding = layout.groups * layout.group_size - request.members
    unit = "members" if request.grid else "seeds"
    groups = f"{layout.groups} group{'s' if layout.groups > 1 else ''} of {layout.group_size} {unit}"
    if padding:
        groups += f" ({padding} padding {unit[:-1]}{'s' if padding > 1 else ''}, discarded)"
    where = f"results go to {shown_root}/" if shown_root is not None else "results go to a temporary directory"
    seeds = f"{request.seeds} seeds from seed {request.seed}"
    if request.grid:
        shape = " x ".join(map(str, request.grid.shape))
        seeds = (
            f"a grid of {shape} points ({_grid_text(request.grid)}), each with the same {seeds}: "
            f"{request.members} members in one program"
        )
    return [
        f"{'resuming' if session.resumed else 'running'} {source.preset or 'config'}: {source.summary}",
        f"data {source.data} ({config.data.size} samples); {seeds}; {config.steps} steps",
        f"devices: {len(devices)} of {len(jax.devices())} ({platform}); {groups}, {layout.width(platform)} "
        f"vmapped at a time per device; chunks of {layout.chunk_steps} steps",
        where,
    ]


def train(session: Session, *, progress: bool = True, deadline: float | None = None) -> bool:
    """Train a held run (new or partly trained) to its end; True when complete, False at `deadline`.

    `progress` draws the progress line on stderr; `deadline` is a `time.monotonic()` value after
    which the run stops at its next checkpoint. Ctrl-C stops it too, once the running chunk ends.
    """
    request = session.request
    config = request.source.config
    own_data = request.source.population is not None
    classifier = None if own_data else classifier_for(config.data)  # scores image runs on a labelled data set
    meter = ProgressLine(request.members * config.steps) if progress else None
    try:
        return driver.train(
            session.root,
            config,
            session.layout,
            session.devices,
            seed=request.seed,
            population=request.source.population,
            classifier=classifier,
            progress=meter,
            deadline=deadline,
            grid=request.grid,
        )
    finally:
        if meter is not None:
            meter.close()


def saved_progress(root: Path) -> str:
    """What an interrupted run in `root` has saved, for the line that says how to continue it."""
    spec = rundir.read_spec(root)
    total, finished = seed_layout.Layout(**spec["layout"]).groups, rundir.finished_groups(root)
    saved = [f"{finished} of {total} groups finished"] if finished else []
    position = rundir.checkpoint_position(root)
    if position is not None and position[0] == finished:
        saved.append(f"a checkpoint at step {position[1] * spec['config']['log_every']} of group {finished + 1}")
    if not saved:
        return "nothing was saved yet (no chunk had ended), so continuing starts from step 0"
    return "saved: " + " and ".join(saved)


def conclude(root: Path, seconds: float) -> tuple[rundir.Results, dict[str, Any]]:
    """A complete run's results and its summary, written to summary.json unless an earlier call did.

    `seconds`: the wall time of this invocation (a resumed run counts only its own part).
    """
    results = rundir.load(root)
    if not (root / rundir.SUMMARY).is_file():
        spec = results.spec
        summary = {"preset": spec["preset"], "data": spec["data"], "steps": spec["config"]["steps"]}
        if sweep.read_grid(spec) is None:
            summary |= finals.summarize(results.history, results.steps, results.real)
        else:
            summary |= sweep.summarize(results)
        summary["wall_seconds"] = seconds
        rundir.write_summary(root, summary)
    return results, rundir.read_summary(root)


class LayoutAsked(NamedTuple):
    """The layout a caller asks for; None leaves a value to `seed_layout.plan_layout` (or to the run continued)."""

    devices: int | None = None
    group_size: int | None = None
    chunk_steps: int | None = None


class Session(NamedTuple):
    """A run directory this process holds, and what it trains there."""

    root: Path
    request: Request
    layout: seed_layout.Layout
    devices: list[jax.Device]
    resumed: bool  # the directory held this run before: it continues
    complete: bool  # ... and finished it: nothing is left to train


Continue = Callable[[Source, dict[str, Any]], Request]  # the request of a continued run, from its saved source and spec


@contextlib.contextmanager
def open_run(
    root: Path,
    request: Request | Continue,
    asked: LayoutAsked | None = None,
    *,
    command: str,
    resume: bool | None = None,
    overwrite: bool = False,
) -> Iterator[Session]:
    """Hold the run directory `root` for one invocation: a new run or a continued one, checked, locked, created.

    `resume` True continues the run in `root`, False starts one there (`root` absent or empty, or
    holding a run that `overwrite` replaces), None does whichever fits: a new run also replaces a
    directory killed while it was created, where nothing was trained. A continued run keeps its
    layout and refuses a `request` (or `asked` value) that differs from its own; `request` may be a
    function of the saved run's Source and config.json that gives it (`continued`). Only one process
    holds a directory at a time (`rundir.owned`, whose lock names `command`); another is refused.
    Every check that needs no lock runs before anything is written.
    """
    root, asked = Path(root), asked or LayoutAsked()
    restart = resume is None  # whichever fits: a half-created directory starts afresh
    resume = rundir.is_run_dir(root) if resume is None else resume
    if resume:
        rundir.read_spec(root)  # a run directory, before the lock is taken
    else:
        devices = seed_devices(asked.devices, seeds=request.members)
        layout, population = plan(request, devices, group_size=asked.group_size, chunk_steps=asked.chunk_steps)
    writer = writes_files()  # process 0 of a multi-process run; the others read what it writes
    if writer and not resume:
        _claim(root, overwrite, restart=restart)
    with rundir.owned(root, command) if writer else contextlib.nullcontext():
        if writer:
            rundir.tidy(root)  # what a killed process left
        if resume:
            spec = rundir.read_spec(root)
            request = _checked_continuation(root, spec, request, asked)
            layout = seed_layout.Layout(**spec["layout"])
            devices = seed_devices(layout.devices)
        elif writer:
            if _claim(root, overwrite, restart=restart):
                rundir.clear(root)
            rundir.create(root, run_spec(request, layout, devices), population)
        yield Session(root, request, layout, devices, resume, resume and rundir.is_complete(root))


def continued(
    saved: Source,
    spec: dict[str, Any],
    *,
    preset: str | None = None,
    data: str | os.PathLike | np.ndarray | None = None,
    overrides: dict[str, Any] | None = None,
    seeds: int | None = None,
    seed: int | None = None,
    axes: list[str] | None = None,
) -> Request:
    """The request that continues the run of `spec` (`saved` its source): its settings, with those given.

    None keeps a saved value; `open_run` then refuses any that differs from the run's. `axes` are
    `--axis` texts; `preset` a name the run must have been started from.
    """
    if preset is not None:
        saved = saved._replace(preset=get_preset(preset).name)
    source = resolve(saved, data, overrides)
    grid = sweep.read_grid(spec)
    if grid is not None and axes:
        grid = parse_axes(source.config, axes)
    return make_request(source, spec["seeds"] if seeds is None else seeds, spec["seed"] if seed is None else seed, grid)


def _checked_continuation(root: Path, spec: dict[str, Any], request: Request | Continue, asked: LayoutAsked) -> Request:
    """The request continuing the run in `root`, refusing settings that differ and a damaged config.json."""
    try:
        if callable(request):
            request = request(saved_source(spec, rundir.read_population(root)), spec)
        changes = run_changes(root, spec, request, asked._asdict())
    except (KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{root / rundir.SPEC} is damaged ({type(error).__name__}: {error})") from None
    if changes:
        raise ConfigError(
            f"{root} holds a run with other settings ({'; '.join(changes)}); continue it with its own settings, "
            "or choose another output directory"
        )
    return request


def _claim(root: Path, overwrite: bool, *, restart: bool) -> bool:
    """Make sure a new run may write to `root`; True if it holds a run that `overwrite` will clear.

    A directory killed while it was created (`rundir.is_half_created`) is cleared with `overwrite` or
    `restart`, and named as such otherwise.
    """
    if not root.exists():
        return False
    if not root.is_dir():
        raise ConfigError(f"{root} exists and is not a directory")
    if not any(path.name != rundir.LOCK for path in root.iterdir()):
        return False
    if rundir.is_half_created(root):
        if overwrite or restart:
            return True
        raise rundir.half_created_error(root)
    if not rundir.is_run_dir(root):
        raise ConfigError(f"{root} exists and is not a jaxbngan run directory (no {rundir.SPEC}); choose another")
    if not overwrite:
        raise ConfigError(f"{root} exists and holds a run; continue it (--resume) or replace it (--overwrite)")
    return True


def _run_into(root: Path, request: Request, asked: LayoutAsked, show: bool, *, keep: bool) -> Results:
    command = f"jaxbngan.run({request.source.preset or 'config'!r}, seeds={request.seeds}) in pid {os.getpid()}"
    with open_run(root, request, asked, command=command) as session:
        if show:
            for line in describe(session, root if keep else None):
                print(f"jaxbngan.run: {line}", file=sys.stderr)
            _hint_cpu_devices(session.devices, request.members)
        started = time.monotonic()
        try:
            train(session, progress=show)
        except KeyboardInterrupt:
            if keep:
                print(f"jaxbngan.run: interrupted; {saved_progress(root)}; the same call continues", file=sys.stderr)
            raise
        loaded, summary = conclude(root, time.monotonic() - started)
    history, fakes = loaded.history, loaded.fakes
    if request.grid is not None:  # members to (*grid.shape, seeds, ...)
        lead = (*request.grid.shape, request.seeds)
        history, fakes = jax.tree.map(lambda x: x.reshape(*lead, *x.shape[1:]), (history, fakes))
    spec = rundir.read_spec(root)
    kept = root if keep else None
    return Results(history, loaded.steps, fakes, loaded.real, request.source.config, summary, spec, kept, request.grid)


def _hint_cpu_devices(devices: list[jax.Device], seeds: int) -> None:
    forced = "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    if devices[0].platform == "cpu" and len(jax.devices()) < min(cpu_cores(), seeds) and not forced:
        print(
            f"jaxbngan.run: JAX has {len(jax.devices())} CPU device(s) for {cpu_cores()} cores; for one per core, "
            "as `jaxbngan run` has, call jaxbngan.tuning.use_tuned_xla_flags() before the first JAX computation",
            file=sys.stderr,
        )
