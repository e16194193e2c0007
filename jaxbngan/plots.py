"""Figures of runs: the blog's sample scatter over seeds, loss curves and the consistency diagnostic
with seed bands, distances of the fakes over training, D's loss beside the offset G moves the fakes
by ("D does not notice"), and a comparison of several runs.

Curves over training show each seed as a thin line (the first `MAX_SEED_LINES` of them) under the
median and interquartile band over seeds. Each seed line carries the gid "seed I", I its index in the run.

Each figure is a fresh matplotlib `Figure` on the Agg canvas (no pyplot, no global state) and is
written atomically as PNG. Histories are `Metrics` whose leaves are numpy arrays shaped
(seeds, logs, ...); non-finite values (diverged seeds, logs not run yet) are left out of the bands.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jaxbngan import finals, rundir
from jaxbngan.catalog import OFFSET_UNIT
from jaxbngan.config import ConfigError
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.rundir import atomic_path

LN2 = math.log(2)
REAL_COLOR = "0.6"  # real data in grey, as in the blog
FAKE_COLOR = "tab:orange"
DISTANCES = (  # Metrics field, label, colour: each drawn where it has finite values
    ("energy_distance", "energy distance", "tab:green"),
    ("kid", "KID (classifier features)", "tab:purple"),
    ("pixel_kid", "KID (pixels)", "tab:brown"),
)
MAX_SEED_LINES = 64  # thin per-seed lines drawn under a band; more would hide it
X_OFFSET = "x-offset: (mean(fake x) - mean(real x)) / std(real x)"
BRIGHTNESS_OFFSET = "brightness offset: (mean(fake) - mean(real)) / std(real), channel 0"


def scatter_grid(
    samples: np.ndarray,
    real: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str = "",
    max_seeds: int = 16,
    labels: list[str] | None = None,
) -> Figure:
    """One panel per seed (the first `max_seeds`): real data in grey, that seed's fakes in colour."""
    samples, real = np.asarray(samples, dtype=float), np.asarray(real, dtype=float)  # (seeds, n, d), (n, d)
    shown = samples[:max_seeds]
    count, dim = shown.shape[0], real.shape[1]
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(2.6 * cols, 2.6 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    limits = _shared_limits(real, shown)
    for i, fakes in enumerate(shown):
        ax = fig.add_subplot(rows, cols, i + 1)
        fakes = fakes[np.all(np.isfinite(fakes), axis=1)]
        if dim == 1:
            bins = np.linspace(*limits[0], 40)
            ax.hist(real[:, 0], bins=bins, color=REAL_COLOR, density=True, label="real data")
            ax.hist(fakes[:, 0], bins=bins, color=FAKE_COLOR, density=True, alpha=0.6, label="generated")
        else:
            ax.scatter(real[:, 0], real[:, 1], s=2, color=REAL_COLOR, linewidths=0, label="real data")
            ax.scatter(fakes[:, 0], fakes[:, 1], s=2, color=FAKE_COLOR, alpha=0.6, linewidths=0, label="generated")
            ax.set_ylim(*limits[1])
        ax.set_xlim(*limits[0])
        if len(fakes) == 0:
            ax.text(0.5, 0.5, "no finite samples", transform=ax.transAxes, ha="center", va="center")
        ax.set_title(labels[i] if labels else f"seed {i}", fontsize=9)
        ax.tick_params(labelsize=7)
    notes = [f"first {count} of {samples.shape[0]} seeds"] if samples.shape[0] > count else []
    if dim == 1:
        notes.append("1-D data: histograms")
    elif dim > 2:
        notes.append(f"first 2 of {dim} dims")
    handles, names = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize=8, markerscale=4, frameon=False)
    fig.suptitle(_titled(title or "real (grey) and generated samples", notes))
    _save(fig, path)
    return fig


def image_grid(
    samples: np.ndarray,
    real: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str = "",
    max_seeds: int = 8,
    per_row: int = 16,
    labels: list[str] | None = None,
) -> Figure:
    """A row of real images, then a row of `per_row` fakes per seed (the first `max_seeds`), pixels in [-1, 1]."""
    samples, real = np.asarray(samples, dtype=float), np.asarray(real, dtype=float)  # (seeds, n, H, W, C), (n, H, W, C)
    shown = samples[:max_seeds]
    rows = [("real data", real[:per_row])] + [
        (labels[i] if labels else f"seed {i}", fakes[:per_row]) for i, fakes in enumerate(shown)
    ]
    height, width, channels = real.shape[1:]
    fig = Figure(figsize=(0.45 * per_row * width / height + 1.2, 0.5 * len(rows) + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (label, images) in enumerate(rows):
        ax = fig.add_subplot(len(rows), 1, i + 1)
        ax.imshow(_mosaic(images, per_row), cmap="gray" if channels == 1 else None, vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        if i == 0:
            for spine in ax.spines.values():
                spine.set_edgecolor(REAL_COLOR)
                spine.set_linewidth(2)
    notes = [f"first {len(shown)} of {samples.shape[0]} seeds"] if samples.shape[0] > len(shown) else []
    fig.suptitle(_titled(title or "real images (top row) and generated images", notes), fontsize=9)
    _save(fig, path)
    return fig


def _mosaic(images: np.ndarray, count: int) -> np.ndarray:
    """`count` images side by side, one pixel of mid-grey between them; NaN shows as black, [-1, 1] -> [0, 1]."""
    n, height, width, channels = images.shape
    canvas = np.full((height, count * (width + 1) - 1, channels), 0.5)
    for i in range(min(n, count)):
        canvas[:, i * (width + 1) : i * (width + 1) + width] = np.clip(
            (np.nan_to_num(images[i], nan=-1.0) + 1) / 2, 0, 1
        )
    return canvas[..., 0] if channels == 1 else canvas


def loss_curves(
    history: Metrics, steps: np.ndarray, path: str | os.PathLike, *, title: str = "", seed_ids: list[int] | None = None
) -> Figure:
    """G and D loss over training: median and interquartile band over seeds, ln 2 for reference.

    `seed_ids` are the run's indices of the seeds in `history` (default 0, 1, ...), named in the seed lines.
    """
    fig = Figure(figsize=(7, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _band(ax, steps, history.g_loss, "G loss (D's BCE on fakes, G's view)", "tab:blue", seed_ids)
    _band(ax, steps, history.d_loss, "D loss", "tab:red", seed_ids)
    ax.axhline(LN2, color="0.3", linestyle="--", linewidth=1, label="ln 2")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    fig.suptitle(_titled(title or "losses", [_seed_note(history.g_loss)]))
    _save(fig, path)
    return fig


# What each normalization view of `metrics.VIEWS` means, as the diagnostic's legend says it.
VIEW_LABELS = {
    "fake": "fake view: fakes normalized by their own batch (D's split step)",
    "joint": "joint view: by the fake+real batch (D's joint step)",
    "running": "running view: by D's running averages (inference mode)",
}


def view_diagnostic(
    history: Metrics, steps: np.ndarray, path: str | os.PathLike, *, title: str = "", seed_ids: list[int] | None = None
) -> Figure:
    """D's loss on the same fakes under each normalization view, and the fraction of seeds where both win."""
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    for i, view in enumerate(VIEWS):
        _band(top, steps, history.d_fake_loss_by_view[..., i], VIEW_LABELS[view], f"C{i}", seed_ids)
    top.axhline(LN2, color="0.3", linestyle="--", linewidth=1, label="ln 2")
    top.set_ylabel("D's BCE on fakes")
    top.legend(fontsize=8)
    both_win = np.asarray(history.both_win, dtype=float)  # NaN where a log has not run yet
    bottom.plot(steps, _quiet(np.nanmean, both_win, axis=0), color="black")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("seeds where\nboth win", fontsize=8)
    bottom.set_xlabel("step")
    fig.suptitle(_titled(title or "consistency diagnostic", [_seed_note(history.d_loss)]))
    _save(fig, path)
    return fig


def distance_curves(
    history: Metrics, steps: np.ndarray, path: str | os.PathLike, *, title: str = "", seed_ids: list[int] | None = None
) -> Figure:
    """How far the fakes are from the real data over training: mean offset per dim (images: per channel)
    and the distances the data kind has (energy distance for points; KID and pixel KID for images).

    `history.offset` is in standard deviations of the real data (`draw_run` scales it).
    """
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    dims = history.offset.shape[-1]
    for d in range(min(dims, 2)):
        _band(top, steps, history.offset[..., d], f"dim {d}", f"C{d}", seed_ids)
    top.axhline(0.0, color="0.3", linewidth=1)
    top.set_ylabel(f"mean(fake) - mean(real)\n({OFFSET_UNIT} of the real data)")
    top.legend(fontsize=8)
    distances = [
        (name, label, color)
        for name, label, color in DISTANCES
        if np.any(np.isfinite(np.asarray(getattr(history, name), dtype=float)))
    ]
    for name, label, color in distances:
        _band(bottom, steps, getattr(history, name), label, color, seed_ids)
    bottom.set_ylabel("distance to the real data")
    bottom.legend(fontsize=8)
    bottom.set_xlabel("step")
    notes = [_seed_note(history.g_loss)] + ([f"first 2 of {dims} dims"] if dims > 2 else [])
    fig.suptitle(_titled(title or "fakes against the real data", notes))
    _save(fig, path)
    return fig


def blindness_curves(
    history: Metrics,
    steps: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str = "",
    seed_ids: list[int] | None = None,
    offset_label: str = X_OFFSET,
) -> Figure:
    """Does D notice? D's loss against ln 2 above the offset of the fakes along the first axis, on one step axis.

    D at ln 2 while the offset moves away from 0 is the blog's blind spot: G shifts its samples and
    D's loss does not change. `history.offset` is in standard deviations of the real data (`draw_run` scales it).
    """
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    _band(top, steps, history.d_loss, "D loss", "tab:red", seed_ids)
    top.axhline(LN2, color="0.3", linestyle="--", linewidth=1, label="ln 2 (D cannot tell real from fake)")
    top.set_ylabel("D's loss")
    top.legend(fontsize=8)
    _band(bottom, steps, history.offset[..., 0], offset_label, "tab:purple", seed_ids)
    bottom.axhline(0.0, color="0.3", linewidth=1, label="no offset")
    bottom.set_ylabel(f"offset of the fakes ({OFFSET_UNIT})")
    bottom.set_xlabel("step")
    bottom.legend(fontsize=8)
    fig.suptitle(_titled(title or "does D notice the fakes move?", [_seed_note(history.d_loss)]))
    _save(fig, path)
    return fig


def compare_runs(
    finals: dict[str, dict[str, np.ndarray]], path: str | os.PathLike, *, title: str = "", columns: int = 3
) -> Figure:
    """One panel per final metric, one box per run: `finals[run][metric]` holds a value per seed."""
    runs = list(finals)
    metrics = list(finals[runs[0]])
    columns = min(columns, len(metrics))  # no empty panels when few metrics are asked for
    rows = math.ceil(len(metrics) / columns)
    fig = Figure(figsize=(4 * columns, 0.6 + 3 * rows + 0.15 * max(len(r) for r in runs)), layout="constrained")
    FigureCanvasAgg(fig)
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, columns, i + 1)
        values = [np.asarray(finals[run][metric], dtype=float) for run in runs]
        ax.boxplot([v[np.isfinite(v)] for v in values], tick_labels=runs)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(title or "final metrics over seeds (box: interquartile range, line: median)")
    _save(fig, path)
    return fig


def sweep_figure(
    values: np.ndarray,
    axes: list[tuple[str, tuple[float, ...]]],
    path: str | os.PathLike,
    *,
    title: str,
    label: str,
    spread: tuple[np.ndarray, np.ndarray] | None = None,
) -> Figure:
    """A statistic per grid point (`values` shaped like the grid): a heatmap with the values written in
    for two axes; for one axis, or more than two, lines over the last axis (one per combination of the
    others), with `spread` (low, high) as error bars when given."""
    values = np.asarray(values, dtype=float)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    (last_path, last_values), others = axes[-1], axes[:-1]
    if len(axes) == 2:
        (row_path, row_values) = axes[0]
        image = ax.imshow(values, cmap="viridis", aspect="auto", origin="lower")
        fig.colorbar(image, ax=ax, label=label)
        ax.set_xticks(range(len(last_values)), [f"{v:g}" for v in last_values])
        ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
        ax.set_xlabel(last_path)
        ax.set_ylabel(row_path)
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), value in np.ndenumerate(values):
            color = "black" if np.isfinite(value) and value > middle else "white"
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=7, color=color)
    else:
        rows = values.reshape(-1, len(last_values))
        low_high = None if spread is None else [np.asarray(s, dtype=float).reshape(rows.shape) for s in spread]
        x = np.arange(len(last_values))
        for i, combination in enumerate(np.ndindex(*(len(v) for _, v in others))):
            name = ", ".join(f"{p}={v[k]:g}" for (p, v), k in zip(others, combination, strict=True)) or None
            error = None if low_high is None else [rows[i] - low_high[0][i], low_high[1][i] - rows[i]]
            ax.errorbar(x, rows[i], yerr=error, marker="o", capsize=3, label=name)
        ax.set_xticks(x, [f"{v:g}" for v in last_values])
        ax.set_xlabel(last_path)
        ax.set_ylabel(label)
        if others:
            ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    _save(fig, path)
    return fig


def _band(ax, steps: np.ndarray, values: np.ndarray, label: str, color: str, seed_ids: list[int] | None) -> None:
    """A thin line per seed (the first MAX_SEED_LINES), under the median line and interquartile band over seeds."""
    values = np.asarray(values, dtype=float)
    values = np.where(np.isfinite(values), values, np.nan)
    ids = range(len(values)) if seed_ids is None else seed_ids
    for seed, curve in zip(ids, values[:MAX_SEED_LINES], strict=False):
        ax.plot(steps, curve, color=color, linewidth=0.5, alpha=0.35, zorder=1, gid=f"seed {seed}")
    low, median, high = _quiet(np.nanpercentile, values, [25, 50, 75], axis=0)
    ax.fill_between(steps, low, high, color=color, alpha=0.25, linewidth=0, zorder=2)
    ax.plot(steps, median, color=color, linewidth=2, label=label, zorder=3)


def _quiet(fn, *args, **kwargs):
    # A log that no seed has reached yet (partial runs) is all NaN: a gap in the plot, not a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _shared_limits(real: np.ndarray, fakes: np.ndarray) -> list[tuple[float, float]]:
    """Axis limits that hold the real data and nearly all fakes of every panel (robust to outliers)."""
    points = np.concatenate([real[:, :2], fakes[..., :2].reshape(-1, min(real.shape[1], 2))])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = np.percentile(points, 0.5, axis=0), np.percentile(points, 99.5, axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-6)
    return [(float(lo - p), float(hi + p)) for lo, hi, p in zip(low, high, pad, strict=True)]


def _seed_note(values: np.ndarray) -> str:
    seeds = np.shape(values)[0]
    lines = "thin lines: each seed" if seeds <= MAX_SEED_LINES else f"thin lines: the first {MAX_SEED_LINES}"
    return f"median and IQR over {seeds} seeds; {lines}"


def _titled(title: str, notes: list[str]) -> str:
    return f"{title}\n({'; '.join(notes)})" if notes else title  # notes on a line of their own: titles stay short


def _save(fig: Figure, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def draw_run(root: Path, results: rundir.Results | None = None, seeds: list[int] | None = None) -> list[Path]:
    """(Re)draw every figure of a finished or partial run directory, of all seeds or of `seeds`; return the files.

    `seeds` are indices into the run's seeds; one out of range is a ConfigError.
    """
    if results is None:
        results = rundir.load(root)
    if results.history is None:
        raise ConfigError(f"{root} has no results yet: not one chunk has finished")
    history, ids, fakes, fake_ids = _selected(root, results, seeds)
    history = history._replace(offset=np.asarray(history.offset) / finals.data_std(results.real))  # in std
    name = results.spec.get("preset") or "run"
    partial = "" if results.complete else ", partial"
    images = results.real.ndim == 4
    written = []
    if fakes is not None and len(fakes):
        written.append(root / "samples.png")
        draw_samples = image_grid if images else scatter_grid
        draw_samples(
            fakes,
            results.real,
            written[-1],
            title=f"{name}: final samples{partial}",
            labels=[f"seed {i}" for i in fake_ids],
        )
    for file, draw, what in (
        ("losses.png", loss_curves, "losses"),
        ("diagnostic.png", view_diagnostic, "D's loss on fakes under each view"),
        ("distances.png", distance_curves, "fakes against the real data"),
    ):
        written.append(root / file)
        draw(history, results.steps, written[-1], title=f"{name}: {what}{partial}", seed_ids=ids)
    written.append(root / "blindness.png")
    blindness_curves(
        history,
        results.steps,
        written[-1],
        title=f"{name}: does D notice the fakes move?{partial}",
        seed_ids=ids,
        offset_label=BRIGHTNESS_OFFSET if images else X_OFFSET,
    )
    return written


def _selected(
    root: Path, results: rundir.Results, seeds: list[int] | None
) -> tuple[Metrics, list[int], np.ndarray | None, list[int]]:
    """The history of the chosen seeds (all by default), their indices, their final samples and those seeds' indices.

    A partial run has final samples of its finished seeds only.
    """
    count = np.shape(results.history.g_loss)[0]
    finished = 0 if results.fakes is None else len(results.fakes)
    if seeds is None:
        return results.history, list(range(count)), results.fakes, list(range(finished))
    ids = list(dict.fromkeys(seeds))  # in the order given, each once
    outside = [seed for seed in ids if not 0 <= seed < count]
    if not ids or outside:
        shown = f"seed {outside[0]} is not" if outside else "no seeds are"
        raise ConfigError(f"{shown} among the {count} seeds of {root} (0 to {count - 1})")
    history = Metrics(*(np.asarray(values)[ids] for values in results.history))
    fake_ids = [seed for seed in ids if seed < finished]
    fakes = None if results.fakes is None else np.asarray(results.fakes)[fake_ids]
    return history, ids, fakes, fake_ids
