"""The blog's central numbers over 16 seeds of 2000 full-batch steps on ring8 (slow)."""

import jax
import numpy as np
import pytest

from jaxbngan import get_preset, make_train, seed_keys

pytestmark = pytest.mark.slow
SEEDS = 16


def final(preset):
    result = jax.jit(jax.vmap(make_train(get_preset(preset).config)))(seed_keys(0, SEEDS))
    return jax.tree.map(lambda x: np.asarray(x[:, -1]), result.history)


def test_split_bn_lets_g_shift_and_no_bn_does_not():
    assert np.median(final("bn-split-shift").offset[:, 0]) > 1.0
    assert abs(np.median(final("no-bn-shift").offset[:, 0])) < 0.2


def test_joint_d_batch_alone_lets_both_players_win():
    last = final("joint")
    assert np.median(last.g_loss) > 3.0
    assert np.median(last.d_loss) < 0.1
