"""The 2-D report: report.md (header, summary, one section per experiment, the reviewer's sections) and
verdicts.json, from finished cells."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxbngan.conditions import SeedNumbers
from jaxbngan.reproduce.adaptive import SeedRule, adaptive_text, grown_seed_lines
from jaxbngan.reproduce.cells import Cell, CellResult, duration_text
from jaxbngan.reproduce.figures import draw_plot, settling_curves, verdict_grid
from jaxbngan.reproduce.judging import (
    Judged,
    Verified,
    checks_lines,
    condition_legend,
    controls_lines,
    divergence_lines,
    drawable,
    judge_cells,
    paired_lines,
    sensitivity_lines,
    settling_lines,
    unjudged_lines,
    verify_checks,
)
from jaxbngan.reproduce.numbers import DataStats, data_stats, seed_numbers
from jaxbngan.reproduce.provenance import cells_commit_text, device_text, versions_text
from jaxbngan.reproduce.spec import Experiment, Profile, datasets_of
from jaxbngan.reproduce.text import (
    FRAGILE_MARK,
    MOVING_MARK,
    diverged_text,
    filled,
    interval_text,
    percent_text,
    share_text,
    spread_text,
    supporting_seeds,
    verdict_text,
    win_texts,
)
from jaxbngan.rundir import atomic_path
from jaxbngan.verdicts import (
    CLOSE_SHIFT,
    CONTROL_SHARE,
    NOT_JUDGED,
    SHIFT,
    UNDECIDED,
    VERDICTS,
    Judgement,
    seeds_to_decide,
    wilson_interval,
)

NOT_RUN = "-"  # a claim on a data set its experiment does not use
NOT_TRAINED = "not trained yet"  # a claim on a data set whose cells it lacks (`--report-only`)


def _summary_cell(judgement: Judgement, fragile: bool = False, moving: bool = False) -> str:
    low, high = judgement.interval
    short = judgement.verdict if judgement.verdict != UNDECIDED else f"undecided: {' or '.join(judgement.between)}"
    supporting = supporting_seeds(judgement)
    diverged = f"; {judgement.diverged} diverged left out" if judgement.diverged else ""
    marks = (FRAGILE_MARK if fragile else "") + (MOVING_MARK if moving else "")
    if judgement.verdict == NOT_JUDGED:
        return judgement.controls + marks
    return f"{short}{marks} ({supporting}/{judgement.seeds}, {100 * low:.0f}-{100 * high:.0f}%{diverged})"


def numbers_table(experiment: Experiment, datasets: Sequence[str], numbers: dict[str, SeedNumbers]) -> list[str]:
    """Median [interquartile range] over the kept seeds of the final numbers of every cell of an experiment."""
    lines = [
        "Median over seeds [interquartile range] at the end of training:",
        "",
        "| variant | data | diverged | G loss | D loss | x-offset (std) | offset norm (std) | energy dist. | gap"
        " | both win: D < G/2 | D < ln 2 < G |",
        "|" + " --- |" * 11,
    ]
    for variant in experiment.variants:
        for dataset in datasets:
            n = numbers.get(f"{variant.name}@{dataset}")
            if n is None:
                continue  # not trained (--report-only)
            kept = ~np.asarray(n.diverged, dtype=bool)
            of_fakes = [
                spread_text(n.x_offset[kept]),
                spread_text(n.displacement[kept]),
                spread_text(n.energy_distance[kept], 3),
                spread_text(n.gap[kept], 3),
            ]
            losses = [spread_text(n.g_loss[kept]), spread_text(n.d_loss[kept], 3)]
            row = [f"`{variant.name}`", dataset, diverged_text(n.diverged), *losses, *of_fakes, *win_texts(n)]
            lines.append("| " + " | ".join(row) + " |")
    return lines + ["", NUMBERS_LEGEND]


NUMBERS_LEGEND = (
    "<sub>Diverged: seeds whose fakes left the data's range (`finals.divergence_steps`); every other column is"
    " over the remaining seeds. Both win: at the last log, by D < G/2 (the blog's footnote 4) and by D < ln 2"
    " with G > ln 2, each share with its 95% interval.</sub>"
)


def claim_lines(judged: Judged, datasets: Sequence[str]) -> list[str]:
    """A claim's statement, the blog's words and numbers, its rule, its verdict and shares per data set."""
    claim = judged.claim
    rule = "; ".join(
        [f"**{filled(claim.main.text, claim.variants)}** (main)"]
        + [filled(side.text, claim.variants) for side in claim.sides]
    )
    lines = [
        f"### {judged.number} {claim.statement} — **{judged.verdict}**",
        "",
        f"- Source: {claim.blog}",
        f"- A seed supports the claim when: {rule}.",
    ]
    if claim.presupposes:
        presupposition = filled(claim.presupposes.text, claim.variants)
        lines.append(f"- Testable only where this holds in at least half the seeds: {presupposition}.")
    if claim.describes:
        described = "; ".join(filled(c.text, claim.variants) for c in claim.describes)
        lines.append(f"- Shown beside it, not judged: {described}.")
    if claim.controls:
        c = claim.controls
        lines.append(
            f"- Judged only where its controls behave at weight {c.weight:g}: positive (a provably blind D)"
            f" `{c.positive[0]}` against `{c.positive[1]}`, negative (a D that sees the shift) `{c.negative[0]}`"
            f" against `{c.negative[1]}`; the table of controls below gives their numbers."
        )
    lines.append(f"- Claim id in `verdicts.json`: `{judged.id}`.")
    if judged.missing:
        lines.append(
            f"- Judged on {', '.join(judged.by_dataset)} only: {', '.join(judged.missing)} not trained"
            " (`--report-only`)."
        )
    datasets = [d for d in datasets if d in judged.by_dataset]
    for dataset in [*datasets, "overall"]:
        if judged.fragile.get(dataset):
            lines.append(f"- {FRAGILE_MARK} Fragile on {dataset}: {'; '.join(judged.fragile[dataset])}.")
    for dataset in datasets:
        if judged.moving.get(dataset):
            lines.append(f"- {MOVING_MARK} Still moving on {dataset}: {', '.join(judged.moving[dataset])}.")
    header = ["data", "verdict", "seeds supporting [95% interval]", "diverged, left out"]
    header += [f"cond. {i + 1} [95%]" for i in range(1 + len(claim.sides))]
    if claim.presupposes:
        header.append("presupposition [95%]")
    header += [f"shown {i + 1} [95%]" for i in range(len(claim.describes))]
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for dataset in datasets:
        j = judged.by_dataset[dataset]
        supporting = supporting_seeds(j)
        row = [dataset, verdict_text(j), f"{supporting}/{j.seeds}: {share_text(j.support, j.seeds)}", str(j.diverged)]
        row += [share_text(share, j.seeds) for share in j.shares]
        if claim.presupposes:
            row.append(share_text(j.presupposition, j.seeds))
        row += [share_text(share, j.seeds) for share in judged.described[dataset]]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"<sub>Share of the seeds left after divergence per condition ({condition_legend(claim)}).</sub>", ""]
    lines += paired_lines(judged, datasets)
    if any(judged.measured[d] for d in datasets):
        lines += [
            "The blog's numbers beside the measured ones (median over seeds, 95% interval of the median):",
            "",
            "| data | variant | quantity | blog | measured median [95%] |",
            "| --- | --- | --- | --- | --- |",
        ]
        for dataset in datasets:
            for m in judged.measured[dataset]:
                measured = f"{m.median:.3f} {interval_text(m.low, m.high)}"
                lines.append(f"| {dataset} | `{m.variant}` | {m.quantity} | {m.blog} | {measured} |")
        lines.append("")
    return lines


class Invocation(NamedTuple):
    """How this report was made, for its header."""

    command: str
    profile: Profile  # or an ImageProfile, for the image report
    seed: int
    wall: float  # seconds this invocation took
    trained: int  # cells it trained; the others were loaded
    seed_rule: SeedRule | None = None  # --adaptive-seeds: blocks of seeds for the cells of undecided claims


def header_lines(run: Invocation, experiments: Sequence[Experiment], cells: dict[str, CellResult]) -> list[str]:
    """The report header: how it was made."""
    profile, seed = run.profile, run.seed
    blog_sets = dict.fromkeys(d for e in experiments if not e.beyond_blog for d in datasets_of(e, profile))
    beyond_sets = dict.fromkeys(d for e in experiments if e.beyond_blog for d in datasets_of(e, profile))
    compute = sum(c.meta["wall_s"] for c in cells.values())
    data_line = f"{', '.join(blog_sets) or '-'} (blog sections); {', '.join(beyond_sets) or '-'} (beyond the blog)"
    skipped = [name for name in profile.leaves_out if name not in {e.name for e in experiments}]
    skipped_lines = [f"- Left out by the profile: {', '.join(skipped)}: {profile.left_out_why}."] if skipped else []
    return [
        "# Batch normalization in GANs: the blog's claims over many seeds",
        "",
        f"- Command: `{run.command}`",
        f"- Profile: `{profile.name}`: **{profile.seeds} seeds per cell** (keys `seed_keys({seed}, {profile.seeds})`,"
        f" the same for every variant), {profile.steps} steps, batch = the whole population of {profile.data_size}"
        f" samples unless a variant says otherwise, metrics every {profile.log_every} steps.",
        f"- Data sets: {data_line}.",
        *([] if run.seed_rule is None else [f"- Adaptive seeds: {adaptive_text(run.seed_rule)}."]),
        *skipped_lines,
        f"- Versions: {versions_text()}.",
        f"- Cells trained by: {cells_commit_text(cells)}.",
        f"- Device: {device_text()}.",
        f"- Wall time: {duration_text(run.wall)} for this invocation (it trained {run.trained} of {len(cells)} cells);"
        f" {duration_text(compute)} of training in all (each cell's wall time, compilation included, summed over"
        " the invocations that trained them).",
        "",
    ]


VERDICT_RULES_TEXT = f"""## How to read this report

Each claim is tested on every seed. A seed supports a claim when the claim's conditions all hold
for it; the first condition is the claim's main effect, the others are what the source says comes
with it. **Reproduced**: at least 75% of seeds support it. **Partly**: at least 50% do, or the main
effect alone holds in at least 75% while the whole claim holds in at least one seed (a claim no
seed supports is never "partly"). **Not reproduced**: otherwise. **Untestable**: the claim
presupposes something (a failure to cure) that holds in fewer than half the seeds, or every seed
diverged.

Every share of seeds comes with its 95% Wilson score interval in brackets, and each comparison
with 50% or 75% is made on that interval: it holds when the whole interval is on or above the
threshold, fails when the whole interval is below it, and is open when the interval straddles it.
A claim whose open comparisons could still give two verdicts is **undecided at N seeds**, with the
verdicts it lies between and the number of seeds that would decide it if the observed shares
stayed as they are (none, for a share exactly on a threshold). At 6 seeds even a unanimous result
cannot be called reproduced (its interval reaches down to {percent_text(wilson_interval(1.0, 6)[0])});
{seeds_to_decide(1.0, 1.0, None, 6)} unanimous seeds can.
The overall verdict over data sets is the common verdict when they agree and "partly" when they
disagree (untestable data sets abstain); it is undecided only when the verdicts the data sets leave
open could still give two overall verdicts.

What a verdict does not count: a seed that **diverged** in one of the claim's variants is left
out of its shares (the summary says how many; the section on diverged seeds counts them per cell).
A statement that holds by an identity of the step code is a **check**, listed in its own section
and left out of the verdict counts. A claim about the **shift reward** compares each seed with
its twin, the same seed keys and data without the reward: the reward moved G when the offset in
its direction exceeds the twin's by more than {SHIFT} std; an absolute band around the data's mean
is only shown beside it. A shift claim with **controls** is judged only where they behave at its
reward weight: a D provably blind to the reward's direction (positive control) must let the reward
move G in at least half the seeds, and a D that sees it (negative control) must move G in fewer than
half or, by its median, at most {CONTROL_SHARE:g} times as far as the blind one (shares by their
intervals); elsewhere the claim is **not judged**, with the control that failed, and abstains from
the overall verdict. Each verdict is judged again at the neighbouring thresholds; one that
changes is **fragile** ({FRAGILE_MARK}). A verdict on a cell whose main metric was **still moving**
at the end is marked {MOVING_MARK}.
The rules live in `jaxbngan/verdicts.py`.
"""

RULES_TEXT = (
    VERDICT_RULES_TEXT
    + f"""
Tables of final numbers give the median over seeds with the interquartile range in brackets (the
spread of the seeds, not an uncertainty). Paired differences and the blog's quoted numbers give the
median with its 95% distribution-free interval (order statistics of the seeds, from the binomial
distribution; n/a under 6 seeds). G loss is D's binary cross-entropy on the fakes in G's view of D
(the blog's "G loss"), D loss is D's own objective; ln 2 = 0.693 is the equilibrium. Offsets are the
mean of the fakes minus the mean of the data, in standard deviations of the data along each axis.
"Close to the data" means an energy distance smaller than that of the data moved {CLOSE_SHIFT} standard
deviations along x. The consistency gap is |D's loss on the same fakes in G's view - in D's own
view|: nonzero when G and D play different games. "Both win" marks a seed whose D loss is below half
its G loss, impossible in one consistent zero-sum game.
"""
)


def write_report(
    out: Path,
    run: Invocation,
    experiments: Sequence[Experiment],
    results: dict[str, CellResult],
    cells: dict[str, Cell],
) -> Path:
    """Draw the figures and write report.md and verdicts.json from finished cells."""
    profile = run.profile
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    stats = cell_stats(cells.values())
    present = [k for k in cells if k in results]  # all of them, unless --report-only left some untrained
    datasets_for = lambda e: datasets_of(e, profile)  # noqa: E731
    numbers, settled, judged_all, unjudged = judge_cells(
        experiments, datasets_for, results, cells, point_numbers(stats)
    )
    verified = verify_checks(experiments, datasets_for, results)
    all_datasets = sorted({d for e in experiments for d in datasets_of(e, profile)}, key=_dataset_order(profile))
    lines = header_lines(run, experiments, results)
    lines += summary_lines(judged_all, all_datasets, figures / "verdicts.png")
    lines += unjudged_lines(unjudged, judged_all)
    lines += [RULES_TEXT]
    lines += checks_lines(verified)
    lines += divergence_lines(numbers, present)
    lines += sensitivity_lines(judged_all)
    lines += settling_lines(settled)
    if run.seed_rule is not None:
        lines += grown_seed_lines(judged_all, results, present, lambda key: profile.seeds, run.seed_rule)

    for e_index, (experiment, judged) in enumerate(judged_all, start=1):
        datasets = datasets_of(experiment, profile)
        where = "beyond the blog" if experiment.beyond_blog else "blog section"
        lines += [f"## {e_index}. {experiment.section}", "", f"*{where}, `experiments/{experiment.name}.py`*", ""]
        lines += [experiment.summary, ""]
        lines += numbers_table(experiment, datasets, numbers) + [""]
        for j in judged:
            lines += claim_lines(j, datasets)
        lines += controls_lines(experiment, datasets, numbers)
        for p_index, plot in enumerate(experiment.plots, start=1):
            if not drawable(plot.variants, datasets, results):
                continue
            path = figures / f"{experiment.name}-{p_index}-{plot.kind}.png"
            draw_plot(plot, path, experiment, datasets, results, cells, numbers, stats)
            lines += [f"![{plot.kind}: {', '.join(plot.variants)}](figures/{path.name})", ""]
        path = figures / f"{experiment.name}-settling.png"
        settling_curves(experiment, datasets, results, cells, numbers, path)
        lines += [f"![settling: the main metric, the gap, the double-win share](figures/{path.name})", ""]

    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines).rstrip() + "\n")
    record = profile._asdict() | {"adaptive_seeds": None if run.seed_rule is None else run.seed_rule._asdict()}
    write_verdicts(out / "verdicts.json", run.command, record, run.seed, judged_all, verified)
    return report


def cell_stats(cells: Iterable[Cell]) -> dict[str, DataStats]:
    """What the numbers of each data set's cells are measured against, by data set."""
    stats = {}
    for cell in cells:  # every variant of a data set learns the same population
        if cell.dataset not in stats:
            stats[cell.dataset] = data_stats(cell.config.data)
    return stats


def point_numbers(stats: dict[str, DataStats]) -> Callable[[CellResult, Cell], SeedNumbers]:
    """A 2-D cell's per-seed numbers, measured against its data set's `stats` (for `judging.judge_cells`)."""
    return lambda result, cell: seed_numbers(result, cell.config, stats[cell.dataset])


def summary_lines(judged_all: list[tuple[Experiment, list[Judged]]], datasets: Sequence[str], grid: Path) -> list[str]:
    """The summary table of every claim, the verdict counts, and the verdict grid drawn into `grid`."""
    labels, rows = [], []
    for _, judged in judged_all:
        for j in judged:
            labels.append(f"{j.number} {_short(j.claim.statement)}")
            rows.append([j.by_dataset.get(d) for d in datasets] + [j.verdict])
    if not labels:  # every claim lacks a cell (--report-only early in a profile)
        return ["## Summary", "", "No claim is judged yet: each lacks a cell (listed below).", ""]
    verdict_grid(labels, list(datasets), rows, grid)
    lines = ["## Summary", "", "| claim | " + " | ".join(datasets) + " | overall |"]
    lines.append("|" + " --- |" * (len(datasets) + 2))
    for _, judged in judged_all:
        for j in judged:
            row = [
                _summary_cell(j.by_dataset[d], bool(j.fragile[d]), bool(j.moving[d]))
                if d in j.by_dataset
                else NOT_TRAINED
                if any(key.endswith(f"@{d}") for key in j.missing)
                else NOT_RUN
                for d in datasets
            ]
            overall_mark = FRAGILE_MARK if j.fragile["overall"] else ""
            overall_mark += f" (on {', '.join(j.by_dataset)} only)" if j.missing else ""
            lines.append(
                f"| {j.number} {j.claim.statement} | " + " | ".join(row) + f" | **{j.verdict}**{overall_mark} |"
            )
    counts = {v: sum(j.verdict == v for _, js in judged_all for j in js) for v in VERDICTS}
    return lines + [
        "",
        "Each data set: verdict (seeds supporting / seeds kept, 95% interval of that share; diverged seeds left"
        f" out). {FRAGILE_MARK}: the verdict changes at a neighbouring threshold; {MOVING_MARK}: a cell it reads was"
        " still moving at the end.",
        "",
        "Overall: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".",
        "",
        f"![verdicts per claim and data set](figures/{grid.name})",
        "",
    ]


def write_verdicts(
    path: Path,
    command: str,
    profile: dict,
    seed: int,
    judged_all: list[tuple[Experiment, list[Judged]]],
    verified: Sequence[Verified] = (),
) -> None:
    """verdicts.json: every claim's verdict, per data set with its shares, paired and quoted numbers, what
    would change it, and the checks with their verification."""
    machine_readable = {
        "command": command,
        "profile": profile,
        "seed": seed,
        "claims": [
            {
                "id": j.id,
                "number": j.number,
                "experiment": experiment.name,
                "statement": j.claim.statement,
                "verdict": j.verdict,
                "fragile": j.fragile["overall"],
                "missing": j.missing,
                "by_dataset": {
                    d: {
                        **_json_numbers(j.by_dataset[d]._asdict()),
                        "paired": [_json_numbers(p._asdict()) for p in j.paired[d]],
                        "measured": [_json_numbers(m._asdict()) for m in j.measured[d]],
                        "fragile": j.fragile[d],
                        "still_moving": j.moving[d],
                    }
                    for d in j.by_dataset
                },
            }
            for experiment, judged in judged_all
            for j in judged
        ],
        "checks": [
            {
                "statement": item.check.statement,
                "identity": item.check.identity,
                "cells": {key: result._asdict() for key, result in item.results.items()},
            }
            for item in verified
        ],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(machine_readable, indent=2) + "\n")


def _json_numbers(record: dict) -> dict:
    """NaN (an interval too few seeds cannot give) as null, so verdicts.json stays strict JSON."""
    return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in record.items()}


def _dataset_order(profile: Profile):
    order = list(dict.fromkeys(profile.datasets + profile.beyond_datasets))
    return lambda d: order.index(d) if d in order else len(order)


def _short(statement: str, width: int = 60) -> str:
    return statement if len(statement) <= width else statement[: width - 1].rstrip() + "…"
