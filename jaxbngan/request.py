"""What a run asks for: a preset or config, its data and overrides resolved into a `Source`, and a `Request`.

Every check here runs before anything is traced, and bad input is a one-line `ConfigError`.
`jaxbngan.run` and the command line resolve through it (`api.resolve`, `api.make_request`).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from jaxbngan.config import Config, ConfigError, DataConfig, data_kind, from_dict
from jaxbngan.data import GENERATORS, checked_array, is_data_file, load_data_file
from jaxbngan.grid import Grid
from jaxbngan.presets import PRESETS, get_preset, with_overrides

MAX_SEED = 2**32 - 1  # JAX keys take 32-bit seeds (without x64 a larger one wraps onto a smaller one)


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
        _check_kind(source.preset, config, population, label)
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


def _check_kind(preset: str | None, config: Config, population: np.ndarray, label: str) -> None:
    """Refuse own data of the other kind than the networks model, naming the presets that fit it."""
    kind = data_kind(population.shape)
    if config.generator.architecture == ("mlp" if kind == "points" else "dcgan"):
        return
    fitting = ", ".join(name for name, found in PRESETS.items() if found.kind == kind)
    raise ConfigError(
        f"{label} holds {kind} of shape {tuple(population.shape[1:])}, but {preset or 'this config'} is for "
        f"{'images' if kind == 'points' else 'points'}; use a preset for {kind}: {fitting}"
    )


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
