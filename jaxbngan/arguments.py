"""The arguments of `jaxbngan.run`, checked up front: a ConfigError naming the argument, before anything is written.

Config fields (`steps=`, `loss={...}`) are checked by `config.check_types` and `config.validate`;
this module checks the rest: what to run, how many seeds, the data, the layout and the sweep's axes.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np

from jaxbngan.config import Config, ConfigError


def check_run_arguments(
    config_or_preset: Any,
    seeds: Any,
    *,
    out: Any,
    data: Any,
    devices: Any,
    progress: Any,
    seed: Any,
    group_size: Any,
    chunk_steps: Any,
    axes: Any,
    overrides: dict[str, Any],
) -> None:
    """Raise ConfigError for the first argument of `jaxbngan.run` of the wrong type or out of range.

    `overrides` are the config fields given (`steps=`, `loss={...}`): none may also be swept in `axes`.
    """
    if not isinstance(config_or_preset, (str, Config)):
        raise ConfigError(f"the first argument must be a preset name or a Config, got {config_or_preset!r}")
    _positive_integer("seeds", seeds)
    _integer("seed", seed)
    for name, value in (("devices", devices), ("group_size", group_size), ("chunk_steps", chunk_steps)):
        if value is not None:
            _positive_integer(name, value)
    if not isinstance(progress, bool):
        raise ConfigError(f"progress must be True or False, got {progress!r}")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise ConfigError(f"out must be a path (str or os.PathLike) or None, got {out!r}")
    if data is not None and not isinstance(data, (str, os.PathLike, np.ndarray, dict)):
        raise ConfigError(
            "data must be a data set name, a file path, a numpy array, or a dict of data fields "
            f"(data={{'size': 512}}), got {data!r}"
        )
    if axes is not None:
        _check_axes(axes)
        sections = {**overrides, "data": data} if isinstance(data, dict) else overrides
        given = {f"{name}.{field}" for name, value in sections.items() if isinstance(value, dict) for field in value}
        for path in axes:
            if path in given or path in sections:
                raise ConfigError(f"{path} is both given and swept in axes: a swept field takes its values from axes")


def _integer(name: str, value: Any) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer, got {value!r}")


def _positive_integer(name: str, value: Any) -> None:
    _integer(name, value)
    if value < 1:
        raise ConfigError(f"{name} must be positive, got {value}")


def _check_axes(axes: Any) -> None:
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"axes must be a dict of {{config path: values}}, got {axes!r}")
    for path, values in axes.items():
        if not isinstance(path, str):
            raise ConfigError(f"axes keys must be config paths such as 'loss.shift_weight', got {path!r}")
        listed = [values] if isinstance(values, numbers.Real) else values
        if isinstance(listed, (str, bytes, dict)) or not hasattr(listed, "__iter__"):
            raise ConfigError(f"axes[{path!r}] must be a number or a list of numbers, got {values!r}")
        for value in listed:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ConfigError(f"axes[{path!r}] must hold numbers, got {value!r}")
