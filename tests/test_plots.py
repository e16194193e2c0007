"""Figures: every shape of data and of history they promise to draw, written atomically."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from jaxbngan import Metrics, plots


def history(seeds: int = 4, logs: int = 5, dims: int = 2, partial: bool = False) -> Metrics:
    rng = np.random.default_rng(0)
    values = Metrics(
        g_loss=rng.random((seeds, logs)),
        d_loss=rng.random((seeds, logs)),
        offset=rng.normal(size=(seeds, logs, dims)),
        std_ratio=rng.random((seeds, logs, dims)),
        energy_distance=rng.random((seeds, logs)),
        d_fake_loss_by_view=rng.random((seeds, logs, 3)),
        both_win=rng.random((seeds, logs)) > 0.5,
        high_quality=np.full((seeds, logs), np.nan),
        mode_coverage=np.full((seeds, logs), np.nan),
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


def test_compare_draws_one_box_per_run(tmp_path):
    rng = np.random.default_rng(2)
    finals = {run: {"g_loss": rng.random(5), "d_loss": rng.random(5)} for run in ("a", "b", "c")}
    plots.compare_runs(finals, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0


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
    plots.image_grid(fakes, rng.uniform(-1, 1, size=(30, 8, 8, channels)), tmp_path / "grid.png", max_seeds=4)
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_mosaic_places_each_image_in_its_own_tile():
    images = np.stack([np.full((3, 2, 1), value) for value in (-1.0, 0.0, 1.0)])
    mosaic = plots._mosaic(images, 3)
    assert mosaic.shape == (3, 3 * 2 + 2)
    np.testing.assert_array_equal(mosaic[:, 0:2], 0.0)  # -1 -> black
    np.testing.assert_array_equal(mosaic[:, 2], 0.5)  # the separator
    np.testing.assert_array_equal(mosaic[:, 3:5], 0.5)
    np.testing.assert_array_equal(mosaic[:, 6:8], 1.0)
