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

from jaxbngan import driver, export, provenance, rundir
from jaxbngan.config import Config, ConfigError, DataConfig, to_dict
from jaxbngan.data import GENERATORS, checked_array, is_data_file, load_data_file, make_population
from jaxbngan.metrics import Metrics
from jaxbngan.presets import PRESETS, get_preset, with_overrides
from jaxbngan.sharding import seed_devices
from jaxbngan.tuning import cpu_cores


class Results(NamedTuple):
    """A finished run as numpy arrays."""

    history: Metrics  # every logged metric, each (seeds, logs, ...)
    steps: np.ndarray  # (logs,) the step each log was taken after
    fakes: np.ndarray  # (seeds, rows, ...) final samples of every seed (at most rundir.SAMPLE_ROWS rows)
    real: np.ndarray  # (n, ...) the real data
    config: Config
    summary: dict[str, Any]  # final metrics per seed and over seeds, diverged seeds (as summary.json)
    spec: dict[str, Any]  # what config.json records: preset, seeds, layout, versions, git commit, device
    out: Path | None  # the run directory, None when it was temporary

    def frame(self) -> Any:
        """Every logged metric as a pandas DataFrame, one row per (seed, step) (`jaxbngan.export.columns`)."""
        return export.frame(export.columns(self.history, self.steps, export.data_dim_of(self.real)))


class Source(NamedTuple):
    """A config with its data, as a run asks for them."""

    preset: str | None  # the preset's name, None for a config that is none of them
    summary: str
    config: Config
    data: str  # a data set name, the absolute path of a data file, or "array"
    population: np.ndarray | None  # own data; None for a named data set


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
    **overrides: Any,
) -> Results:
    """Train `seeds` seeds of a preset (or Config) with the CLI's driver; return their histories and samples.

    `data`: a data set name, an (n, d) array, or a .npy/.npz/.csv file (default: the config's).
    `devices`: use at most that many (default: all, no more than `seeds`). `overrides` replace
    config fields: `steps=500`, or a section's fields as a dict, `loss={"shift_weight": 0.01}`.
    `out`: keep the run directory there (default: a temporary one, removed after loading).
    Bad input raises `ConfigError` before anything is traced.
    """
    if jax.process_count() > 1:
        raise ConfigError("jaxbngan.run trains in one process; for a multi-process run use the `jaxbngan run` command")
    if seeds < 1:
        raise ConfigError(f"seeds must be positive, got {seeds}")
    if seed < 0:
        raise ConfigError(f"seed must not be negative, got {seed}")
    source = resolve(config_or_preset, data, overrides)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="jaxbngan-") as tmp:
            return _train(Path(tmp), source, seeds, seed, devices, group_size, chunk_steps, progress, keep=False)
    return _train(Path(out), source, seeds, seed, devices, group_size, chunk_steps, progress, keep=True)


def resolve(
    config_or_preset: Config | str, data: str | os.PathLike | np.ndarray | None, overrides: dict[str, Any]
) -> Source:
    """The validated config and data of a run: a preset or config, then `overrides`, then `data`."""
    if isinstance(config_or_preset, Config):
        config = config_or_preset
        preset = next((name for name, p in PRESETS.items() if p.config == config), None)
        summary = PRESETS[preset].summary if preset else "a config given to jaxbngan.run"
    else:
        found = get_preset(config_or_preset)
        preset, summary, config = found.name, found.summary, found.config
    config = apply_overrides(config, overrides)
    population, label = None, config.data.name
    if isinstance(data, np.ndarray):
        population = checked_array(data, "data")
        label = "array"
    elif data is not None and str(data) in GENERATORS:
        label = str(data)
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, name=label))
    elif data is not None:
        if not (is_data_file(str(data)) or Path(data).exists()):
            near = difflib.get_close_matches(str(data), GENERATORS, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else f"; choose from {', '.join(GENERATORS)} or a file"
            raise ConfigError(f"unknown data set {str(data)!r}{hint}")
        population = load_data_file(str(data))
        label = str(Path(data).resolve())
    if population is not None:
        config = dataclasses.replace(config, data=DataConfig(name=label, size=population.shape[0]))
    elif config.data.name not in GENERATORS:
        raise ConfigError(f"unknown data set {config.data.name!r}; choose from {', '.join(GENERATORS)}")
    config.validate()
    return Source(preset, summary, config, label, population)


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


def _train(
    root: Path,
    source: Source,
    seeds: int,
    seed: int,
    device_limit: int | None,
    group_size: int | None,
    chunk_steps: int | None,
    show: bool,
    *,
    keep: bool,
) -> Results:
    config = source.config
    if rundir.is_run_dir(root):
        spec = rundir.read_spec(root)
        asked = {"devices": device_limit, "group_size": group_size, "chunk_steps": chunk_steps}
        _check_same_run(root, spec, source, seeds, seed, asked)
        layout = driver.Layout(**spec["layout"])
        devices = seed_devices(layout.devices)
    else:
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise ConfigError(f"{root} exists and is not a jaxbngan run directory; choose another out")
        devices = seed_devices(device_limit, seeds=seeds)
        population = source.population if source.population is not None else make_population(config.data)
        layout = driver.plan_layout(
            config, seeds, devices, driver.sample_shape(population), group_size=group_size, chunk_steps=chunk_steps
        )
        spec = run_spec(source, seeds, seed, layout, devices)
        rundir.create(root, spec, np.asarray(population))
    progress = driver.Progress(seeds * config.steps) if show else None
    if show:
        _describe(source, seeds, layout, devices, root if keep else None)
    started = time.monotonic()
    try:
        driver.train(root, config, layout, devices, seed=seed, population=source.population, progress=progress)
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
        if keep:
            print(f"interrupted; the same call continues from the last checkpoint in {root}", file=sys.stderr)
        raise
    if progress is not None:
        progress.close()
    loaded = rundir.load(root)
    summary = {"preset": source.preset, "data": source.data, "steps": config.steps}
    summary |= rundir.summarize(loaded.history, loaded.steps, loaded.real)
    summary["wall_seconds"] = time.monotonic() - started  # of this call
    if keep:
        rundir.write_summary(root, summary)
    summary = jax.tree.map(lambda x: x.item() if isinstance(x, np.generic) else x, summary)  # plain numbers
    kept = root if keep else None
    return Results(loaded.history, loaded.steps, loaded.fakes, loaded.real, config, summary, spec, kept)


def run_spec(source: Source, seeds: int, seed: int, layout: driver.Layout, devices: list) -> dict[str, Any]:
    """What config.json records about a new run."""
    return {
        "preset": source.preset,
        "summary": source.summary,
        "data": source.data,
        "seeds": seeds,
        "seed": seed,
        "layout": dataclasses.asdict(layout),
        "config": to_dict(source.config),
        "versions": provenance.versions(),
        "git": provenance.git_state(),
        "device": f"{devices[0].platform}: {len(devices)} x {devices[0].device_kind}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _check_same_run(
    root: Path, spec: dict[str, Any], source: Source, seeds: int, seed: int, layout: dict[str, int | None]
) -> None:
    """Continue a run directory only with the arguments it was started with (layout ones where given)."""
    asked = {
        "config": json.loads(json.dumps(to_dict(source.config))),
        "data": source.data,
        "seeds": seeds,
        "seed": seed,
    }
    differ = [name for name, value in asked.items() if spec.get(name) != value]
    if "data" not in differ and source.population is not None:
        if not np.array_equal(rundir.read_population(root), source.population):
            differ.append("data")
    differ += [name for name, value in layout.items() if value is not None and spec["layout"][name] != value]
    if differ:
        raise ConfigError(
            f"{root} holds a run with other {', '.join(differ)}; pass the same arguments to continue it, "
            "or choose another out"
        )


def _describe(source: Source, seeds: int, layout: driver.Layout, devices: list, root: Path | None) -> None:
    platform = devices[0].platform
    where = f"into {root}/" if root is not None else "in a temporary directory"
    print(
        f"jaxbngan.run: {source.preset or 'config'}, {seeds} seeds x {source.config.steps} steps on "
        f"{len(devices)} {platform} device(s): {layout.groups} group(s) of {layout.group_size} seeds, "
        f"chunks of {layout.chunk_steps} steps, {where}",
        file=sys.stderr,
    )
    forced = "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    if platform == "cpu" and len(jax.devices()) < min(cpu_cores(), seeds) and not forced:
        print(
            f"jaxbngan.run: JAX has {len(jax.devices())} CPU device(s) for {cpu_cores()} cores; for one per core, "
            "as `jaxbngan run` has, call jaxbngan.tuning.use_tuned_xla_flags() before the first JAX computation",
            file=sys.stderr,
        )
