"""The in-house classifier: it learns the digits, and a cached one is reloaded without training."""

import chex
import jax
import numpy as np
import pytest

from jaxbngan import classifier as clf
from jaxbngan.config import ConfigError, DataConfig

SMALL = clf.ClassifierConfig(channels=(4, 8, 8), features=16, steps=5, batch=32)


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    images = (data.images / 8.0 - 1.0).astype(np.float32)[..., None]  # values 0..16 -> [-1, 1]
    return images, data.target


def test_digits_held_out_accuracy(digits):
    # The classifier that scores digit runs, trained once into the session's cache for every test that scores.
    images, labels = digits
    trained = clf.classifier_for(DataConfig(name="digits"))
    assert trained.accuracy >= 0.9
    feats, logits = trained.apply(trained.params, images[:7])
    chex.assert_shape(feats, (7, trained.config.features))
    chex.assert_shape(logits, (7, 10))
    # features are per sample (no batch statistics): one image alone gives the same features
    np.testing.assert_allclose(trained.features(trained.params, images[3:4]), feats[3:4], rtol=1e-5, atol=1e-6)


def test_cache_reloads_without_training(digits, tmp_path, monkeypatch):
    images, labels = digits[0][:200], digits[1][:200]
    first = clf.load_or_train(images, labels, config=SMALL, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f"{clf.cache_key(images, labels, SMALL, 0)}.npz"]

    def no_training(*args, **kwargs):
        raise AssertionError("trained although a cached classifier exists")

    monkeypatch.setattr(clf, "train_classifier", no_training)
    second = clf.load_or_train(images, labels, config=SMALL, cache_dir=tmp_path)
    chex.assert_trees_all_equal(second.params, first.params)
    assert (second.accuracy, second.num_classes) == (first.accuracy, first.num_classes)
    with pytest.raises(AssertionError, match="trained although"):  # other labels: another cache entry
        clf.load_or_train(images, (labels + 1) % 10, config=SMALL, cache_dir=tmp_path)


def test_corrupt_cache_file_is_retrained(digits, tmp_path):
    images, labels = digits[0][:200], digits[1][:200]
    path = tmp_path / f"{clf.cache_key(images, labels, SMALL, 0)}.npz"
    path.write_bytes(b"not an npz file")
    trained = clf.load_or_train(images, labels, config=SMALL, cache_dir=tmp_path)
    reloaded = clf.load_or_train(images, labels, config=SMALL, cache_dir=tmp_path)
    chex.assert_trees_all_equal(reloaded.params, trained.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left behind


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((10, 8, 8)), np.arange(10) % 2, "height, width, channels"),
        (np.zeros((10, 8, 8, 1)), np.arange(9) % 2, "one per image"),
        (np.zeros((10, 8, 8, 1)), np.zeros(10, int), "at least 2 classes"),
        (np.zeros((10, 8, 8, 1)), np.linspace(0, 1, 10), "non-negative integers"),
        (np.full((10, 8, 8, 1), np.nan), np.arange(10) % 2, "NaN"),
    ],
)
def test_bad_labelled_images_are_config_errors(images, labels, message):
    with pytest.raises(ConfigError, match=message):
        clf.train_classifier(jax.random.key(0), images, labels, SMALL)
