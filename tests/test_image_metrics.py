"""Image metrics: closed forms of KID and the Frechet distance, hand-computed class scores, floors."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan import image_metrics as im
from jaxbngan.classifier import ClassifierConfig, train_classifier
from jaxbngan.config import ConfigError

F32_EPS = float(np.finfo(np.float32).eps)


def toy_images(key, n, size=8):
    """Two classes of 8x8 images in [-1, 1]: a bright left or right half, plus noise."""
    k_class, k_noise = jax.random.split(key)
    labels = jax.random.bernoulli(k_class, 0.5, (n,)).astype(jnp.int32)
    left = (jnp.arange(size) < size // 2).astype(jnp.float32)
    pattern = jnp.where(labels[:, None] == 1, left[None, :], 1.0 - left[None, :])  # (n, size)
    images = jnp.broadcast_to(pattern[:, None, :, None], (n, size, size, 1))
    images = jnp.clip(2 * images - 1 + 0.3 * jax.random.normal(k_noise, images.shape), -1.0, 1.0)
    return images, np.asarray(labels)


def correlated_gaussian(key, n, d):
    k_mix, k_z = jax.random.split(key)
    mixing = jnp.eye(d) + 0.3 * jax.random.normal(k_mix, (d, d))
    return jax.random.normal(k_z, (n, d)) @ mixing + 1.0


def test_kid_matches_a_hand_computed_value():
    a = jnp.array([[0.0], [1.0]])
    b = jnp.array([[0.0], [2.0]])
    # k(x, y) = (x y + 1)^3: within a the one off-diagonal pair gives 1, within b 1; across a and b
    # the pairs give 1, 1, 1 and 27 (mean 7.5): 1 + 1 - 2 * 7.5
    assert float(im.kid(a, b)) == -13.0


def test_kid_is_symmetric_and_near_zero_between_samples_of_one_distribution():
    real = correlated_gaussian(jax.random.key(0), 1000, 16)
    half_a, half_b = real[:500], real[500:]
    noise = jax.random.uniform(jax.random.key(1), (500, 16), minval=-3.0, maxval=5.0)
    same, different = float(im.kid(half_a, half_b)), float(im.kid(half_a, noise))
    assert different > 0
    assert abs(same) < 0.05 * different
    # kid(b, a) sums the same three terms, the cross term over the transposed kernel matrix: only the
    # summation order differs, float32 rounding of a 250 000-term sum of kernel values (mean below)
    cross = float(jnp.mean(jnp.abs((half_a @ half_b.T / 16 + 1) ** 3)))
    assert abs(float(im.kid(half_b, half_a)) - same) <= 1e3 * F32_EPS * cross


def test_kid_standard_error_is_that_of_the_mean_over_disjoint_blocks():
    a = correlated_gaussian(jax.random.key(10), 402, 4)  # 100 per block, the last 2 left out
    b = correlated_gaussian(jax.random.key(11), 200, 4) + 0.5  # 50 per block
    blocks = [float(im.kid(a[i * 100 : (i + 1) * 100], b[i * 50 : (i + 1) * 50])) for i in range(4)]
    expected = np.std(blocks, ddof=1) / 2.0
    assert float(im.kid_standard_error(a, b)) == pytest.approx(expected, rel=1e-4)


def test_frechet_distance_closed_forms():
    a = correlated_gaussian(jax.random.key(2), 4000, 8)
    centered = a - jnp.mean(a, axis=0, keepdims=True)
    trace = float(jnp.sum(jnp.square(centered)) / (a.shape[0] - 1))  # tr(S_a)
    shift = jnp.linspace(-1.0, 1.0, 8)[None, :]
    shift_sq = float(jnp.sum(jnp.square(shift)))
    # float32: eigenvalue errors of order eps * d * |S|^2 enter the square root's sum; 1e-4 relative
    # to the traces involved leaves two orders of magnitude on top of that
    scale = trace + shift_sq
    self_distance = float(im.frechet_distance(a, a))
    assert -1e-4 * scale <= self_distance <= 1e-4 * scale
    assert float(im.frechet_distance(a, a + shift)) == pytest.approx(shift_sq, abs=1e-4 * scale)
    # b = 2 a: S_b = 4 S_a, so tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) = tr(S_a), and
    # |mu_a - mu_b|^2 = |mu_a|^2
    mean_sq = float(jnp.sum(jnp.square(jnp.mean(a, axis=0))))
    expected = mean_sq + trace
    assert float(im.frechet_distance(a, 2 * a)) == pytest.approx(expected, rel=1e-4)


def test_frechet_distance_of_non_commuting_covariances_in_two_dimensions():
    a = correlated_gaussian(jax.random.key(8), 3000, 2)
    b = correlated_gaussian(jax.random.key(9), 3000, 2) * jnp.array([[3.0, 0.5]])
    mean_a, mean_b = np.mean(np.asarray(a, np.float64), 0), np.mean(np.asarray(b, np.float64), 0)
    cov_a, cov_b = np.cov(np.asarray(a, np.float64).T), np.cov(np.asarray(b, np.float64).T)
    assert np.abs(cov_a @ cov_b - cov_b @ cov_a).max() > 0.1  # the covariances do not commute
    # a 2x2 positive semi-definite M has tr(M^1/2) = sqrt(tr M + 2 sqrt(det M)); here
    # M = S_a^1/2 S_b S_a^1/2, so tr M = tr(S_a S_b) and det M = det S_a det S_b
    trace_sqrt = np.sqrt(np.trace(cov_a @ cov_b) + 2 * np.sqrt(np.linalg.det(cov_a) * np.linalg.det(cov_b)))
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    assert float(im.frechet_distance(a, b)) == pytest.approx(expected, rel=1e-4)
    assert float(im.frechet_distance(b, a)) == pytest.approx(expected, rel=1e-4)


def test_class_scores_of_hand_made_predictions():
    data_hist = im.label_histogram(np.repeat(np.arange(4), 5), 4)
    np.testing.assert_array_equal(data_hist, np.full(4, 0.25, np.float32))
    predicted = np.repeat(np.arange(4), [11, 4, 1, 0])  # of 16 fakes; the fair share is 4 each
    hist = im.class_histogram(jax.nn.one_hot(predicted, 4))
    np.testing.assert_array_equal(hist, np.array([11, 4, 1, 0], np.float32) / 16)
    # covered: at least a quarter of the fair share (1 fake, reached exactly by class 2) -> classes 0, 1, 2
    assert float(im.class_coverage(hist, data_hist)) == 0.75
    expected_kl = 11 / 16 * np.log(11 / 4) + 1 / 16 * np.log(1 / 4)  # class 1 adds 0, class 3 adds 0 log 0 = 0
    assert float(im.class_kl(hist, data_hist)) == pytest.approx(expected_kl, rel=1e-6)
    # collapse onto one class of balanced data: KL = log k, coverage 1/k
    collapsed = im.class_histogram(jax.nn.one_hot(np.zeros(8, int), 4))
    assert float(im.class_kl(collapsed, data_hist)) == pytest.approx(np.log(4), rel=1e-6)
    assert float(im.class_coverage(collapsed, data_hist)) == 0.25


def test_label_histogram_smooths_an_absent_class_with_half_a_count():
    np.testing.assert_allclose(im.label_histogram(np.array([0, 0, 1]), 3), np.array([2.5, 1.5, 0.5]) / 4.5)


@pytest.fixture(scope="module")
def toy_classifier():
    images, labels = toy_images(jax.random.key(3), 256)
    config = ClassifierConfig(channels=(4, 8, 8), features=16, steps=50, batch=32)
    return images, labels, train_classifier(jax.random.key(4), images, labels, config)


def test_measure_traces_once_and_scores_shifted_and_shrunk_data(toy_classifier):
    images, labels, classifier = toy_classifier
    measure = im.make_image_metrics(images, labels, classifier, samples=images.shape[0])
    counted = jax.jit(chex.assert_max_traces(measure, n=1))
    shifted = counted(images + 0.25)
    shrunk = counted(0.5 * images)
    for value in (
        shifted.kid,
        shifted.kid_std_error,
        shifted.frechet,
        shifted.pixel_kid,
        shifted.class_kl,
        shifted.class_coverage,
    ):
        chex.assert_shape(value, ())
    chex.assert_shape(shifted.class_histogram, (2,))
    # m = n: the fakes are the whole population, so these two are exact up to float32 rounding
    assert float(shifted.intensity_offset) == pytest.approx(0.25, abs=1e-5)
    assert float(shrunk.pixel_std_ratio) == pytest.approx(0.5, rel=1e-5)
    assert float(shrunk.intensity_offset) == pytest.approx(-0.5 * float(jnp.mean(images)), abs=1e-5)
    # one program over seeds: vmap over a leading axis of fakes gives one value per seed
    per_seed = jax.jit(jax.vmap(measure))(jnp.stack([images + 0.25, 0.5 * images]))
    chex.assert_shape(per_seed.frechet, (2,))
    chex.assert_shape(per_seed.class_histogram, (2, 2))
    np.testing.assert_allclose(per_seed.pixel_std_ratio, [shifted.pixel_std_ratio, 0.5], rtol=1e-5)


def test_without_classifier_only_pixel_scores_are_reported():
    images, _ = toy_images(jax.random.key(5), 64)
    scores = jax.jit(im.make_image_metrics(images, samples=32))(images[::-1])
    assert np.isfinite(float(scores.pixel_kid))
    assert all(
        np.isnan(float(v))
        for v in (scores.kid, scores.kid_std_error, scores.frechet, scores.class_coverage, scores.class_kl)
    )
    chex.assert_shape(scores.class_histogram, (0,))


def test_noise_floor_is_far_below_noise(toy_classifier):
    images, labels, classifier = toy_classifier
    floor, m = im.noise_floor(images, labels, classifier, samples=512)
    assert m == images.shape[0] // 2
    noise = jax.random.uniform(jax.random.key(6), (m, *images.shape[1:]), minval=-1.0, maxval=1.0)
    measure = im.make_image_metrics(images, labels, classifier, samples=m)
    against_noise = jax.jit(measure)(noise)
    assert abs(float(floor.pixel_kid)) < 0.05 * float(against_noise.pixel_kid)
    assert abs(float(floor.kid)) < 0.05 * float(against_noise.kid)
    assert 0 < float(floor.frechet) < 0.2 * float(against_noise.frechet)


def test_too_few_fakes_is_a_config_error():
    images, _ = toy_images(jax.random.key(7), 64)
    with pytest.raises(ConfigError, match="at least 32 fakes"):
        im.make_image_metrics(images, samples=32)(images[:16])


def test_classifier_that_does_not_fit_the_data_is_a_config_error(toy_classifier):
    images, labels, classifier = toy_classifier
    with pytest.raises(ConfigError, match="classifier takes images"):
        im.make_image_metrics(jnp.zeros((64, 16, 16, 1)), None, classifier)
    with pytest.raises(ConfigError, match="labels in 0..1"):
        im.make_image_metrics(images, labels + 1, classifier)
    with pytest.raises(ConfigError, match="labels in 0..1"):
        im.make_image_metrics(images, labels * 0.5, classifier)
