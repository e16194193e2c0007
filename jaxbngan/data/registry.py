"""The named data sets: their parameters, populations, labels and modes, and which kind a population is."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan.config import ConfigError, DataConfig
from jaxbngan.data import images, points
from jaxbngan.data.images import Labelled
from jaxbngan.data.points import Modes

# Every named data set: the 2-D toys, then the image sets.
GENERATORS: dict[str, Callable[..., jax.Array | Labelled]] = {**points.GENERATORS, **images.IMAGE_SETS}


def data_set_kind(name: str) -> str:
    """Whether the named data set is "points" or "images"."""
    return "images" if name in images.IMAGE_SETS else "points"


def generator_params(name: str) -> dict[str, float]:
    """The overridable keyword parameters of a data set with their defaults."""
    signature = inspect.signature(_generator(name))
    return {p.name: p.default for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}


def labelled_population(config: DataConfig) -> tuple[jax.Array, np.ndarray | None]:
    """The population and its (size,) int32 labels in population order (None where there are none), made once."""
    made = _made(config)
    if isinstance(made, Labelled):
        return made.images.astype(jnp.float32), np.asarray(made.labels)
    return made.astype(jnp.float32), None


def make_population(config: DataConfig) -> jax.Array:
    """The real population of a data config, the same for every training seed: (size, 2) or (size, H, W, C)."""
    return labelled_population(config)[0]


def population_labels(config: DataConfig) -> np.ndarray | None:
    """The (size,) int32 class labels of a labelled data set, in population order; None where there are none."""
    return labelled_population(config)[1]


def class_names(name: str) -> tuple[str, ...] | None:
    """The names of a data set's classes, indexed by label; None for data sets without labels."""
    _generator(name)
    return images.CLASS_NAMES.get(name)


def mixture_modes(config: DataConfig) -> Modes | None:
    """Mode centers and spread for mixture data sets; None where modes are not defined."""
    return points.point_modes(config.name, _resolved_params(config))


def _generator(name: str) -> Callable[..., jax.Array | Labelled]:
    if name not in GENERATORS:
        raise ConfigError(f"unknown data set {name!r}; choose from {', '.join(GENERATORS)}")
    return GENERATORS[name]


def _resolved_params(config: DataConfig) -> dict[str, float]:
    params = generator_params(config.name)
    for key, value in config.params:
        if key not in params:
            taken = f"it takes {', '.join(params)}" if params else "it takes none"
            raise ConfigError(f"data set {config.name!r} has no parameter {key!r}; {taken}")
        params[key] = value
    return params


def _made(config: DataConfig) -> jax.Array | Labelled:
    params = _resolved_params(config)
    return _generator(config.name)(jax.random.key(config.seed), config.size, **params)
