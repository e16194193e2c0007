"""The train step: which running-average updates each strategy makes and in what order, Keras order, losses."""

import dataclasses
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tiny

from jaxbngan import PRESETS, ConfigError, StrategyConfig, get_preset, make_population, make_strategy, strategies
from jaxbngan.config import from_dict, to_dict
from jaxbngan.strategies import bce, d_on_fakes, match_moments

# Every preset, and two choices no preset makes: the running-average updates of D in one train
# step, in order. fake/real: a training-mode call on that batch alone; joint: on fake+real;
# standing: the refresh before G's step. A D without batch norm makes none.
SPLIT_FAKE = ("fake", "fake", "real")  # G's step in the fake view (kept), then D's split step: fake, then real
PYTORCH = ("real", "fake", "fake")  # D's split step first, real then fake; then G's step in the fake view (kept)
NO_BN = ()
UPDATES = {
    "no-bn": NO_BN,
    "no-bn-shift": NO_BN,
    "bn-split": SPLIT_FAKE,
    "bn-split-shift": SPLIT_FAKE,
    "joint": ("fake", "joint"),
    "joint-shift": ("fake", "joint"),
    "running": ("fake", "real"),
    "running-shift": ("fake", "real"),
    "fix": ("joint",),
    "fix-shift": ("joint",),
    "fix-standing": ("standing", "joint"),
    "joint-g-step": ("joint", "joint"),
    "joint-g-step-shift": ("joint", "joint"),
    "dcgan": SPLIT_FAKE,
    "dcgan-shift": SPLIT_FAKE,
    "moment-matching-first": ("fake", "joint"),
    "moment-matching-all": ("fake", "joint"),
    "layer-norm": NO_BN,
    "layer-norm-shift": NO_BN,
    "group-norm": NO_BN,
    "weight-norm": NO_BN,
    "spectral-norm": NO_BN,
    "reference-norm": NO_BN,
    "reference-norm-shift": NO_BN,
    "dcgan-split": PYTORCH,
    "dcgan-joint": ("fake", "joint"),
    "dcgan-running": ("real", "fake"),  # Keras-GAN: D's split step first, real then fake; G's view makes none
    "dcgan-fix": ("joint",),
    "dcgan-joint-g-step": ("joint", "joint"),
    "dcgan-standing": ("standing", "joint"),
    "dcgan-bn-first": SPLIT_FAKE,
    "dcgan-no-d-norm": NO_BN,
    "dcgan-layer": NO_BN,
    "dcgan-instance": NO_BN,
    "dcgan-spectral": NO_BN,
    "dcgan-split-shift": PYTORCH,
    "dcgan-bn-first-shift": SPLIT_FAKE,
    "dcgan-bn-first-shift-reflect": SPLIT_FAKE,
    "dcgan-instance-shift": NO_BN,
    "dcgan-no-d-norm-shift": NO_BN,
}
BEYOND_PRESETS = {  # (preset, strategy choices replaced) -> updates
    ("bn-split", (("keep_g_step_stats", False),)): ("fake", "real"),
    ("joint-g-step", (("keep_g_step_stats", False),)): ("joint",),
    ("bn-split", (("d_calls", "real_first"),)): ("fake", "real", "fake"),
    ("bn-split", (("order", "d_first"),)): ("fake", "real", "fake"),
    ("bn-split", (("order", "d_first"), ("d_calls", "real_first"), ("g_noise", "fresh"))): PYTORCH,
    ("joint", (("order", "d_first"),)): ("joint", "fake"),
    ("joint-g-step", (("order", "d_first"),)): ("joint", "joint"),
    ("dcgan-split", (("keep_g_step_stats", False),)): ("real", "fake"),
    ("dcgan-running", (("d_calls", "fake_first"),)): ("fake", "real"),
}
UPDATE_NAMES = (None, "fake", "real", "joint", "standing")  # the codes the recording D logs


def recording_network(config, out_shape, reference_batch=None):
    """A stand-in for `models.make_network`: G is linear; D's batch_stats log every running-average
    update a batch-norm D would make: which batch, in order. The real batch is told apart by its
    integer values (fakes, moment-matched or not, are not integers); the joint one by its rows."""
    if out_shape != 1:  # G: noise -> one sample of `out_shape`
        shape = (out_shape,) if isinstance(out_shape, int) else tuple(out_shape)

        def init_g(key, noise):
            return {"w": jax.random.normal(key, (noise.shape[1], math.prod(shape)))}, {}

        def apply_g(params, batch_stats, noise, stats):
            return (noise @ params["w"]).reshape(-1, *shape), batch_stats

        return strategies.Network(init_g, apply_g)

    def init_d(key, sample):
        return {"w": jnp.ones(())}, {"log": jnp.zeros(8, jnp.int32), "count": jnp.zeros((), jnp.int32)}

    def apply_d(params, batch_stats, x, stats):
        logits = params["w"] * jnp.mean(x.reshape(x.shape[0], -1), axis=1, keepdims=True)
        if stats == "running" or "batch" not in config.norms:
            return logits, batch_stats
        if isinstance(config.momentum, float) and config.momentum == 0.0:  # `Players.d_momentum_0` (D's is traced)
            code = UPDATE_NAMES.index("standing")
        elif x.shape[0] == 2 * BATCH:
            code = UPDATE_NAMES.index("joint")
        else:
            code = jnp.where(jnp.all(x == jnp.round(x)), UPDATE_NAMES.index("real"), UPDATE_NAMES.index("fake"))
        log = batch_stats["log"].at[batch_stats["count"]].set(code)
        return logits, {"log": log, "count": batch_stats["count"] + 1}

    return strategies.Network(init_d, apply_d)


BATCH = 16


@pytest.mark.parametrize(
    "preset, choices, updates",
    [(name, (), updates) for name, updates in UPDATES.items()]
    + [(name, choices, updates) for (name, choices), updates in BEYOND_PRESETS.items()],
)
def test_each_strategy_makes_its_running_average_updates_in_order(monkeypatch, preset, choices, updates):
    config = get_preset(preset).config
    config = dataclasses.replace(
        config,
        batch_size=BATCH,
        noise_dim=4,
        strategy=dataclasses.replace(config.strategy, **dict(choices)),
        reference_size=min(config.reference_size, BATCH),
    )
    sample = (2,) if PRESETS[preset].kind == "points" else (8, 8, 1)
    population = np.random.default_rng(0).integers(-3, 4, (4 * BATCH, *sample)).astype(np.float32)
    monkeypatch.setattr(strategies, "make_network", recording_network)
    s = make_strategy(config, jnp.asarray(population))
    state, _ = s.train_step(s.init(jax.random.key(0)))  # eager: a few small ops, no compilation
    made = state.d_stats["log"][: int(state.d_stats["count"])]
    assert tuple(UPDATE_NAMES[int(code)] for code in made) == updates


def test_every_preset_has_a_row_of_updates():
    assert set(UPDATES) == set(PRESETS)


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


@pytest.mark.parametrize("d_calls", ["fake_first", "real_first"])
def test_split_d_step_updates_running_averages_in_the_order_of_its_calls(d_calls):
    _, s, state, fake_mean, real_mean = setup(d_batch="split", keep_g_step_stats=False, d_calls=d_calls)
    new_state, _ = s.train_step(state)
    m0 = state.d_stats["BatchNorm_0"]["mean"]
    got = new_state.d_stats["BatchNorm_0"]["mean"]
    first, second = (fake_mean, real_mean) if d_calls == "fake_first" else (real_mean, fake_mean)
    np.testing.assert_allclose(got, ema(ema(m0, first), second), rtol=0, atol=1e-6)
    reversed_order = ema(ema(m0, second), first)
    assert float(jnp.max(jnp.abs(got - reversed_order))) > 10 * float(
        jnp.max(jnp.abs(got - ema(ema(m0, first), second)))
    )


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
    chex.assert_trees_all_equal(s_keep.train_step(state)[0].d_stats, s_drop.train_step(state)[0].d_stats)


def test_consistent_strategy_reports_g_loss_as_d_loss_on_the_same_fakes():
    # Split D step and fake-only G view normalize the fakes identically: the reported G loss is D's
    # loss on those fakes in its own step (D's parameters before its update), so they are equal.
    _, s, state, _, _ = setup(d_batch="split", g_view="fake")
    _, losses = s.train_step(state)
    _, k_noise, _ = jax.random.split(state.key, 3)
    d = s.players(state.knobs).d
    fake, _ = s.players(state.knobs).g.apply(state.g_params, state.g_stats, s.sample_noise(k_noise), stats="batch")
    logits_in_d_step, _ = d.apply(state.d_params, state.d_stats, fake, stats="batch")
    np.testing.assert_array_equal(losses.g_loss, bce(logits_in_d_step, 0.0))
    _, s_joint, _, _, _ = setup(d_batch="split", g_view="joint")
    assert float(s_joint.train_step(state)[1].g_loss) != float(losses.g_loss)  # another view, another number


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


def test_d_first_trains_d_as_g_first_does_and_g_against_the_d_after_its_update():
    # D's step sees the same fakes (G's before its update) and reals in either order, so D ends the
    # same bit for bit; G's step in D-first order is then G-first's step taken from the updated D.
    _, g_first, state, _, _ = setup(d_batch="split", g_view="fake")
    _, d_first, _, _, _ = setup(d_batch="split", g_view="fake", order="d_first")
    after_g_first, losses_g_first = g_first.train_step(state)
    after_d_first, losses_d_first = d_first.train_step(state)
    chex.assert_trees_all_equal(after_d_first.d_params, after_g_first.d_params)
    chex.assert_trees_all_equal(after_d_first.d_opt_state, after_g_first.d_opt_state)
    assert (losses_d_first.d_loss, losses_d_first.d_fake_loss) == (losses_g_first.d_loss, losses_g_first.d_fake_loss)

    d_updated = state._replace(d_params=after_d_first.d_params, d_opt_state=after_d_first.d_opt_state)
    g_against_updated, losses_against_updated = g_first.train_step(d_updated)
    chex.assert_trees_all_equal(after_d_first.g_params, g_against_updated.g_params)
    chex.assert_trees_all_equal(after_d_first.g_stats, g_against_updated.g_stats)
    assert losses_d_first.g_loss == losses_against_updated.g_loss
    # ... and not against D as it was: the order is seen.
    assert not np.array_equal(after_d_first.g_params["Dense_0"]["kernel"], after_g_first.g_params["Dense_0"]["kernel"])


def test_fresh_noise_changes_g_step_only():
    _, same, state, _, _ = setup(order="d_first", g_noise="same")
    _, fresh, _, _, _ = setup(order="d_first", g_noise="fresh")
    after_same, losses_same = same.train_step(state)
    after_fresh, losses_fresh = fresh.train_step(state)
    chex.assert_trees_all_equal(after_fresh.d_params, after_same.d_params)
    assert losses_fresh.d_loss == losses_same.d_loss
    assert losses_fresh.g_loss != losses_same.g_loss
    assert not np.array_equal(after_fresh.g_params["Dense_0"]["kernel"], after_same.g_params["Dense_0"]["kernel"])


def test_d_first_running_view_sees_averages_last_moved_by_the_second_d_call():
    # Keras-GAN: D's calls real then fake, then G's step in inference mode: G's loss is D's (updated)
    # on the fakes normalized by averages whose last update came from the fake batch.
    _, s, state, fake_mean, real_mean = setup(g_view="running", order="d_first", d_calls="real_first")
    new_state, losses = s.train_step(state)
    m0 = state.d_stats["BatchNorm_0"]["mean"]
    np.testing.assert_allclose(new_state.d_stats["BatchNorm_0"]["mean"], ema(ema(m0, real_mean), fake_mean), atol=1e-6)
    _, k_noise, _ = jax.random.split(state.key, 3)
    p = s.players(state.knobs)
    fake, _ = p.g.apply(state.g_params, state.g_stats, s.sample_noise(k_noise), stats="batch")
    logits, _ = p.d.apply(new_state.d_params, new_state.d_stats, fake, stats="running")
    assert losses.g_loss == bce(logits, 0.0)


@pytest.mark.parametrize(
    "strategy, message",
    [
        (StrategyConfig(order="sideways"), "strategy.order: 'sideways' not in"),
        (StrategyConfig(d_calls="both"), "strategy.d_calls: 'both' not in"),
        (StrategyConfig(g_noise="new"), "strategy.g_noise: 'new' not in"),
        (StrategyConfig(d_batch="joint", d_calls="real_first"), "d_batch='joint' makes one call"),
        (StrategyConfig(g_noise="fresh"), "needs order='d_first'"),
        (StrategyConfig(g_view="running", standing_stats=True, order="d_first"), "needs order='g_first'"),
    ],
)
def test_order_choices_are_checked(strategy, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(tiny("fix"), strategy=strategy).validate()


def test_configs_saved_before_the_order_existed_load_in_the_blogs_order():
    saved = to_dict(tiny("bn-split"))
    for name in ("order", "d_calls", "g_noise"):
        del saved["strategy"][name]
    strategy = from_dict(saved).strategy
    assert (strategy.order, strategy.d_calls, strategy.g_noise) == ("g_first", "fake_first", "same")


def test_d_first_step_traces_once_across_steps():
    config = dataclasses.replace(tiny("bn-split"), strategy=StrategyConfig(order="d_first", g_noise="fresh"))
    s = make_strategy(config, make_population(config.data))
    step = jax.jit(chex.assert_max_traces(s.train_step, n=1))
    state = s.init(jax.random.key(0))
    for _ in range(3):
        state, losses = step(state)
    assert np.isfinite(float(losses.g_loss))
