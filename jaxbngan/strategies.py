"""The GAN train step: which BN statistics D uses in each step, which state update is kept, and the order.

A strategy is the choices of `StrategyConfig`, each one visible below:

* `d_batch`  - in D's own step: `split` (two calls, each batch normalized by its own moments) or
  `joint` (one call on fake+real);
* `d_calls`  - the order of the split calls: `fake_first` (the blog's Keras code) or `real_first`
  (pytorch/examples, Keras-GAN); the second call's batch is the last to move the running averages;
* `g_view`   - in G's step, how D normalizes the fakes: `fake` (their own batch moments),
  `joint` (the moments of fake+real) or `running` (the running averages);
* `keep_g_step_stats` - whether the running-average update D makes during G's step survives;
* `standing_stats` (beyond the blog) - D's running averages are set to the moments of the current
  joint batch right before G's step, so the `running` view G sees cannot lag behind D's batch statistics;
* `order`    - `g_first` (the blog): G's step, then D's step on the fakes G made before its update;
  `d_first` (pytorch/examples, Keras-GAN): D's step on fakes of the current G, then G's step against
  the D just updated, on the same fakes (`g_noise="same"`, pytorch) or on fresh noise (`"fresh"`, Keras-GAN).

The presets (`jaxbngan list`) choose them so (order: who steps first; D's split calls in brackets):

    D batch  G's view  G-step kept  standing  order                   presets
    split    fake      yes          no        G, D(fake, real)        bn-split(-shift), no-bn(-shift), dcgan(-shift),
                                                                      layer-norm(-shift), group-norm, weight-norm,
                                                                      spectral-norm, reference-norm(-shift),
                                                                      dcgan-bn-first(-shift, -shift-reflect),
                                                                      dcgan-no-d-norm(-shift), dcgan-layer,
                                                                      dcgan-instance(-shift), dcgan-spectral
    split    fake      yes          no        D(real, fake), G same   dcgan-split(-shift)
    joint    fake      yes          no        G, D                    joint(-shift), moment-matching-first,
                                                                      moment-matching-all, dcgan-joint
    split    running   (no update)  no        G, D(fake, real)        running(-shift)
    split    running   (no update)  no        D(real, fake), G fresh  dcgan-running
    joint    running   (no update)  no        G, D                    fix(-shift), dcgan-fix
    joint    running   (no update)  yes       G, D                    fix-standing, dcgan-standing
    joint    joint     yes          no        G, D                    joint-g-step(-shift), dcgan-joint-g-step

Which running-average updates each makes, in order, is `tests/test_strategies.py`'s table
(split/fake/kept, G first: fake, fake, real; D first: real, fake, fake; joint/running: joint; ...);
a D without BN makes none.

The same code serves points (n, d), MLPs, and images (n, H, W, C), DCGAN conv nets: batch
statistics are per feature over the batch, or per channel over (batch, H, W), and every call
below concatenates or splits along the batch axis only.

The continuous settings (BN momentum and epsilon, leaky slopes, loss weights, Adam's settings:
`config.KNOBS`) ride in the state as traced scalars, `state.knobs`, and every step builds its
networks and optimizer from them (`players`): a grid of settings then trains as one program,
each member of the vmap with its own knobs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxbngan.config import Config, LossConfig, knob_values, validate_for_data, with_knobs
from jaxbngan.models import Network, PyTree, make_network

Knobs = dict  # {dotted config path: float32 scalar} for every path of `config.KNOBS`


class TrainState(NamedTuple):
    """Everything one seed carries from step to step."""

    g_params: PyTree
    g_stats: PyTree  # G's batch_stats (empty unless G is normalized)
    g_opt_state: optax.OptState
    d_params: PyTree
    d_stats: PyTree  # D's batch_stats: BN running averages, spectral-norm vectors
    d_opt_state: optax.OptState
    key: jax.Array
    knobs: Knobs  # the continuous settings this seed trains with (a sweep gives each member its own)


class Players(NamedTuple):
    """G, D and Adam as one state's knobs make them."""

    g: Network
    d: Network
    d_momentum_0: Network  # D with momentum 0: a training-mode call sets the running averages to the batch moments
    optimizer: optax.GradientTransformation  # Adam, for G and for D
    loss: LossConfig  # shift_weight and label_smoothing as traced scalars


class StepLosses(NamedTuple):
    """One step's losses: the blog's two, and D's own on the fakes (names as stored in every run's metrics)."""

    # The blog's "G loss": D's BCE on the fakes with fake labels, in G's view. It is what the step
    # computes as `d_fake_loss_g_view`, not G's objective (the minimax objective is its negative,
    # less the shift term); the name stays because saved runs and exports read `g_loss`.
    g_loss: jax.Array
    d_loss: jax.Array  # 0.5 * (BCE_real + BCE_fake), D's own objective
    # BCE_fake of D's own step: the same fakes as g_loss, in D's view. Where G's view is the
    # computation D's step makes (split calls and the fake view; joint batches in both steps) and G
    # steps first (so both score the fakes with D's parameters before its update), it equals
    # g_loss, and d_loss >= g_loss / 2 holds by construction: a check, not a finding.
    d_fake_loss: jax.Array


class Strategy(NamedTuple):
    """Pure functions of one run: `init(key) -> TrainState`, `train_step(state) -> (state, losses)`."""

    init: Callable[..., TrainState]  # init(key, knobs=None): knobs default to the config's values
    train_step: Callable[[TrainState], tuple[TrainState, StepLosses]]
    players: Callable[[Knobs], Players]
    # Samples for metrics and figures, as D sees them: `sample(state, noise)` with G's statistics
    # chosen by `strategy.sample_stats`.
    sample: Callable[[TrainState, jax.Array], jax.Array]
    sample_noise: Callable[[jax.Array], jax.Array]
    sample_real: Callable[[jax.Array], jax.Array]


def bce(logits: jax.Array, label: float) -> jax.Array:
    """Mean binary cross-entropy of logits against a constant label."""
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)))


def d_on_fakes(
    d: Network, d_params: PyTree, d_stats: PyTree, fake: jax.Array, real: jax.Array, view: str
) -> tuple[jax.Array, PyTree]:
    """D's logits on `fake` under the normalization `view`, and D's batch_stats after the call."""
    if view == "fake":  # training mode on fakes alone: they are normalized by their own moments
        return d.apply(d_params, d_stats, fake, stats="batch")
    if view == "joint":  # training mode on fake+real, the mix D is trained on; loss on the fake half
        logits, d_stats = d.apply(d_params, d_stats, jnp.concatenate([fake, real]), stats="batch")
        return logits[: fake.shape[0]], d_stats
    if view == "running":  # inference mode: the running averages normalize; nothing is updated
        return d.apply(d_params, d_stats, fake, stats="running")
    raise ValueError(f"unknown view {view!r}")


def match_moments(fake: jax.Array, real_mean: jax.Array, real_var: jax.Array) -> jax.Array:
    """Blog bonus: standardize the fakes per feature (per pixel and channel for images), then give them
    the real mean and variance."""
    fake_mean, fake_var = jnp.mean(fake, axis=0, keepdims=True), jnp.var(fake, axis=0, keepdims=True)
    return (fake - fake_mean) * jax.lax.rsqrt(fake_var + 1e-12) * jnp.sqrt(real_var) + real_mean


def shift_reward(fake: jax.Array) -> jax.Array:
    """What the shift term rewards: points moving right (mean of the first coordinate), images
    getting brighter (mean of every pixel and channel)."""
    return jnp.mean(fake[:, 0]) if fake.ndim == 2 else jnp.mean(fake)


def make_strategy(config: Config, population: jax.Array) -> Strategy:
    """Set up `config`'s data side and `players` (G, D and Adam from a state's knobs); return init and train step."""
    config.validate()
    validate_for_data(config, population.shape)
    data_shape = population.shape[1:]  # (d,) for points, (H, W, C) for images
    batch = config.batch_size or population.shape[0]
    reference = population[: config.reference_size] if "reference" in config.discriminator.norms else None
    strategy = config.strategy
    real_mean, real_var = jnp.mean(population, axis=0, keepdims=True), jnp.var(population, axis=0, keepdims=True)
    default_knobs = {path: jnp.float32(value) for path, value in knob_values(config).items()}

    def players(knobs: Knobs) -> Players:
        """The networks and Adam of `knobs`; called inside the step, so each knob is a traced input."""
        c = with_knobs(config, knobs)
        opt = c.optimizer
        return Players(
            g=make_network(c.generator, data_shape),
            d=make_network(c.discriminator, 1, reference),
            d_momentum_0=make_network(dataclasses.replace(c.discriminator, momentum=0.0), 1, reference),
            optimizer=optax.adam(opt.learning_rate, opt.b1, opt.b2, opt.eps),
            loss=c.loss,
        )

    def sample_noise(key: jax.Array) -> jax.Array:
        return jax.random.normal(key, (batch, config.noise_dim))

    def sample_real(key: jax.Array) -> jax.Array:
        if config.batch_size is None:
            return population  # the blog's setting: the whole population every step
        return jax.random.choice(key, population, (batch,), replace=False)

    def init(key: jax.Array, knobs: Knobs | None = None) -> TrainState:
        knobs = default_knobs if knobs is None else knobs
        p = players(knobs)
        k_g, k_d, key = jax.random.split(key, 3)
        g_params, g_stats = p.g.init(k_g, jnp.zeros((batch, config.noise_dim)))
        d_params, d_stats = p.d.init(k_d, jnp.zeros((batch, *data_shape)))
        return TrainState(
            g_params=g_params,
            g_stats=g_stats,
            g_opt_state=p.optimizer.init(g_params),
            d_params=d_params,
            d_stats=d_stats,
            d_opt_state=p.optimizer.init(d_params),
            key=key,
            knobs=knobs,
        )

    def generate(p: Players, g_params, g_stats, noise, stats):
        fake, g_stats = p.g.apply(g_params, g_stats, noise, stats=stats)
        if config.loss.moment_matching:
            fake = match_moments(fake, real_mean, real_var)
        return fake, g_stats

    def sample(state: TrainState, noise: jax.Array) -> jax.Array:
        return generate(players(state.knobs), state.g_params, state.g_stats, noise, strategy.sample_stats)[0]

    def g_objective(g_params, state, noise, real, p: Players):
        """G's objective, which it minimizes; with what the step keeps, and D's loss on the fakes it reports."""
        fake, g_stats = generate(p, g_params, state.g_stats, noise, "batch")  # G trains in training mode
        logits, d_stats = d_on_fakes(p.d, state.d_params, state.d_stats, fake, real, strategy.g_view)
        d_fake_loss_g_view = bce(logits, 0.0)  # reported as the blog's "G loss" (`StepLosses.g_loss`)
        # Minimax: G maximizes D's loss on fakes (zero-sum). Non-saturating: G makes D say "real".
        objective = -d_fake_loss_g_view if config.loss.g_loss == "minimax" else bce(logits, 1.0)
        objective = objective - p.loss.shift_weight * shift_reward(fake)  # shift experiment
        return objective, (fake, g_stats, d_stats, d_fake_loss_g_view)

    def d_objective(d_params, d_stats, fake, real, p: Players):
        if strategy.d_batch == "split":
            # Two calls, each batch normalized by its own moments; the running averages are updated
            # twice, last by the second call's batch.
            if strategy.d_calls == "fake_first":  # the blog's Keras code
                logits_fake, d_stats = p.d.apply(d_params, d_stats, fake, stats="batch")
                logits_real, d_stats = p.d.apply(d_params, d_stats, real, stats="batch")
            else:  # pytorch/examples, Keras-GAN
                logits_real, d_stats = p.d.apply(d_params, d_stats, real, stats="batch")
                logits_fake, d_stats = p.d.apply(d_params, d_stats, fake, stats="batch")
        else:
            # One call: real and fake share the batch moments, so a shift of the fakes shows.
            logits, d_stats = p.d.apply(d_params, d_stats, jnp.concatenate([fake, real]), stats="batch")
            logits_fake, logits_real = logits[: fake.shape[0]], logits[fake.shape[0] :]
        real_label = 1.0 - p.loss.label_smoothing  # one-sided smoothing, D's real targets only
        d_fake_loss = bce(logits_fake, 0.0)
        d_loss = 0.5 * (bce(logits_real, real_label) + d_fake_loss)
        return d_loss, (d_stats, d_fake_loss)

    def g_step(p: Players, state: TrainState, noise, real) -> tuple[TrainState, jax.Array, jax.Array]:
        """G's step against D as `state` holds it; the fakes G made before its update, and the loss it reports."""
        (_, aux), g_grads = jax.value_and_grad(g_objective, has_aux=True)(state.g_params, state, noise, real, p)
        fake, g_stats, d_stats_after_g, d_fake_loss_g_view = aux
        g_updates, g_opt_state = p.optimizer.update(g_grads, state.g_opt_state, state.g_params)
        state = state._replace(
            g_params=optax.apply_updates(state.g_params, g_updates),
            g_stats=g_stats,
            g_opt_state=g_opt_state,
            d_stats=d_stats_after_g if strategy.keep_g_step_stats else state.d_stats,
        )
        return state, jax.lax.stop_gradient(fake), d_fake_loss_g_view

    def d_step(p: Players, state: TrainState, fake, real) -> tuple[TrainState, jax.Array, jax.Array]:
        """D's step on `fake` and `real`; D's loss and its loss on the fakes."""
        (d_loss, (d_stats, d_fake_loss)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(
            state.d_params, state.d_stats, fake, real, p
        )
        d_updates, d_opt_state = p.optimizer.update(d_grads, state.d_opt_state, state.d_params)
        state = state._replace(
            d_params=optax.apply_updates(state.d_params, d_updates), d_stats=d_stats, d_opt_state=d_opt_state
        )
        return state, d_loss, d_fake_loss

    def train_step(state: TrainState) -> tuple[TrainState, StepLosses]:
        p = players(state.knobs)
        key, k_noise, k_real = jax.random.split(state.key, 3)
        noise, real = sample_noise(k_noise), sample_real(k_real)

        if strategy.standing_stats:
            # Standing statistics: the running averages become the moments of this step's joint batch.
            fake_now, _ = generate(p, state.g_params, state.g_stats, noise, "batch")
            joint_batch = jnp.concatenate([fake_now, real])
            _, standing = p.d_momentum_0.apply(state.d_params, state.d_stats, joint_batch, stats="batch")
            state = state._replace(d_stats=standing)

        if strategy.order == "g_first":  # the blog
            state, fake, g_loss = g_step(p, state, noise, real)  # against D as it is
            state, d_loss, d_fake_loss = d_step(p, state, fake, real)  # on the fakes G made before its update
        else:  # pytorch/examples, Keras-GAN
            # D's fakes leave G's statistics as they are: they move in G's step, once a step (pytorch
            # makes the fakes once; Keras-GAN's `predict` updates nothing).
            fake, _ = generate(p, state.g_params, state.g_stats, noise, "batch")
            state, d_loss, d_fake_loss = d_step(p, state, fake, real)
            g_noise = noise if strategy.g_noise == "same" else sample_noise(jax.random.fold_in(k_noise, 1))
            state, _, g_loss = g_step(p, state, g_noise, real)  # against the D just updated

        return state._replace(key=key), StepLosses(g_loss=g_loss, d_loss=d_loss, d_fake_loss=d_fake_loss)

    return Strategy(init, train_step, players, sample, sample_noise, sample_real)
