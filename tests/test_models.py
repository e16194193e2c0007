"""Explicit BN state: the blog's worked example, blindness to affine shifts, running averages."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan import NetworkConfig, make_network

pytestmark = pytest.mark.usefixtures("strict_dtypes")

IDENTITY_BN = NetworkConfig(hidden=(1,), norms=("batch",), epsilon=1e-9, leaky_slope=1.0)


def identity_bn_network():
    """One feature: Dense(1) with kernel 1 -> BN -> identity -> Dense(1) with kernel 1: out = BN(x)."""
    net = make_network(IDENTITY_BN, 1)
    params, stats = net.init(jax.random.key(0), jnp.zeros((4, 1)))
    params = jax.tree_util.tree_map_with_path(
        lambda path, p: jnp.zeros_like(p) if path[-1].key == "bias" else jnp.ones_like(p), params
    )
    return net, params, stats


def test_worked_example_split_normalization_hides_the_difference():
    net, params, stats = identity_bn_network()
    real = jnp.array([[0.5], [1.5]])
    fake = jnp.array([[6.0], [8.0]])
    out_real, _ = net.apply(params, stats, real, stats="batch")
    out_fake, _ = net.apply(params, stats, fake, stats="batch")
    np.testing.assert_allclose(out_real[:, 0], [-1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(out_fake[:, 0], out_real[:, 0], atol=1e-5)


def test_worked_example_joint_normalization_keeps_it():
    net, params, stats = identity_bn_network()
    joint = jnp.array([[0.5], [1.5], [6.0], [8.0]])
    out, _ = net.apply(params, stats, joint, stats="batch")
    np.testing.assert_allclose(out[:, 0], [-1.12815215, -0.80582296, 0.64465837, 1.28931674], atol=1e-5)


def blog_discriminator(epsilon=1e-9):
    net = make_network(NetworkConfig(norms=("batch", "batch"), epsilon=epsilon), 1)
    params, stats = net.init(jax.random.key(1), jnp.zeros((8, 2)))
    return net, params, stats


@pytest.mark.parametrize("scale,shift", [(1.0, (3.0, -2.0)), (2.5, (0.0, 0.0)), (0.3, (-5.0, 7.0))])
def test_split_batch_statistics_are_blind_to_affine_maps(scale, shift):
    net, params, stats = blog_discriminator()
    x = jax.random.normal(jax.random.key(2), (256, 2))
    moved = scale * x + jnp.array([shift])
    out, _ = net.apply(params, stats, x, stats="batch")
    out_moved, _ = net.apply(params, stats, moved, stats="batch")
    np.testing.assert_allclose(out_moved, out, atol=1e-4)
    # Joint statistics (moved batch next to the original) do see the map.
    joint, _ = net.apply(params, stats, jnp.concatenate([x, moved]), stats="batch")
    assert float(jnp.max(jnp.abs(joint[256:] - out))) > 1e-2


def test_batch_view_updates_running_averages_by_the_keras_formula():
    config = NetworkConfig(norms=("batch", "batch"))
    net = make_network(config, 1)
    params, stats = net.init(jax.random.key(3), jnp.zeros((8, 2)))
    stats = jax.tree.map(lambda s: s + 0.3, stats)  # start away from the (0, 1) init
    x = 2.0 + jax.random.normal(jax.random.key(4), (128, 2))
    _, new = net.apply(params, stats, x, stats="batch")
    hidden = x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"][None]
    m = config.momentum
    expected_mean = m * stats["BatchNorm_0"]["mean"] + (1 - m) * hidden.mean(axis=0)
    expected_var = m * stats["BatchNorm_0"]["var"] + (1 - m) * hidden.var(axis=0)  # biased, as Keras
    np.testing.assert_allclose(new["BatchNorm_0"]["mean"], expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new["BatchNorm_0"]["var"], expected_var, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm", ["none", "layer", "group", "weight", "spectral", "reference"])
def test_every_norm_kind_runs_in_both_views(norm):
    reference = jax.random.normal(jax.random.key(6), (16, 2)) if norm == "reference" else None
    net = make_network(NetworkConfig(norms=(norm, norm)), 1, reference)
    params, stats = net.init(jax.random.key(7), jnp.zeros((8, 2)))
    x = jax.random.normal(jax.random.key(8), (8, 2))
    for view in ("batch", "running"):
        out, _ = net.apply(params, stats, x, stats=view)
        chex.assert_shape(out, (8, 1))
        chex.assert_tree_all_finite(out)


def test_reference_norm_makes_each_logit_independent_of_the_batch():
    reference = jax.random.normal(jax.random.key(9), (32, 2))
    net = make_network(NetworkConfig(norms=("reference", "reference")), 1, reference)
    params, stats = net.init(jax.random.key(10), jnp.zeros((8, 2)))
    x = jax.random.normal(jax.random.key(11), (16, 2))
    out, _ = net.apply(params, stats, x, stats="batch")
    alone, _ = net.apply(params, stats, x[3:4], stats="batch")
    np.testing.assert_allclose(alone, out[3:4], rtol=1e-5, atol=1e-6)


def test_bad_stats_flag_is_a_clear_error():
    net, params, stats = blog_discriminator()
    with pytest.raises(ValueError, match="stats must be 'batch' or 'running'"):
        net.apply(params, stats, jnp.zeros((4, 2)), stats="train")
