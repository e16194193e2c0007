"""The image study's report: report.md and verdicts.json from finished image cells, with the same verdicts.

Claims are judged and summarized as in the 2-D report (`report.judge_experiments`, `summary_lines`,
`claim_lines`); what differs is the numbers: a table of losses, brightness and the consistency
gap, a quality table (Frechet distance, KID, class coverage with the 95% interval of each median,
ranked by Frechet distance, beside the score of real data against real data), and image grids.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from jaxbngan import plots
from jaxbngan.image_conditions import REWARD_OFFSETS, ImageNumbers, brightened
from jaxbngan.reproduce.adaptive import adaptive_text, grown_seed_lines
from jaxbngan.reproduce.cells import SAMPLE_SEEDS, Cell, CellResult, duration_text
from jaxbngan.reproduce.figures import (
    draw_plot,
    median_intervals,
    offset_histograms,
    reward_values,
    reward_weight_curves,
    settling_curves,
)
from jaxbngan.reproduce.image_numbers import ImageStats, image_seed_numbers, image_stats
from jaxbngan.reproduce.image_spec import OPEN_QUESTIONS, ImageProfile, OpenQuestion
from jaxbngan.reproduce.judging import (
    Judged,
    Unjudged,
    checks_lines,
    controls_lines,
    divergence_lines,
    drawable,
    judge_cells,
    sensitivity_lines,
    settling_lines,
    unjudged_lines,
    verify_checks,
)
from jaxbngan.reproduce.provenance import cells_commit_text, device_text, versions_text
from jaxbngan.reproduce.report import (
    VERDICT_RULES_TEXT,
    Invocation,
    claim_lines,
    summary_lines,
    write_verdicts,
)
from jaxbngan.reproduce.spec import Experiment, Plot
from jaxbngan.reproduce.text import (
    diverged_text,
    filled,
    interval_text,
    share_text,
    spread_text,
    supporting_seeds,
    verdict_text,
    win_texts,
)
from jaxbngan.rundir import atomic_path
from jaxbngan.verdicts import NOT_JUDGED, SHIFT, median_interval

QUALITY = {"frechet": "Frechet distance", "kid": "KID", "coverage": "class coverage"}  # ImageNumbers field: name


def _median_text(values: np.ndarray, digits: int = 3) -> str:
    median, low, high = median_interval(values)
    if np.isnan(median):
        return "n/a"
    interval = "[n/a]" if np.isnan(low) else f"[{low:.{digits}f}, {high:.{digits}f}]"
    return f"{median:.{digits}f} {interval}"


def image_numbers_table(experiment: Experiment, datasets: Sequence[str], numbers: dict[str, ImageNumbers]) -> list[str]:
    """Median [interquartile range] over seeds of the final losses, brightness, contrast and gap of every cell."""
    lines = [
        "Median over seeds [interquartile range] at the end of training:",
        "",
        "| variant | data | seeds | diverged | G loss | D loss | brightness (std) | contrast (std) | gap"
        " | both win: D < G/2 | D < ln 2 < G |",
        "|" + " --- |" * 11,
    ]
    for variant in experiment.variants:
        for dataset in datasets:
            n = numbers.get(f"{variant.name}@{dataset}")
            if n is None:
                continue  # not trained (--report-only)
            kept = ~np.asarray(n.diverged, dtype=bool)
            row = [f"`{variant.name}`", dataset, str(n.g_loss.size), diverged_text(n.diverged)]
            row += [spread_text(n.g_loss[kept], 2), spread_text(n.d_loss[kept], 3)]
            row += [spread_text(n.brightness[kept], 2), spread_text(n.contrast[kept], 2)]
            row += [spread_text(n.gap[kept], 3), *win_texts(n)]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def quality_table(
    experiment: Experiment, datasets: Sequence[str], numbers: dict[str, ImageNumbers], stats: dict[str, ImageStats]
) -> list[str]:
    """Per data set, the variants ranked by median Frechet distance; each score's median with its 95% interval."""
    lines = [
        "Sample quality at the end of training, ranked by median Frechet distance (median over seeds, 95% interval"
        " of the median):",
        "",
        "| data | rank | variant | " + " | ".join(QUALITY.values()) + " |",
        "|" + " --- |" * (3 + len(QUALITY)),
    ]
    for dataset in datasets:
        cells = {
            v.name: numbers[f"{v.name}@{dataset}"] for v in experiment.variants if f"{v.name}@{dataset}" in numbers
        }
        by_frechet = sorted(cells, key=lambda v: _rank_key(cells[v].frechet))
        for rank, variant in enumerate(by_frechet, start=1):
            scores = [_median_text(getattr(cells[variant], field)) for field in QUALITY]
            lines.append(f"| {dataset} | {rank} | `{variant}` | " + " | ".join(scores) + " |")
        floor = stats[dataset]
        real = [f"{floor.floor_frechet:.3f}", f"{floor.floor_kid:.3f}", f"{floor.floor_coverage:.3f}"]
        lines.append(f"| {dataset} | - | real vs real ({floor.floor_samples} each) | " + " | ".join(real) + " |")
    return lines


def _rank_key(values: np.ndarray) -> float:
    median = median_interval(values)[0]
    return np.inf if np.isnan(median) else median  # a cell whose every seed diverged ranks last


IMAGE_TEXT = f"""
Tables of final numbers give the median over seeds with the interquartile range in brackets (the
spread of the seeds, not an uncertainty); the quality table and paired differences give the median
with its 95% distribution-free interval (order statistics of the seeds; n/a under 6 seeds). G loss
is D's binary cross-entropy on the fakes in G's view of D, D loss is D's own objective; ln 2 = 0.693
is the equilibrium. The brightness is the mean pixel of the scored fakes minus the mean pixel of the data,
in standard deviations of the data's pixels, the contrast the std of their pixels minus the data's (per
channel, in the same unit); a claim about the brightness reward compares it (or, for the reward on
brightness and contrast, their sum) with the twin of the same seed without the reward, {SHIFT} std
beyond the twin counting as a shift. The
consistency gap is |D's loss on the same fakes in G's view - in D's own view|. "Both win" marks a
seed whose D loss is below half its G loss.
Frechet distance and KID compare the features of the in-house classifier (`jaxbngan.classifier`,
trained on the data's labels) of fakes and reals at the same sample count; class coverage is the
share of classes (digits 0-9, or circle/square/triangle) that get at least a quarter of their fair
share of fakes. "Real vs real" scores one half of the data against the other: the floor a perfect
generator reaches.
"""


def image_header_lines(run: Invocation, results: dict[str, CellResult]) -> list[str]:
    """The report header: how it was made, under which image profile."""
    profile: ImageProfile = run.profile
    sets = ", ".join(
        f"{s.name} ({s.seeds} seeds, {s.data.size} images{_params(s.data.params)}"
        f"{f'; {s.steps} steps, metrics every {s.log_every}' if s.steps else ''}"
        f"{'; sections ' + ', '.join(s.sections) if s.sections else ''})"
        for s in profile.sets
    )
    compute = sum(c.meta["wall_s"] for c in results.values())
    return [
        "# Batch normalization in GANs at image scale: the blog's claims and open questions over many seeds",
        "",
        f"- Command: `{run.command}`",
        f"- Profile: `{profile.name}`: {profile.steps} steps (unless a data set says otherwise), batches of"
        f" {profile.batch_size}, G channels"
        f" {profile.g_channels}, D channels {profile.d_channels}, metrics every {profile.log_every} steps on"
        f" {profile.metric_samples} fakes; seed keys `seed_keys({run.seed}, n)`, the same for every variant.",
        *([f"- Steps, chosen {profile.steps_why}."] if profile.steps_why else []),
        f"- Data sets: {sets}.",
        *([] if run.seed_rule is None else [f"- Adaptive seeds: {adaptive_text(run.seed_rule)}."]),
        f"- Versions: {versions_text()}.",
        f"- Cells trained by: {cells_commit_text(results)}.",
        f"- Device: {device_text()}.",
        f"- Wall time: {duration_text(run.wall)} for this invocation"
        f" (it trained {run.trained} of {len(results)} cells);"
        f" {duration_text(compute)} of training in all (each cell's wall time, compilation included, summed over"
        " the invocations that trained them).",
        "",
    ]


def open_question_lines(
    questions: Sequence[OpenQuestion],
    judged_all: list[tuple[Experiment, list[Judged]]],
    unjudged: Sequence[Unjudged],
    steps: dict[str, int],
    out: Path,
    experiments_dir: Path | None = None,
) -> list[str]:
    """Each open question with what this report measured on it: the verdict of every claim that answers it,
    per data set with its steps, supporting seeds and interval, the main condition's paired median, and how
    many seeds would decide it; claims whose cells are missing say so. `steps`: each data set's steps. The
    figures of evidence measured elsewhere are linked from `out` where `experiments_dir` holds them."""
    judged = {j.id: j for _, js in judged_all for j in js}
    missing = {u.id: u for u in unjudged}
    lines = [
        "## The blog's open questions: what this report measured",
        "",
        "Each question with the verdicts of the claims that answer it (the sections below give their rules and"
        " figures). Per data set: the verdict, the seeds supporting it with the 95% interval of that share, and"
        " the median over seeds of the main condition's paired difference A - B (same seed) with its 95% interval.",
        "",
    ]
    for question in questions:
        ids = [i for i in question.claims if i in judged or i in missing]
        if not ids:
            continue
        lines += [f"### {question.question}", ""]
        for claim_id in ids:
            if claim_id in missing:
                item = missing[claim_id]
                lines.append(
                    f"- {item.number} {item.claim.statement} **Not judged yet**: missing {', '.join(item.missing)}."
                )
                continue
            j = judged[claim_id]
            per_dataset = "; ".join(
                [_dataset_answer(j, d, steps[d]) for d in j.by_dataset]
                + ([f"not judged yet elsewhere: missing {', '.join(j.missing)}"] if j.missing else [])
            )
            lines.append(f"- {j.number} {j.claim.statement} **{j.verdict}**: {per_dataset}.")
        if question.elsewhere:
            lines.append(f"- Measured elsewhere: {question.elsewhere}.")
        for figure in question.figures:
            path = experiments_dir / figure if experiments_dir else None
            if path and path.exists():
                lines += ["", f"![{figure}]({Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()})"]
        lines.append("")
    return lines


def _dataset_answer(judged: Judged, dataset: str, steps: int) -> str:
    judgement = judged.by_dataset[dataset]
    text = f"{dataset} at {steps} steps, {verdict_text(judgement)}"
    if judgement.verdict == NOT_JUDGED:
        return text
    share = share_text(judgement.support, judgement.seeds)
    text += f", {supporting_seeds(judgement)}/{judgement.seeds} seeds support it ({share})"
    main = next((p for p in judged.paired.get(dataset, []) if p.condition == 0), None)
    if main is not None:
        claim = judged.claim
        text += (
            f", paired {filled(claim.main.text, claim.variants)}: median A - B {main.median:+.3f}"
            f" {interval_text(main.low, main.high, sign='+')}"
        )
    return text


def closing_lines(judged_all: list, run: Invocation, results: dict[str, CellResult]) -> list[str]:
    """The closing note: every verdict with its seed counts, and the wall time with the command that made it."""
    compute = sum(c.meta["wall_s"] for c in results.values())
    lines = ["## Closing note", ""]
    for _, judged in judged_all:
        for j in judged:
            seeds = ", ".join(f"{d} {v.seeds} seeds" for d, v in j.by_dataset.items())
            lines.append(f"- {j.number} ({j.id}) **{j.verdict}** at {seeds}: {j.claim.statement}")
    return lines + [
        "",
        f"Profile `{run.profile.name}`: {duration_text(compute)} of training over {len(results)} cells (compilation"
        f" included), made by `{run.command}`.",
    ]


def _offset_label(direction: str) -> str:
    """The axis label of an offset along a reward direction (`figures.OFFSET_LABELS`)."""
    return "brightness" if direction == "mean" else direction


def _params(params: tuple) -> str:
    return "".join(f", {name} {value:g}" for name, value in params)


def profile_stats(profile: ImageProfile) -> dict[str, ImageStats]:
    """Each data set's population and yardsticks, by name."""
    return {s.name: image_stats(s.data, profile.metric_samples) for s in profile.sets}


def image_numbers(stats: dict[str, ImageStats]) -> Callable[[CellResult, Cell], ImageNumbers]:
    """An image cell's per-seed numbers, measured against its data set's `stats` (for `judging.judge_cells`)."""
    return lambda result, cell: image_seed_numbers(result, cell.config, stats[cell.dataset])


def draw_image_plot(plot: Plot, path: Path, experiment, datasets, results, cells, numbers, stats) -> None:
    """Draw one figure of an image experiment into `path`."""
    first = datasets[0]
    if plot.kind == "images":
        key = f"{plot.variants[0]}@{first}"
        title = f"{plot.variants[0]} on {first}"
        plots.image_grid(results[key].samples, stats[first].population, path, title=title, max_seeds=SAMPLE_SEEDS)
    elif plot.kind == "brightness":
        values = reward_values(plot, datasets, numbers, brightened(0, 1, plot.measure))
        offset_histograms(values, path, measure=_offset_label(plot.measure))
    elif plot.kind == "reward-weights":
        values = reward_values(plot, datasets, numbers, brightened(0, 1, plot.measure))
        curves: dict[str, dict[str, dict[float, np.ndarray]]] = {}
        for rewarded, by_dataset in values.items():
            cell = cells[f"{rewarded}@{first}"]
            by_weight = curves.setdefault(cell.sweep or rewarded, {d: {} for d in datasets})
            for d in datasets:
                by_weight[d][cell.config.loss.shift_weight] = by_dataset[d]
        reward_weight_curves(curves, path, measure=REWARD_OFFSETS[plot.measure][0])
    elif plot.kind == "quality":
        values = {
            name: {d: {v: getattr(numbers[f"{v}@{d}"], field) for v in plot.variants} for d in datasets}
            for field, name in QUALITY.items()
            if field != "coverage"
        }
        median_intervals(values, path)
    else:  # the 2-D kinds that read only losses, views, gaps and the double win
        draw_plot(plot, path, experiment, datasets, results, cells, numbers, stats)


def write_image_report(
    out: Path,
    run: Invocation,
    experiments: Sequence[Experiment],
    results: dict[str, CellResult],
    cells: dict[str, Cell],
    experiments_dir: Path | None = None,
) -> Path:
    """Draw the figures and write report.md and verdicts.json from finished image cells; the open questions
    link the figures of evidence measured elsewhere that `experiments_dir` holds."""
    profile: ImageProfile = run.profile
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    stats = profile_stats(profile)
    present = [k for k in cells if k in results]  # all of them, unless --report-only left some untrained
    judging = judge_cells(experiments, profile.datasets_of, results, cells, image_numbers(stats))
    numbers, settled, judged_all, unjudged = judging
    datasets = profile.datasets
    verified = verify_checks(experiments, profile.datasets_of, results)
    lines = image_header_lines(run, results)
    lines += summary_lines(judged_all, datasets, figures / "verdicts.png")
    steps = {s.name: s.steps or profile.steps for s in profile.sets}
    lines += open_question_lines(OPEN_QUESTIONS, judged_all, unjudged, steps, out, experiments_dir)
    lines += unjudged_lines(unjudged, judged_all)
    lines += [VERDICT_RULES_TEXT + IMAGE_TEXT]
    lines += checks_lines(verified)
    lines += divergence_lines(numbers, present)
    lines += sensitivity_lines(judged_all)
    lines += settling_lines(settled)
    if run.seed_rule is not None:
        base = lambda key: profile.seeds_of(cells[key].dataset)  # noqa: E731
        lines += grown_seed_lines(judged_all, results, present, base, run.seed_rule)
    for e_index, (experiment, judged) in enumerate(judged_all, start=1):
        datasets = profile.datasets_of(experiment)
        lines += [f"## {e_index}. {experiment.section}", "", f"*`experiments/{experiment.name}.py`*", ""]
        lines += [experiment.summary, ""]
        lines += image_numbers_table(experiment, datasets, numbers) + [""]
        lines += quality_table(experiment, datasets, numbers, stats) + [""]
        for j in judged:
            lines += claim_lines(j, datasets)
        lines += controls_lines(experiment, datasets, numbers)
        for p_index, plot in enumerate(experiment.plots, start=1):
            if not drawable(plot.variants, datasets, results):
                continue
            path = figures / f"{experiment.name}-{p_index}-{plot.kind}.png"
            draw_image_plot(plot, path, experiment, datasets, results, cells, numbers, stats)
            lines += [f"![{plot.kind}: {', '.join(plot.variants)}](figures/{path.name})", ""]
        path = figures / f"{experiment.name}-settling.png"
        settling_curves(experiment, datasets, results, cells, numbers, path)
        lines += [f"![settling: the Frechet distance, the gap, the double-win share](figures/{path.name})", ""]
    lines += closing_lines(judged_all, run, results)
    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines).rstrip() + "\n")
    record = {
        **profile._asdict(),
        "sets": [{"data": dataclasses.asdict(s.data), "seeds": s.seeds, "sections": s.sections} for s in profile.sets],
        "adaptive_seeds": None if run.seed_rule is None else run.seed_rule._asdict(),
    }
    write_verdicts(out / "verdicts.json", run.command, record, run.seed, judged_all, verified)
    return report
