"""Noise floors of the image metrics on scikit-learn's 8x8 digits, beside hand-made bad "fakes".

    python benchmarks/image_metric_floors.py [--splits 5] [--samples 512] [--cache-dir DIR]

Trains (or loads from the cache) the in-house digits classifier, scores one random half of the
digits against the other half for `--splits` random splits (the floor: mean and standard
deviation over splits), then scores fakes that are wrong in a known way against all digits, and
prints both as markdown tables. The README's "Image metrics" section quotes its output.
"""

from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxbngan.classifier import load_or_train
from jaxbngan.image_metrics import ImageMetrics, make_image_metrics, noise_floor

FIELDS = (
    "kid",
    "kid_std_error",
    "frechet",
    "pixel_kid",
    "class_coverage",
    "class_kl",
    "intensity_offset",
    "pixel_std_ratio",
)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as (1797, 8, 8, 1) float32 in [-1, 1] and their labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("image_metric_floors: needs scikit-learn (pip install scikit-learn)")
    data = load_digits()
    return (data.images / 8.0 - 1.0).astype(np.float32)[..., None], data.target


def row(name: str, values: list[str]) -> str:
    return "| " + " | ".join([name, *values]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    images, labels = digits()
    classifier = load_or_train(images, labels, cache_dir=args.cache_dir)
    print(f"classifier held-out accuracy: {classifier.accuracy:.4f}\n")

    floors = [
        noise_floor(images, labels, classifier, samples=args.samples, key=jax.random.key(s)) for s in range(args.splits)
    ]
    m = floors[0][1]
    print(row(f"half vs half, m={m}", list(FIELDS)))
    print(row("---", ["---"] * len(FIELDS)))
    stacked = {f: np.array([float(getattr(r, f)) for r, _ in floors]) for f in FIELDS}
    print(row(f"mean over {args.splits} splits", [f"{stacked[f].mean():.4g}" for f in FIELDS]))
    print(row("sd over splits", [f"{stacked[f].std(ddof=1):.2g}" for f in FIELDS]))

    measure = jax.jit(make_image_metrics(images, labels, classifier, samples=m))
    rng = np.random.default_rng(0)
    picks = rng.permutation(len(images))[:m]
    low_classes = images[labels < 5]
    fakes = {
        "uniform noise": jax.random.uniform(jax.random.key(1), (m, *images.shape[1:]), minval=-1.0, maxval=1.0),
        "digits 0-4 only": low_classes[rng.permutation(len(low_classes))[:m]],
        "digits + 0.2, clipped": jnp.clip(images[picks] + 0.2, -1.0, 1.0),
        "digits x 0.5": 0.5 * images[picks],
        "one digit repeated": jnp.repeat(images[:1], m, axis=0),
    }
    print()
    print(row(f"fakes vs all digits, m={m}", list(FIELDS)))
    print(row("---", ["---"] * len(FIELDS)))
    for name, batch in fakes.items():
        scores: ImageMetrics = measure(batch)
        print(row(name, [f"{float(getattr(scores, f)):.4g}" for f in FIELDS]))


if __name__ == "__main__":
    main()
