"""The train step: Keras order of the split D updates, kept or dropped G-step stats, losses."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tiny

from jaxbngan import ConfigError, StrategyConfig, make_population, make_strategy
from jaxbngan.strategies import bce, d_on_fakes, match_moments


def first_layer_mean(d_params, x):
    """Batch mean of D's first pre-BN features on `x`."""
    return (x @ d_params["Dense_0"]["kernel"] + d_params["Dense_0"]["bias"][None]).mean(axis=0)


def setup(**strategy):
    config = tiny("bn-split", size=128)
    config = dataclasses.replace(config, strategy=StrategyConfig(**strategy))
    population = make_population(config.data)
    s = make_strategy(config, population)
    state = s.init(jax.random.key(0))
    state = state._replace(d_stats=jax.tree.map(lambda v: v + 0.25, state.d_stats))  # away from init
    _, k_noise, k_real = jax.random.split(state.key, 3)
    fake, _ = s.players(state.knobs).g.apply(state.g_params, state.g_stats, s.sample_noise(k_noise), stats="batch")
    real = s.sample_real(k_real)
    return config, s, state, first_layer_mean(state.d_params, fake), first_layer_mean(state.d_params, real)


def ema(old, new, momentum=0.99):
    return momentum * old + (1 - momentum) * new


def test_split_d_step_updates_running_averages_fake_then_real():
    _, s, state, fake_mean, real_mean = setup(d_batch="split", keep_g_step_stats=False)
    new_state, _ = s.train_step(state)
    m0 = state.d_stats["BatchNorm_0"]["mean"]
    got = new_state.d_stats["BatchNorm_0"]["mean"]
    keras_order = ema(ema(m0, fake_mean), real_mean)
    np.testing.assert_allclose(got, keras_order, rtol=0, atol=1e-6)
    reversed_order = ema(ema(m0, real_mean), fake_mean)
    assert float(jnp.max(jnp.abs(got - reversed_order))) > 10 * float(jnp.max(jnp.abs(got - keras_order)))


def test_joint_d_step_updates_running_averages_once_with_joint_moments():
    _, s, state, fake_mean, real_mean = setup(d_batch="joint", keep_g_step_stats=False)
    new_state, _ = s.train_step(state)
    expected = ema(state.d_stats["BatchNorm_0"]["mean"], 0.5 * (fake_mean + real_mean))
    np.testing.assert_allclose(new_state.d_stats["BatchNorm_0"]["mean"], expected, rtol=0, atol=1e-6)


def test_kept_g_step_update_adds_one_fake_update_before_the_d_step():
    _, s, state, fake_mean, real_mean = setup(d_batch="split", g_view="fake", keep_g_step_stats=True)
    new_state, _ = s.train_step(state)
    expected = ema(ema(ema(state.d_stats["BatchNorm_0"]["mean"], fake_mean), fake_mean), real_mean)
    np.testing.assert_allclose(new_state.d_stats["BatchNorm_0"]["mean"], expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("g_view", ["fake", "joint", "running"])
def test_dropping_the_g_step_update_leaves_d_stats_to_the_d_step_alone(g_view):
    _, s, state, fake_mean, real_mean = setup(d_batch="split", g_view=g_view, keep_g_step_stats=False)
    new_state, _ = s.train_step(state)
    expected = ema(ema(state.d_stats["BatchNorm_0"]["mean"], fake_mean), real_mean)
    np.testing.assert_allclose(new_state.d_stats["BatchNorm_0"]["mean"], expected, rtol=0, atol=1e-6)


def test_running_view_makes_no_g_step_update_even_when_kept():
    _, s_keep, state, _, _ = setup(g_view="running", keep_g_step_stats=True)
    _, s_drop, _, _, _ = setup(g_view="running", keep_g_step_stats=False)
    chex.assert_trees_all_close(s_keep.train_step(state)[0].d_stats, s_drop.train_step(state)[0].d_stats)


def test_consistent_strategy_reports_g_loss_as_d_loss_on_the_same_fakes():
    # Split D step and fake-only G view normalize the fakes identically: D's loss on fakes in its
    # own step equals the reported G loss, so D's loss is at least half of G's (zero-sum game).
    _, s, state, _, _ = setup(d_batch="split", g_view="fake")
    _, losses = s.train_step(state)
    assert float(losses.d_loss) >= 0.5 * float(losses.g_loss)


def test_minimax_and_shift_gradients_push_generator_to_the_right():
    config, _, _, _, _ = setup()
    shifted = dataclasses.replace(config, loss=dataclasses.replace(config.loss, shift_weight=10.0))
    population = make_population(config.data)
    s = make_strategy(shifted, population)
    state = s.init(jax.random.key(1))
    for _ in range(5):
        state, _ = s.train_step(state)
    fake, _ = s.players(state.knobs).g.apply(
        state.g_params, state.g_stats, s.sample_noise(jax.random.key(2)), stats="batch"
    )
    assert float(fake[:, 0].mean()) > float(population[:, 0].mean()) + 0.1


def test_match_moments_gives_real_mean_and_variance():
    fake = 3.0 + 0.2 * jax.random.normal(jax.random.key(3), (500, 2))
    mean, var = jnp.array([[1.0, -2.0]]), jnp.array([[4.0, 0.25]])
    matched = match_moments(fake, mean, var)
    np.testing.assert_allclose(matched.mean(axis=0), mean[0], atol=1e-4)
    np.testing.assert_allclose(matched.var(axis=0), var[0], rtol=1e-3)


def test_bce_matches_the_formula():
    logits = jnp.array([-2.0, 0.0, 3.0])
    expected = -np.mean(np.log(1 - 1 / (1 + np.exp(-np.array([-2.0, 0.0, 3.0])))))
    np.testing.assert_allclose(bce(logits, 0.0), expected, rtol=1e-6)
    np.testing.assert_allclose(bce(jnp.zeros(4), 1.0), np.log(2), rtol=1e-6)


def test_standing_stats_set_the_running_averages_to_the_joint_batch_moments():
    # The refresh before G's step and the joint D step see the same fakes and reals, so the
    # averages end exactly at the joint moments: no trace of the stale (+0.25) averages remains.
    _, s, state, fake_mean, real_mean = setup(d_batch="joint", g_view="running", standing_stats=True)
    new_state, _ = s.train_step(state)
    joint_mean = 0.5 * (fake_mean + real_mean)
    np.testing.assert_allclose(new_state.d_stats["BatchNorm_0"]["mean"], joint_mean, rtol=0, atol=1e-5)
    _, s_lagging, _, _, _ = setup(d_batch="joint", g_view="running")
    lagging = s_lagging.train_step(state)[0].d_stats["BatchNorm_0"]["mean"]
    assert float(jnp.max(jnp.abs(lagging - joint_mean))) > 1e-3


def test_standing_stats_give_g_the_joint_view_of_d():
    # G's running view after the refresh normalizes the fakes exactly as a joint training-mode call.
    _, s, state, _, _ = setup(d_batch="joint", g_view="running", standing_stats=True)
    _, losses = s.train_step(state)
    _, k_noise, k_real = jax.random.split(state.key, 3)
    fake, _ = s.players(state.knobs).g.apply(state.g_params, state.g_stats, s.sample_noise(k_noise), stats="batch")
    joint_logits, _ = d_on_fakes(
        s.players(state.knobs).d, state.d_params, state.d_stats, fake, s.sample_real(k_real), "joint"
    )
    np.testing.assert_allclose(losses.g_loss, bce(joint_logits, 0.0), rtol=1e-4)


def test_standing_stats_need_the_running_view():
    config = tiny("fix")
    bad = dataclasses.replace(config, strategy=StrategyConfig(d_batch="joint", g_view="fake", standing_stats=True))
    with pytest.raises(ConfigError, match="standing_stats"):
        bad.validate()
