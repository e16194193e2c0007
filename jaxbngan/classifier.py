"""An in-house image classifier whose features and predictions score a generator's fakes.

No network is downloaded: a small convnet is trained once per labelled data set on a training
split, scored on a held-out split, and cached on disk. Its penultimate layer is the feature space of
the Frechet distance and KID in `image_metrics`, its predictions give the fakes' class histogram.

    Conv(c0, 3x3) -> ReLU -> Conv(c1, 3x3, stride 2) -> ReLU -> Conv(c2, 3x3, stride 2) -> ReLU  ("SAME")
    -> flatten -> Dense(features) -> ReLU   (the features, per sample: no batch norm anywhere)
    -> Dense(num_classes)                   (the logits)

Training is one jitted `lax.scan` over Adam steps on random minibatches of the training split; a
PRNG key fixes the split, the initialization and the minibatches. The cache file is named by a hash
of the images, labels, settings and seed, so a changed data set or setting trains a new classifier.
The cache directory is `cache_dir`, else `$JAXBNGAN_CACHE/classifiers`, else
`$XDG_CACHE_HOME/jaxbngan/classifiers`, else `~/.cache/jaxbngan/classifiers`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbngan.compile_cache import cache_root
from jaxbngan.config import ConfigError, DataConfig
from jaxbngan.conv import Conv
from jaxbngan.data import labelled_population
from jaxbngan.data.images import DIGITS

CLASSIFIER_IMAGES = 4096  # images of a procedural set that its classifier learns from
CACHE_FORMAT = 2  # part of the cache key: bump when the network or the file layout changes


@dataclass(frozen=True)
class ClassifierConfig:
    """Network size and training schedule of the in-house classifier."""

    channels: tuple[int, int, int] = (16, 32, 64)
    features: int = 64  # width of the penultimate (feature) layer
    steps: int = 600
    batch: int = 128
    learning_rate: float = 2e-3
    holdout: float = 0.2  # share of the labelled images kept out of training to score accuracy


class _ConvNet(nn.Module):
    """3x3 "SAME" convolutions of `jaxbngan.conv` (patches times a dense kernel: fast inside `lax.scan`
    on XLA:CPU, where the native convolution's gradient ran about 40 times slower)."""

    channels: tuple[int, int, int]
    features: int
    num_classes: int

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:  # (n, H, W, C) -> (n, f), (n, k)
        for i, width in enumerate(self.channels):
            stride = 1 if i == 0 else 2
            x = nn.relu(Conv(width, (3, 3), (stride, stride))(x))
        feats = nn.relu(nn.Dense(self.features)(x.reshape(x.shape[0], -1)))
        return feats, nn.Dense(self.num_classes)(feats)


class Classifier(NamedTuple):
    """A trained classifier: parameters, held-out accuracy, and the settings that define its network.

    `apply`, `features` and `logits` are pure in `params`; inside jit, close over the Classifier and
    pass `params` (or `classifier.params`) explicitly.
    """

    params: Any
    num_classes: int
    accuracy: float  # on the held-out split
    config: ClassifierConfig
    image_shape: tuple[int, int, int]  # (H, W, C) of the images it was trained on

    def apply(self, params: Any, images: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(features (n, f), logits (n, k)) of images (n, H, W, C)."""
        return _network(self.config, self.num_classes).apply({"params": params}, images)

    def features(self, params: Any, images: jax.Array) -> jax.Array:
        """Penultimate-layer features (n, f) of images (n, H, W, C)."""
        return self.apply(params, images)[0]

    def logits(self, params: Any, images: jax.Array) -> jax.Array:
        """Class logits (n, k) of images (n, H, W, C)."""
        return self.apply(params, images)[1]


def _network(config: ClassifierConfig, num_classes: int) -> _ConvNet:
    return _ConvNet(channels=config.channels, features=config.features, num_classes=num_classes)


def check_labelled(images: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate labelled images: (float32 (n, H, W, C), int32 (n,), number of classes) or ConfigError."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 4:
        raise ConfigError(f"classifier images must be (n, height, width, channels); got shape {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ConfigError(f"classifier labels must be ({images.shape[0]},), one per image; got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.size == 0 or labels.min() < 0:
        raise ConfigError("classifier labels must be non-negative integers")
    if not np.all(np.isfinite(images)):
        raise ConfigError("classifier images contain NaN or infinite values")
    num_classes = int(labels.max()) + 1
    if num_classes < 2:
        raise ConfigError("a classifier needs at least 2 classes in the labels")
    return images.astype(np.float32), labels.astype(np.int32), num_classes


def _split(key: jax.Array, n: int, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    n_test = int(round(n * holdout))
    if n_test < 1 or n - n_test < 1:
        raise ConfigError(f"cannot hold out {holdout} of {n} images and still train on some")
    order = np.asarray(jax.random.permutation(key, n))
    return order[n_test:], order[:n_test]


@functools.partial(jax.jit, static_argnames=("config", "num_classes"))
def fit(key: jax.Array, images: jax.Array, labels: jax.Array, config: ClassifierConfig, num_classes: int) -> Any:
    """Parameters after `config.steps` Adam steps on random minibatches of images (n, H, W, C)."""
    net = _network(config, num_classes)
    optimizer = optax.adam(config.learning_rate)
    batch = min(config.batch, images.shape[0])

    def loss_fn(params, x, y):
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(net.apply({"params": params}, x)[1], y))

    def step(carry, key):
        params, opt_state = carry
        idx = jax.random.randint(key, (batch,), 0, images.shape[0])
        grads = jax.grad(loss_fn)(params, images[idx], labels[idx])
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    k_init, k_batches = jax.random.split(key)
    params = net.init(k_init, images[:1])["params"]
    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), jax.random.split(k_batches, config.steps))
    return params


def train_classifier(
    key: jax.Array, images: Any, labels: Any, config: ClassifierConfig = ClassifierConfig()
) -> Classifier:
    """Train on a random (1 - holdout) split of labelled images (n, H, W, C); score the rest."""
    images, labels, num_classes = check_labelled(images, labels)
    k_split, k_fit = jax.random.split(key)
    train_idx, test_idx = _split(k_split, images.shape[0], config.holdout)
    start = time.perf_counter()
    params = fit(k_fit, images[train_idx], labels[train_idx], config, num_classes)
    accuracy = float(np.mean(np.asarray(_predict(params, images[test_idx], config, num_classes)) == labels[test_idx]))
    print(
        f"classifier: held-out accuracy {accuracy:.3f} on {len(test_idx)} images "
        f"({config.steps} steps on {len(train_idx)}, {time.perf_counter() - start:.1f} s)",
        file=sys.stderr,
    )
    return Classifier(params, num_classes, accuracy, config, images.shape[1:])


@functools.partial(jax.jit, static_argnames=("config", "num_classes"))
def _predict(params: Any, images: jax.Array, config: ClassifierConfig, num_classes: int) -> jax.Array:
    return jnp.argmax(_network(config, num_classes).apply({"params": params}, images)[1], axis=1)  # (n,)


def default_cache_dir() -> Path:
    """Where classifiers are cached when no directory is given (see the module docstring)."""
    return cache_root() / "classifiers"


def cache_key(images: np.ndarray, labels: np.ndarray, config: ClassifierConfig, key_seed: int) -> str:
    """Hex digest naming the cached classifier of these images, labels, settings and seed."""
    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(images, np.float32), np.ascontiguousarray(labels, np.int32)):
        digest.update(repr(part.shape).encode())
        digest.update(part.tobytes())
    digest.update(repr((CACHE_FORMAT, dataclasses.astuple(config), key_seed)).encode())
    return digest.hexdigest()[:32]


def load_or_train(
    images: Any,
    labels: Any,
    *,
    key_seed: int = 0,
    config: ClassifierConfig = ClassifierConfig(),
    cache_dir: str | os.PathLike | None = None,
) -> Classifier:
    """The cached classifier of these labelled images, training and caching it on first use."""
    images, labels, num_classes = check_labelled(images, labels)
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = path / f"{cache_key(images, labels, config, key_seed)}.npz"
    cached = _load(path, config, num_classes, images.shape[1:])
    if cached is not None:
        return cached
    classifier = train_classifier(jax.random.key(key_seed), images, labels, config)
    try:
        _save(path, classifier)
    except OSError as error:
        print(f"classifier: not cached ({error})", file=sys.stderr)
    return classifier


def _save(path: Path, classifier: Classifier) -> None:
    """Write the parameters and held-out accuracy to `path` atomically (temp file, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"leaf{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(classifier.params))}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, accuracy=np.float64(classifier.accuracy), **arrays)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _load(path: Path, config: ClassifierConfig, num_classes: int, image_shape: tuple[int, ...]) -> Classifier | None:
    """The classifier stored at `path`, or None when it is missing or does not fit the network."""
    template = jax.eval_shape(
        lambda: _network(config, num_classes).init(jax.random.key(0), jnp.zeros((1, *image_shape)))["params"]
    )
    shapes, treedef = jax.tree.flatten(template)
    try:
        with np.load(path) as stored:
            leaves = [stored[f"leaf{i}"] for i in range(len(shapes))]
            accuracy = float(stored["accuracy"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if any(leaf.shape != s.shape or leaf.dtype != s.dtype for leaf, s in zip(leaves, shapes, strict=True)):
        return None
    params = jax.tree.unflatten(treedef, [jnp.asarray(leaf) for leaf in leaves])
    return Classifier(params, num_classes, accuracy, config, image_shape)


def classifier_for(data: DataConfig) -> Classifier | None:
    """The cached classifier of a labelled named data set, trained on its canonical copy; None without labels.

    The copy ignores the run's `data.size` and `data.seed`, so every run on the same data set (and
    parameters) is scored by the same network: all of `digits`, or `CLASSIFIER_IMAGES` images of a
    procedural set, made from seed 0.
    """

    size = DIGITS if data.name == "digits" else CLASSIFIER_IMAGES
    canonical = dataclasses.replace(data, size=size, seed=0)
    images, labels = labelled_population(canonical)
    if labels is None:
        return None
    return load_or_train(np.asarray(images), labels)
