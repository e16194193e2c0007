"""Sweeps: grid points x seeds trained as one program, each point the run it stands for."""

import chex
import jax
import numpy as np
import pytest
from helpers import tiny

from jaxbngan import driver, rundir, seed_layout
from jaxbngan.config import KNOBS, ConfigError, from_dict, replace_field, to_dict
from jaxbngan.data import make_population
from jaxbngan.grid import Grid, member_inputs, parse_axes, point_config
from jaxbngan.sweep import draw, extract, find_point, metric_grid, summarize, sweep_spec

CONFIG = tiny("fix", size=128, steps=6, log_every=3)
GRID = Grid((("discriminator.momentum", (0.5, 0.99)), ("loss.shift_weight", (0.0, 0.3))))
SEEDS = 2


def train(root, config, seeds, grid=None, group_size=None, deadline=None):
    """Train into `root`, creating it first; one chunk per log."""
    members = seeds * (grid.size if grid else 1)
    layout = seed_layout.Layout(seeds=members, group_size=group_size or members, chunk_steps=3, devices=1)
    if not rundir.is_run_dir(root):
        rundir.create(root, {"config": to_dict(config), "seeds": members}, np.zeros((2, 2), np.float32))
    return driver.train(root, config, layout, jax.devices()[:1], seed=0, grid=grid, deadline=deadline)


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    rundir.create(root, sweep_spec({"config": to_dict(CONFIG)}, GRID, SEEDS), np.asarray(make_population(CONFIG.data)))
    assert train(root, CONFIG, SEEDS, GRID)
    return root


@pytest.fixture(scope="module")
def sweep(sweep_root):
    return rundir.load(sweep_root).history


def test_members_are_point_major_and_every_point_has_the_same_seeds():
    seed_index, knobs = member_inputs(CONFIG, GRID, SEEDS, 10)  # 8 members and 2 padding slots
    np.testing.assert_array_equal(seed_index, [0, 1, 0, 1, 0, 1, 0, 1, 8, 9])
    np.testing.assert_array_equal(knobs["discriminator.momentum"][:8], np.float32([0.5] * 4 + [0.99] * 4))
    np.testing.assert_array_equal(knobs["loss.shift_weight"][:8], np.float32([0, 0, 0.3, 0.3] * 2))
    np.testing.assert_array_equal(knobs["optimizer.learning_rate"], np.float32(CONFIG.optimizer.learning_rate))
    assert set(knobs) == set(KNOBS)


def test_a_grid_point_is_the_run_of_its_config_alone(tmp_path, sweep):
    # On a CPU every member runs the same one-seed program, knobs as inputs in both: equal bit for bit.
    point = 1  # momentum 0.5 and shift weight 0.3: neither the config's own value
    values = GRID.points()[point]
    assert train(tmp_path, point_config(CONFIG, values), SEEDS)
    alone = rundir.load(tmp_path).history
    chex.assert_trees_all_equal(jax.tree.map(lambda x: x[point * SEEDS : (point + 1) * SEEDS], sweep), alone)


def test_points_differ_where_their_knobs_do(sweep):
    d_loss = np.asarray(sweep.d_loss).reshape(*GRID.shape, SEEDS, -1)
    assert not np.array_equal(d_loss[0, 0], d_loss[1, 0])  # momentum 0.5 vs 0.99
    assert not np.array_equal(d_loss[0, 0], d_loss[0, 1])  # shift weight 0 vs 0.3


def test_a_stopped_sweep_resumes_to_the_numbers_of_an_uninterrupted_one(tmp_path, sweep, monkeypatch):
    per_device = driver.per_device
    monkeypatch.setattr(driver, "per_device", lambda fn, *a, **k: per_device(chex.assert_max_traces(fn, n=1), *a, **k))
    # Groups of 3 members: points split across groups, the last group padded.
    assert not train(tmp_path, CONFIG, SEEDS, GRID, group_size=3, deadline=0.0)
    chex.clear_trace_counter()  # a new process counts afresh
    assert train(tmp_path, CONFIG, SEEDS, GRID, group_size=3)  # every group and chunk: one trace of each program
    chex.assert_trees_all_equal(rundir.load(tmp_path).history, sweep)


def test_axes_parse_into_a_grid_in_the_order_given():
    grid = parse_axes(CONFIG, ["discriminator.momentum=0.5,0.9", "optimizer.learning_rate=1e-4, 3e-4,1e-3"])
    assert grid.shape == (2, 3) and grid.size == 6
    assert grid.points()[1] == {"discriminator.momentum": 0.5, "optimizer.learning_rate": 3e-4}
    assert Grid.from_json(grid.to_json()) == grid


@pytest.mark.parametrize(
    "axis, message",
    [
        ("batch_size=16,32", "changes the program's shapes or structure"),
        ("discriminator.hidden=8,16", "changes the program's shapes or structure"),
        ("strategy.standing_stats=0,1", "changes the program's shapes or structure"),
        ("discriminator.momentom=0.9", "no such config field; did you mean discriminator.momentum"),
        ("discriminator.momentum=0.9,0.9", "listed twice"),
        ("discriminator.momentum=0.9,fast", "'fast' is not a number"),
        ("discriminator.momentum=0.9,nan", "not a finite number"),
        ("discriminator.momentum", "expected PATH=V1,V2"),
        ("discriminator.momentum=0.9,1.0", "discriminator.momentum=1 is not a valid run: discriminator.momentum must"),
    ],
)
def test_axes_a_grid_cannot_take_are_refused_in_one_line(axis, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")) as error:
        parse_axes(CONFIG, [axis])
    assert "\n" not in str(error.value)


def test_an_axis_given_twice_is_refused():
    with pytest.raises(ConfigError, match="given twice"):
        parse_axes(CONFIG, ["loss.shift_weight=0", "loss.shift_weight=0.1"])


def test_every_knob_is_a_float_field_of_the_config():
    for path in KNOBS:
        assert isinstance(replace_field(CONFIG, path, 0.5), type(CONFIG))
        assert point_config(CONFIG, {path: 0.25}) == replace_field(CONFIG, path, 0.25)


def test_the_summary_aggregates_each_point_over_its_own_seeds(sweep_root, sweep):
    summary = summarize(rundir.load(sweep_root))
    assert [p["point"] for p in summary["points"]] == GRID.points()
    d_loss = np.asarray(sweep.d_loss)[:, -1].reshape(GRID.size, SEEDS)
    np.testing.assert_allclose(metric_grid(summary, "d_loss").ravel(), np.median(d_loss, axis=1))
    both = np.asarray(sweep.both_win)[:, -1].reshape(GRID.size, SEEDS)
    np.testing.assert_allclose([p["both_win_share"]["share"] for p in summary["points"]], both.mean(axis=1))
    with pytest.raises(ConfigError, match="unknown metric 'd_los'"):
        metric_grid(summary, "d_los")
    files = draw(sweep_root, summary, "d_loss")
    assert all(f.stat().st_size > 0 for f in files)


def test_a_point_comes_out_as_an_ordinary_run_of_its_config(sweep_root, sweep, tmp_path):
    index = find_point(GRID, "loss.shift_weight=0.3, discriminator.momentum=0.5")
    assert index == 1
    out = extract(sweep_root, index, tmp_path / "point")
    point = rundir.load(out)
    assert point.complete and from_dict(point.spec["config"]) == point_config(CONFIG, GRID.points()[index])
    chex.assert_trees_all_equal(point.history, jax.tree.map(lambda x: x[SEEDS : 2 * SEEDS], sweep))
    with pytest.raises(ConfigError, match="not empty"):
        extract(sweep_root, index, out)


@pytest.mark.parametrize(
    "text, message",
    [
        ("4", "point 4 is not in the grid of 4 points"),
        ("discriminator.momentum=0.5", "must give a value for each"),
        ("discriminator.momentum=0.7,loss.shift_weight=0", "is not a point of the grid"),
    ],
)
def test_unknown_points_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        find_point(GRID, text)
