"""`jaxbngan.run`: the CLI's driver from Python, its run directory, its arrays, and bad input as ConfigError."""

import json

import jax
import numpy as np
import pytest
from helpers import tiny

import jaxbngan
from jaxbngan import api, rundir, seed_layout
from jaxbngan.config import ConfigError

SEEDS = 3
CONFIG = tiny("bn-split", steps=20, log_every=10, size=64)


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A small run kept in a run directory."""
    out = tmp_path_factory.mktemp("api") / "run"
    return jaxbngan.run(CONFIG, seeds=SEEDS, out=out, progress=False, seed=5, group_size=2, chunk_steps=10)


def test_results_are_the_run_directory_as_arrays(kept):
    assert kept.out is not None and rundir.is_run_dir(kept.out)
    saved = rundir.load(kept.out)
    assert saved.complete
    for ours, theirs in zip(kept.history, saved.history, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert kept.history.offset.shape == (SEEDS, 2, 2) and kept.steps.tolist() == [10, 20]
    np.testing.assert_array_equal(kept.fakes, saved.fakes)
    assert kept.fakes.shape[0] == SEEDS and kept.real.shape == (64, 2)
    assert kept.config == CONFIG
    spec = json.loads((kept.out / rundir.SPEC).read_text())
    assert spec["layout"] == {"seeds": SEEDS, "group_size": 2, "chunk_steps": 10, "devices": 1}
    assert spec["seed"] == 5 and "git" in spec and set(spec["versions"]) == {"jaxbngan", "jax", "python"}
    written = json.loads((kept.out / rundir.SUMMARY).read_text())
    assert written["seeds"] == kept.summary["seeds"] == SEEDS


def test_the_same_call_continues_its_run_and_other_arguments_are_refused(kept):
    again = jaxbngan.run(CONFIG, seeds=SEEDS, out=kept.out, progress=False, seed=5)  # finished: nothing to train
    np.testing.assert_array_equal(again.history.g_loss, kept.history.g_loss)
    with pytest.raises(ConfigError, match=r"holds a run with other settings \(seeds: 3 -> 4; seed: 5 -> 0\)"):
        jaxbngan.run(CONFIG, seeds=SEEDS + 1, out=kept.out, progress=False)
    with pytest.raises(ConfigError, match=r"holds a run with other settings \(group_size: 2 -> 3\)"):
        jaxbngan.run(CONFIG, seeds=SEEDS, out=kept.out, progress=False, seed=5, group_size=3)


def test_a_run_on_an_array_continues_only_on_the_same_array(tmp_path):
    data = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    request = api.make_request(api.resolve(CONFIG, data, {}), 1, 0)
    layout = seed_layout.Layout(seeds=1, group_size=1, chunk_steps=10, devices=1)
    rundir.create(tmp_path, api.run_spec(request, layout, jax.devices()[:1]), data)
    with pytest.raises(ConfigError, match="holds a run with other settings .data: the values in array changed"):
        jaxbngan.run(CONFIG, seeds=1, data=data[::-1], out=tmp_path, progress=False)


def test_without_out_nothing_stays_behind_and_progress_goes_to_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(api.tempfile, "tempdir", str(tmp_path))
    data = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    results = jaxbngan.run(CONFIG, seeds=2, data=data, steps=10)
    assert results.out is None and list(tmp_path.iterdir()) == []
    np.testing.assert_array_equal(results.real, data)
    assert results.history.g_loss.shape == (2, 1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "jaxbngan.run: running config: a config given to jaxbngan.run" in captured.err
    assert "2 seeds from seed 0; 10 steps" in captured.err and "100.0%" in captured.err


def test_frame_is_one_row_per_seed_and_step(kept):
    pytest.importorskip("pandas")
    frame = kept.frame()
    assert len(frame) == SEEDS * 2
    assert {"seed", "step", "offset_x", "d_fake_loss_running_view"} <= set(frame.columns)
    np.testing.assert_array_equal(frame["d_loss"].to_numpy(), kept.history.d_loss.reshape(-1))


def test_overrides_replace_fields_and_sections():
    source = api.resolve("joint", None, {"steps": 500, "loss": {"shift_weight": 0.01}})
    assert source.preset == "joint" and source.config.steps == 500 and source.config.loss.shift_weight == 0.01
    assert source.config.loss.g_loss == jaxbngan.get_preset("joint").config.loss.g_loss
    assert api.resolve(jaxbngan.get_preset("fix").config, "moons", {}).preset == "fix"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: jaxbngan.run("jiont"), "unknown preset 'jiont'; did you mean joint"),
        (lambda: jaxbngan.run("joint", stepz=3), "unknown config field 'stepz'; did you mean steps"),
        (lambda: jaxbngan.run("joint", loss={"shift": 1}), "loss has no field 'shift'"),
        (lambda: jaxbngan.run("joint", steps=7), r"steps \(7\) must be a multiple of log_every"),
        (lambda: jaxbngan.run("joint", seeds=0), "seeds must be positive"),
        (lambda: jaxbngan.run("joint", data="moonz"), "unknown data set 'moonz'; did you mean moons"),
        (lambda: jaxbngan.run("joint", data=np.zeros((5, 2, 2, 1, 1))), r"expected \(n, d\) points or"),
    ],
)
def test_bad_input_is_a_config_error_before_anything_runs(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_an_out_that_is_not_a_run_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not a jaxbngan run directory"):
        jaxbngan.run(CONFIG, seeds=1, out=tmp_path, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    "preset, data, fitting",
    [
        ("bn-split", np.linspace(-1, 1, 32 * 8 * 8, dtype=np.float32).reshape(32, 8, 8, 1), "dcgan-split"),
        ("dcgan-split", np.zeros((32, 2)), "bn-split"),
    ],
)
def test_own_data_of_the_other_kind_names_the_presets_that_fit_it(preset, data, fitting):
    with pytest.raises(ConfigError, match=rf"array holds .* but {preset} is for .*; use a preset for .*\b{fitting}\b"):
        api.resolve(preset, data)
