"""A grid of settings trained in one program: axes over the continuous knobs, every point with the same seeds.

    grid = parse_axes(config, ["discriminator.momentum=0.5,0.9,0.99", "optimizer.learning_rate=1e-4,1e-3"])
    grid.shape        # (3, 2): one entry per axis
    grid.points()     # [{"discriminator.momentum": 0.5, "optimizer.learning_rate": 1e-4}, ...], the last axis fastest

A sweep's members are its points times its seeds, point-major: member m trains point m // seeds
with seed m % seeds, and seed s has the same training key at every point, so two points differ
only in their settings (paired comparisons). An axis may take any field of `config.KNOBS`, the
settings a step reads as traced inputs; a field that changes an array's shape or the program's
structure (widths, norms, batch size, strategy choices) needs a program of its own per value,
and is refused.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from jaxbngan.config import KNOBS, Config, ConfigError, error_text, get_field, knob_values, replace_field


@dataclass(frozen=True)
class Grid:
    """Axes of a sweep: `(config path, values)` per axis, in the order given."""

    axes: tuple[tuple[str, tuple[float, ...]], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Values per axis."""
        return tuple(len(values) for _, values in self.axes)

    @property
    def ndim(self) -> int:
        """How many axes."""
        return len(self.axes)

    @property
    def size(self) -> int:
        """How many points the grid has."""
        return math.prod(self.shape)

    @property
    def paths(self) -> tuple[str, ...]:
        """The config path of each axis."""
        return tuple(path for path, _ in self.axes)

    def points(self) -> list[dict[str, float]]:
        """Every point as {path: value}, in C order (the last axis varies fastest)."""
        return [dict(zip(self.paths, values, strict=True)) for values in itertools.product(*(v for _, v in self.axes))]

    def to_json(self) -> list[list[Any]]:
        """The axes as config.json stores them."""
        return [[path, list(values)] for path, values in self.axes]

    @classmethod
    def from_json(cls, axes: list[list[Any]]) -> Grid:
        """The grid stored by `to_json`."""
        return cls(tuple((str(path), tuple(float(v) for v in values)) for path, values in axes))


def parse_axes(config: Config, texts: list[str]) -> Grid:
    """The grid of `--axis PATH=V1,V2,...` texts; ConfigError (one line) for anything a grid cannot take."""
    if not texts:
        raise ConfigError("a sweep needs at least one --axis PATH=V1,V2,...")
    axes = []
    for text in texts:
        path, sep, listed = text.partition("=")
        path = path.strip()
        if not sep or not path or not listed.strip():
            raise ConfigError(f"--axis {text!r}: expected PATH=V1,V2,... (e.g. discriminator.momentum=0.9,0.99)")
        check_axis_path(config, path)
        values = []
        for item in listed.split(","):
            try:
                value = float(item)
            except ValueError:
                raise ConfigError(f"--axis {path}: {item.strip()!r} is not a number") from None
            if not math.isfinite(value):
                raise ConfigError(f"--axis {path}: {item.strip()!r} is not a finite number")
            values.append(value)
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ConfigError(f"--axis {path}: the value {repeated[0]:g} is listed twice")
        if path in (p for p, _ in axes):
            raise ConfigError(f"--axis {path} is given twice; list all its values in one --axis")
        axes.append((path, tuple(values)))
    # Each knob is checked alone (no rule of `Config.validate` ties two knobs), so a grid of a million
    # points costs as many checks as it has values, not points.
    for path, values in axes:
        for value in values:
            try:
                point_config(config, {path: value}).validate()
            except ConfigError as error:
                raise ConfigError(f"the grid point {path}={value:g} is not a valid run: {error_text(error)}") from None
    return Grid(tuple(axes))


def check_axis_path(config: Config, path: str) -> None:
    """Refuse a path that is no config field, or a field that is not a knob (it would change the program)."""
    if path in KNOBS:
        return
    try:
        get_field(config, path)
    except AttributeError:
        fields = [f"{f.name}" for f in dataclasses.fields(config)] + list(KNOBS)
        near = difflib.get_close_matches(path, fields, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else f"; a sweep axis is one of {', '.join(KNOBS)}"
        raise ConfigError(f"--axis {path}: no such config field{hint}") from None
    raise ConfigError(
        f"--axis {path}: it changes the program's shapes or structure, so it cannot be a traced axis; "
        f"run one `jaxbngan run --set {path}=...` per value (sweepable: {', '.join(KNOBS)})"
    )


def point_config(config: Config, point: dict[str, float]) -> Config:
    """`config` at one grid point: the run a member of that point trains."""
    for path, value in point.items():
        config = replace_field(config, path, value)
    return config


def member_inputs(
    config: Config, grid: Grid | None, seeds: int, members: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each member's seed index and knobs, for `members` slots (a multiple of the group size).

    Member m < points * seeds trains point m // seeds with seed m % seeds; the slots beyond pad
    the last group and keep their own index (the next keys, as a run without a grid pads) and
    the last point's knobs. Without a grid every member is its own seed at the config's knobs.
    """
    points = 1 if grid is None else grid.size
    slots = np.arange(members)
    real = slots < points * seeds
    seed_index = np.where(real, slots % seeds, slots)
    knobs = {path: np.full(members, value, np.float32) for path, value in knob_values(config).items()}
    if grid is not None:  # a point's knobs are the config's, its axes' values replaced (C order of `points`)
        along_axes = np.unravel_index(np.minimum(slots // seeds, points - 1), grid.shape)
        for (path, values), index in zip(grid.axes, along_axes, strict=True):
            knobs[path] = np.asarray(values, np.float32)[index]
    return seed_index, knobs


def describe_point(point: dict[str, float]) -> str:
    """`discriminator.momentum=0.9, optimizer.learning_rate=0.001`: a point as a label."""
    return ", ".join(f"{path}={value:g}" for path, value in point.items())
