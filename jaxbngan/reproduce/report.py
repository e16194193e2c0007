"""The report: report.md (header, summary, one section per experiment) and verdicts.json, from finished cells."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxbngan.finals import aggregate
from jaxbngan.reproduce.cells import Cell, CellResult, duration_text
from jaxbngan.reproduce.figures import draw_plot, verdict_grid
from jaxbngan.reproduce.numbers import data_stats, judge_claim, seed_numbers
from jaxbngan.reproduce.provenance import device_text, versions_text
from jaxbngan.reproduce.spec import Claim, Experiment, Profile, datasets_of
from jaxbngan.rundir import atomic_path
from jaxbngan.verdicts import (
    CLOSE_SHIFT,
    UNDECIDED,
    VERDICTS,
    Judgement,
    SeedNumbers,
    median_interval,
    overall_judged,
    seeds_to_decide,
    wilson_interval,
)

NOT_RUN = "-"  # a claim on a data set its experiment does not use
QUANTITIES = {"g_loss": "G loss", "d_loss": "D loss"}  # how the report names each field in QUOTABLE


class Paired(NamedTuple):
    """A paired condition on one data set: the per-seed difference A - B summarized."""

    condition: int  # index among the claim's conditions (0: main)
    median: float
    low: float  # 95% interval of the median (NaN when too few seeds)
    high: float
    positive: int  # seeds where A - B > 0
    seeds: int


class Measured(NamedTuple):
    """A number the blog prints, beside the measured median of the same quantity on one data set."""

    variant: str
    quantity: str
    blog: str
    median: float
    low: float  # 95% interval of the median (NaN when too few seeds)
    high: float


class Judged(NamedTuple):
    """A claim with its judgement, paired differences and quoted numbers on each data set."""

    number: str  # "3.1": its place in this report
    id: str  # "shift.1": experiment and claim, stable across profiles (what presets' summaries cite)
    claim: Claim
    by_dataset: dict[str, Judgement]
    verdict: str
    paired: dict[str, list[Paired]]
    measured: dict[str, list[Measured]]


def paired_numbers(claim: Claim, cells: Sequence[SeedNumbers]) -> list[Paired]:
    """Median and interval of the per-seed difference of each paired condition of a claim on one data set."""
    found = []
    for index, condition in enumerate([claim.main, *claim.sides]):
        if condition.difference is None:
            continue
        difference = np.asarray(condition.difference(*cells), dtype=float)
        median, low, high = median_interval(difference)
        positive = int(np.sum(difference > 0))
        found.append(Paired(index, median, low, high, positive, int(difference.size)))
    return found


def measured_numbers(claim: Claim, cells: Sequence[SeedNumbers]) -> list[Measured]:
    """The measured median and interval beside each number the blog quotes for a claim, on one data set."""
    found = []
    for quote in claim.quotes:
        median, low, high = median_interval(getattr(cells[quote.of], quote.field))
        found.append(Measured(claim.variants[quote.of], QUANTITIES[quote.field], quote.text, median, low, high))
    return found


def spread_text(values: np.ndarray, digits: int = 2) -> str:
    """Median [interquartile range] over the finite values, or 'n/a'."""
    stats = aggregate(values)
    if stats["seeds"] == 0:
        return "n/a"
    median, q25, q75 = (f"{stats[k]:.{digits}f}" for k in ("median", "q25", "q75"))
    return f"{median} [{q25}, {q75}]"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _interval(low: float, high: float, digits: int = 3, sign: str = "") -> str:
    if np.isnan(low):
        return "n/a (under 6 seeds)"
    return f"[{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


def share_text(share: float, seeds: int) -> str:
    """A share of seeds with its 95% Wilson interval: '83% [44, 97]'."""
    low, high = wilson_interval(share, seeds)
    return f"{_percent(share)} [{100 * low:.0f}, {100 * high:.0f}]"


def verdict_text(judgement: Judgement) -> str:
    """The verdict; when undecided, between what and how many seeds would decide it at the observed shares."""
    if judgement.verdict != UNDECIDED:
        return judgement.verdict
    between = " or ".join(judgement.between)
    if judgement.decided_at is None:
        return f"undecided at {judgement.seeds} seeds ({between}; a share on a threshold: no seed count decides it)"
    return f"undecided at {judgement.seeds} seeds ({between}; {judgement.decided_at} seeds would decide it)"


def _summary_cell(judgement: Judgement) -> str:
    low, high = judgement.interval
    short = judgement.verdict if judgement.verdict != UNDECIDED else f"undecided: {' or '.join(judgement.between)}"
    supporting = round(judgement.support * judgement.seeds)
    return f"{short} ({supporting}/{judgement.seeds}, {100 * low:.0f}-{100 * high:.0f}%)"


def _filled(text: str, variants: Sequence[str]) -> str:
    return text.format(*(f"`{v}`" for v in variants))


def numbers_table(experiment: Experiment, datasets: Sequence[str], numbers: dict[str, SeedNumbers]) -> list[str]:
    """Median [interquartile range] over seeds of the final numbers of every cell of an experiment."""
    lines = [
        "Median over seeds [interquartile range] at the end of training:",
        "",
        "| variant | data | G loss | D loss | x-offset (std) | offset norm (std) | energy dist. | gap | both win |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant in experiment.variants:
        for dataset in datasets:
            n = numbers[f"{variant.name}@{dataset}"]
            diverged = int(np.sum(~np.isfinite(n.g_loss) | ~np.isfinite(n.d_loss)))
            note = f" ({diverged} diverged)" if diverged else ""
            of_fakes = [
                spread_text(n.x_offset),
                spread_text(n.displacement),
                spread_text(n.energy_distance, 3),
                spread_text(n.gap, 3),
            ]
            row = [f"`{variant.name}`", dataset, spread_text(n.g_loss), spread_text(n.d_loss, 3), *of_fakes]
            both = share_text(float(np.mean(n.both_win)), int(n.both_win.size))
            lines.append("| " + " | ".join(row) + f" | {both}{note} |")
    return lines


def claim_lines(judged: Judged, datasets: Sequence[str]) -> list[str]:
    """A claim's statement, the blog's words and numbers, its rule, its verdict and shares per data set."""
    claim = judged.claim
    conditions = [claim.main, *claim.sides]
    rule = "; ".join(
        [f"**{_filled(claim.main.text, claim.variants)}** (main)"]
        + [_filled(side.text, claim.variants) for side in claim.sides]
    )
    lines = [
        f"### {judged.number} {claim.statement} — **{judged.verdict}**",
        "",
        f"- Source: {claim.blog}",
        f"- A seed supports the claim when: {rule}.",
    ]
    if claim.presupposes:
        presupposition = _filled(claim.presupposes.text, claim.variants)
        lines.append(f"- Testable only where this holds in at least half the seeds: {presupposition}.")
    lines.append(f"- Claim id in `verdicts.json`: `{judged.id}`.")
    header = ["data", "verdict", "seeds supporting [95% interval]"]
    header += [f"cond. {i + 1} [95%]" for i in range(len(conditions))]
    if claim.presupposes:
        header.append("presupposition [95%]")
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for dataset in datasets:
        j = judged.by_dataset[dataset]
        row = [dataset, verdict_text(j), f"{round(j.support * j.seeds)}/{j.seeds}: {share_text(j.support, j.seeds)}"]
        row += [share_text(share, j.seeds) for share in j.shares]
        if claim.presupposes:
            row.append(share_text(j.presupposition, j.seeds))
        lines.append("| " + " | ".join(row) + " |")
    legend = ", ".join(f"cond. {i + 1}: {_filled(c.text, claim.variants)}" for i, c in enumerate(conditions))
    lines += ["", f"<sub>Share of seeds per condition ({legend}).</sub>", ""]
    if any(judged.paired[d] for d in datasets):
        lines += [
            "Paired by seed (A - B for the same seed key): median difference with its 95% interval, and the seeds"
            " where it is positive:",
            "",
            "| data | condition | median A - B [95%] | A > B |",
            "| --- | --- | --- | --- |",
        ]
        for dataset in datasets:
            for p in judged.paired[dataset]:
                interval = _interval(p.low, p.high, sign="+")
                lines.append(
                    f"| {dataset} | cond. {p.condition + 1} | {p.median:+.3f} {interval} | {p.positive}/{p.seeds} |"
                )
        lines.append("")
    if any(judged.measured[d] for d in datasets):
        lines += [
            "The blog's numbers beside the measured ones (median over seeds, 95% interval of the median):",
            "",
            "| data | variant | quantity | blog | measured median [95%] |",
            "| --- | --- | --- | --- | --- |",
        ]
        for dataset in datasets:
            for m in judged.measured[dataset]:
                measured = f"{m.median:.3f} {_interval(m.low, m.high)}"
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
        *skipped_lines,
        f"- Versions: {versions_text()}.",
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
effect alone holds in at least 75%. **Not reproduced**: otherwise. **Untestable**: the claim
presupposes something (a failure to cure) that holds in fewer than half the seeds.

Every share of seeds comes with its 95% Wilson score interval in brackets, and each comparison
with 50% or 75% is made on that interval: it holds when the whole interval is on or above the
threshold, fails when the whole interval is below it, and is open when the interval straddles it.
A claim whose open comparisons could still give two verdicts is **undecided at N seeds**, with the
verdicts it lies between and the number of seeds that would decide it if the observed shares
stayed as they are (none, for a share exactly on a threshold). At 6 seeds even a unanimous result
cannot be called reproduced (its interval reaches down to {_percent(wilson_interval(1.0, 6)[0])});
{seeds_to_decide(1.0, 1.0, None, 6)} unanimous seeds can.
The overall verdict over data sets is the common verdict when they agree and "partly" when they
disagree (untestable data sets abstain); it is undecided only when the verdicts the data sets leave
open could still give two overall verdicts.
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
    stats = {}
    for cell in cells.values():  # every variant of a data set learns the same population
        if cell.dataset not in stats:
            stats[cell.dataset] = data_stats(cell.config.data)
    numbers = {k: seed_numbers(results[k], cells[k].config, stats[cells[k].dataset]) for k in cells}
    judged_all = judge_experiments(experiments, lambda e: datasets_of(e, profile), numbers)
    all_datasets = sorted({d for e in experiments for d in datasets_of(e, profile)}, key=_dataset_order(profile))
    lines = header_lines(run, experiments, results)
    lines += summary_lines(judged_all, all_datasets, figures / "verdicts.png")
    lines += [RULES_TEXT]

    for e_index, (experiment, judged) in enumerate(judged_all, start=1):
        datasets = datasets_of(experiment, profile)
        where = "beyond the blog" if experiment.beyond_blog else "blog section"
        lines += [f"## {e_index}. {experiment.section}", "", f"*{where}, `experiments/{experiment.name}.py`*", ""]
        lines += [experiment.summary, ""]
        lines += numbers_table(experiment, datasets, numbers) + [""]
        for j in judged:
            lines += claim_lines(j, datasets)
        for p_index, plot in enumerate(experiment.plots, start=1):
            path = figures / f"{experiment.name}-{p_index}-{plot.kind}.png"
            draw_plot(plot, path, experiment, datasets, results, cells, numbers, stats)
            lines += [f"![{plot.kind}: {', '.join(plot.variants)}](figures/{path.name})", ""]

    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines).rstrip() + "\n")
    write_verdicts(out / "verdicts.json", run.command, profile._asdict(), run.seed, judged_all)
    return report


def judge_experiments(
    experiments: Sequence[Experiment], datasets_for: Callable[[Experiment], Sequence[str]], numbers: dict
) -> list[tuple[Experiment, list[Judged]]]:
    """Every claim of every experiment judged on each of its data sets; `numbers` by cell key."""
    judged_all = []
    for e_index, experiment in enumerate(experiments, start=1):
        datasets = datasets_for(experiment)
        judged = []
        for c_index, claim in enumerate(experiment.claims, start=1):
            cells_of = {d: [numbers[f"{v}@{d}"] for v in claim.variants] for d in datasets}
            by_dataset = {d: judge_claim(claim, dict(zip(claim.variants, cells_of[d], strict=True))) for d in datasets}
            judged.append(
                Judged(
                    number=f"{e_index}.{c_index}",
                    id=f"{experiment.name}.{c_index}",
                    claim=claim,
                    by_dataset=by_dataset,
                    verdict=overall_judged(list(by_dataset.values())),
                    paired={d: paired_numbers(claim, cells_of[d]) for d in datasets},
                    measured={d: measured_numbers(claim, cells_of[d]) for d in datasets},
                )
            )
        judged_all.append((experiment, judged))
    return judged_all


def summary_lines(judged_all: list[tuple[Experiment, list[Judged]]], datasets: Sequence[str], grid: Path) -> list[str]:
    """The summary table of every claim, the verdict counts, and the verdict grid drawn into `grid`."""
    labels, rows = [], []
    for _, judged in judged_all:
        for j in judged:
            labels.append(f"{j.number} {_short(j.claim.statement)}")
            rows.append([j.by_dataset.get(d) for d in datasets] + [j.verdict])
    verdict_grid(labels, list(datasets), rows, grid)
    lines = ["## Summary", "", "| claim | " + " | ".join(datasets) + " | overall |"]
    lines.append("|" + " --- |" * (len(datasets) + 2))
    for _, judged in judged_all:
        for j in judged:
            row = [_summary_cell(j.by_dataset[d]) if d in j.by_dataset else NOT_RUN for d in datasets]
            lines.append(f"| {j.number} {j.claim.statement} | " + " | ".join(row) + f" | **{j.verdict}** |")
    counts = {v: sum(j.verdict == v for _, js in judged_all for j in js) for v in VERDICTS}
    return lines + [
        "",
        "Each data set: verdict (seeds supporting / seeds, 95% interval of that share).",
        "",
        "Overall: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".",
        "",
        f"![verdicts per claim and data set](figures/{grid.name})",
        "",
    ]


def write_verdicts(
    path: Path, command: str, profile: dict, seed: int, judged_all: list[tuple[Experiment, list[Judged]]]
) -> None:
    """verdicts.json: every claim's verdict, per data set with its shares, paired and quoted numbers."""
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
                "by_dataset": {
                    d: {
                        **j.by_dataset[d]._asdict(),
                        "paired": [_json_numbers(p._asdict()) for p in j.paired[d]],
                        "measured": [_json_numbers(m._asdict()) for m in j.measured[d]],
                    }
                    for d in j.by_dataset
                },
            }
            for experiment, judged in judged_all
            for j in judged
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
