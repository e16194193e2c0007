"""Toy populations: shapes, determinism, parameters, modes."""

import chex
import jax
import numpy as np
import pytest

from jaxbngan import ConfigError, DataConfig, make_population, mixture_modes
from jaxbngan.data import generator_params
from jaxbngan.data.points import GENERATORS

pytestmark = pytest.mark.usefixtures("strict_dtypes")


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_each_data_set_is_deterministic_and_finite(name):
    a = make_population(DataConfig(name=name, size=300))
    b = make_population(DataConfig(name=name, size=300))
    c = make_population(DataConfig(name=name, size=300, seed=1))
    chex.assert_shape(a, (300, 2))
    chex.assert_type(a, np.float32)
    chex.assert_tree_all_finite(a)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_ring8_has_eight_distinct_modes_at_radius_two():
    modes = mixture_modes(DataConfig(name="ring8"))
    assert modes.centers.shape == (8, 2) and modes.std == 0.2
    np.testing.assert_allclose(np.linalg.norm(modes.centers, axis=1), 2.0)
    gaps = np.linalg.norm(modes.centers[:, None] - modes.centers[None], axis=-1) + np.eye(8) * 9
    assert gaps.min() > 1.5  # endpoint excluded: no mode appears twice
    data = np.asarray(make_population(DataConfig(name="ring8", size=4000)))
    nearest = np.linalg.norm(data[:, None] - modes.centers[None], axis=-1).min(axis=1)
    assert np.mean(nearest < 3 * modes.std) > 0.98  # 2-D: P(r < 3 std) = 1 - exp(-4.5) = 0.989


def test_parameters_override_defaults_and_unknown_ones_are_named():
    wide = make_population(DataConfig(name="ring8", size=2000, params=(("radius", 5.0),)))
    assert abs(float(np.linalg.norm(np.asarray(wide), axis=1).mean()) - 5.0) < 0.1
    assert generator_params("ring8") == {"radius": 2.0, "std": 0.2, "modes": 8}
    with pytest.raises(ConfigError, match="no parameter 'radius'"):
        make_population(DataConfig(name="moons", params=(("radius", 1.0),)))
    with pytest.raises(ConfigError, match="unknown data set 'ring9'"):
        make_population(DataConfig(name="ring9"))


def test_grid25_modes_cover_the_population():
    config = DataConfig(name="grid25", size=2000)
    modes = mixture_modes(config)
    data = np.asarray(make_population(config))
    assert modes.centers.shape == (25, 2)
    nearest = np.linalg.norm(data[:, None] - modes.centers[None], axis=-1).argmin(axis=1)
    assert len(np.unique(nearest)) == 25
    assert mixture_modes(DataConfig(name="moons")) is None
    assert jax.numpy.asarray(data).dtype == np.float32
