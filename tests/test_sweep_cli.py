"""`jaxbngan sweep`, `extract`, and sweeps in `plot`, `compare` and `jaxbngan.run`."""

import json

import chex
import numpy as np
import pytest
from test_cli import assert_one_line_error, in_process, jaxbngan

import jaxbngan as package
from jaxbngan import rundir
from jaxbngan.catalog import SWEEP_POINT_FIELDS, SWEEP_SUMMARY_FIELDS
from jaxbngan.config import from_dict
from jaxbngan.grid import Grid, point_config

# 2 x 2 points of 2 seeds: 8 members, two chunks of 10 steps.
TINY = ["fix", "--steps", "20", "--set", "log_every=10", "--seeds", "2", "--set", "data.size=64"]
AXES = ["--axis", "discriminator.momentum=0.5,0.99", "--axis", "loss.shift_weight=0,0.3"]
GRID = Grid((("discriminator.momentum", (0.5, 0.99)), ("loss.shift_weight", (0.0, 0.3))))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweeps") / "whole"
    done = jaxbngan("sweep", *TINY, *AXES, "--chunk-steps", "10", "--out", root)
    assert done.returncode == 0, done.stderr
    return root, done.stdout


def test_a_sweep_writes_its_directory_and_says_what_each_point_measured(finished):
    root, stdout = finished
    spec = rundir.read_spec(root)
    assert Grid.from_json(spec["grid"]) == GRID and spec["seeds"] == 2 and spec["members"] == 8
    assert "a grid of 2 x 2 points" in stdout and "8 members in one program" in stdout
    summary = json.loads((root / rundir.SUMMARY).read_text())
    assert [p["point"] for p in summary["points"]] == GRID.points()
    assert list(summary) == list(SWEEP_SUMMARY_FIELDS)  # what `jaxbngan explain` documents
    assert all(list(p) == list(SWEEP_POINT_FIELDS) for p in summary["points"])
    for point in GRID.points():
        assert f"discriminator.momentum={point['discriminator.momentum']:g}" in stdout
    assert (root / "sweep-d_loss.png").stat().st_size > 0 and (root / "sweep-both-win.png").stat().st_size > 0


def test_the_sweep_figure_names_the_unit_of_its_metric(finished, monkeypatch):
    from jaxbngan import plots, sweep

    labels, draw = [], plots.sweep_figure
    monkeypatch.setattr(
        plots, "sweep_figure", lambda *args, **kwargs: labels.append(kwargs["label"]) or draw(*args, **kwargs)
    )
    sweep.draw(finished[0], rundir.read_summary(finished[0]), "offset_x")
    assert labels == ["offset_x (std)", "both-win share"]


@pytest.mark.slow  # test_grid checks a stopped sweep's numbers in the default suite
def test_a_stopped_sweep_resumes_to_the_numbers_of_an_uninterrupted_one(finished, tmp_path):
    root = tmp_path / "stopped"
    stopped = jaxbngan("sweep", *TINY, *AXES, "--chunk-steps", "10", "--out", root, "--time-limit", "0")
    assert stopped.returncode == 75, stopped.stderr
    assert f"jaxbngan sweep --resume --out {root}" in stopped.stdout
    wrong = jaxbngan("run", "--resume", "--out", root)
    assert_one_line_error(wrong.returncode, wrong.stderr, "holds a sweep", "jaxbngan sweep --resume")
    resumed = jaxbngan("sweep", "--resume", "--out", root)
    assert resumed.returncode == 0, resumed.stderr
    chex.assert_trees_all_equal(rundir.load(root).history, rundir.load(finished[0]).history)


@pytest.mark.parametrize(
    "axis, fragment",
    [
        ("strategy.d_batch=0,1", "changes the program's shapes or structure"),
        ("discriminator.hidden=8", "changes the program's shapes or structure"),
        ("discriminator.momentum=0.5,0.5", "listed twice"),
        ("discriminator.momentum=0.5,x", "'x' is not a number"),
        ("optimizer.lr=0.1", "no such config field"),
    ],
)
def test_an_axis_a_sweep_cannot_take_is_one_line_and_exit_code_2(axis, fragment):
    assert_one_line_error(*in_process("sweep", *TINY, "--axis", axis)[::2], fragment)


def test_a_sweep_needs_an_axis_and_a_known_metric():
    assert_one_line_error(*in_process("sweep", *TINY)[::2], "needs at least one --axis")
    code, _, err = in_process("sweep", *TINY, *AXES, "--metric", "d_los")
    assert_one_line_error(code, err, "unknown metric 'd_los'")


def test_plot_compare_and_extract_understand_sweeps(finished, tmp_path):
    root, _ = finished
    code, out, err = in_process("plot", root, "--metric", "g_loss")
    assert code == 0, err
    assert (root / "sweep-g_loss.png").is_file()
    code, out, err = in_process("compare", root, "--metrics", "d_loss", "--out", tmp_path / "c.png")
    assert code == 0, err
    assert "whole[discriminator.momentum=0.99, loss.shift_weight=0.3]" in out
    code, out, err = in_process("extract", root, "--point", "discriminator.momentum=0.99,loss.shift_weight=0")
    assert code == 0, err
    point = rundir.load(root / "point-2")
    assert from_dict(point.spec["config"]) == point_config(
        from_dict(rundir.read_spec(root)["config"]), GRID.points()[2]
    )
    np.testing.assert_array_equal(point.history.d_loss, rundir.load(root).history.d_loss[4:6])
    assert (root / "point-2" / "summary.json").is_file()
    assert_one_line_error(*in_process("extract", root, "--point", "9")[::2], "point 9 is not in the grid of 4 points")
    code, out, err = in_process("export", root, "--out", tmp_path / "m.csv")
    assert code == 0, err
    header = (tmp_path / "m.csv").read_text().splitlines()[0]
    assert header.startswith("discriminator.momentum,loss.shift_weight,seed,step,")


def test_the_python_api_runs_a_sweep_with_the_grid_leading_the_arrays():
    results = package.run(
        "fix", seeds=2, steps=20, log_every=10, progress=False, axes={"loss.shift_weight": [0.0, 0.3]}
    )
    chex.assert_shape(results.history.d_loss, (2, 2, 2))  # (points, seeds, logs)
    assert results.grid == Grid((("loss.shift_weight", (0.0, 0.3)),))
    pytest.importorskip("pandas")
    frame = results.frame()
    assert list(frame.columns[:3]) == ["loss.shift_weight", "seed", "step"] and len(frame) == 2 * 2 * 2
