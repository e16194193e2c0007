"""The user's own data: (n, d) points or (n, H, W[, C]) images from .npy, .npz or .csv files.

Points are used as they are. Images are brought into G's tanh range [-1, 1], and what was done is
printed to stderr. Any file that cannot be used ends as one ConfigError line naming it.

Rules (issue 14): a file needs at least `MIN_ROWS` rows or images, the least from which batch
statistics exist; that the batch fits in the population is checked with the rest of the config
(`config.validate`). A single column is accepted as 1-D data, with a note: every metric works in
any dimension and the figures draw 1-D data as histograms.
"""

from __future__ import annotations

import csv
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from jaxbngan.config import ConfigError, error_text

DATA_SUFFIXES = (".npy", ".npz", ".csv")
MIN_ROWS = 2
MAX_CHANNELS = 4  # channels last: grey, grey + alpha, RGB, RGBA


def is_data_file(source: str) -> bool:
    """Whether a --data argument names a file rather than a built-in data set."""
    return Path(_split_npz(source)[0]).suffix.lower() in DATA_SUFFIXES or os.sep in source


def load_data_file(source: str) -> np.ndarray:
    """Float32 (n, d) points or (n, H, W, C) images in [-1, 1] from .npy, .npz (`file.npz[:name]`) or .csv."""
    path_text, member = _split_npz(source)
    path = Path(path_text)
    name = path.name
    if not path.is_file():
        raise ConfigError(f"{name}: no such file ({path})")
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise ConfigError(f"{name}: unsupported file type {suffix or '(none)'}; use .npy, .npz or .csv")
    try:
        if suffix == ".csv":
            array = _read_csv(path)
        elif suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            array, member = _read_npz(path, member)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ConfigError(f"{name}: cannot read it as {suffix[1:]} ({error_text(error)})") from None
    return checked_array(array, f"{name}:{member}" if member else name)


def checked_array(array: np.ndarray, name: str) -> np.ndarray:
    """Own data as a run uses it: float32 (n, d) points, or (n, H, W, C) images scaled to [-1, 1]."""
    array = np.asarray(array)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ConfigError(f"{name}: holds {array.dtype} values; expected real numbers")
    if array.ndim == 2:
        return _checked_points(array, name)
    if array.ndim in (3, 4):
        return _scaled_images(array, name)
    raise ConfigError(f"{name}: expected (n, d) points or (n, H, W[, C]) images, got shape {array.shape}")


def _checked_points(array: np.ndarray, name: str) -> np.ndarray:
    if array.shape[1] < 1:
        raise ConfigError(f"{name}: has no columns")
    if array.shape[0] < MIN_ROWS:
        raise ConfigError(f"{name}: has {array.shape[0]} rows; at least {MIN_ROWS} are needed")
    bad_rows = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
    if bad_rows.size:
        raise ConfigError(f"{name}: row {bad_rows[0] + 1} holds NaN or inf ({bad_rows.size} such rows)")
    if array.shape[1] == 1:
        print(f"{name}: one column, learned as 1-D data (the figures show histograms)", file=sys.stderr)
    return array.astype(np.float32)


def _scaled_images(array: np.ndarray, name: str) -> np.ndarray:
    images = array[..., None] if array.ndim == 3 else array  # (n, H, W, C)
    count, height, width, channels = images.shape
    if count < MIN_ROWS:
        raise ConfigError(f"{name}: has {count} images; at least {MIN_ROWS} are needed")
    if height < 2 or width < 2 or not 1 <= channels <= MAX_CHANNELS:
        raise ConfigError(
            f"{name}: images of shape {images.shape[1:]} are not (H, W, C) with H, W >= 2 and 1 to {MAX_CHANNELS} "
            "channels last (for channels first use np.moveaxis(x, 1, -1))"
        )
    bad = np.flatnonzero(~np.isfinite(images).reshape(count, -1).all(axis=1))
    if bad.size:
        raise ConfigError(f"{name}: image {bad[0] + 1} holds NaN or inf ({bad.size} such images)")
    low, high = images.min().item(), images.max().item()
    if high == low:  # whatever the dtype: offsets are measured in the data's std, which would be 0
        raise ConfigError(f"{name}: every pixel is {low:g}; nothing to learn")
    pixels = images.astype(np.float32)
    if np.issubdtype(images.dtype, np.integer) and 0 <= low and high <= 255:
        how, scaled = "as 8-bit values by x / 127.5 - 1", pixels / np.float32(127.5) - 1
    elif np.issubdtype(images.dtype, np.integer) or not -1 <= low <= high <= 1:
        how = f"from [{low:g}, {high:g}] by 2 (x - min) / (max - min) - 1"
        scaled = 2 * (pixels - np.float32(low)) / np.float32(high - low) - 1
    elif low >= 0:
        how, scaled = "from [0, 1] by 2x - 1", 2 * pixels - 1
    else:
        how, scaled = "kept as they are (already in [-1, 1])", pixels
    print(
        f"{name}: {count} images {height}x{width}x{channels} of {images.dtype} in [{low:g}, {high:g}]; pixels {how}",
        file=sys.stderr,
    )
    return np.clip(scaled, -1.0, 1.0)  # min-max scaling may round a hair past the ends


def _split_npz(source: str) -> tuple[str, str | None]:
    head, sep, member = source.rpartition(":")
    if sep and head.lower().endswith(".npz"):
        return head, member
    return source, None


def _read_npz(path: Path, member: str | None) -> tuple[np.ndarray, str]:
    with np.load(path, allow_pickle=False) as saved:
        names = list(saved.keys())
        if member is None:
            if len(names) != 1:
                listing = ", ".join(names) or "none"
                raise ConfigError(f"{path.name}: holds {len(names)} arrays ({listing}); pick one: --data {path}:NAME")
            member = names[0]
        if member not in names:
            raise ConfigError(f"{path.name}: has no array {member!r}; it holds {', '.join(names)}")
        return saved[member], member


def _read_csv(path: Path) -> np.ndarray:
    with open(path, newline="") as f:
        rows = [(number, row) for number, row in enumerate(csv.reader(f), start=1) if any(c.strip() for c in row)]
    if rows and not any(_is_number(cell) for cell in rows[0][1]):
        rows = rows[1:]  # a header
    if not rows:
        raise ConfigError(f"{path.name}: holds no data rows")
    width = len(rows[0][1])
    values = []
    for number, row in rows:
        if len(row) != width:
            raise ConfigError(f"{path.name}: line {number} has {len(row)} columns, expected {width}")
        for column, cell in enumerate(row, start=1):
            if not _is_number(cell):
                shown = repr(cell.strip()) if cell.strip() else "an empty cell"
                raise ConfigError(f"{path.name}: line {number}, column {column}: {shown} is not a number")
        values.append([float(cell) for cell in row])
    return np.array(values)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
