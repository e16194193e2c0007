"""Each check of the reports holds by an identity of the step code, shown here from the step itself.

A check is a statement whose two sides are one computation: G's view of D is what D's own step
computes on the same fakes. Then G's reported loss equals D's loss on the fakes in D's step, and
D's loss, half of that plus half a non-negative loss on the reals, is at least half of G's: no
double win can appear. The strategies a check does not name are the negative control: there the
two losses differ, so the equality tested below could fail.
"""

import dataclasses
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxbngan import make_population, make_strategy
from jaxbngan.config import Config
from jaxbngan.presets import get_preset
from jaxbngan.reproduce import IMAGE_SECTIONS, SECTIONS, load_experiments

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def small(config: Config) -> Config:
    """`config` on a small population, with small conv nets for images."""
    if config.discriminator.architecture == "dcgan":
        g = dataclasses.replace(config.generator, channels=(8, 4))
        d = dataclasses.replace(config.discriminator, channels=(4, 8))
        data = dataclasses.replace(config.data, size=128)
        return dataclasses.replace(config, data=data, generator=g, discriminator=d, batch_size=16, noise_dim=8)
    size = 64
    return dataclasses.replace(
        config, data=dataclasses.replace(config.data, size=size), reference_size=min(config.reference_size, size)
    )


def checked_variants() -> dict[str, Config]:
    """Every variant a check of the 2-D or the image study names, with its config."""
    found = {}
    for experiment in load_experiments(EXPERIMENTS, (*SECTIONS, *IMAGE_SECTIONS)):
        configs = {v.name: v.config for v in experiment.variants}
        for check in experiment.checks:
            found |= {name: configs[name] for name in check.variants}
    return found


CHECKED = checked_variants()


def losses_over_steps(config: Config, steps: int = 3):
    """(G's reported loss, D's loss on the fakes in its own step, D's loss) at each of `steps` train steps."""
    strategy = make_strategy(config, make_population(config.data))
    step = jax.jit(strategy.train_step)
    state = strategy.init(jax.random.key(3))
    found = []
    for _ in range(steps):
        state, losses = step(state)
        found.append((float(losses.g_loss), float(losses.d_fake_loss), float(losses.d_loss)))
    return np.array(found)


def test_the_reports_declare_checks_on_points_and_images():
    assert {"joint-g-step", "moment-matching-all-split", "fix-standing", "dcgan-joint-g-step"} <= set(CHECKED)
    assert {"dcgan-standing", "dcgan-mm-all-split", "layer-norm-shift"} <= set(CHECKED)


def checked_params() -> list:
    """Every checked variant; past the first, the conv nets' checks run in the slow suite (same step code)."""
    images = sorted(name for name, config in CHECKED.items() if config.discriminator.architecture == "dcgan")
    slow = set(images[1:])
    return [pytest.param(name, marks=pytest.mark.slow) if name in slow else name for name in sorted(CHECKED)]


@pytest.mark.parametrize("name", checked_params())
def test_a_checked_variant_gives_g_the_loss_d_computes_on_the_same_fakes(name):
    config = small(CHECKED[name])
    g_loss, d_fake_loss, d_loss = losses_over_steps(config).T
    if config.strategy.standing_stats:
        # Standing statistics reach D's own view through the running-average formula: the same moments
        # in another order of operations, equal to float32 rounding rather than bit for bit.
        np.testing.assert_allclose(g_loss, d_fake_loss, rtol=1e-6, atol=0)
    else:
        np.testing.assert_array_equal(g_loss, d_fake_loss)  # one computation, bit for bit
    assert np.all(d_loss >= 0.5 * g_loss * (1 - 1e-6))  # hence never a double win


@pytest.mark.parametrize("name", ["joint", "running", "fix", "spectral-norm"])
def test_where_g_sees_d_another_way_the_two_losses_differ(name):
    g_loss, d_fake_loss, _ = losses_over_steps(small(get_preset(name).config)).T
    assert np.all(g_loss != d_fake_loss)
