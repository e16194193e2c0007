"""Per-seed measurements taken every `log_every` steps, all inside jit.

The consistency diagnostic is the blog's core insight as numbers: D's loss on the same fakes under
each normalization view. When G trains against one view and D against another, the two players
play different games, and both can "win": in a zero-sum game D's loss (the mean of its real and
fake losses) can never fall below half of G's loss measured in the same game.

The same record serves points and images. For images, `offset` and `std_ratio` are per colour
channel (the brightness analog of the points' per-axis offset), the energy distance is left NaN
(its pairwise distances do not scale to pixels) and `kid`, `frechet_distance`, `pixel_kid`,
`class_kl` and `mode_coverage` (share of classes covered) come from `jaxbngan.image_metrics` and
the in-house classifier; for points those image scores are NaN.

Where D's BN running averages sit: for each of D's layers (NaN where a layer has no BN) and each
of its features, the position of the running mean (and variance) on the line from the moments of
a fake-only batch (0) to those of a real-only batch (1), each as a split call in training mode
normalizes it. `running_position` is the median position over the layer's features,
`running_between` the share of features whose average lies between the two (0 to 1): the blog's
picture of approach 2, where one set of averages serves two populations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan.classifier import Classifier
from jaxbngan.config import G_VIEWS, Config, data_kind
from jaxbngan.data import Modes
from jaxbngan.image_metrics import make_image_metrics
from jaxbngan.strategies import StepLosses, Strategy, TrainState, bce, d_on_fakes

VIEWS = G_VIEWS  # order of `d_fake_loss_by_view`


class Metrics(NamedTuple):
    """One logged record of one seed (add a leading axis per log and per seed)."""

    g_loss: jax.Array  # G's reported loss at the last step of the segment
    d_loss: jax.Array  # D's loss at the last step of the segment
    offset: jax.Array  # (d,) mean(fake) - mean(real)
    std_ratio: jax.Array  # (d,) std(fake) / std(real)
    energy_distance: jax.Array  # between fakes and the real population (subsampled)
    d_fake_loss_by_view: jax.Array  # (3,) BCE of D on fresh fakes under each of VIEWS
    both_win: jax.Array  # bool: d_loss < g_loss / 2, impossible in one consistent zero-sum game
    high_quality: jax.Array  # fraction of fakes within 3 std of a mode (NaN without modes, and for images)
    mode_coverage: jax.Array  # fraction of modes (image classes) with at least a quarter of their share
    kid: jax.Array  # images: KID in the classifier's features (NaN for points and unlabelled images)
    frechet_distance: jax.Array  # images: Frechet distance in the classifier's features (NaN likewise)
    pixel_kid: jax.Array  # images: KID on the pixels (NaN for points)
    class_kl: jax.Array  # images: KL of the fakes' predicted classes from the data's labels (NaN likewise)
    d_fake_loss: jax.Array  # D's BCE on the fakes in its own step, at the last step of the segment
    running_position: jax.Array  # (D layers, 2): median over features, mean then variance; NaN without BN
    running_between: jax.Array  # (D layers, 2): share of features between fake (0) and real (1) moments
    d_fake_logit_by_view: jax.Array  # (3,) D's mean logit on the fresh fakes of `d_fake_loss_by_view`, per view


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


MOMENTS = ("mean", "var")  # the last axis of `running_position` and `running_between`


def _bn_moments(stats: dict) -> list[jax.Array]:
    """Per BN layer of D (in layer order), its (features, 2) mean and variance in a batch_stats tree."""
    layers = sorted(name for name in stats if name.startswith("BatchNorm_"))
    layers.sort(key=lambda name: int(name.removeprefix("BatchNorm_")))
    return [jnp.stack([stats[name][m] for m in MOMENTS], axis=-1) for name in layers]


def running_positions(
    norms: tuple[str, ...], running: dict, fake_batch: dict, real_batch: dict
) -> tuple[jax.Array, jax.Array]:
    """(position, between) per layer of `norms` and moment (see the module docstring); NaN for other layers.

    `running`, `fake_batch` and `real_batch` are D's batch_stats: its running averages, and those a
    momentum-0 call on a fake-only and on a real-only batch leaves (the batch moments themselves).
    """
    moments = zip(_bn_moments(running), _bn_moments(fake_batch), _bn_moments(real_batch), strict=True)
    found = iter(moments)
    position, between = [], []
    for norm in norms:
        if norm != "batch":
            position.append(jnp.full((len(MOMENTS),), jnp.nan))
            between.append(jnp.full((len(MOMENTS),), jnp.nan))
            continue
        average, fake, real = next(found)
        t = (average - fake) / (real - fake)  # 0 at the fake moments, 1 at the real ones
        position.append(jnp.nanmedian(t, axis=0))
        between.append(jnp.mean(((t >= 0) & (t <= 1)).astype(average.dtype), axis=0))
    return jnp.stack(position), jnp.stack(between)


def make_sample_fakes(strategy: Strategy, count: int | None = None) -> Callable[[TrainState], jax.Array]:
    """Fresh fakes as D sees them (moment matching included), without advancing the training key.

    G draws them in batches of the training batch size, each normalized as `sample_stats` says;
    `count` rounds up to whole batches (default: one batch).
    """

    def sample_fakes(state: TrainState) -> jax.Array:
        key = jax.random.fold_in(state.key, 1)
        if count is None:
            return strategy.sample(state, strategy.sample_noise(key))
        batch = strategy.sample_noise(key).shape[0]
        keys = jax.random.split(key, -(-count // batch))
        fakes = jax.lax.map(lambda k: strategy.sample(state, strategy.sample_noise(k)), keys)
        return fakes.reshape(-1, *fakes.shape[2:])[:count]

    return sample_fakes


def make_evaluate(
    config: Config,
    population: jax.Array,
    strategy: Strategy,
    modes: Modes | None,
    labels: np.ndarray | None = None,
    classifier: Classifier | None = None,
) -> Callable[[TrainState, StepLosses], Metrics]:
    """Return `evaluate(state, last_losses) -> Metrics` for one seed; `labels` and `classifier` score images."""
    images = data_kind(population.shape) == "images"
    batch = config.batch_size or population.shape[0]
    real_batch = population[:batch]  # population order is random: a prefix is a random sample
    m = min(config.metric_samples, population.shape[0] if images else batch)
    sample_fakes = make_sample_fakes(strategy, m if images else None)
    axes = tuple(range(population.ndim - 1))  # every axis but the last: per feature, or per channel
    real_mean, real_std = jnp.mean(population, axis=axes), jnp.std(population, axis=axes)
    nan = jnp.array(jnp.nan, dtype=population.dtype)
    measure_images = make_image_metrics(population, labels, classifier, samples=m) if images else None

    def evaluate(state: TrainState, losses: StepLosses) -> Metrics:
        fakes = sample_fakes(state)
        fake = fakes[:batch]  # one training batch: what D sees in a step
        players = strategy.players(state.knobs)
        d = players.d
        logits_by_view = [d_on_fakes(d, state.d_params, state.d_stats, fake, real_batch, view)[0] for view in VIEWS]
        by_view = jnp.stack([bce(logits, 0.0) for logits in logits_by_view])
        batch_moments = [
            players.d_momentum_0.apply(state.d_params, state.d_stats, x, stats="batch")[1] for x in (fake, real_batch)
        ]
        position, between = running_positions(config.discriminator.norms, state.d_stats, *batch_moments)
        if images:
            scores = measure_images(fakes)
            distances = {
                "energy_distance": nan,
                "kid": scores.kid,
                "frechet_distance": scores.frechet,
                "pixel_kid": scores.pixel_kid,
                "class_kl": scores.class_kl,
            }
            high_quality, coverage = nan, scores.class_coverage
        else:
            distances = {"energy_distance": energy_distance(fake[:m], population[:m])}
            distances |= {"kid": nan, "frechet_distance": nan, "pixel_kid": nan, "class_kl": nan}
            high_quality, coverage = mode_scores(fake, modes) if modes is not None else (nan, nan)
        return Metrics(
            g_loss=losses.g_loss,
            d_loss=losses.d_loss,
            offset=jnp.mean(fakes, axis=axes) - real_mean,
            std_ratio=jnp.std(fakes, axis=axes) / real_std,
            d_fake_loss_by_view=by_view,
            both_win=losses.d_loss < 0.5 * losses.g_loss,
            high_quality=high_quality,
            mode_coverage=coverage,
            d_fake_loss=losses.d_fake_loss,
            running_position=position,
            running_between=between,
            d_fake_logit_by_view=jnp.stack([jnp.mean(logits) for logits in logits_by_view]),
            **distances,
        )

    return evaluate
