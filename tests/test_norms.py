"""Norms on images: BN per channel over (batch, H, W), its blind spots and views; instance norm."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan import NetworkConfig, make_network
from jaxbngan.config import NORMS, Config, ConfigError
from jaxbngan.norms import BatchNorm, batch_norm

pytestmark = pytest.mark.usefixtures("strict_dtypes")

IMAGES = (64, 8, 8, 3)


def conv_d(norms, padding="zeros", epsilon=1e-9, reference=None):
    """A DCGAN discriminator with Keras's glorot init (outputs of order 1) on 8x8x3 images."""
    config = NetworkConfig(
        architecture="dcgan", hidden=(), channels=(8, 16), norms=norms, padding=padding, epsilon=epsilon, groups=4
    )
    net = make_network(config, 1, reference)
    params, stats = net.init(jax.random.key(0), jnp.zeros((4, *IMAGES[1:])))
    return config, net, params, jax.tree.map(lambda s: s + 0.25, stats)  # running averages away from init


def images(seed=1, shape=IMAGES):
    return jax.random.uniform(jax.random.key(seed), shape, minval=-1.0, maxval=1.0)


def per_channel_affine(x, scale=2.5, shift=(0.7, -0.4, 1.3)):
    """A common positive scale and a shift per channel: the maps BN after a conv cannot see."""
    return scale * x + jnp.array(shift).reshape(1, 1, 1, -1)


def test_split_statistics_blind_d_with_bn_first_to_a_per_channel_affine_change():
    # A conv maps x + b_c to conv(x) + const per output channel when the padding shifts too
    # (reflection); BN over (batch, H, W) removes that constant and the common scale exactly.
    _, net, params, stats = conv_d(("batch", "batch"), padding="reflect")
    x = images()
    out, _ = net.apply(params, stats, x, stats="batch")
    moved, _ = net.apply(params, stats, per_channel_affine(x), stats="batch")
    # float32 rounding of moments over 64*4*4 values of order 1: far below 1e-4
    np.testing.assert_allclose(moved, out, atol=1e-4)
    joint, _ = net.apply(params, stats, jnp.concatenate([x, per_channel_affine(x)]), stats="batch")
    assert float(jnp.max(jnp.abs(joint[IMAGES[0] :] - out))) > 1e-2


def test_zero_padding_shows_a_shift_at_the_borders_but_not_a_scale():
    _, net, params, stats = conv_d(("batch", "batch"), padding="zeros")
    x = images()
    out, _ = net.apply(params, stats, x, stats="batch")
    scaled, _ = net.apply(params, stats, per_channel_affine(x, shift=(0.0, 0.0, 0.0)), stats="batch")
    np.testing.assert_allclose(scaled, out, atol=1e-4)
    shifted, _ = net.apply(params, stats, per_channel_affine(x, scale=1.0), stats="batch")
    assert float(jnp.max(jnp.abs(shifted - out))) > 1e-2


def test_instance_norm_is_blind_to_a_per_image_affine_change():
    _, net, params, stats = conv_d(("instance", "instance"), padding="reflect")
    x = images()
    scale = jnp.linspace(0.5, 3.0, IMAGES[0]).reshape(-1, 1, 1, 1)
    shift = jax.random.normal(jax.random.key(2), (IMAGES[0], 1, 1, IMAGES[3]))  # per image and channel
    out, _ = net.apply(params, stats, x, stats="batch")
    moved, _ = net.apply(params, stats, scale * x + shift, stats="batch")
    np.testing.assert_allclose(moved, out, atol=1e-4)
    # Batch norm in the same place sees per-image changes: they differ between images.
    _, bn, bn_params, bn_stats = conv_d(("batch", "batch"), padding="reflect")
    bn_out, _ = bn.apply(bn_params, bn_stats, x, stats="batch")
    bn_moved, _ = bn.apply(bn_params, bn_stats, scale * x + shift, stats="batch")
    assert float(jnp.max(jnp.abs(bn_moved - bn_out))) > 1e-2


def _points_d():
    """The blog's D (BN in both hidden layers) on 2-D points, running averages away from init."""
    net = make_network(NetworkConfig(norms=("batch", "batch"), epsilon=1e-3), 1)
    params, stats = net.init(jax.random.key(1), jnp.zeros((8, 2)))
    return net, params, jax.tree.map(lambda s: s + 0.5, stats), jax.random.normal(jax.random.key(5), (64, 2))


def _images_d():
    _, net, params, stats = conv_d(("none", "batch"), epsilon=1e-5)
    return net, params, stats, images()


@pytest.mark.parametrize("make", [_points_d, _images_d], ids=["points", "images"])
def test_running_view_keeps_the_state_and_is_per_sample_and_batch_view_is_not(make):
    net, params, stats, x = make()
    out, same = net.apply(params, stats, x, stats="running")
    chex.assert_trees_all_equal(same, stats)
    alone, _ = net.apply(params, stats, x[:1], stats="running")
    np.testing.assert_allclose(alone, out[:1], rtol=1e-5, atol=1e-6)
    # In the batch view the same sample's logit depends on its batch.
    batch_alone, _ = net.apply(params, stats, x[:2], stats="batch")
    batch_all, _ = net.apply(params, stats, x, stats="batch")
    assert float(jnp.abs(batch_alone[0] - batch_all[0])[0]) > 1e-3


def test_conv_batch_norm_running_averages_follow_the_keras_formula():
    config, net, params, stats = conv_d(("batch", "batch"), epsilon=1e-5)
    x = 0.5 + images()
    _, new = net.apply(params, stats, x, stats="batch")
    conv = nn.Conv(8, (4, 4), (2, 2), "SAME", use_bias=False)  # D's first layer, no bias before BN
    hidden = conv.apply({"params": params["Conv_0"]}, x)  # (64, 4, 4, 8)
    m = config.momentum
    expected_mean = m * stats["BatchNorm_0"]["mean"] + (1 - m) * hidden.mean(axis=(0, 1, 2))
    expected_var = m * stats["BatchNorm_0"]["var"] + (1 - m) * hidden.var(axis=(0, 1, 2))
    np.testing.assert_allclose(new["BatchNorm_0"]["mean"], expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new["BatchNorm_0"]["var"], expected_var, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # reference norm on points is checked in the default suite
def test_reference_norm_on_images_makes_each_logit_independent_of_the_batch():
    _, net, params, stats = conv_d(
        ("reference", "reference"), epsilon=1e-5, reference=images(seed=3, shape=(16, 8, 8, 3))
    )
    x = images()
    out, _ = net.apply(params, stats, x, stats="batch")
    alone, _ = net.apply(params, stats, x[5:6], stats="batch")
    np.testing.assert_allclose(alone, out[5:6], rtol=1e-5, atol=1e-6)


OUR_NORMS = ("batch", "instance", "spectral", "reference")  # the rest are flax's own layers: -m slow


@pytest.mark.parametrize("norm", [n if n in OUR_NORMS else pytest.param(n, marks=pytest.mark.slow) for n in NORMS])
def test_every_norm_kind_runs_on_images_in_both_views(norm):
    reference = images(seed=4, shape=(8, 8, 8, 3)) if norm == "reference" else None
    _, net, params, stats = conv_d((norm, norm), epsilon=1e-5, reference=reference)
    for view in ("batch", "running"):
        out, _ = net.apply(params, stats, images()[:8], stats=view)
        chex.assert_shape(out, (8, 1))
        chex.assert_tree_all_finite(out)


@pytest.mark.parametrize("shape", [(256, 8), (16, 6, 6, 8)], ids=["points", "images"])
@pytest.mark.parametrize("use_running_average", [False, True])
def test_batch_norm_matches_flax_in_values_running_averages_and_gradients(shape, use_running_average):
    """Our BatchNorm has a hand-written backward pass; flax's, differentiated by JAX, is the reference.

    For images both normalize each channel over (batch, H, W).
    """
    x = 3.0 + 2.0 * jax.random.normal(jax.random.key(12), shape)
    cotangent = jax.random.normal(jax.random.key(13), shape)
    ours = BatchNorm(use_running_average, momentum=0.9, epsilon=1e-3)
    theirs = nn.BatchNorm(use_running_average=use_running_average, momentum=0.9, epsilon=1e-3)
    variables = theirs.init(jax.random.key(14), x)
    variables = {  # away from the init, so each term of the formulas shows
        "params": {"scale": 1.5 + jnp.arange(8.0) / 8, "bias": jnp.linspace(-1.0, 1.0, 8)},
        "batch_stats": {"mean": jnp.full((8,), 0.7), "var": jnp.full((8,), 2.5)},
    }
    chex.assert_trees_all_equal_structs(ours.init(jax.random.key(14), x), variables)

    def run(module):
        def f(params, x):
            out, updated = module.apply({**variables, "params": params}, x, mutable=["batch_stats"])
            return out, updated["batch_stats"]

        (out, stats), vjp = jax.vjp(f, variables["params"], x)
        zero_stats = jax.tree.map(jnp.zeros_like, stats)
        return out, stats, vjp((cotangent, zero_stats))

    out, stats, grads = run(ours)
    expected_out, expected_stats, expected_grads = run(theirs)
    np.testing.assert_allclose(out, expected_out, rtol=1e-5, atol=1e-5)
    chex.assert_trees_all_close(stats, expected_stats, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(grads, expected_grads, rtol=1e-4, atol=1e-5)


def _updated_stats(start: str, batches: list[jax.Array], momentum: float = 0.9) -> list[dict]:
    """The running averages of a BatchNorm with `start` after each of `batches`, in training mode."""
    module = BatchNorm(False, momentum=momentum, epsilon=1e-3, running_start=start)
    variables = module.init(jax.random.key(0), batches[0])
    after = []
    for x in batches:
        _, updated = module.apply(variables, x, mutable=["batch_stats"])
        variables = {**variables, "batch_stats": updated["batch_stats"]}
        after.append(updated["batch_stats"])
    return after


def _batches(shape=(64, 5)) -> list[jax.Array]:
    return [3.0 + (1 + i) * jax.random.normal(jax.random.key(20 + i), shape) for i in range(3)]


@pytest.mark.parametrize("start", ["first_batch", "debiased"])
@pytest.mark.parametrize("shape", [(64, 5), (8, 4, 4, 5)], ids=["points", "images"])
def test_first_batch_and_debiased_averages_equal_the_first_batch_moments(start, shape):
    x = _batches(shape)[0]
    first = _updated_stats(start, [x])[0]
    # keep is 0 at the first update, so the average is the batch moment itself, not close to it
    mean, var = _moments_as_bn(x)
    np.testing.assert_array_equal(first["mean"], mean)
    np.testing.assert_array_equal(first["var"], var)
    assert float(first["count"]) == 1.0


def _moments_as_bn(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The batch moments as the BatchNorm forward pass computes them (`norms.batch_norm`)."""
    _, mean, var = batch_norm(x, jnp.ones(x.shape[-1]), jnp.zeros(x.shape[-1]), 1e-3)
    return mean, var


def test_debiased_average_is_the_bias_corrected_exponential_average():
    m, batches = 0.9, _batches()
    moments = [_moments_as_bn(x)[0] for x in batches]
    weights = np.array([m**2, m, 1.0]) * (1 - m) / (1 - m**3)  # Adam's correction of a zero-started average
    expected = sum(w * np.asarray(x) for w, x in zip(weights, moments, strict=True))
    np.testing.assert_allclose(_updated_stats("debiased", batches, m)[-1]["mean"], expected, rtol=1e-5)


def test_first_batch_then_keeps_the_momentum_and_zeros_keeps_the_start_value():
    m, batches = 0.9, _batches()
    first_batch = _updated_stats("first_batch", batches, m)
    zeros = _updated_stats("zeros", batches, m)
    mean_0, mean_1 = (_moments_as_bn(x)[0] for x in batches[:2])
    np.testing.assert_allclose(first_batch[1]["mean"], m * mean_0 + (1 - m) * mean_1, rtol=1e-6)
    np.testing.assert_allclose(zeros[0]["mean"], (1 - m) * mean_0, rtol=1e-6)  # 0.9 of the start value 0 kept
    assert "count" not in zeros[0]  # zeros' state tree is what it always was


def test_running_start_reaches_both_networks_and_a_bad_one_is_refused():
    net = NetworkConfig(hidden=(8,), norms=("batch",), running_start="debiased")
    model = make_network(net, 1)
    params, stats = model.init(jax.random.key(0), jnp.zeros((4, 2)))
    assert "count" in stats["BatchNorm_0"]
    with pytest.raises(ConfigError, match="running_start"):
        Config(discriminator=NetworkConfig(running_start="ones")).validate()
