"""Scores of a generator's fake images against the real ones, all pure and jittable, per seed.

No downloaded network: features and class predictions come from the in-house classifier
(`jaxbngan.classifier`), trained on the data's own labels. Every number compares `m` fakes with a
fixed random sample of `m` real images (`m = min(samples, n)`); KID and the Frechet distance
depend on the sample count, so compare values only at the same `m`.

    kid              unbiased MMD^2 between classifier features of fakes and reals, cubic kernel
                     k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018). 0 in expectation when the
                     fakes are distributed like the data; can be slightly negative.
    kid_std_error    standard error of the mean of KID over 4 disjoint blocks of m/4 fakes and
                     reals: a rough, conservative error bar for `kid` within one seed.
    frechet          Frechet distance between Gaussians fitted to the same features ("FID" with an
                     in-house network): |mu_f - mu_r|^2 + tr(S_f + S_r - 2 (S_r^1/2 S_f S_r^1/2)^1/2).
                     Biased upward at finite m: two samples of the data give a positive value.
                     Both use the penultimate features divided by one constant, their root mean
                     square over the real reference sample, so that features are of order 1 as the
                     kernel assumes and the numbers do not depend on the classifier's feature scale.
    pixel_kid        KID on the flattened pixels; the only distribution score for unlabelled data.
    class_histogram  (k,) share of fakes the classifier assigns to each class (argmax of its logits).
    class_coverage   share of classes that receive at least a quarter of their fair share of fakes;
                     the fair share of class c is m times the data's share of c.
    class_kl         KL(fakes' class histogram || data's label histogram), in nats. The data's
                     histogram is smoothed with half a count per class (so an absent class cannot
                     make it infinite); the fakes' is not (0 log 0 = 0). A generator stuck in one
                     class c scores -log p_data(c) (log 10 for balanced digits).
    intensity_offset mean pixel value of the fakes minus that of the data (over all pixels and
                     channels): the brightness analog of the point metrics' offset.
    pixel_std_ratio  root mean per-pixel variance across fakes over that across the data: 1 when
                     the fakes vary as much as the data, 0 when they are all the same image.

Without a classifier (unlabelled data) the classifier scores are NaN and the histogram is empty.

Noise floors: `noise_floor` scores one half of the real data against the other half with the same
code and the same `m`; a fake is indistinguishable from the data by a score when it reaches that
floor. Measured values are in the README section "Image metrics".

Numerics: in float32, covariances (ddof 1) are symmetrized before their eigendecompositions, and
eigenvalues below zero (rounding of positive semi-definite matrices; of order 1e-7 of the largest)
are clipped to zero before square roots. The Frechet distance itself is not clipped, so rounding
can leave it slightly below zero for identical inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import rel_entr

from jaxbngan.classifier import Classifier
from jaxbngan.config import ConfigError

COVERAGE_SHARE = 0.25  # a class is covered when it gets at least this share of its fair share
LABEL_PSEUDOCOUNT = 0.5  # added to every class count of the data's label histogram
KID_BLOCKS = 4  # disjoint blocks behind `kid_standard_error`


class ImageMetrics(NamedTuple):
    """Scores of one batch of fakes (add a leading axis per log and per seed); see module docstring."""

    kid: jax.Array
    kid_std_error: jax.Array
    frechet: jax.Array
    pixel_kid: jax.Array
    class_histogram: jax.Array  # (k,), or (0,) without a classifier
    class_coverage: jax.Array
    class_kl: jax.Array
    intensity_offset: jax.Array
    pixel_std_ratio: jax.Array


def _cubic_kernel(a: jax.Array, b: jax.Array) -> jax.Array:
    return (a @ b.T / a.shape[1] + 1.0) ** 3  # (n_a, n_b)


def _mean_off_diagonal(k: jax.Array) -> jax.Array:
    n = k.shape[0]
    return (jnp.sum(k) - jnp.sum(jnp.diagonal(k))) / (n * (n - 1))


def _kid_against(ref: jax.Array, ref_term: jax.Array, x: jax.Array) -> jax.Array:
    """KID of x against ref, given ref's own term `_mean_off_diagonal(_cubic_kernel(ref, ref))`."""
    return _mean_off_diagonal(_cubic_kernel(x, x)) + ref_term - 2 * jnp.mean(_cubic_kernel(x, ref))


def kid(feat_a: jax.Array, feat_b: jax.Array) -> jax.Array:
    """Unbiased MMD^2 between samples (n_a, d) and (n_b, d) with the kernel (x.y / d + 1)^3."""
    return _kid_against(feat_b, _mean_off_diagonal(_cubic_kernel(feat_b, feat_b)), feat_a)


def kid_standard_error(feat_a: jax.Array, feat_b: jax.Array, blocks: int = KID_BLOCKS) -> jax.Array:
    """Standard error of the mean KID over `blocks` disjoint block pairs (a's block i against b's).

    Each block holds n // blocks samples of each side (the rest is left out). The full-sample `kid`
    varies less than the mean of block estimates, so this overstates its error.
    """
    size_a, size_b = feat_a.shape[0] // blocks, feat_b.shape[0] // blocks
    if min(size_a, size_b) < 2:
        raise ConfigError(f"KID blocks need at least 2 samples each; got {size_a} and {size_b}")
    block_a = feat_a[: blocks * size_a].reshape(blocks, size_a, -1)
    block_b = feat_b[: blocks * size_b].reshape(blocks, size_b, -1)
    values = jax.vmap(kid)(block_a, block_b)  # (blocks,)
    return jnp.std(values, ddof=1) / jnp.sqrt(float(blocks))


def _symmetric_sqrt(c: jax.Array) -> jax.Array:
    w, v = jnp.linalg.eigh(0.5 * (c + c.T))
    return (v * jnp.sqrt(jnp.clip(w, 0.0))[None, :]) @ v.T


class _Gaussian(NamedTuple):
    mean: jax.Array  # (1, d)
    cov: jax.Array  # (d, d), ddof 1
    cov_sqrt: jax.Array  # (d, d) symmetric square root of cov


def _fit_gaussian(feat: jax.Array) -> _Gaussian:
    mean = jnp.mean(feat, axis=0, keepdims=True)
    centered = feat - mean
    cov = centered.T @ centered / (feat.shape[0] - 1)
    return _Gaussian(mean, cov, _symmetric_sqrt(cov))


def _frechet(ref: _Gaussian, feat: jax.Array) -> jax.Array:
    mean = jnp.mean(feat, axis=0, keepdims=True)
    centered = feat - mean
    cov = centered.T @ centered / (feat.shape[0] - 1)
    product = ref.cov_sqrt @ cov @ ref.cov_sqrt
    eig = jnp.linalg.eigvalsh(0.5 * (product + product.T))
    trace_sqrt = jnp.sum(jnp.sqrt(jnp.clip(eig, 0.0)))
    return jnp.sum(jnp.square(mean - ref.mean)) + jnp.trace(ref.cov) + jnp.trace(cov) - 2 * trace_sqrt


def frechet_distance(feat_a: jax.Array, feat_b: jax.Array) -> jax.Array:
    """Frechet distance between Gaussians fitted to samples (n_a, d) and (n_b, d)."""
    return _frechet(_fit_gaussian(feat_a), feat_b)


def class_histogram(logits: jax.Array) -> jax.Array:
    """(k,) share of samples whose largest logit (n, k) is each class."""
    return jnp.mean(jax.nn.one_hot(jnp.argmax(logits, axis=1), logits.shape[1], dtype=logits.dtype), axis=0)


def label_histogram(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(k,) share of each class among labels, with LABEL_PSEUDOCOUNT added to every count."""
    counts = np.bincount(np.asarray(labels), minlength=num_classes)[:num_classes] + LABEL_PSEUDOCOUNT
    return (counts / counts.sum()).astype(np.float32)


def class_coverage(hist: jax.Array, data_hist: jax.Array) -> jax.Array:
    """Share of classes whose share of fakes is at least COVERAGE_SHARE of their share of data."""
    return jnp.mean((hist >= COVERAGE_SHARE * data_hist).astype(hist.dtype))


def class_kl(hist: jax.Array, data_hist: jax.Array) -> jax.Array:
    """KL(hist || data_hist) in nats; data_hist must be positive (see `label_histogram`)."""
    return jnp.sum(rel_entr(hist, data_hist))


def make_image_metrics(
    population: jax.Array,
    labels: np.ndarray | None = None,
    classifier: Classifier | None = None,
    *,
    samples: int = 512,
    key: jax.Array | None = None,
) -> Callable[[jax.Array], ImageMetrics]:
    """Return pure `measure(fakes) -> ImageMetrics` scoring the first m fakes of (>= m, H, W, C).

    Real-side statistics are computed here once, on m = min(samples, n) images drawn without
    replacement by `key` (default key 0); the data's class histogram comes from all `labels`, or,
    without labels, from the classifier's predictions on those m images. Labels without a
    classifier are not used.
    """
    population = jnp.asarray(population, jnp.float32)
    if population.ndim != 4:
        raise ConfigError(f"image metrics need images (n, height, width, channels); got shape {population.shape}")
    n, image_shape = population.shape[0], population.shape[1:]
    m = min(samples, n)
    if m < 2:
        raise ConfigError(f"image metrics need at least 2 samples; got {m}")
    if classifier is not None and m < 2 * KID_BLOCKS:
        raise ConfigError(f"classifier scores need at least {2 * KID_BLOCKS} samples; got {m}")
    if classifier is not None and classifier.image_shape != image_shape:
        raise ConfigError(f"the classifier takes images {classifier.image_shape}; the data are {image_shape}")
    if classifier is not None and labels is not None:
        labels = np.asarray(labels)
        integer = np.issubdtype(labels.dtype, np.integer)
        if not integer or labels.shape != (n,) or labels.min() < 0 or labels.max() >= classifier.num_classes:
            raise ConfigError(f"image metrics need {n} labels in 0..{classifier.num_classes - 1}")
    key = jax.random.key(0) if key is None else key
    reference = population[jax.random.permutation(key, n)[:m]]  # (m, H, W, C)
    real_mean = jnp.mean(population)
    real_var = jnp.mean(jnp.var(population, axis=0))
    ref_pixels = reference.reshape(m, -1)
    ref_pixel_term = _mean_off_diagonal(_cubic_kernel(ref_pixels, ref_pixels))
    nan = jnp.array(jnp.nan, jnp.float32)

    if classifier is not None:
        params = classifier.params
        ref_feat, ref_logits = classifier.apply(params, reference)
        feature_scale = jnp.sqrt(jnp.mean(jnp.square(ref_feat)))
        ref_feat = ref_feat / feature_scale
        ref_feat_term = _mean_off_diagonal(_cubic_kernel(ref_feat, ref_feat))
        ref_gaussian = _fit_gaussian(ref_feat)
        data_labels = np.asarray(jnp.argmax(ref_logits, axis=1)) if labels is None else labels
        data_hist = jnp.asarray(label_histogram(data_labels, classifier.num_classes))

    def measure(fakes: jax.Array) -> ImageMetrics:
        if fakes.ndim != 4 or fakes.shape[0] < m or fakes.shape[1:] != image_shape:
            raise ConfigError(f"image metrics need at least {m} fakes of shape {image_shape}; got {fakes.shape}")
        fakes = fakes[:m].astype(jnp.float32)
        pixels = fakes.reshape(m, -1)
        pixel_kid = _kid_against(ref_pixels, ref_pixel_term, pixels)
        if classifier is None:
            feature_kid = kid_error = frechet = coverage = kl = nan
            hist = jnp.zeros((0,), jnp.float32)
        else:
            feat, logits = classifier.apply(params, fakes)
            feat = feat / feature_scale
            feature_kid = _kid_against(ref_feat, ref_feat_term, feat)
            kid_error = kid_standard_error(feat, ref_feat)
            frechet = _frechet(ref_gaussian, feat)
            hist = class_histogram(logits)
            coverage = class_coverage(hist, data_hist)
            kl = class_kl(hist, data_hist)
        return ImageMetrics(
            kid=feature_kid,
            kid_std_error=kid_error,
            frechet=frechet,
            pixel_kid=pixel_kid,
            class_histogram=hist,
            class_coverage=coverage,
            class_kl=kl,
            intensity_offset=jnp.mean(fakes) - real_mean,
            pixel_std_ratio=jnp.sqrt(jnp.mean(jnp.var(fakes, axis=0)) / real_var),
        )

    return measure


def noise_floor(
    population: jax.Array,
    labels: np.ndarray | None = None,
    classifier: Classifier | None = None,
    *,
    samples: int = 512,
    key: jax.Array | None = None,
) -> tuple[ImageMetrics, int]:
    """(scores of one random half of the data as fakes against the other half, sample count used).

    The count is min(samples, n // 2); below `samples` the floor is higher than at `samples`.
    """
    population = np.asarray(population, np.float32)
    n = population.shape[0]
    m = min(samples, n // 2)
    key = jax.random.key(0) if key is None else key
    k_split, k_ref = jax.random.split(key)
    order = np.asarray(jax.random.permutation(k_split, n))
    half_a, half_b = order[: n // 2], order[n // 2 :]
    labels_a = None if labels is None else np.asarray(labels)[half_a]
    measure = make_image_metrics(population[half_a], labels_a, classifier, samples=m, key=k_ref)
    return jax.jit(measure)(jnp.asarray(population[half_b][:m])), m
