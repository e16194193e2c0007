"""`jaxbngan.run`: many seeds from Python, with the command line's driver, returned as numpy arrays.

    import jaxbngan
    results = jaxbngan.run("joint", seeds=64)  # as `jaxbngan run joint --seeds 64`
    results.history.d_loss  # (64, logs)
    results.frame()  # with pandas: one row per (seed, logged step)

It lays seeds out as `jaxbngan run` does (`driver.plan_layout`: groups sized to memory, spread
over `sharding.seed_devices`, chunks with progress on stderr), so it is as fast as the command
line, unlike one `jax.vmap` over every seed on one device. With `out` the run directory stays (and
a call with the same arguments continues it after an interruption); without, it lives in a
temporary directory removed once the results are loaded.

The command line is a layer over this module: a run is `resolve` (preset or config, data,
overrides) -> `Request` (with seeds) -> `plan` -> `run_spec` into a new run directory -> `train`
-> `conclude`; `run_changes` guards a run that is continued.

On a CPU, `jaxbngan run` gives JAX one device per core by setting XLA_FLAGS before JAX starts its
backend. `run` cannot: the backend may already be running, and the flags then do nothing. Importing
jaxbngan does not start it, so call `jaxbngan.tuning.use_tuned_xla_flags()` before your first JAX
computation for the command line's layout; `run` says on stderr when it has fewer CPU devices than cores.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxbngan import driver, export, provenance, rundir, sweep
from jaxbngan.arguments import check_run_arguments
from jaxbngan.config import Config, ConfigError, DataConfig, from_dict, to_dict, validate_for_data, validate_for_kind
from jaxbngan.data import (
    GENERATORS,
    checked_array,
    data_set_kind,
    is_data_file,
    load_data_file,
    make_population,
)
from jaxbngan.grid import Grid, parse_axes
from jaxbngan.metrics import Metrics
from jaxbngan.presets import PRESETS, get_preset, with_overrides
from jaxbngan.sharding import seed_devices
from jaxbngan.tuning import cpu_cores, scan_unroll, separate_programs

MAX_SEED = 2**32 - 1  # JAX keys take 32-bit seeds (without x64 a larger one wraps onto a smaller one)


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


class Source(NamedTuple):
    """A config with its data, as a run asks for them."""

    preset: str | None  # the preset's name, None for a config that is none of them
    summary: str
    config: Config
    data: str  # a data set name, the absolute path of a data file, or "array"
    population: np.ndarray | None  # own data; None for a named data set


class Request(NamedTuple):
    """A resolved run: what to train, how many seeds, and the first seed; for a sweep, its grid."""

    source: Source
    seeds: int  # per grid point, for a sweep
    seed: int  # seed i trains from the i-th key split from this one
    grid: Grid | None = None  # a sweep's axes: every point trains the same seeds, all in one program

    @property
    def members(self) -> int:
        """What the driver trains side by side: the seeds, times the grid's points for a sweep."""
        return self.seeds * (self.grid.size if self.grid else 1)


def run(
    config_or_preset: Config | str,
    seeds: int = 64,
    *,
    out: str | os.PathLike | None = None,
    data: str | os.PathLike | np.ndarray | None = None,
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
    source = resolve(config_or_preset, data, overrides)
    grid = (
        None if axes is None else parse_axes(source.config, [_axis_text(path, values) for path, values in axes.items()])
    )
    request = make_request(source, seeds, seed, grid)
    layout_asked = {"devices": devices, "group_size": group_size, "chunk_steps": chunk_steps}
    if out is None:
        with tempfile.TemporaryDirectory(prefix="jaxbngan-") as tmp:
            return _run_into(Path(tmp), request, layout_asked, progress, keep=False)
    return _run_into(Path(out), request, layout_asked, progress, keep=True)


# -- resolving a request ----------------------------------------------------------------------------


def resolve(
    config_or_preset: Config | str | Source,
    data: str | os.PathLike | np.ndarray | None = None,
    overrides: dict[str, Any] | None = None,
) -> Source:
    """The validated config and data of a run: a preset, config or earlier Source, then `overrides`, then `data`.

    Without `data`, a Source's own data is kept (a continued run's saved population).
    """
    source = _base(config_or_preset)
    overrides = overrides or {}
    config = apply_overrides(source.config, overrides)
    population, label = source.population, source.data if source.population is not None else config.data.name
    if data is not None:
        if "name" in overrides.get("data", {}):
            raise ConfigError("conflicting settings: the data set is given both as data and as data.name; give it once")
        population, label = _data(data)
        if population is None:
            config = dataclasses.replace(config, data=dataclasses.replace(config.data, name=label))
    if population is not None:
        if "data" in overrides:
            raise ConfigError(f"data.* settings do not apply to data read from a file or array ({label})")
        config = dataclasses.replace(config, data=DataConfig(name=label, size=population.shape[0]))
    elif config.data.name not in GENERATORS:
        raise _unknown_data_set(config.data.name)
    else:
        label = config.data.name
    config.validate()
    return Source(source.preset, source.summary, config, label, population)


def _base(config_or_preset: Config | str | Source) -> Source:
    if isinstance(config_or_preset, Source):
        return config_or_preset
    if isinstance(config_or_preset, Config):
        config = config_or_preset
        preset = next((name for name, p in PRESETS.items() if p.config == config), None)
        summary = PRESETS[preset].summary if preset else "a config given to jaxbngan.run"
        return Source(preset, summary, config, config.data.name, None)
    found = get_preset(config_or_preset)
    return Source(found.name, found.summary, found.config, found.config.data.name, None)


def _data(data: str | os.PathLike | np.ndarray) -> tuple[np.ndarray | None, str]:
    """(own population or None, label) of a data argument: a data set name, an array or a file."""
    if isinstance(data, np.ndarray):
        return checked_array(data, "data"), "array"
    if str(data) in GENERATORS:
        return None, str(data)
    if not (is_data_file(str(data)) or Path(data).exists()):
        raise _unknown_data_set(str(data))
    return load_data_file(str(data)), str(Path(data).resolve())


def _unknown_data_set(name: str) -> ConfigError:
    near = difflib.get_close_matches(name, GENERATORS, n=3)
    hint = f"did you mean {', '.join(near)}?" if near else f"choose from {', '.join(GENERATORS)} or a data file"
    return ConfigError(f"unknown data set {name!r}; {hint}")


def apply_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """`config` with top-level fields replaced (`steps=500`) and sections' fields (`loss={"shift_weight": 0}`)."""
    fields = {f.name: f for f in dataclasses.fields(Config)}
    plain, sections = {}, {}
    for name, value in overrides.items():
        if name not in fields:
            near = difflib.get_close_matches(name, fields, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else f"; Config fields are {', '.join(fields)}"
            raise ConfigError(f"unknown config field {name!r}{hint}")
        section = dataclasses.is_dataclass(getattr(config, name))
        if section and isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(getattr(config, name))}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ConfigError(f"{name} has no field {unknown[0]!r}; its fields are {', '.join(sorted(known))}")
            sections[name] = value
        else:
            plain[name] = value
    return dataclasses.replace(with_overrides(config, **sections), **plain)


def _axis_text(path: str, values: Any) -> str:
    """An `axes` entry as `--axis` would give it."""
    values = [values] if isinstance(values, (int, float)) else list(values)
    return f"{path}={','.join(repr(float(v)) if isinstance(v, (int, float)) else str(v) for v in values)}"


def make_request(source: Source, seeds: int, seed: int, grid: Grid | None = None) -> Request:
    """A request for `seeds` seeds from `seed`, both checked (for a sweep over `grid`, seeds per point)."""
    if seeds < 1:
        raise ConfigError(f"seeds must be positive, got {seeds}")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be in [0, {MAX_SEED}] (JAX keys take 32-bit seeds), got {seed}")
    return Request(source, seeds, seed, grid)


def saved_source(spec: dict[str, Any], population: np.ndarray) -> Source:
    """The Source a run directory was started with (`spec` its config.json, `population` its saved data)."""
    own = population if spec["data"] not in GENERATORS else None
    return Source(spec["preset"], spec["summary"], from_dict(spec["config"]), spec["data"], own)


# -- laying out, recording and training a request ---------------------------------------------------


def plan(
    request: Request, devices: list[jax.Device], *, group_size: int | None = None, chunk_steps: int | None = None
) -> tuple[driver.Layout, np.ndarray]:
    """The layout of a new run on `devices`, and the population it learns."""
    config = request.source.config
    population = request.source.population
    if population is None:  # the mismatch first: the data set's own limits (digits' size) would hide it
        validate_for_kind(config, data_set_kind(config.data.name), f"data set {config.data.name!r}")
    population = np.asarray(population if population is not None else make_population(config.data))
    validate_for_data(config, population.shape, request.source.data)
    layout = driver.plan_layout(
        config,
        request.members,
        devices,
        driver.sample_shape(population),
        group_size=group_size,
        chunk_steps=chunk_steps,
    )
    return layout, population


def run_spec(request: Request, layout: driver.Layout, devices: list[jax.Device]) -> dict[str, Any]:
    """What config.json records about a new run."""
    platform = devices[0].platform
    spec = {
        "preset": request.source.preset,
        "summary": request.source.summary,
        "data": request.source.data,
        "seeds": request.seeds,
        "seed": request.seed,
        "layout": dataclasses.asdict(layout),
        # Choices that change a seed's rounding; on a CPU none depends on the layout (README, Many devices).
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


def describe(
    request: Request, layout: driver.Layout, devices: list[jax.Device], root: Path | None, *, resumed: bool = False
) -> list[str]:
    """What a run is about to do, in a few lines: preset, data, seeds, layout (padding seeds named), where."""
    source, config = request.source, request.source.config
    platform = devices[0].platform
    padding = layout.groups * layout.group_size - request.members
    unit = "members" if request.grid else "seeds"
    groups = f"{layout.groups} group{'s' if layout.groups > 1 else ''} of {layout.group_size} {unit}"
    if padding:
        groups += f" ({padding} padding {unit[:-1]}{'s' if padding > 1 else ''}, discarded)"
    where = f"results go to {root}/" if root is not None else "results go to a temporary directory"
    seeds = f"{request.seeds} seeds from seed {request.seed}"
    if request.grid:
        shape = " x ".join(map(str, request.grid.shape))
        seeds = (
            f"a grid of {shape} points ({_grid_text(request.grid)}), each with the same {seeds}: "
            f"{request.members} members in one program"
        )
    return [
        f"{'resuming' if resumed else 'running'} {source.preset or 'config'}: {source.summary}",
        f"data {source.data} ({config.data.size} samples); {seeds}; {config.steps} steps",
        f"devices: {len(devices)} of {len(jax.devices())} ({platform}); {groups}, {layout.width(platform)} "
        f"vmapped at a time per device; chunks of {layout.chunk_steps} steps",
        where,
    ]


def train(
    root: Path,
    request: Request,
    layout: driver.Layout,
    devices: list[jax.Device],
    *,
    progress: bool = True,
    deadline: float | None = None,
) -> bool:
    """Train a request into its run directory (new or partly trained); True when complete, False at `deadline`.

    `progress` draws the progress line on stderr; `deadline` is a `time.monotonic()` value after
    which the run stops at its next checkpoint.
    """
    config = request.source.config
    meter = driver.Progress(request.members * config.steps) if progress else None
    try:
        return driver.train(
            root,
            config,
            layout,
            devices,
            seed=request.seed,
            population=request.source.population,
            progress=meter,
            deadline=deadline,
            grid=request.grid,
        )
    finally:
        if meter is not None:
            meter.close()


def conclude(root: Path, seconds: float) -> tuple[rundir.Results, dict[str, Any]]:
    """A complete run's results and its summary, written to summary.json unless an earlier call did.

    `seconds`: the wall time of this invocation (a resumed run counts only its own part).
    """
    results = rundir.load(root)
    if not (root / rundir.SUMMARY).is_file():
        spec = results.spec
        summary = {"preset": spec["preset"], "data": spec["data"], "steps": spec["config"]["steps"]}
        if sweep.read_grid(spec) is None:
            summary |= rundir.summarize(results.history, results.steps, results.real)
        else:
            summary |= sweep.summarize(results)
        summary["wall_seconds"] = seconds
        rundir.write_summary(root, summary)
    return results, rundir.read_summary(root)


def _run_into(root: Path, request: Request, layout_asked: dict[str, int | None], show: bool, *, keep: bool) -> Results:
    resumed = rundir.is_run_dir(root)
    if resumed:
        spec = rundir.read_spec(root)
        changes = run_changes(root, spec, request, layout_asked)
        if changes:
            raise ConfigError(
                f"{root} holds a run with other settings ({'; '.join(changes)}); pass the same arguments to "
                "continue it, or choose another out"
            )
        layout = driver.Layout(**spec["layout"])
        devices = seed_devices(layout.devices)
    else:
        if rundir.is_half_created(root):  # killed while created: nothing was trained, so start afresh
            rundir.clear(root)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise ConfigError(f"{root} exists and is not a jaxbngan run directory; choose another out")
        devices = seed_devices(layout_asked["devices"], seeds=request.members)
        layout, population = plan(
            request, devices, group_size=layout_asked["group_size"], chunk_steps=layout_asked["chunk_steps"]
        )
        spec = run_spec(request, layout, devices)
        rundir.create(root, spec, population)
    if show:
        for line in describe(request, layout, devices, root if keep else None, resumed=resumed):
            print(f"jaxbngan.run: {line}", file=sys.stderr)
        _hint_cpu_devices(devices, request.members)
    started = time.monotonic()
    try:
        train(root, request, layout, devices, progress=show)
    except KeyboardInterrupt:
        if keep:
            print(f"interrupted; the same call continues from the last checkpoint in {root}", file=sys.stderr)
        raise
    loaded, summary = conclude(root, time.monotonic() - started)
    kept = root if keep else None
    history, fakes = loaded.history, loaded.fakes
    if request.grid is not None:  # members to (*grid.shape, seeds, ...)
        lead = (*request.grid.shape, request.seeds)
        history, fakes = jax.tree.map(lambda x: x.reshape(*lead, *x.shape[1:]), (history, fakes))
    config = request.source.config
    return Results(history, loaded.steps, fakes, loaded.real, config, summary, spec, kept, request.grid)


def _hint_cpu_devices(devices: list[jax.Device], seeds: int) -> None:
    forced = "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    if devices[0].platform == "cpu" and len(jax.devices()) < min(cpu_cores(), seeds) and not forced:
        print(
            f"jaxbngan.run: JAX has {len(jax.devices())} CPU device(s) for {cpu_cores()} cores; for one per core, "
            "as `jaxbngan run` has, call jaxbngan.tuning.use_tuned_xla_flags() before the first JAX computation",
            file=sys.stderr,
        )
