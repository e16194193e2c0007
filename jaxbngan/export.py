"""Every logged metric of a run as a tidy table (one row per seed and logged step), and per-seed TensorBoard logs.

Columns follow the `Metrics` fields, so a new field exports without a change here: a scalar field
is one column; a vector field is one column per entry, named by view for `*_by_view` fields
(`d_fake_loss_fake_view`), by axis for 2-D data (`offset_x`, `offset_y`) and by index otherwise
(`offset_0`, ...). A run's offsets are in standard deviations of its real data per axis (images:
per channel), as in summary.json. `seed` is the seed's index in the run (seed i trains on the i-th key split from
the run's `seed`), `step` the training step the record was logged after.

Formats: CSV (always), Parquet (with pyarrow), pandas (`frame`), TensorBoard (with the
`tensorboard` package, no TensorFlow needed; one TensorBoard run per seed, `seed_0000/`, ...).
"""

from __future__ import annotations

import csv
import importlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from jaxbngan import finals, rundir, sweep
from jaxbngan.config import ConfigError
from jaxbngan.metrics import VIEWS, Metrics

FORMATS = ("csv", "parquet", "tensorboard")
DEFAULT_NAMES = {"csv": "metrics.csv", "parquet": "metrics.parquet", "tensorboard": "tb"}
AXES = ("x", "y")  # entry names of per-dimension fields for 2-D data
VIEW_SUFFIX = "_by_view"


def columns(history: Metrics, steps: np.ndarray, data_dim: int | None = None) -> dict[str, np.ndarray]:
    """Named flat columns of `history` (leaves (seeds, logs, ...)), each (seeds * logs,), seed-major.

    `data_dim` is the data's dimension (2 names per-dimension entries x and y); None for other data.
    """
    seeds, logs = np.shape(history.g_loss)[:2]
    table = {
        "seed": np.repeat(np.arange(seeds), logs),
        "step": np.tile(np.asarray(steps), seeds),
    }
    for field, value in history._asdict().items():
        value = np.asarray(value)
        for suffix, entry in _entries(field, value.shape[2:], data_dim):
            table[field.removesuffix(VIEW_SUFFIX) + suffix if suffix else field] = value[(..., *entry)].reshape(-1)
    return table


def _entries(field: str, shape: tuple[int, ...], data_dim: int | None) -> Iterator[tuple[str, tuple[int, ...]]]:
    """(column suffix, index) of every entry of a field whose record has `shape`."""
    if not shape:
        yield "", ()
    elif field.endswith(VIEW_SUFFIX) and shape == (len(VIEWS),):
        for i, view in enumerate(VIEWS):
            yield f"_{view}_view", (i,)
    elif shape == (data_dim,) and data_dim == len(AXES):
        for i, axis in enumerate(AXES):
            yield f"_{axis}", (i,)
    else:
        for index in np.ndindex(*shape):
            yield "_" + "_".join(map(str, index)), index


def run_columns(root: Path) -> dict[str, np.ndarray]:
    """The columns of a finished run directory (a sweep's with a column per axis); ConfigError for an unfinished one."""
    results = rundir.load(root)
    if not results.complete:
        raise ConfigError(
            f"{root} has not finished, so there is nothing final to export; "
            f"finish it with `{rundir.resume_command(root)}`"
        )
    in_std = results.history._replace(offset=np.asarray(results.history.offset) / finals.data_std(results.real))
    table = columns(in_std, results.steps, data_dim_of(results.real))  # offsets in std, as in summary.json
    grid = sweep.read_grid(results.spec)
    return table if grid is None else sweep.member_columns(table, grid, results.spec["seeds"])


def data_dim_of(real: np.ndarray) -> int | None:
    """The dimension of (n, d) tabular data; None for other data (images)."""
    return real.shape[1] if np.ndim(real) == 2 else None


def frame(table: dict[str, np.ndarray]) -> Any:
    """The columns as a pandas DataFrame; ConfigError when pandas is not installed."""
    pandas = _optional("pandas", "pandas", "a data frame")
    return pandas.DataFrame(table)


def write_csv(table: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write the columns as CSV, atomically: floats exact (shortest repr of float64), bools as true/false."""
    names = list(table)
    cells = [_text(table[name]) for name in names]
    with rundir.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows(zip(*cells, strict=True))


def _text(column: np.ndarray) -> list[str]:
    if column.dtype == bool:
        return ["true" if v else "false" for v in column.tolist()]
    return [repr(v) for v in column.tolist()]  # Python ints and floats: repr round-trips exactly


def write_parquet(table: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write the columns as Parquet, atomically; ConfigError when pyarrow is not installed."""
    pyarrow = _optional("pyarrow", "parquet", "writing Parquet")
    parquet = _optional("pyarrow.parquet", "parquet", "writing Parquet")
    with rundir.atomic_path(path) as tmp:
        parquet.write_table(pyarrow.table(table), tmp)


def write_tensorboard(table: dict[str, np.ndarray], directory: str | os.PathLike) -> list[Path]:
    """One TensorBoard run per seed, `directory/seed_0000/`, every other column a scalar by step.

    An existing `directory` is replaced only if it holds nothing but seed runs written here.
    ConfigError when the `tensorboard` package is not installed.
    """
    _optional("tensorboard", "tensorboard", "writing TensorBoard logs")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    directory = Path(directory)
    _check_replaceable(directory)
    staging = directory.with_name(f".{directory.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    metrics = [name for name in table if name not in ("seed", "step")]
    wall_time = time.time()  # the logs hold no clock time; TensorBoard needs one
    runs = []
    try:
        for seed in np.unique(table["seed"]).tolist():
            rows = np.flatnonzero(table["seed"] == seed)
            run = f"seed_{seed:04d}"
            writer = EventFileWriter(str(staging / run))
            for row in rows.tolist():
                values = [summary_pb2.Summary.Value(tag=name, simple_value=float(table[name][row])) for name in metrics]
                event = event_pb2.Event(
                    wall_time=wall_time, step=int(table["step"][row]), summary=summary_pb2.Summary(value=values)
                )
                writer.add_event(event)
            writer.close()
            runs.append(directory / run)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return runs


def _check_replaceable(directory: Path) -> None:
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a directory; choose another --out")
    strangers = [p.name for p in directory.iterdir() if not (p.is_dir() and p.name.startswith("seed_"))]
    if strangers:
        raise ConfigError(f"{directory} exists and holds more than TensorBoard seed runs; choose another --out")


def export_run(root: Path, fmt: str, out: Path | None = None) -> Path:
    """Export a finished run directory as `fmt` (csv, parquet, tensorboard); return what was written."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    _require(fmt)  # before reading the run: a missing extra is the first thing to say
    if fmt == "tensorboard" and sweep.is_sweep(root):
        raise ConfigError(
            f"{root} is a sweep; TensorBoard logs are per run: `jaxbngan extract` a point, then export it"
        )
    if out is not None and fmt != "tensorboard" and out.suffix.lower() != f".{fmt}":
        raise ConfigError(
            f"--out {out} does not end in .{fmt}, the format written (--format {fmt}); "
            f"name it {out.with_suffix('.' + fmt)}, or pass the --format its suffix names"
        )
    table = run_columns(root)
    out = out if out is not None else root / DEFAULT_NAMES[fmt]
    if fmt == "csv":
        write_csv(table, out)
    elif fmt == "parquet":
        write_parquet(table, out)
    else:
        write_tensorboard(table, out)
    return out


def _require(fmt: str) -> None:
    if fmt == "parquet":
        _optional("pyarrow", "parquet", "writing Parquet")
    elif fmt == "tensorboard":
        _optional("tensorboard", "tensorboard", "writing TensorBoard logs")


def _optional(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{what} needs {module}, which is not installed: pip install 'jaxbngan[{extra}]'") from None
