"""Per-seed measurements taken every `log_every` steps, all inside jit.

The consistency diagnostic is the blog's core insight as numbers: D's loss on the same fakes under
each normalization view. When G trains against one view and D against another, the two players
play different games, and both can "win": in a zero-sum game D's loss (the mean of its real and
fake losses) can never fall below half of G's loss measured in the same game.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxbngan.config import Config
from jaxbngan.data import Modes
from jaxbngan.strategies import StepLosses, Strategy, TrainState, bce, d_on_fakes

VIEWS = ("fake", "joint", "running")  # order of `d_fake_loss_by_view`


class Metrics(NamedTuple):
    """One logged record of one seed (add a leading axis per log and per seed)."""

    g_loss: jax.Array  # G's reported loss at the last step of the segment
    d_loss: jax.Array  # D's loss at the last step of the segment
    offset: jax.Array  # (d,) mean(fake) - mean(real)
    std_ratio: jax.Array  # (d,) std(fake) / std(real)
    energy_distance: jax.Array  # between fakes and the real population (subsampled)
    d_fake_loss_by_view: jax.Array  # (3,) BCE of D on fresh fakes under each of VIEWS
    both_win: jax.Array  # bool: d_loss < g_loss / 2, impossible in one consistent zero-sum game
    high_quality: jax.Array  # fraction of fakes within 3 std of a mode (NaN without modes)
    mode_coverage: jax.Array  # fraction of modes with at least a quarter of their share (NaN without)


def energy_distance(x: jax.Array, y: jax.Array) -> jax.Array:
    """Energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| (V-statistic): zero iff the samples coincide."""

    def mean_dist(a, b):
        diff = a[:, None, :] - b[None, :, :]
        return jnp.mean(jnp.sqrt(jnp.sum(jnp.square(diff), axis=-1) + 1e-12))

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def mode_scores(fake: jax.Array, modes: Modes) -> tuple[jax.Array, jax.Array]:
    """(high-quality fraction, fraction of modes covered) of samples from a Gaussian mixture."""
    centers = jnp.asarray(modes.centers, dtype=fake.dtype)
    dist = jnp.sqrt(jnp.sum(jnp.square(fake[:, None, :] - centers[None]), axis=-1))  # (n, k)
    good = jnp.min(dist, axis=1) < 3 * modes.std
    nearest = jax.nn.one_hot(jnp.argmin(dist, axis=1), len(centers), dtype=fake.dtype)
    counts = jnp.sum(nearest * good[:, None].astype(fake.dtype), axis=0)
    fair_share = fake.shape[0] / len(centers)
    return jnp.mean(good.astype(fake.dtype)), jnp.mean((counts >= 0.25 * fair_share).astype(fake.dtype))


def make_sample_fakes(strategy: Strategy) -> Callable[[TrainState], jax.Array]:
    """Fresh fakes as D sees them (moment matching included), without advancing the training key."""

    def sample_fakes(state: TrainState) -> jax.Array:
        noise = strategy.sample_noise(jax.random.fold_in(state.key, 1))
        fake, _ = strategy.generate(state.g_params, state.g_stats, noise)
        return fake

    return sample_fakes


def make_evaluate(
    config: Config, population: jax.Array, strategy: Strategy, modes: Modes | None
) -> Callable[[TrainState, StepLosses], Metrics]:
    """Return `evaluate(state, last_losses) -> Metrics` for one seed."""
    sample_fakes = make_sample_fakes(strategy)
    batch = config.batch_size or population.shape[0]
    real_batch = population[:batch]  # population order is random: a prefix is a random sample
    m = min(config.metric_samples, batch)
    real_mean, real_std = jnp.mean(population, axis=0), jnp.std(population, axis=0)
    nan = jnp.array(jnp.nan, dtype=population.dtype)

    def evaluate(state: TrainState, losses: StepLosses) -> Metrics:
        fake = sample_fakes(state)
        by_view = jnp.stack(
            [
                bce(d_on_fakes(strategy.discriminator, state.d_params, state.d_stats, fake, real_batch, view)[0], 0.0)
                for view in VIEWS
            ]
        )
        high_quality, coverage = mode_scores(fake, modes) if modes is not None else (nan, nan)
        return Metrics(
            g_loss=losses.g_loss,
            d_loss=losses.d_loss,
            offset=jnp.mean(fake, axis=0) - real_mean,
            std_ratio=jnp.std(fake, axis=0) / real_std,
            energy_distance=energy_distance(fake[:m], population[:m]),
            d_fake_loss_by_view=by_view,
            both_win=losses.d_loss < 0.5 * losses.g_loss,
            high_quality=high_quality,
            mode_coverage=coverage,
        )

    return evaluate
