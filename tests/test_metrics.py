"""Energy distance, mode scores and the both-players-win flag on synthetic numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan.data import Modes
from jaxbngan.metrics import energy_distance, mode_scores

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def test_energy_distance_is_near_zero_for_one_distribution_and_grows_with_shift():
    x = jax.random.normal(jax.random.key(0), (400, 2))
    y = jax.random.normal(jax.random.key(1), (400, 2))
    same = float(energy_distance(x, y))
    shifted = float(energy_distance(x, y + jnp.array([[1.0, 0.0]])))
    far = float(energy_distance(x, y + jnp.array([[3.0, 0.0]])))
    assert abs(same) < 0.05
    assert 0.3 < shifted < far


def test_mode_scores_count_quality_and_coverage():
    modes = Modes(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]), 0.1)
    on_two_modes = jnp.array([[0.0, 0.0]] * 50 + [[10.0, 0.0]] * 40 + [[5.0, 5.0]] * 10)
    quality, coverage = mode_scores(on_two_modes, modes)
    np.testing.assert_allclose(quality, 0.9)
    np.testing.assert_allclose(coverage, 0.5)
