"""Image populations: shapes, range, determinism, labels, parameters; and which kind a population is."""

import sys

import chex
import jax
import numpy as np
import pytest

from jaxbngan import ConfigError, DataConfig, make_population, mixture_modes
from jaxbngan.data import (
    GENERATORS,
    class_names,
    data_kind,
    generator_params,
    population_labels,
    shapes,
)

pytestmark = pytest.mark.usefixtures("strict_dtypes")

IMAGE_SETS = {"shapes": (16, 16, 1), "digits": (8, 8, 1)}


def needs(name):
    if name == "digits":
        pytest.importorskip("sklearn")


@pytest.mark.parametrize("name", sorted(IMAGE_SETS))
def test_each_image_set_is_deterministic_in_range_and_labelled(name):
    needs(name)
    a = make_population(DataConfig(name=name, size=300))
    b = make_population(DataConfig(name=name, size=300))
    c = make_population(DataConfig(name=name, size=300, seed=1))
    chex.assert_shape(a, (300, *IMAGE_SETS[name]))
    chex.assert_type(a, np.float32)
    assert float(a.min()) == -1.0 and float(a.max()) <= 1.0  # the dark background is exactly -1
    assert data_kind(a.shape) == "images"
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    labels = population_labels(DataConfig(name=name, size=300))
    chex.assert_shape(labels, (300,))
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(np.unique(labels), np.arange(len(class_names(name))))
    np.testing.assert_array_equal(labels, population_labels(DataConfig(name=name, size=300)))
    assert not np.array_equal(labels, population_labels(DataConfig(name=name, size=300, seed=1)))


def test_every_class_of_shapes_is_its_shape():
    config = DataConfig(name="shapes", size=600, params=(("side", 32.0), ("edge", 0.0)))
    lit = np.asarray(make_population(config))[..., 0] > -1  # hard edges: lit = inside the shape
    labels = population_labels(config)
    rows, cols = lit.any(axis=2), lit.any(axis=1)
    fill = lit.sum(axis=(1, 2)) / (rows.sum(axis=1) * cols.sum(axis=1))  # share of the bounding box lit
    circle, square, triangle = (fill[labels == k] for k in range(3))
    assert class_names("shapes") == ("circle", "square", "triangle")
    # A square lights whole rows and columns of pixels; a disk fills pi/4 = 0.79 of its box and a
    # triangle 1/2, each give or take its boundary pixels (shapes are at least 9.6 pixels wide here).
    np.testing.assert_array_equal(square, 1.0)
    assert circle.min() > 0.65 and circle.max() < 0.95
    assert triangle.max() < 0.65
    first, last = rows.argmax(axis=1), rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    width = lit.sum(axis=2)
    top, bottom = width[np.arange(len(lit)), first], width[np.arange(len(lit)), last]
    assert np.all((top < bottom)[labels == 2])  # apex up


def test_shapes_edges_are_soft_or_hard_and_parameters_apply():
    soft = np.asarray(make_population(DataConfig(name="shapes", size=50)))
    hard = np.asarray(make_population(DataConfig(name="shapes", size=50, params=(("edge", 0.0),))))
    assert all(len(np.unique(image)) == 2 for image in hard)  # background and one tone
    assert all(len(np.unique(image)) > 2 for image in soft)  # anti-aliased rims
    colour = make_population(DataConfig(name="shapes", size=4, params=(("side", 24.0), ("channels", 3.0))))
    chex.assert_shape(colour, (4, 24, 24, 3))
    full = make_population(DataConfig(name="shapes", size=50, params=(("min_intensity", 1.0), ("edge", 0.0))))
    np.testing.assert_array_equal(full.max(axis=(1, 2, 3)), 1.0)  # every shape at full brightness
    assert hard.max(axis=(1, 2, 3)).min() < 0.9  # by default brightness varies
    assert generator_params("shapes") == {
        "side": 16,
        "min_size": 0.3,
        "max_size": 0.8,
        "min_intensity": 0.3,
        "edge": 1.0,
        "channels": 1,
    }
    assert generator_params("digits") == {}
    chex.assert_shape(jax.jit(shapes, static_argnums=1)(jax.random.key(0), 3).images, (3, 16, 16, 1))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ((("side", 15.5),), "side must be a whole number of at least 4"),
        ((("side", 2.0),), "side must be a whole number of at least 4"),
        ((("channels", 2.0),), "channels must be 1 (grey) or 3"),
        ((("min_size", 0.9),), "0 < min_size <= max_size <= 1"),
        ((("edge", -1.0),), "edge must be at least 0"),
        ((("radius", 1.0),), "has no parameter 'radius'; it takes side, min_size"),
    ],
)
def test_bad_shapes_parameters_are_one_line_errors(params, message):
    with pytest.raises(ConfigError, match="data set 'shapes'") as error:
        make_population(DataConfig(name="shapes", size=4, params=params))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_digits_are_scikit_learns_with_their_labels_in_a_shuffled_prefix_order():
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    some = np.asarray(make_population(DataConfig(name="digits", size=100)))
    every = np.asarray(make_population(DataConfig(name="digits", size=1797)))
    labels = population_labels(DataConfig(name="digits", size=1797))
    np.testing.assert_array_equal(some, every[:100])  # a smaller size is a prefix of the same shuffle
    assert not np.array_equal(labels, bunch.target)  # shuffled
    # Pixels k/16 map to k/8 - 1, exact in float32; each image keeps its own label.
    ours = np.column_stack([(every[..., 0] + 1).reshape(-1, 64) * 8, labels])
    theirs = np.column_stack([bunch.images.reshape(-1, 64), bunch.target])
    np.testing.assert_array_equal(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)])
    with pytest.raises(ConfigError, match="has 1797 images; data.size must be at most 1797, got 1798"):
        make_population(DataConfig(name="digits", size=1798))


def test_missing_scikit_learn_is_a_one_line_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # `import sklearn.datasets` now fails
    with pytest.raises(ConfigError) as error:
        make_population(DataConfig(name="digits", size=10))
    assert str(error.value) == "data set 'digits' needs scikit-learn: pip install \"jaxbngan[images]\""


def test_points_have_no_labels_and_images_no_modes():
    assert population_labels(DataConfig(name="ring8", size=10)) is None
    assert class_names("ring8") is None
    assert mixture_modes(DataConfig(name="shapes")) is None
    assert data_kind(make_population(DataConfig(name="ring8", size=10)).shape) == "points"
    assert {"shapes", "digits", "ring8", "moons"} <= set(GENERATORS)
    with pytest.raises(ConfigError, match=r"data must be .* images, got shape \(3, 4, 4\)"):
        data_kind(np.zeros((3, 4, 4)).shape)
    with pytest.raises(ConfigError, match="unknown data set 'shape'"):
        class_names("shape")
