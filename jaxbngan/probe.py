"""The moment probe: D alone, trained to tell real data from fakes matched to it in mean and variance.

No G: the fakes are fixed transformations of the data, so what D can learn is exactly what its
normalization lets through. `make_probe(config, population)` returns `probe(keys)`, jitted and
vmapped over seeds; each seed trains D for `steps` Adam steps on BCE(real, 1) + BCE(fake, 0) and
scores it on held-out real and fake samples every `log_every` steps.

Fakes (`FAKES`), each made from a batch of real samples drawn independently of the real batch D sees:

* `gaussian`: a Gaussian with the training data's mean and full covariance (images: over all pixels);
* `diagonal-gaussian`: a Gaussian with the training data's per-feature mean and variance
  (per coordinate for points, per pixel and channel for images), features independent;
* `phase`: each image with its Fourier phases randomized (Hermitian, so the image stays real; the
  DC phase kept): per image the amplitude spectrum, the mean and the pixel variance are kept, and
  so is its circular autocorrelation; higher-order structure (strokes, edges) is destroyed;
* `shift`: the samples moved by `shift` standard deviations of the data along every feature (a
  positive control: a D that sees first moments must tell them apart).

How D sees the batches (`d_batch`): `split`, real and fake as two calls, each normalized by its own
batch moments; `joint`, one call on their concatenation. The held-out score is measured as D trains
(training mode, the batches made as in training: split, each held-out batch alone; joint, real and
fake together), which is what a G would face, and in inference mode (running averages, each sample
alone). The accuracy is the mean of the share of real samples called real and of fakes called fake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbngan.config import D_BATCHES, ConfigError, DataConfig, NetworkConfig, data_kind
from jaxbngan.models import Network, PyTree, make_network
from jaxbngan.strategies import bce

FAKES = ("gaussian", "diagonal-gaussian", "phase", "shift")
CHANCE = 0.5


@dataclass(frozen=True)
class ProbeConfig:
    """One probe: the data, the fakes, D and how it sees its batches, and the training budget."""

    data: DataConfig = field(default_factory=lambda: DataConfig(name="ring8", size=4096))
    fakes: str = "gaussian"  # one of FAKES
    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(norms=("batch", "batch")))
    d_batch: str = "split"  # one of D_BATCHES
    steps: int = 1000
    log_every: int = 100
    batch_size: int = 256
    heldout: int = 1024  # population samples kept out of training for the score: a multiple of batch_size
    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    shift: float = 3.0  # `shift` fakes: how far, in standard deviations of the data per feature

    @property
    def logs(self) -> int:
        """How many times a seed is scored: after every `log_every` steps."""
        return self.steps // self.log_every


class ProbeResult(NamedTuple):
    """Held-out accuracy per log, (seeds, logs) when vmapped: in training mode and in inference mode."""

    batch_accuracy: jax.Array  # BN by the batches' own moments, the batches made as in training
    running_accuracy: jax.Array  # BN by the running averages, each sample alone


def validate_probe(config: ProbeConfig, population_shape: tuple[int, ...]) -> None:
    """Raise ConfigError naming the first setting that cannot describe a probe of this population."""
    kind = data_kind(population_shape)
    checks = (
        (config.fakes in FAKES, f"fakes: {config.fakes!r} not in {FAKES}"),
        (config.fakes != "phase" or kind == "images", "fakes 'phase' randomizes Fourier phases of images only"),
        (config.d_batch in D_BATCHES, f"d_batch: {config.d_batch!r} not in {D_BATCHES}"),
        (
            config.network.architecture == ("mlp" if kind == "points" else "dcgan"),
            f"network.architecture {config.network.architecture!r} cannot read {kind}",
        ),
        (len(config.network.norms) == len(config.network.layers), "network.norms needs one entry per layer"),
        (set(config.network.norms) <= {"none", "batch"}, "network.norms: the probe compares 'none' and 'batch'"),
        (config.batch_size >= 2, f"batch_size must be at least 2, got {config.batch_size}"),
        (config.steps > 0 and config.log_every > 0, "steps and log_every must be positive"),
        (config.steps % config.log_every == 0, f"steps ({config.steps}) must be a multiple of log_every"),
        (
            config.heldout > 0 and config.heldout % config.batch_size == 0,
            f"heldout ({config.heldout}) must be a positive multiple of batch_size ({config.batch_size})",
        ),
        (
            population_shape[0] - config.heldout >= config.batch_size,
            f"data.size ({population_shape[0]}) leaves fewer than batch_size samples for training after heldout",
        ),
    )
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def gaussian_factor(samples: jax.Array, full: bool) -> tuple[jax.Array, jax.Array]:
    """Mean (features,) and a factor L, (features, features), with L L^T the samples' covariance
    (biased, as BN's), or its diagonal when not `full`; samples are flattened to (n, features)."""
    flat = samples.reshape(samples.shape[0], -1)
    mean = jnp.mean(flat, axis=0)
    centered = flat - mean[None, :]
    covariance = centered.T @ centered / flat.shape[0]
    if not full:
        return mean, jnp.diag(jnp.sqrt(jnp.diag(covariance)))
    # Pixels that never vary (a digit's corners) make the covariance singular: eigh, not cholesky.
    values, vectors = jnp.linalg.eigh(covariance)
    return mean, vectors * jnp.sqrt(jnp.clip(values, 0.0))[None, :]


def phase_randomize(key: jax.Array, images: jax.Array) -> jax.Array:
    """Images (n, H, W, C) with random Fourier phases added, one draw per image shared by its channels.

    The phases are those of white noise's spectrum (Hermitian, so the result is real) with the DC
    phase set to 0: each image keeps its amplitude spectrum, hence its mean and pixel variance.
    """
    n, height, width, _ = images.shape
    noise_phase = jnp.angle(jnp.fft.fft2(jax.random.normal(key, (n, height, width))))
    noise_phase = noise_phase.at[:, 0, 0].set(0.0)
    spectrum = jnp.fft.fft2(images, axes=(1, 2)) * jnp.exp(1j * noise_phase)[..., None]
    return jnp.real(jnp.fft.ifft2(spectrum, axes=(1, 2))).astype(images.dtype)


def make_fakes(config: ProbeConfig, train: jax.Array) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """`fakes(key, source)`: a fake batch shaped as `source`, a batch of real samples, by `config.fakes`.

    The Gaussians' moments are those of `train`, the training part of the population.
    """
    if config.fakes in ("gaussian", "diagonal-gaussian"):
        mean, factor = gaussian_factor(train, full=config.fakes == "gaussian")

        def gaussian(key: jax.Array, source: jax.Array) -> jax.Array:
            z = jax.random.normal(key, (source.shape[0], mean.shape[0]))
            return (mean[None, :] + z @ factor.T).reshape(source.shape)

        return gaussian
    if config.fakes == "phase":
        return phase_randomize
    step = config.shift * jnp.std(train.reshape(-1, train.shape[-1]), axis=0)  # per feature (channel)

    def shifted(key: jax.Array, source: jax.Array) -> jax.Array:
        del key  # deterministic
        return source + step.reshape((1,) * (source.ndim - 1) + (-1,))

    return shifted


def d_logits(
    d: Network, params: PyTree, stats: PyTree, real: jax.Array, fake: jax.Array, d_batch: str
) -> tuple[jax.Array, jax.Array, PyTree]:
    """D's logits on `real` and `fake` in training mode, as `d_batch` makes the batches, and the updated stats."""
    if d_batch == "split":
        logits_real, stats = d.apply(params, stats, real, stats="batch")
        logits_fake, stats = d.apply(params, stats, fake, stats="batch")
        return logits_real, logits_fake, stats
    logits, stats = d.apply(params, stats, jnp.concatenate([real, fake]), stats="batch")
    return logits[: real.shape[0]], logits[real.shape[0] :], stats


def accuracy(logits_real: jax.Array, logits_fake: jax.Array) -> jax.Array:
    """The mean of the share of reals called real (logit > 0) and the share of fakes called fake."""
    return 0.5 * (jnp.mean(logits_real > 0) + jnp.mean(logits_fake <= 0))


def make_probe(config: ProbeConfig, population: jax.Array) -> Callable[[jax.Array], ProbeResult]:
    """Set up the probe of `config` on `population`; return `probe(keys)`, jitted, over a (seeds,) key array.

    The population's first `heldout` samples are scored, never trained on; its order is random
    (`jaxbngan.data`), so they are a random subsample.
    """
    validate_probe(config, population.shape)
    heldout, train = population[: config.heldout], population[config.heldout :]
    fakes = make_fakes(config, train)
    d = make_network(config.network, 1)
    optimizer = optax.adam(config.learning_rate, config.b1, config.b2)
    batches = config.heldout // config.batch_size
    eval_real = heldout.reshape(batches, config.batch_size, *heldout.shape[1:])

    def d_loss(params, stats, real, fake):
        logits_real, logits_fake, stats = d_logits(d, params, stats, real, fake, config.d_batch)
        return 0.5 * (bce(logits_real, 1.0) + bce(logits_fake, 0.0)), stats

    def train_step(carry, key):
        params, stats, opt_state = carry
        k_real, k_source, k_fake = jax.random.split(key, 3)
        real = jax.random.choice(k_real, train, (config.batch_size,), replace=False)
        source = jax.random.choice(k_source, train, (config.batch_size,), replace=False)
        fake = fakes(k_fake, source)
        (_, stats), grads = jax.value_and_grad(d_loss, has_aux=True)(params, stats, real, fake)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), stats, opt_state), None

    def score(params, stats, eval_fake):
        def batch_pair(real, fake):  # the state a scoring call returns is dropped: scoring trains nothing
            logits_real, logits_fake, _ = d_logits(d, params, stats, real, fake, config.d_batch)
            return accuracy(logits_real, logits_fake)

        in_batches = jnp.mean(jax.vmap(batch_pair)(eval_real, eval_fake))
        running_real, _ = d.apply(params, stats, heldout, stats="running")
        running_fake, _ = d.apply(params, stats, eval_fake.reshape(heldout.shape), stats="running")
        return in_batches, accuracy(running_real, running_fake)

    def run(key: jax.Array) -> ProbeResult:
        k_init, k_eval, k_source, k_train = jax.random.split(key, 4)
        # Held-out fakes: from held-out reals other than the ones they are scored beside (another order).
        source = jax.random.permutation(k_source, heldout)
        eval_fake = fakes(k_eval, source).reshape(eval_real.shape)
        params, stats = d.init(k_init, eval_real[0])
        carry = (params, stats, optimizer.init(params))

        def log_chunk(carry, chunk_key):
            carry, _ = jax.lax.scan(train_step, carry, jax.random.split(chunk_key, config.log_every))
            return carry, score(carry[0], carry[1], eval_fake)

        _, (in_batches, running) = jax.lax.scan(log_chunk, carry, jax.random.split(k_train, config.logs))
        return ProbeResult(in_batches, running)

    return jax.jit(jax.vmap(run))


def seed_keys(seed: int, seeds: int) -> jax.Array:
    """The (seeds,) keys of a probe: every variant trains from the same keys, so seeds pair across variants."""
    return jax.random.split(jax.random.key(seed), seeds)


def above_chance_share(accuracies: np.ndarray, margin: float) -> float:
    """The share of seeds whose held-out accuracy is at least CHANCE + margin."""
    return float(np.mean(np.asarray(accuracies) >= CHANCE + margin))


def with_norms(network: NetworkConfig, norms: tuple[str, ...]) -> NetworkConfig:
    """`network` with its per-layer norms replaced (the probe's variants differ only there)."""
    return dataclasses.replace(network, norms=norms)
