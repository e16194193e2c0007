"""The moment probe: shapes, fakes matched by construction, a D that must see a shift, and one that cannot."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan.config import ConfigError, DataConfig
from jaxbngan.data import make_population
from jaxbngan.models import make_network
from jaxbngan.probe import (
    ProbeConfig,
    accuracy,
    d_logits,
    gaussian_factor,
    make_fakes,
    make_probe,
    phase_randomize,
    seed_keys,
    with_norms,
)

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "moment_probe.py"
FIRST, ALL, NONE = ("batch", "none"), ("batch", "batch"), ("none", "none")


def points_probe(norms=NONE, d_batch="split", fakes="shift", steps=60, **fields) -> ProbeConfig:
    """A small ring8 probe: 512 points, 128 held out, batches of 64."""
    return ProbeConfig(
        data=DataConfig(name="ring8", size=512),
        fakes=fakes,
        network=with_norms(ProbeConfig().network, norms),
        d_batch=d_batch,
        steps=steps,
        log_every=steps // 2,
        batch_size=64,
        heldout=128,
        **fields,
    )


def digits(n: int = 32) -> jax.Array:
    return make_population(DataConfig(name="digits", size=n))


def test_result_shapes_are_seeds_by_logs():
    config = points_probe(steps=4)
    result = make_probe(config, make_population(config.data))(seed_keys(0, 3))
    chex.assert_shape([result.batch_accuracy, result.running_accuracy], (3, 2))
    chex.assert_tree_all_finite(result)


def test_image_probe_shapes():
    from jaxbngan.presets import images

    network = dataclasses.replace(images.split().discriminator, channels=(4, 8))
    config = ProbeConfig(
        data=DataConfig(name="digits", size=64), fakes="phase", network=network, steps=2, log_every=1,
        batch_size=16, heldout=32, learning_rate=2e-4, b1=0.5,
    )  # fmt: skip
    result = make_probe(config, make_population(config.data))(seed_keys(0, 2))
    chex.assert_shape([result.batch_accuracy, result.running_accuracy], (2, 2))


@pytest.mark.parametrize("full", [True, False])
def test_gaussian_fakes_have_the_data_moments_by_construction(full):
    samples = digits() if not full else make_population(DataConfig(name="ring8", size=256))
    mean, factor = gaussian_factor(samples, full=full)
    flat = np.asarray(samples, dtype=np.float64).reshape(samples.shape[0], -1)
    covariance = np.cov(flat, rowvar=False, bias=True)
    implied = np.asarray(factor, dtype=np.float64) @ np.asarray(factor, dtype=np.float64).T
    np.testing.assert_allclose(np.asarray(mean), flat.mean(axis=0), atol=1e-5)
    expected = covariance if full else np.diag(np.diag(covariance))
    np.testing.assert_allclose(implied, expected, atol=1e-4)


def test_gaussian_fakes_are_shaped_as_their_source():
    config = dataclasses.replace(points_probe(), fakes="diagonal-gaussian")
    fake = make_fakes(config, digits())(jax.random.key(0), digits(8))
    chex.assert_shape(fake, (8, 8, 8, 1))


def test_phase_randomization_keeps_each_images_amplitude_spectrum_mean_and_variance():
    images = digits()
    fake = phase_randomize(jax.random.key(1), images)
    chex.assert_equal_shape([fake, images])
    amplitude = lambda x: np.abs(np.fft.fft2(np.asarray(x, dtype=np.float64), axes=(1, 2)))  # noqa: E731
    np.testing.assert_allclose(amplitude(fake), amplitude(images), atol=1e-4)
    np.testing.assert_allclose(np.mean(fake, axis=(1, 2, 3)), np.mean(images, axis=(1, 2, 3)), atol=1e-5)
    np.testing.assert_allclose(np.var(fake, axis=(1, 2, 3)), np.var(images, axis=(1, 2, 3)), atol=1e-4)
    assert not np.allclose(fake, images, atol=0.1)  # the phases did change: the strokes moved


def test_phase_randomization_is_real_hermitian():
    """The imaginary part the inverse transform drops is rounding only: the random phases are Hermitian."""
    images = digits(4)
    n, h, w, _ = images.shape
    phase = jnp.angle(jnp.fft.fft2(jax.random.normal(jax.random.key(2), (n, h, w)))).at[:, 0, 0].set(0.0)
    spectrum = jnp.fft.fft2(images, axes=(1, 2)) * jnp.exp(1j * phase)[..., None]
    assert float(jnp.max(jnp.abs(jnp.imag(jnp.fft.ifft2(spectrum, axes=(1, 2)))))) < 1e-5


def _d_on_shift(norms, d_batch):
    """D's logits on a batch and on the same batch moved by 3 std, and the accuracy of calling the first real."""
    config = points_probe(norms)
    real = make_population(DataConfig(name="ring8", size=64))
    fake = make_fakes(config, real)(jax.random.key(0), real)
    d = make_network(config.network, 1)
    params, stats = d.init(jax.random.key(3), real)
    logits_real, logits_fake, _ = d_logits(d, params, stats, real, fake, d_batch)
    return logits_real, logits_fake, accuracy(logits_real, logits_fake)


def test_bn_first_layer_on_split_batches_cannot_see_a_shift():
    logits_real, logits_fake, score = _d_on_shift(FIRST, "split")
    np.testing.assert_allclose(logits_fake, logits_real, atol=1e-5)  # the shift is subtracted with the batch mean
    assert float(score) == 0.5


@pytest.mark.parametrize("norms, d_batch", [(NONE, "split"), (FIRST, "joint")])
def test_a_shift_changes_d_without_bn_or_on_joint_batches(norms, d_batch):
    logits_real, logits_fake, _ = _d_on_shift(norms, d_batch)
    assert not np.allclose(logits_fake, logits_real, atol=1e-3)


@pytest.mark.parametrize("norms, d_batch", [(NONE, "split"), (FIRST, "joint")])
def test_positive_control_d_learns_a_3_std_shift(norms, d_batch):
    config = points_probe(norms, d_batch)
    result = make_probe(config, make_population(config.data))(seed_keys(0, 2))
    assert np.all(np.asarray(result.batch_accuracy)[:, -1] > 0.9)


def test_split_first_layer_bn_stays_at_chance_on_a_shift():
    """Trained, it still cannot: every fake batch is normalized to the moments of a real one."""
    config = points_probe(FIRST, "split")
    result = make_probe(config, make_population(config.data))(seed_keys(0, 4))
    assert np.all(np.abs(np.asarray(result.batch_accuracy)[:, -1] - 0.5) < 0.15)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"fakes": "uniform"}, "fakes"),
        ({"fakes": "phase"}, "images only"),
        ({"d_batch": "mixed"}, "d_batch"),
        ({"heldout": 100}, "multiple of batch_size"),
        ({"steps": 50}, "multiple of log_every"),
    ],
)
def test_bad_settings_are_config_errors(fields, message):
    config = dataclasses.replace(points_probe(), **fields)
    with pytest.raises(ConfigError, match=message):
        make_probe(config, make_population(config.data))


def test_images_need_the_conv_discriminator():
    with pytest.raises(ConfigError, match="cannot read images"):
        make_probe(points_probe(), digits())


def _script():
    spec = importlib.util.spec_from_file_location("moment_probe", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_refuses_bad_flags_in_one_line(capsys):
    assert _script().main(["--seeds", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--seeds must be at least 1" in err


def test_a_saved_variant_is_reused_and_one_of_other_settings_refused(tmp_path):
    script = _script()
    name, config = next(iter(script.variants(script.TINY).items()))
    saved = {"config": dataclasses.asdict(config), "seeds": 2, "seed": 0, "marker": "saved"}
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / f"{name}.json").write_text(json.dumps(saved))
    assert script.run_variant(name, config, 2, 0, tmp_path)["marker"] == "saved"  # not trained again
    with pytest.raises(ConfigError, match="other settings"):
        script.run_variant(name, config, 3, 0, tmp_path)


@pytest.mark.slow
def test_the_tiny_probe_writes_its_report_and_resumes(tmp_path):
    script = _script()
    assert script.main(["--tiny", "--out", str(tmp_path)]) == 0
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert set(probe["variants"]) == set(script.variants(script.TINY))
    assert (tmp_path / "accuracy.png").exists() and "| variant |" in (tmp_path / "report.md").read_text()
    stamp = (tmp_path / "variants").stat().st_mtime_ns
    assert script.main(["--tiny", "--out", str(tmp_path)]) == 0  # every variant done before: nothing trained
    assert (tmp_path / "variants").stat().st_mtime_ns == stamp
