"""Real populations: 2-D toy points, labelled image sets, and the user's own files.

A population is an (n, d) float32 array of points or an (n, H, W, C) float32 array of images in
[-1, 1] (G's tanh range); `data_kind` tells which.
"""

from jaxbngan.config import data_kind  # (shape) -> "points" | "images": defined once, beside validation
from jaxbngan.data.files import checked_array, is_data_file, load_data_file
from jaxbngan.data.images import Labelled, digits, shapes
from jaxbngan.data.points import Modes, checkerboard, gaussian, grid25, moons, ring8, spirals
from jaxbngan.data.registry import (
    GENERATORS,
    class_names,
    data_set_kind,
    generator_params,
    labelled_population,
    make_population,
    mixture_modes,
    population_labels,
)

__all__ = [
    "GENERATORS",
    "Labelled",
    "Modes",
    "checkerboard",
    "class_names",
    "data_kind",
    "data_set_kind",
    "digits",
    "gaussian",
    "generator_params",
    "grid25",
    "checked_array",
    "is_data_file",
    "labelled_population",
    "load_data_file",
    "make_population",
    "mixture_modes",
    "moons",
    "population_labels",
    "ring8",
    "shapes",
    "spirals",
]
