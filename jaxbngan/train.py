"""Whole runs as one XLA program: `scan` over steps, metrics every `log_every`, `vmap` over seeds.

    train = make_train(config)
    result = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(0), 16))
    result.history.g_loss  # (seeds, logs)

The same pieces drive chunked runs (progress, checkpoints): `make_segments(config, k)` advances a
state by `k` logged segments of `log_every` steps and returns their metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxbngan.classifier import Classifier
from jaxbngan.config import Config
from jaxbngan.data import labelled_population, mixture_modes
from jaxbngan.metrics import Metrics, make_evaluate, make_sample_fakes
from jaxbngan.strategies import Strategy, TrainState, make_strategy


class TrainResult(NamedTuple):
    """The outcome of one seed."""

    state: TrainState
    history: Metrics  # each field with a leading (logs,) axis
    samples: jax.Array  # (batch, d) fakes from the final G


class Run(NamedTuple):
    """The pure pieces of a run, for drivers that need more than `make_train`."""

    strategy: Strategy
    population: jax.Array
    segments: Callable[[TrainState, int], tuple[TrainState, Metrics]]
    sample_fakes: Callable[[TrainState], jax.Array]


def make_run(
    config: Config,
    population: jax.Array | None = None,
    *,
    classifier: Classifier | None = None,
    unroll: int = 1,
) -> Run:
    """Resolve the population and build the strategy and segment runner of `config`; no disk I/O.

    `population` may be any (n, d) points or (n, H, W, C) images in [-1, 1]; by default it is made
    from `config.data`, with its modes or labels. `classifier` scores image runs (KID, Frechet
    distance, class KL): the caller loads or trains it, `classifier.classifier_for(config.data)`
    for a labelled named data set; without one those scores are NaN. `unroll` steps run per
    iteration of the step scan (`tuning.scan_unroll`); the results agree up to floating-point rounding.
    """
    config.validate()
    modes, labels = None, None
    if population is None:  # a named data set: its modes, or its labels
        population, labels = labelled_population(config.data)
        modes = mixture_modes(config.data)
    population = jnp.asarray(population, dtype=jnp.float32)
    strategy = make_strategy(config, population)
    evaluate = make_evaluate(config, population, strategy, modes, labels, classifier)

    def segment(state: TrainState, _) -> tuple[TrainState, Metrics]:
        state, losses = jax.lax.scan(
            lambda s, _: strategy.train_step(s), state, None, length=config.log_every, unroll=unroll
        )
        last = jax.tree.map(lambda x: x[-1], losses)
        return state, evaluate(state, last)

    def segments(state: TrainState, count: int) -> tuple[TrainState, Metrics]:
        """Advance `count` segments of `log_every` steps; metrics stacked on a (count,) axis."""
        return jax.lax.scan(segment, state, None, length=count)

    return Run(strategy, population, segments, make_sample_fakes(strategy))


def make_train(
    config: Config, population: jax.Array | None = None, *, classifier: Classifier | None = None
) -> Callable[[jax.Array], TrainResult]:
    """Return the pure `train(key) -> TrainResult` of one seed; vmap it over keys for many (`make_run`'s arguments)."""
    run = make_run(config, population, classifier=classifier)
    logs = config.steps // config.log_every

    def train(key: jax.Array) -> TrainResult:
        state, history = run.segments(run.strategy.init(key), logs)
        return TrainResult(state, history, run.sample_fakes(state))

    return train


def seed_keys(seed: int, count: int, first: int = 0) -> jax.Array:
    """`count` independent training keys derived from one integer seed: seeds `first` to `first + count - 1`.

    Seed i is the i-th key split from `seed` whatever the count, so a run of seeds 12..19 trains the
    same keys as rows 12..19 of a 20-seed run.
    """
    return jax.random.split(jax.random.key(seed), first + count)[first:]
