"""Named configurations: the blog's experiments on 2-D points and their DCGAN counterparts on images.

Each preset is a `Config`, one line on the setting it runs, and its kind ("points" or "images",
`jaxbngan.config.DATA_KINDS`); the builder's docstring cites its source. Adding a builder to
`points.BUILDERS` or `images.BUILDERS` adds the preset to the CLI, to `jaxbngan list` and to the
test suite.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import NamedTuple

from jaxbngan.config import Config, ConfigError
from jaxbngan.presets import images, points
from jaxbngan.presets.points import SHIFT_WEIGHT

__all__ = ["DEFAULT_PRESET", "PRESETS", "SHIFT_WEIGHT", "Preset", "get_preset", "with_overrides"]


class Preset(NamedTuple):
    """A named config, what it runs, and the kind of data it is for."""

    name: str
    summary: str
    config: Config
    kind: str = "points"


def _presets() -> dict[str, Preset]:
    presets: dict[str, Preset] = {}
    for kind, module in (("points", points), ("images", images)):
        for name, (build, summary) in module.BUILDERS.items():
            if name in presets:
                raise ValueError(f"preset {name!r} is defined twice")
            presets[name] = Preset(name, summary, build(), kind)
    return presets


PRESETS: dict[str, Preset] = _presets()
# The job `jaxbngan run` trains without arguments: the blog's central effect, on the data set
# (its preset's own, moons) where the committed report measures it best.
DEFAULT_PRESET = "bn-split-shift"


def get_preset(name: str) -> Preset:
    """The preset called `name`; a ConfigError suggesting the nearest names otherwise."""
    if name in PRESETS:
        return PRESETS[name]
    near = difflib.get_close_matches(name, PRESETS, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else "; run `jaxbngan list` to see them"
    raise ConfigError(f"unknown preset {name!r}{hint}")


def with_overrides(config: Config, **sections: dict) -> Config:
    """A copy of `config` with fields of named sections replaced, e.g. loss={'shift_weight': 0.01}."""
    changes = {}
    for section, values in sections.items():
        changes[section] = dataclasses.replace(getattr(config, section), **values)
    return dataclasses.replace(config, **changes)
