"""DCGAN conv nets: shapes from the image, image presets, data-kind checks, sampling stats, brightness shift."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tiny, tiny_images

from jaxbngan import PRESETS, ConfigError, NetworkConfig, StrategyConfig, make_network, make_strategy
from jaxbngan.convnets import halvings
from jaxbngan.strategies import match_moments, shift_reward

IMAGE_PRESETS = sorted(name for name, preset in PRESETS.items() if preset.kind == "images")
# The default suite trains one preset here (the image runs and the driver test train dcgan-split and
# dcgan-fix; each D norm runs on images in tests/test_norms.py); `-m slow` trains every one.
QUICK_IMAGE_PRESETS = {"dcgan-running"}
POPULATION = jax.random.uniform(jax.random.key(0), (128, 8, 8, 1), minval=-1.0, maxval=1.0)


def dcgan(channels, norms, **fields):
    return NetworkConfig(**{"architecture": "dcgan", "hidden": (), "channels": channels, "norms": norms, **fields})


@pytest.mark.parametrize(
    "height,width,layers,expected", [(8, 8, 3, 1), (16, 16, 3, 2), (28, 28, 3, 2), (32, 32, 3, 3), (32, 32, 2, 2)]
)
def test_halvings_stop_at_4x4_at_odd_sizes_and_at_the_layer_count(height, width, layers, expected):
    assert halvings(height, width, layers) == expected


@pytest.mark.parametrize(
    "shape,start",
    [
        ((8, 8, 1), 4),
        pytest.param((16, 16, 1), 4, marks=pytest.mark.slow),
        pytest.param((28, 28, 1), 7, marks=pytest.mark.slow),
        pytest.param((32, 32, 3), 4, marks=pytest.mark.slow),
    ],
)
def test_generator_makes_the_data_shape_in_range_and_discriminator_one_logit(shape, start):
    g = make_network(dcgan((16, 8, 4), ("batch", "batch", "batch"), leaky_slope=0.0, init_scheme="dcgan"), shape)
    g_params, g_stats = g.init(jax.random.key(1), jnp.zeros((4, 10)))
    chex.assert_shape(g_params["Dense_0"]["kernel"], (10, start * start * 16))  # G starts at start x start
    noise = 3.0 * jax.random.normal(jax.random.key(2), (6, 10))
    for view in ("batch", "running"):
        fake, _ = g.apply(g_params, g_stats, noise, stats=view)
        chex.assert_shape(fake, (6, *shape))
        assert float(jnp.max(jnp.abs(fake))) <= 1.0  # tanh
    d = make_network(dcgan((4, 8, 8), ("none", "batch", "batch"), leaky_slope=0.2), 1)
    d_params, d_stats = d.init(jax.random.key(3), fake)
    logits, _ = d.apply(d_params, d_stats, fake, stats="batch")
    chex.assert_shape(logits, (6, 1))


def test_dcgan_init_draws_kernels_from_n_0_002_and_bn_scales_from_n_1_002():
    d = make_network(dcgan((64, 128), ("none", "batch"), init_scheme="dcgan"), 1)
    params, _ = d.init(jax.random.key(4), jnp.zeros((2, 8, 8, 1)))
    kernel, scale = params["Conv_1"]["kernel"], params["BatchNorm_0"]["scale"]
    # 131072 kernel draws: the sample std is within 1% of 0.02; 128 scale draws: within 15%.
    assert 0.0198 < float(jnp.std(kernel)) < 0.0202 and abs(float(jnp.mean(kernel))) < 1e-3
    assert 0.017 < float(jnp.std(scale)) < 0.023 and abs(float(jnp.mean(scale)) - 1.0) < 0.01
    assert "bias" not in params["Conv_1"]  # no bias before BN, as pytorch/examples


@pytest.mark.parametrize(
    "preset", [p if p in QUICK_IMAGE_PRESETS else pytest.param(p, marks=pytest.mark.slow) for p in IMAGE_PRESETS]
)
def test_every_image_preset_trains_without_nan(preset):
    strategy = make_strategy(tiny_images(preset), POPULATION)
    step = jax.jit(chex.assert_max_traces(strategy.train_step, n=1))
    state = strategy.init(jax.random.key(5))
    for _ in range(3):
        state, losses = step(state)
    chex.assert_tree_all_finite((state.g_params, state.d_params, state.d_stats, losses))
    fake = strategy.sample(state, strategy.sample_noise(jax.random.key(6)))
    chex.assert_shape(fake, (16, 8, 8, 1))


def test_image_presets_use_the_dcgan_defaults():
    for name in IMAGE_PRESETS:
        config = PRESETS[name].config
        g, d, opt = config.generator, config.discriminator, config.optimizer
        assert g.norms == ("batch",) * len(g.channels) and g.leaky_slope == 0.0
        assert (g.momentum, g.epsilon, d.momentum, d.epsilon) == (0.9, 1e-5, 0.9, 1e-5)
        assert g.init_scheme == d.init_scheme == "dcgan" and d.leaky_slope == 0.2
        assert (opt.learning_rate, opt.b1, opt.b2, config.batch_size) == (2e-4, 0.5, 0.999, 64)
        assert config.loss.g_loss == "nonsaturating"
    assert PRESETS["dcgan-split"].config.discriminator.norms == ("none", "batch")
    assert PRESETS["dcgan-bn-first"].config.discriminator.norms == ("batch", "batch")
    assert PRESETS["dcgan-running"].config.strategy == StrategyConfig(
        d_batch="split", g_view="running", order="d_first", d_calls="real_first", g_noise="fresh"
    )
    assert PRESETS["dcgan-split"].config.strategy == StrategyConfig(order="d_first", d_calls="real_first")
    assert PRESETS["dcgan-joint-g-step"].config.strategy == StrategyConfig(d_batch="joint", g_view="joint")


@pytest.mark.parametrize(
    "config,data,message",
    [
        (tiny("bn-split"), POPULATION, "generator.architecture='mlp' cannot model images"),
        (tiny_images("dcgan-split"), jnp.zeros((64, 2)), "generator.architecture='dcgan' cannot model points"),
        (tiny("bn-split"), jnp.zeros((64, 4, 2)), "data must be"),
    ],
)
def test_networks_must_fit_the_data_kind(config, data, message):
    with pytest.raises(ConfigError, match=message):
        make_strategy(config, data)


@pytest.mark.parametrize(
    "net,message",
    [
        (NetworkConfig(norms=("instance", "none")), "instance norm"),
        (dcgan((8, 8), ("none", "batch"), hidden=(64,)), "hidden is unused"),
        (dcgan((), ()), "channels must be positive"),
        (dcgan((8, 8), ("batch",)), "one entry per conv layer"),
        (dcgan((8, 6), ("none", "group")), "groups=8 must divide"),
        (NetworkConfig(init_scheme="pytorch"), "init_scheme"),
    ],
)
def test_invalid_networks_are_one_line_errors(net, message):
    config = dataclasses.replace(tiny_images("dcgan-split"), discriminator=net)
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_generator_padding_and_sample_stats_are_checked():
    config = tiny_images("dcgan-split")
    reflect_g = dataclasses.replace(config.generator, padding="reflect")
    with pytest.raises(ConfigError, match="generator.padding"):
        dataclasses.replace(config, generator=reflect_g).validate()
    with pytest.raises(ConfigError, match="sample_stats"):
        dataclasses.replace(config, strategy=StrategyConfig(sample_stats="eval")).validate()


@pytest.mark.parametrize("sample_stats", ["batch", "running"])
def test_samples_use_the_chosen_generator_statistics(sample_stats):
    config = tiny_images("dcgan-split", strategy=StrategyConfig(sample_stats=sample_stats))
    strategy = make_strategy(config, POPULATION)
    state = strategy.init(jax.random.key(7))
    state, _ = jax.jit(strategy.train_step)(state)  # G's running averages move away from their init
    noise = strategy.sample_noise(jax.random.key(8))
    expected, _ = strategy.players(state.knobs).g.apply(state.g_params, state.g_stats, noise, stats=sample_stats)
    chex.assert_trees_all_equal(strategy.sample(state, noise), expected)
    other = "running" if sample_stats == "batch" else "batch"
    unexpected, _ = strategy.players(state.knobs).g.apply(state.g_params, state.g_stats, noise, stats=other)
    assert float(jnp.max(jnp.abs(unexpected - expected))) > 1e-4


def test_brightness_shift_makes_the_generator_brighter():
    base = tiny_images("dcgan-no-d-norm-shift")
    optimizer = dataclasses.replace(base.optimizer, learning_rate=1e-2)
    brightness = {}
    for weight in (0.0, 10.0):
        config = dataclasses.replace(
            base, optimizer=optimizer, loss=dataclasses.replace(base.loss, shift_weight=weight)
        )
        strategy = make_strategy(config, POPULATION)
        state, step = strategy.init(jax.random.key(9)), jax.jit(strategy.train_step)
        for _ in range(5):
            state, _ = step(state)
        fake = strategy.sample(state, strategy.sample_noise(jax.random.key(10)))
        brightness[weight] = float(jnp.mean(fake))
    assert brightness[10.0] > brightness[0.0] + 0.1


def test_shift_reward_is_the_first_coordinate_for_points_and_mean_brightness_for_images():
    points = jnp.array([[1.0, 10.0], [3.0, 20.0]])
    np.testing.assert_allclose(shift_reward(points), 2.0)
    image = jnp.arange(2 * 4 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 4, 3)  # every pixel differs
    np.testing.assert_allclose(shift_reward(image), 47.5, rtol=1e-6)  # mean of 0..95


def test_match_moments_is_per_pixel_and_channel_on_images():
    fake = 3.0 + 0.2 * jax.random.normal(jax.random.key(11), (500, 4, 4, 2))
    mean = jnp.linspace(-1.0, 1.0, 32).reshape(1, 4, 4, 2)
    var = jnp.linspace(0.1, 2.0, 32).reshape(1, 4, 4, 2)
    matched = match_moments(fake, mean, var)
    np.testing.assert_allclose(matched.mean(axis=0), mean[0], atol=1e-4)
    np.testing.assert_allclose(matched.var(axis=0), var[0], rtol=1e-3)
