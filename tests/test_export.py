"""Exports: one row per (seed, step), a named column per metric entry, values exactly those of metrics.npz."""

import contextlib
import csv
import dataclasses
import io
import sys

import numpy as np
import pytest
from helpers import tiny

from jaxbngan import Metrics, cli, export, finals, rundir
from jaxbngan.config import ConfigError, to_dict

SEEDS, LOGS = 3, 4


def history(seeds: int = SEEDS, logs: int = LOGS, dims: int = 2) -> Metrics:
    """A float32 history with distinct values everywhere (NaN and inf included), as the driver writes it."""
    rng = np.random.default_rng(0)

    def values(*shape):
        return rng.normal(size=(seeds, logs, *shape)).astype(np.float32)

    record = Metrics(
        g_loss=values(),
        d_loss=values(),
        offset=values(dims),
        std_ratio=values(dims),
        energy_distance=values(),
        d_fake_loss_by_view=values(3),
        d_fake_logit_by_view=values(3),
        both_win=rng.random((seeds, logs)) > 0.5,
        high_quality=np.full((seeds, logs), np.nan, dtype=np.float32),
        mode_coverage=values(),
        kid=values(),
        frechet_distance=values(),
        pixel_kid=values(),
        class_kl=values(),
        d_fake_loss=values(),
        running_position=values(1, 2),  # (D layers, moments)
        running_between=values(1, 2),
    )
    record.std_ratio[0, 0, 1] = np.inf  # a constant real column
    return record


def finished_run(root, dims: int = 2):
    """A finished run directory written by rundir's own functions, without training."""
    config = dataclasses.replace(tiny(), steps=10 * LOGS, log_every=10)
    spec = {"preset": "bn-split", "seeds": SEEDS, "seed": 0, "config": to_dict(config)}
    rundir.create(root, spec, np.arange(8 * dims, dtype=np.float32).reshape(8, dims))  # offsets in its std
    rundir.save_group(root, 0, history(dims=dims), np.zeros((SEEDS, 5, dims), dtype=np.float32))
    rundir.finish(root, 10 * np.arange(1, LOGS + 1))
    return root


def offsets_in_std(root, saved) -> np.ndarray:
    """The saved offsets in the unit of summary.json and the exports: std of the real data per axis."""
    return saved["offset"] / finals.data_std(rundir.read_population(root))


COLUMNS_2D = [
    "seed",
    "step",
    "g_loss",
    "d_loss",
    "offset_x",
    "offset_y",
    "std_ratio_x",
    "std_ratio_y",
    "energy_distance",
    "d_fake_loss_fake_view",
    "d_fake_loss_joint_view",
    "d_fake_loss_running_view",
    "both_win",
    "high_quality",
    "mode_coverage",
    "kid",
    "frechet_distance",
    "pixel_kid",
    "class_kl",
    "d_fake_loss",
    "running_position_0_0",
    "running_position_0_1",
    "running_between_0_0",
    "running_between_0_1",
    "d_fake_logit_fake_view",
    "d_fake_logit_joint_view",
    "d_fake_logit_running_view",
]


def test_columns_are_named_by_axis_and_view_one_row_per_seed_and_step():
    table = export.columns(history(), 10 * np.arange(1, LOGS + 1), data_dim=2)
    assert list(table) == COLUMNS_2D
    assert {len(column) for column in table.values()} == {SEEDS * LOGS}
    assert table["seed"].tolist() == [s for s in range(SEEDS) for _ in range(LOGS)]
    assert table["step"].tolist() == [10, 20, 30, 40] * SEEDS


def test_other_dimensions_are_named_by_index_and_new_fields_need_no_code():
    table = export.columns(history(dims=3), np.arange(1, LOGS + 1), data_dim=3)
    assert [name for name in table if name.startswith("offset")] == ["offset_0", "offset_1", "offset_2"]
    grid = np.arange(SEEDS * LOGS * 6).reshape(SEEDS, LOGS, 2, 3)
    record = history()._replace(offset=grid)  # a field with a (2, 3) record
    table = export.columns(record, np.arange(1, LOGS + 1), data_dim=None)
    assert [name for name in table if name.startswith("offset")] == [
        f"offset_{i}_{j}" for i in range(2) for j in range(3)
    ]
    assert table["offset_1_2"].tolist() == grid[..., 1, 2].reshape(-1).tolist()


def test_csv_holds_exactly_the_npz_values(tmp_path):
    root = finished_run(tmp_path / "run")
    written = export.export_run(root, "csv")
    assert written == root / "metrics.csv"
    with open(written, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == COLUMNS_2D
    assert len(body) == SEEDS * LOGS
    columns = dict(zip(header, zip(*body, strict=True), strict=True))
    with np.load(root / rundir.METRICS) as saved:
        fields = {name: saved[name] for name in saved.files} | {"offset": offsets_in_std(root, saved)}  # float64
        for name, field, index in [
            ("g_loss", "g_loss", ()),
            ("offset_y", "offset", (1,)),
            ("std_ratio_y", "std_ratio", (1,)),  # inf in seed 0's first log
            ("d_fake_loss_running_view", "d_fake_loss_by_view", (2,)),
            ("high_quality", "high_quality", ()),  # NaN
        ]:
            expected = fields[field][(..., *index)].reshape(-1)
            read = np.array([float(cell) for cell in columns[name]], dtype=expected.dtype)
            np.testing.assert_array_equal(read, expected)  # exact (NaN where NaN): the text is the float's repr
        assert columns["both_win"] == tuple("true" if v else "false" for v in saved["both_win"].reshape(-1))


def test_frame_and_parquet_keep_the_values(tmp_path):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    root = finished_run(tmp_path / "run")
    written = export.export_run(root, "parquet", tmp_path / "m.parquet")
    read = pandas.read_parquet(written)
    assert list(read.columns) == COLUMNS_2D and len(read) == SEEDS * LOGS
    with np.load(root / rundir.METRICS) as saved:
        np.testing.assert_array_equal(read["offset_x"].to_numpy(), offsets_in_std(root, saved)[..., 0].reshape(-1))
        np.testing.assert_array_equal(read["both_win"].to_numpy(), saved["both_win"].reshape(-1))
    frame = export.frame(export.run_columns(root))
    pandas.testing.assert_frame_equal(frame, read)


def test_tensorboard_writes_one_run_per_seed(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root = finished_run(tmp_path / "run")
    written = export.export_run(root, "tensorboard")
    assert sorted(p.name for p in written.iterdir()) == ["seed_0000", "seed_0001", "seed_0002"]
    events = EventAccumulator(str(written / "seed_0002")).Reload()
    assert sorted(events.Tags()["scalars"]) == sorted(COLUMNS_2D[2:])
    offsets = events.Scalars("offset_x")
    assert [e.step for e in offsets] == [10, 20, 30, 40]
    with np.load(root / rundir.METRICS) as saved:
        assert [e.value for e in offsets] == offsets_in_std(root, saved)[2, :, 0].astype(np.float32).tolist()
    export.export_run(root, "tensorboard")  # again: replaces its own runs instead of adding to them
    assert len(EventAccumulator(str(written / "seed_0002")).Reload().Scalars("offset_x")) == LOGS


def test_tensorboard_refuses_to_replace_a_directory_it_did_not_write(tmp_path):
    pytest.importorskip("tensorboard")
    root = finished_run(tmp_path / "run")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="holds more than"):
        export.export_run(root, "tensorboard", tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(("fmt", "module"), [("parquet", "pyarrow"), ("tensorboard", "tensorboard")])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, monkeypatch, fmt, module):
    root = finished_run(tmp_path / "run")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(ConfigError, match=rf"needs {module}, which is not installed: pip install 'jaxbngan\[{fmt}\]'"):
        export.export_run(root, fmt)
    assert not (root / export.DEFAULT_NAMES[fmt]).exists()


def test_an_unfinished_run_is_refused(tmp_path):
    root = tmp_path / "run"
    config = dataclasses.replace(tiny(), steps=10 * LOGS, log_every=10)
    rundir.create(root, {"preset": "bn-split", "seeds": SEEDS, "seed": 0, "config": to_dict(config)}, np.zeros((8, 2)))
    with pytest.raises(ConfigError, match="has not finished"):
        export.export_run(root, "csv")


def in_process(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(map(str, args)))
    return code, out.getvalue(), err.getvalue()


def test_the_command_exports_and_errors_are_one_line(tmp_path):
    root = finished_run(tmp_path / "run")
    code, out, err = in_process("export", root, "--out", tmp_path / "x.csv")
    assert (code, err) == (0, "") and (tmp_path / "x.csv").is_file() and "x.csv" in out
    code, out, err = in_process("export", tmp_path / "nowhere")
    assert code == 2 and err.count("\n") == 1 and err.startswith("jaxbngan: error:")
    code, out, err = in_process("export", root, "--format", "xlsx")
    assert code == 2 and err.count("\n") == 1 and "unknown export format 'xlsx'" in err
