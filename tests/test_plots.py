"""Figures: every shape of data and of history they promise to draw, written atomically."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex

from jaxbngan import VIEWS, Metrics, plots, rundir
from jaxbngan.config import ConfigError


def history(seeds: int = 4, logs: int = 5, dims: int = 2, partial: bool = False) -> Metrics:
    rng = np.random.default_rng(0)
    values = Metrics(
        g_loss=rng.random((seeds, logs)),
        d_loss=rng.random((seeds, logs)),
        offset=rng.normal(size=(seeds, logs, dims)),
        std_ratio=rng.random((seeds, logs, dims)),
        energy_distance=rng.random((seeds, logs)),
        d_fake_loss_by_view=rng.random((seeds, logs, 3)),
        d_fake_logit_by_view=rng.random((seeds, logs, 3)),
        both_win=rng.random((seeds, logs)) > 0.5,
        high_quality=np.full((seeds, logs), np.nan),
        mode_coverage=np.full((seeds, logs), np.nan),
        kid=np.full((seeds, logs), np.nan),
        frechet_distance=np.full((seeds, logs), np.nan),
        pixel_kid=np.full((seeds, logs), np.nan),
        class_kl=np.full((seeds, logs), np.nan),
        d_fake_loss=rng.random((seeds, logs)),
        running_position=rng.normal(size=(seeds, logs, 2, 2)),  # (D layers, moments)
        running_between=rng.random((seeds, logs, 2, 2)),
    )
    if partial:  # as `rundir.load` pads a run that has not logged everything yet
        values = Metrics(*(np.asarray(x, dtype=float) for x in values))
        for x in values:
            x[:, 3:] = np.nan
        values.g_loss[1] = np.inf  # a diverged seed
    return values


@pytest.mark.parametrize("dims", [1, 3])  # 2-D: every CLI run
def test_every_figure_is_drawn_for_any_data_dimension(tmp_path, dims):
    rng = np.random.default_rng(1)
    steps = 10 * np.arange(1, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all-NaN logs of a partial run must not warn
        plots.scatter_grid(rng.normal(size=(20, 50, dims)), rng.normal(size=(60, dims)), tmp_path / "s.png")
        plots.loss_curves(history(dims=dims, partial=True), steps, tmp_path / "l.png")
        plots.view_diagnostic(history(dims=dims, partial=True), steps, tmp_path / "v.png")
        plots.distance_curves(history(dims=dims), steps, tmp_path / "d.png")
    for name in ("s", "l", "v", "d"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "l.png", "s.png", "v.png"]


def test_compare_draws_one_box_per_run_and_one_panel_per_metric(tmp_path):
    rng = np.random.default_rng(2)
    finals = {run: {"g_loss": rng.random(5), "d_loss": rng.random(5)} for run in ("a", "b", "c")}
    finals["b"]["d_loss"][0] = np.nan  # a diverged seed: left out of its box
    fig = plots.compare_runs(finals, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    assert [ax.get_title() for ax in fig.axes] == ["g_loss", "d_loss"]
    assert fig.axes[0].get_subplotspec().get_gridspec().ncols == 2  # no empty third column
    for ax in fig.axes:
        assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
        medians = [line.get_ydata()[0] for line in ax.get_lines() if line.get_color() == "C1"]
        expected = [np.nanmedian(finals[run][ax.get_title()]) for run in ("a", "b", "c")]
        np.testing.assert_array_equal(medians, expected)


def test_a_failed_drawing_leaves_no_file(tmp_path, monkeypatch):
    def broken(figure, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")  # a partial write, then the failure
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots.Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.loss_curves(history(), 10 * np.arange(1, 6), tmp_path / "l.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("channels", [1, 3])
def test_image_grid_draws_real_then_one_row_per_seed(tmp_path, channels):
    rng = np.random.default_rng(2)
    fakes = rng.uniform(-1, 1, size=(10, 20, 8, 8, channels))
    fakes[2] = np.nan  # a diverged seed draws as black, not as an error
    fig = plots.image_grid(fakes, rng.uniform(-1, 1, size=(30, 8, 8, channels)), tmp_path / "grid.png", max_seeds=4)
    assert (tmp_path / "grid.png").read_bytes().startswith(b"\x89PNG")
    assert [ax.get_ylabel() for ax in fig.axes] == ["real data", "seed 0", "seed 1", "seed 2", "seed 3"]
    assert "first 4 of 10 seeds" in fig.get_suptitle()
    diverged = fig.axes[3].get_images()[0].get_array()
    assert np.all(diverged[:, :8] == 0.0)  # its first image, black


def test_mosaic_places_each_image_in_its_own_tile():
    images = np.stack([np.full((3, 2, 1), value) for value in (-1.0, 0.0, 1.0)])
    mosaic = plots._mosaic(images, 3)
    assert mosaic.shape == (3, 3 * 2 + 2)
    np.testing.assert_array_equal(mosaic[:, 0:2], 0.0)  # -1 -> black
    np.testing.assert_array_equal(mosaic[:, 2], 0.5)  # the separator
    np.testing.assert_array_equal(mosaic[:, 3:5], 0.5)
    np.testing.assert_array_equal(mosaic[:, 6:8], 1.0)


def results(seeds: int = 4, logs: int = 5, complete: bool = True) -> rundir.Results:
    rng = np.random.default_rng(3)
    fakes = rng.normal(size=(seeds if complete else 2, 30, 2))
    spec = {"preset": "bn-split", "seeds": seeds}
    return rundir.Results(
        spec, history(seeds, logs), 10 * np.arange(1, logs + 1), fakes, rng.normal(size=(40, 2)), complete
    )


@pytest.fixture
def drawn(monkeypatch):
    """The figures `draw_run` saves, by file name, instead of PNG files."""
    figures = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.__setitem__(Path(path).name, fig))
    return figures


def seed_lines(fig) -> set[str]:
    return {line.get_gid() for ax in fig.axes for line in ax.get_lines() if line.get_gid()}


def test_every_curve_figure_draws_each_seed_under_its_band(tmp_path, drawn):
    plots.draw_run(tmp_path, results())
    assert set(drawn) == {"samples.png", "losses.png", "diagnostic.png", "distances.png", "blindness.png"}
    for name in ("losses.png", "diagnostic.png", "distances.png", "blindness.png"):
        assert seed_lines(drawn[name]) == {f"seed {i}" for i in range(4)}, name
        for ax in drawn[name].axes:
            thin = [line for line in ax.get_lines() if line.get_gid()]
            medians = [line for line in ax.get_lines() if not line.get_gid() and line.get_linewidth() == 2]
            assert all(t.get_zorder() < b.get_zorder() for t in thin for b in medians)


def test_chosen_seeds_are_the_only_ones_drawn(tmp_path, drawn):
    plots.draw_run(tmp_path, results(seeds=8), seeds=[6, 1, 6])
    for name in ("losses.png", "diagnostic.png", "distances.png", "blindness.png"):
        assert seed_lines(drawn[name]) == {"seed 6", "seed 1"}, name
    assert [ax.get_title() for ax in drawn["samples.png"].axes] == ["seed 6", "seed 1"]
    (median,) = [line for line in drawn["losses.png"].axes[0].get_lines() if line.get_label() == "D loss"]
    np.testing.assert_array_equal(median.get_ydata(), np.median(results(seeds=8).history.d_loss[[6, 1]], axis=0))


def test_a_partial_run_labels_samples_of_its_finished_seeds_only(tmp_path, drawn):
    plots.draw_run(tmp_path, results(seeds=4, complete=False), seeds=[3, 0])  # seeds 0 and 1 have finished
    assert [ax.get_title() for ax in drawn["samples.png"].axes] == ["seed 0"]


@pytest.mark.parametrize("seeds", [[4], [-1], [0, 9]])
def test_seeds_outside_the_run_are_a_one_line_error(tmp_path, seeds):
    with pytest.raises(ConfigError, match=rf"seed {seeds[-1]} is not among the 4 seeds of .* \(0 to 3\)"):
        plots.draw_run(tmp_path, results(), seeds=seeds)
    assert list(tmp_path.iterdir()) == []


def test_samples_say_in_a_legend_that_grey_is_real_data(tmp_path, drawn):
    plots.draw_run(tmp_path, results())
    (legend,) = drawn["samples.png"].legends
    assert [text.get_text() for text in legend.get_texts()] == ["real data", "generated"]
    assert to_hex(legend.legend_handles[0].get_facecolor()[0]) == to_hex(plots.REAL_COLOR)


def test_blindness_puts_d_loss_against_ln2_above_the_x_offset_on_one_step_axis(tmp_path, drawn):
    run = results()
    plots.draw_run(tmp_path, run)
    top, bottom = drawn["blindness.png"].axes
    assert top.get_shared_x_axes().joined(top, bottom)
    lines = {line.get_label(): line for line in top.get_lines()}
    np.testing.assert_array_equal(lines["D loss"].get_ydata(), np.median(run.history.d_loss, axis=0))
    assert lines["ln 2 (D cannot tell real from fake)"].get_ydata()[0] == pytest.approx(np.log(2))
    (offset,) = [line for line in bottom.get_lines() if line.get_label() == plots.X_OFFSET]
    in_std = run.history.offset[..., 0] / np.std(run.real[:, 0])  # the offset in std of the real x
    np.testing.assert_allclose(offset.get_ydata(), np.median(in_std, axis=0), rtol=1e-12)  # float64 rounding
    assert "std" in plots.X_OFFSET and "(std)" in bottom.get_ylabel()


def test_plot_seeds_flag_errors_are_one_line(tmp_path):
    import contextlib
    import dataclasses
    import io

    from jaxbngan import cli
    from jaxbngan.config import to_dict
    from jaxbngan.presets import get_preset

    root, run = tmp_path / "run", results()
    config = dataclasses.replace(get_preset("bn-split").config, steps=50, log_every=10)  # the 5 logs of `results`
    rundir.create(root, {"preset": "bn-split", "seeds": 4, "config": to_dict(config)}, run.real)
    rundir.save_group(root, 0, run.history, run.fakes)
    rundir.finish(root, run.steps)
    for args, message in [
        (["--seeds", "0,x"], "expected seed indices like 0,3,7"),
        (["--seeds", "7"], "seed 7 is not"),
    ]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["plot", str(root), *args])
        assert code == 2 and err.getvalue().count("\n") == 1 and message in err.getvalue(), err.getvalue()


def test_the_diagnostic_says_what_each_view_normalizes_the_fakes_by(tmp_path):
    fig = plots.view_diagnostic(history(), 10 * np.arange(1, 6), tmp_path / "v.png")
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert [label for label in labels if "view" in label] == [plots.VIEW_LABELS[view] for view in VIEWS]
    assert "own batch" in labels[0] and "fake+real" in labels[1] and "running averages" in labels[2]
