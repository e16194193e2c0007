"""The report's figures: offsets, consistency gaps, double-win rates, the verdict grid, each plot of a section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jaxbngan import conditions, plots, settling, verdicts
from jaxbngan.reproduce.cells import SAMPLE_SEEDS
from jaxbngan.reproduce.numbers import common_seeds, consistency_gap, kept_seeds, log_steps
from jaxbngan.reproduce.spec import Plot
from jaxbngan.rundir import atomic_path

FIGURE_DPI = 80
VERDICT_COLORS = {
    "reproduced": "#4caf50",
    "partly": "#ffb74d",
    "not reproduced": "#e57373",
    "untestable": "#bdbdbd",
    "undecided": "#90caf9",
    "not judged": "#eeeeee",
}


OFFSET_LABELS = {
    "x_offset": "x-offset (std of real x)",
    "displacement": "offset norm (std units)",
    "brightness": "brightness - twin's without the reward, same seed (std of real pixels)",
    "brightness_contrast": "brightness + contrast - twin's without the reward, same seed (std of real pixels)",
    "reward": "x-offset - twin's without the reward, same seed (std of real x)",
}


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=FIGURE_DPI)


def offset_histograms(values: dict[str, dict[str, np.ndarray]], path: Path, *, measure: str) -> None:
    """One panel per data set; one histogram over seeds per variant; shifts with their thresholds dashed.

    `measure`: x_offset (std of the real x), displacement (offset norm) or brightness (a variant's
    brightness minus the reference's, same seed, in std of the real pixels).
    """
    datasets = list(next(iter(values.values())))
    fig = new_figure(4.2 * len(datasets), 3.2)
    for i, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), i + 1)
        lines = {"x_offset": (-verdicts.SHIFT, verdicts.SHIFT)}.get(measure, ())
        lines = (verdicts.SHIFT,) if measure in ("reward", "brightness", "brightness_contrast") else lines
        finite = np.concatenate([v[dataset][np.isfinite(v[dataset])] for v in values.values()] + [[0.0, *lines]])
        bins = np.linspace(finite.min() - 0.1, finite.max() + 0.1, 30)
        for j, (variant, by_dataset) in enumerate(values.items()):
            ax.hist(by_dataset[dataset], bins=bins, alpha=0.55, color=f"C{j}", label=variant)
        for line in lines:
            ax.axvline(line, color="0.3", linestyle="--", linewidth=1)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel(OFFSET_LABELS[measure], fontsize=8)
        ax.set_ylabel("seeds", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def gap_curves(curves: dict[str, dict[str, np.ndarray]], steps: np.ndarray, path: Path) -> None:
    """Median and interquartile band over seeds of the consistency gap during training, per data set."""
    datasets = list(next(iter(curves.values())))
    fig = new_figure(4.2 * len(datasets), 3.2)
    for i, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), i + 1)
        for j, (variant, by_dataset) in enumerate(curves.items()):
            low, median, high = np.nanpercentile(by_dataset[dataset], [25, 50, 75], axis=0)
            ax.plot(steps, median, color=f"C{j}", label=variant)
            ax.fill_between(steps, low, high, color=f"C{j}", alpha=0.2, linewidth=0)
        ax.axhline(verdicts.GAP, color="0.3", linestyle="--", linewidth=1)
        ax.set_yscale("symlog", linthresh=1e-3)  # a gap of exactly 0 (no BN) stays on the axis
        ax.set_ylim(bottom=0.0)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("consistency gap", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def both_win_bars(rates: dict[str, dict[str, float]], path: Path) -> None:
    """Share of seeds ending with both players winning: one group of bars per variant, one bar per data set."""
    variants = list(rates)
    datasets = list(rates[variants[0]])
    fig = new_figure(max(5.0, 0.8 * len(variants) * len(datasets)), 3.4)
    ax = fig.add_subplot()
    width = 0.8 / len(datasets)
    for j, dataset in enumerate(datasets):
        positions = np.arange(len(variants)) + (j - (len(datasets) - 1) / 2) * width
        ax.bar(positions, [rates[v][dataset] for v in variants], width, label=dataset, color=f"C{j}")
    ax.set_xticks(np.arange(len(variants)), variants, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("seeds where both win", fontsize=8)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def trend_panels(
    gaps: dict[str, dict[str, np.ndarray]], shares: dict[str, dict[str, float]], seeds: str, path: Path
) -> None:
    """Along variants (x, in order): the late consistency gap's median and IQR over seeds, and the share
    of seeds ending with both players winning; one line per data set."""
    variants = list(gaps)
    datasets = list(gaps[variants[0]])
    fig = new_figure(max(7.0, 1.1 * len(variants) * 2), 3.4)
    x = np.arange(len(variants))
    gap_ax, share_ax = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for j, dataset in enumerate(datasets):
        low, median, high = np.array([np.nanpercentile(gaps[v][dataset], [25, 50, 75]) for v in variants]).T
        gap_ax.errorbar(
            x, median, yerr=[median - low, high - median], marker="o", capsize=3, color=f"C{j}", label=dataset
        )
        share_ax.plot(x, [shares[v][dataset] for v in variants], marker="o", color=f"C{j}", label=dataset)
    gap_ax.set_yscale("symlog", linthresh=1e-3)
    gap_ax.set_ylabel(f"late consistency gap (median, IQR over {seeds} seeds)", fontsize=8)
    share_ax.set_ylim(-0.05, 1.05)
    share_ax.set_ylabel(f"share of {seeds} seeds where both win", fontsize=8)
    for ax in (gap_ax, share_ax):
        ax.set_xticks(x, variants, rotation=30, ha="right", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def median_intervals(values: dict[str, dict[str, dict[str, np.ndarray]]], path: Path) -> None:
    """Per score (panel row) and data set (column): each variant's median over seeds with its 95% interval.

    `values[score][dataset][variant]` holds per-seed values; variants are drawn top to bottom in the
    order given, a dot at the median and a bar over the order-statistics interval (none under 6 seeds).
    """
    scores = list(values)
    datasets = list(values[scores[0]])
    variants = list(values[scores[0]][datasets[0]])
    fig = new_figure(3.6 * len(datasets) + 1.5, 0.9 + 0.28 * len(variants) * len(scores))
    for row, score in enumerate(scores):
        for col, dataset in enumerate(datasets):
            ax = fig.add_subplot(len(scores), len(datasets), row * len(datasets) + col + 1)
            for y, variant in enumerate(variants):
                median, low, high = verdicts.median_interval(values[score][dataset][variant])
                ax.plot([low, high], [y, y], color=f"C{y}", linewidth=2.5)
                ax.plot([median], [y], marker="o", color=f"C{y}", markersize=4)
            ax.set_yticks(np.arange(len(variants)), variants if col == 0 else [""] * len(variants), fontsize=7)
            ax.set_ylim(len(variants) - 0.5, -0.5)
            ax.set_title(f"{score} on {dataset}", fontsize=9)
            ax.set_xlabel("median over seeds, 95% interval", fontsize=7)
            ax.tick_params(labelsize=7)
    save_figure(fig, path)


def verdict_grid(labels: list[str], datasets: list[str], rows: list[list], path: Path) -> None:
    """Claims down, data sets (and the overall verdict) across, coloured by verdict.

    A row holds one `Judgement` (or None: not run) per data set, then the overall verdict. Each data
    set's cell draws the support share as a dot with its 95% interval as a bar on a 0-100% scale,
    the 50% and 75% thresholds as ticks: an undecided cell's bar crosses a tick.
    """
    columns = [*datasets, "overall"]
    label_width = 0.06 * max(len(label) for label in labels)  # inches at font size 7
    fig = new_figure(label_width + 1.5 * len(columns), 0.9 + 0.42 * len(labels))
    ax = fig.add_subplot()
    for row, cells in enumerate(rows):
        for col, cell in enumerate(cells):
            verdict = cell if isinstance(cell, str) else cell.verdict if cell is not None else "-"
            color = VERDICT_COLORS.get(verdict, "white")
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=color, edgecolor="white", linewidth=2))
            if cell is None or isinstance(cell, str) or cell.verdict == verdicts.NOT_JUDGED:  # no share to draw
                ax.text(col + 0.5, row + 0.5, verdict, ha="center", va="center", fontsize=7)
                continue
            ax.text(col + 0.5, row + 0.32, verdict, ha="center", va="center", fontsize=6.5)
            left, span, y = col + 0.1, 0.8, row + 0.72  # the 0-100% scale inside the cell
            low, high = cell.interval
            ax.plot([left, left + span], [y, y], color="white", linewidth=1)
            ax.plot([left + span * low, left + span * high], [y, y], color="0.15", linewidth=2.5)
            ax.plot([left + span * cell.support], [y], marker="o", color="0.15", markersize=3)
            for threshold in (verdicts.MAJORITY, verdicts.ROBUST):
                ax.plot([left + span * threshold] * 2, [y - 0.12, y + 0.12], color="0.3", linewidth=0.8)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(labels), 0)
    ax.set_xticks(np.arange(len(columns)) + 0.5, columns, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(labels)) + 0.5, labels, fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    save_figure(fig, path)


def reward_values(
    plot: Plot, datasets, numbers, moved: conditions.Condition | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Per rewarded variant and data set: the offset in the reward's direction minus its twin's, kept seeds.

    `plot.variants` pairs each rewarded variant with its twin; `moved` measures a pair (default: the
    offset `conditions.moved_by_reward` reads).
    """
    moved = moved or conditions.moved_by_reward(0, 1)
    values = {}
    pairs = zip(plot.variants[::2], plot.variants[1::2], strict=True)
    for rewarded, twin in pairs:
        values[rewarded] = {}
        for d in datasets:
            a, b = common_seeds([numbers[f"{rewarded}@{d}"], numbers[f"{twin}@{d}"]])
            kept = kept_seeds([a, b])
            values[rewarded][d] = np.asarray(moved.difference(a, b), dtype=float)[kept]
    return values


def reward_weight_curves(curves: dict[str, dict[str, dict[float, np.ndarray]]], path: Path, *, measure: str) -> None:
    """Per data set: what the reward did against its weight, one line per D: the median over seeds of the
    offset in the reward's direction minus the twin's (same seed), with its 95% interval as a band (none
    under 6 seeds); the shift threshold dashed. `curves[label][dataset][weight]` holds per-seed values, `measure`
    names the offset (in std of the data)."""
    datasets = list(next(iter(curves.values())))
    fig = new_figure(4.2 * len(datasets), 3.4)
    for i, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), i + 1)
        for j, (label, by_dataset) in enumerate(curves.items()):
            weights = sorted(by_dataset[dataset])
            median, low, high = np.array([verdicts.median_interval(by_dataset[dataset][w]) for w in weights]).T
            ax.plot(weights, median, marker="o", color=f"C{j}", label=label)
            ax.fill_between(weights, low, high, color=f"C{j}", alpha=0.2, linewidth=0)
        ax.axhline(verdicts.SHIFT, color="0.3", linestyle="--", linewidth=1)
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_xscale("log")
        ax.minorticks_off()
        swept = sorted({w for by_dataset in curves.values() for w in by_dataset[dataset]})
        ax.set_xticks(swept, [f"{w:g}" for w in swept])
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("reward weight", fontsize=8)
        ax.set_ylabel(f"{measure} - twin's, same seed (std)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def position_curves(histories: dict[str, dict], kept: dict[str, dict], steps: np.ndarray, path: Path) -> None:
    """Per data set (column) and variant (row): the median over the kept seeds (`kept[variant][dataset]`, those
    that did not diverge) of each BN layer's running-mean position between the fake-only (0) and the real-only
    (1) batch means over training, with its interquartile band."""
    variants = list(histories)
    datasets = list(histories[variants[0]])
    fig = new_figure(4.2 * len(datasets), 2.9 * len(variants))
    for row, variant in enumerate(variants):
        for col, dataset in enumerate(datasets):
            ax = fig.add_subplot(len(variants), len(datasets), row * len(datasets) + col + 1)
            position = np.asarray(histories[variant][dataset].running_position, dtype=float)[..., 0]
            position = position[np.asarray(kept[variant][dataset], dtype=bool)]
            for layer in range(position.shape[-1]):
                values = position[..., layer]
                if not np.isfinite(values).any():
                    continue
                low, median, high = np.nanpercentile(values, [25, 50, 75], axis=0)
                ax.plot(steps, median, color=f"C{layer}", label=f"BN layer {layer + 1}")
                ax.fill_between(steps, low, high, color=f"C{layer}", alpha=0.2, linewidth=0)
            ax.axhspan(0, 1, color="0.9", zorder=0)
            ax.axhline(0, color="C3", linewidth=0.8, linestyle="--")
            ax.axhline(1, color="C2", linewidth=0.8, linestyle="--")
            ax.set_title(f"{variant} on {dataset} ({len(position)} seeds not diverged)", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.set_ylabel("running mean: fake batch 0, real batch 1", fontsize=7)
            ax.tick_params(labelsize=7)
            if ax.get_legend_handles_labels()[0]:  # a variant without BN in D has no line to name
                ax.legend(fontsize=7)
    save_figure(fig, path)


def settling_curves(experiment, datasets, results, cells, numbers, path: Path) -> None:
    """Each variant's main metric and consistency gap over training (median over the kept seeds) and the share of
    its kept seeds in the double win, per data set, with the last MOVING_WINDOW of the logs shaded: the window
    `settling.still_moving` reads."""
    fig = new_figure(4.2 * len(datasets), 8.0)
    for col, dataset in enumerate(datasets):
        metric_ax = fig.add_subplot(3, len(datasets), col + 1)
        gap_ax = fig.add_subplot(3, len(datasets), len(datasets) + col + 1)
        win_ax = fig.add_subplot(3, len(datasets), 2 * len(datasets) + col + 1)
        steps = None
        for j, variant in enumerate(experiment.variants):
            key = f"{variant.name}@{dataset}"
            if key not in results:
                continue  # not trained (--report-only)
            history, config = results[key].history, cells[key].config
            kept = ~np.asarray(numbers[key].diverged, dtype=bool)
            if not kept.any():
                continue
            steps = log_steps(config)
            points = np.isfinite(np.asarray(history.energy_distance, dtype=float)).any()
            metric = np.asarray(history.energy_distance if points else history.frechet_distance, dtype=float)
            metric_ax.plot(steps, np.nanmedian(metric[kept], axis=0), color=f"C{j % 10}", label=variant.name)
            gap_ax.plot(steps, np.nanmedian(consistency_gap(history, config)[kept], axis=0), color=f"C{j % 10}")
            win_ax.plot(steps, np.mean(np.asarray(history.both_win, dtype=bool)[kept], axis=0), color=f"C{j % 10}")
            metric_ax.set_ylabel("energy distance" if points else "Frechet distance", fontsize=8)
        for ax in (metric_ax, gap_ax, win_ax):
            if steps is not None:
                ax.axvspan(steps[settling.window_start(steps.size)], steps[-1], color="0.9", zorder=0)
            ax.tick_params(labelsize=7)
        for ax in (metric_ax, gap_ax):
            ax.set_yscale("symlog", linthresh=1e-3)
        win_ax.set_ylim(-0.05, 1.05)
        metric_ax.set_title(dataset, fontsize=9)
        gap_ax.set_ylabel("consistency gap", fontsize=8)
        win_ax.set_ylabel("share of seeds in the double win", fontsize=8)
        win_ax.set_xlabel("step (shaded: the window judged for movement)", fontsize=8)
        if col == 0:
            metric_ax.legend(fontsize=6)
    save_figure(fig, path)


def _seeds_text(counts: list[int]) -> str:
    """The cells' seed counts, as a range where --adaptive-seeds grew some of them."""
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"


def draw_plot(plot: Plot, path: Path, experiment, datasets, results, cells, numbers, stats) -> None:
    """Draw one figure of an experiment into `path`."""
    first = datasets[0]
    if plot.kind in ("samples", "losses", "views"):
        key = f"{plot.variants[0]}@{first}"
        result = results[key]
        title = f"{plot.variants[0]} on {first}"
        if plot.kind == "samples":
            plots.scatter_grid(result.samples, stats[first].population, path, title=title, max_seeds=SAMPLE_SEEDS)
        else:
            draw = plots.loss_curves if plot.kind == "losses" else plots.view_diagnostic
            draw(result.history, log_steps(cells[key].config), path, title=title)
    elif plot.kind == "reward":
        offset_histograms(reward_values(plot, datasets, numbers), path, measure="reward")
    elif plot.kind == "positions":
        histories = {v: {d: results[f"{v}@{d}"].history for d in datasets} for v in plot.variants}
        kept = {v: {d: ~np.asarray(numbers[f"{v}@{d}"].diverged, dtype=bool) for d in datasets} for v in plot.variants}
        position_curves(histories, kept, log_steps(cells[f"{plot.variants[0]}@{first}"].config), path)
    elif plot.kind == "offsets":
        values = {v: {d: getattr(numbers[f"{v}@{d}"], plot.measure) for d in datasets} for v in plot.variants}
        offset_histograms(values, path, measure=plot.measure)
    elif plot.kind == "gaps":
        curves = {
            v: {d: consistency_gap(results[f"{v}@{d}"].history, cells[f"{v}@{d}"].config) for d in datasets}
            for v in plot.variants
        }
        gap_curves(curves, log_steps(cells[f"{plot.variants[0]}@{first}"].config), path)
    elif plot.kind == "trend":
        trend_panels(
            {v: {d: numbers[f"{v}@{d}"].late_gap for d in datasets} for v in plot.variants},
            {v: {d: float(np.mean(numbers[f"{v}@{d}"].both_win)) for d in datasets} for v in plot.variants},
            _seeds_text([len(numbers[f"{v}@{d}"].both_win) for v in plot.variants for d in datasets]),
            path,
        )
    else:  # check_experiment admits no other kind
        both_win_bars(
            {v: {d: float(np.mean(numbers[f"{v}@{d}"].both_win)) for d in datasets} for v in plot.variants}, path
        )
