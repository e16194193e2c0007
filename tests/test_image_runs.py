"""Whole image runs: metrics inside jit, vmap against separate runs, the driver's chunks and files."""

import dataclasses

import chex
import jax
import numpy as np
import pytest
from helpers import tiny_images

from jaxbngan import make_train, rundir, seed_keys
from jaxbngan.classifier import classifier_for
from jaxbngan.config import to_dict
from jaxbngan.data import make_population
from jaxbngan.sharding import seed_devices

pytest.importorskip("sklearn")  # digits

IMAGE_SCORES = ("kid", "frechet_distance", "pixel_kid", "class_kl", "mode_coverage")


@pytest.mark.parametrize(
    "preset",
    ["dcgan-split", pytest.param("dcgan-standing", marks=pytest.mark.slow)],  # dcgan-fix: the driver test
)
def test_image_runs_are_finite_and_scored_by_the_classifier(preset):
    config = tiny_images(preset)
    result = jax.jit(make_train(config, classifier=classifier_for(config.data)))(jax.random.key(0))
    history = result.history
    for name in ("g_loss", "d_loss", "offset", "std_ratio", "d_fake_loss_by_view", *IMAGE_SCORES):
        chex.assert_tree_all_finite(getattr(history, name))
    chex.assert_shape(history.offset, (2, 1))  # (logs, channels): the brightness offset
    assert bool(np.all(np.isnan(history.energy_distance)))  # a point metric, not computed for images
    assert bool(np.all(np.isnan(history.high_quality)))
    chex.assert_shape(result.samples, (16, 8, 8, 1))


@pytest.mark.slow
def test_vmapped_image_seeds_match_separate_runs():
    # As for points (tests/test_train.py): batched convolutions sum in another order, and Adam turns
    # roundoff in gradients that are zero up to it into small updates; a seed-mixing bug differs at order one.
    config = tiny_images("dcgan-split")
    keys = seed_keys(0, 2)
    together = jax.jit(jax.vmap(make_train(config)))(keys)
    train = jax.jit(make_train(config))
    for i in range(2):
        alone = train(keys[i])
        chex.assert_trees_all_close(together.history.g_loss[i], alone.history.g_loss, rtol=5e-2, atol=5e-2)
        chex.assert_trees_all_close(together.samples[i], alone.samples, rtol=5e-2, atol=5e-2)
    assert not np.allclose(together.samples[0], together.samples[1])


def test_the_driver_runs_image_seeds_in_chunks_and_writes_image_results(tmp_path, monkeypatch):
    from jaxbngan import driver, plots, seed_layout, train

    config = dataclasses.replace(tiny_images("dcgan-fix"), log_every=1)
    devices = seed_devices(seeds=2)
    layout = seed_layout.plan_layout(config, 2, devices, (8, 8, 1), chunk_steps=2)
    population = np.asarray(make_population(config.data))
    rundir.create(tmp_path, {"preset": "dcgan-fix", "seeds": 2, "seed": 0, "config": to_dict(config)}, population)
    real_make_run = train.make_run

    def counted_make_run(*args, **kwargs):
        run = real_make_run(*args, **kwargs)
        return run._replace(segments=chex.assert_max_traces(run.segments, n=1))

    monkeypatch.setattr(driver, "make_run", counted_make_run)
    assert driver.train(tmp_path, config, layout, devices, seed=0)
    results = rundir.load(tmp_path)
    chex.assert_shape(results.fakes, (2, 16, 8, 8, 1))
    chex.assert_shape(results.history.kid, (2, 4))
    figures = plots.draw_run(tmp_path, results)
    assert all(path.stat().st_size > 0 for path in figures)
