"""The report: report.md (header, summary, one section per experiment) and verdicts.json, from finished cells."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxbngan.reproduce.cells import Cell, CellResult, duration_text
from jaxbngan.reproduce.figures import draw_plot, verdict_grid
from jaxbngan.reproduce.numbers import data_stats, judge_claim, seed_numbers
from jaxbngan.reproduce.provenance import device_text, versions_text
from jaxbngan.reproduce.spec import Claim, Experiment, Profile, datasets_of
from jaxbngan.rundir import aggregate, atomic_path
from jaxbngan.verdicts import CLOSE_SHIFT, VERDICTS, Judgement, SeedNumbers, overall

NOT_RUN = "-"  # a claim on a data set its experiment does not use


class Judged(NamedTuple):
    """A claim with its judgement on each data set."""

    number: str  # "3.1"
    claim: Claim
    by_dataset: dict[str, Judgement]
    verdict: str


def _spread(values: np.ndarray, digits: int = 2) -> str:
    stats = aggregate(values)
    if stats["seeds"] == 0:
        return "n/a"
    median, q25, q75 = (f"{stats[k]:.{digits}f}" for k in ("median", "q25", "q75"))
    return f"{median} [{q25}, {q75}]"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _filled(text: str, variants: Sequence[str]) -> str:
    return text.format(*(f"`{v}`" for v in variants))


def numbers_table(experiment: Experiment, datasets: Sequence[str], numbers: dict[str, SeedNumbers]) -> list[str]:
    """Median [interquartile range] over seeds of the final numbers of every cell of an experiment."""
    lines = [
        "| variant | data | G loss | D loss | x-offset (std) | offset norm (std) | energy dist. | gap | both win |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant in experiment.variants:
        for dataset in datasets:
            n = numbers[f"{variant.name}@{dataset}"]
            diverged = int(np.sum(~np.isfinite(n.g_loss) | ~np.isfinite(n.d_loss)))
            note = f" ({diverged} diverged)" if diverged else ""
            of_fakes = [_spread(n.x_offset), _spread(n.displacement), _spread(n.energy_distance, 3), _spread(n.gap, 3)]
            row = [f"`{variant.name}`", dataset, _spread(n.g_loss), _spread(n.d_loss, 3), *of_fakes]
            lines.append("| " + " | ".join(row) + f" | {_percent(np.mean(n.both_win))}{note} |")
    return lines


def claim_lines(judged: Judged, datasets: Sequence[str], seeds: int) -> list[str]:
    """A claim's statement, the blog's words, its rule and its verdict per data set."""
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
    header = ["data", "verdict", "seeds supporting"] + [f"cond. {i + 1}" for i in range(len(conditions))]
    if claim.presupposes:
        header.append("presupposition")
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for dataset in datasets:
        j = judged.by_dataset[dataset]
        row = [dataset, j.verdict, f"{round(j.support * seeds)}/{seeds} ({_percent(j.support)})"]
        row += [_percent(share) for share in j.shares]
        if claim.presupposes:
            row.append(_percent(j.presupposition))
        lines.append("| " + " | ".join(row) + " |")
    legend = ", ".join(f"cond. {i + 1}: {_filled(c.text, claim.variants)}" for i, c in enumerate(conditions))
    return [*lines, "", f"<sub>Share of seeds per condition ({legend}).</sub>", ""]


class Invocation(NamedTuple):
    """How this report was made, for its header."""

    command: str
    profile: Profile
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
    return [
        "# Batch normalization in GANs: the blog's claims over many seeds",
        "",
        f"- Command: `{run.command}`",
        f"- Profile: `{profile.name}`: **{profile.seeds} seeds per cell** (keys `seed_keys({seed}, {profile.seeds})`,"
        f" the same for every variant), {profile.steps} steps, batch = the whole population of {profile.data_size}"
        f" samples unless a variant says otherwise, metrics every {profile.log_every} steps.",
        f"- Data sets: {data_line}.",
        f"- Versions: {versions_text()}.",
        f"- Device: {device_text()}.",
        f"- Wall time: {duration_text(run.wall)} for this invocation (it trained {run.trained} of {len(cells)} cells);"
        f" {duration_text(compute)} of training in all (each cell's wall time, compilation included, summed over"
        " the invocations that trained them).",
        "",
    ]


RULES_TEXT = f"""## How to read this report

Each claim is tested on every seed. A seed supports a claim when the claim's conditions all hold
for it; the first condition is the claim's main effect, the others are what the source says comes
with it. **Reproduced**: at least 75% of seeds support it. **Partly**: at least 50% do, or the main
effect alone holds in at least 75%. **Not reproduced**: otherwise. **Untestable**: the claim
presupposes something (a failure to cure) that holds in fewer than half the seeds. The overall
verdict over data sets is the common verdict when they agree and "partly" when they do not. The
rules live in `jaxbngan/verdicts.py`.

Numbers are medians over seeds with the interquartile range in brackets. G loss is D's binary
cross-entropy on the fakes in G's view of D (the blog's "G loss"), D loss is D's own objective;
ln 2 = 0.693 is the equilibrium. Offsets are the mean of the fakes minus the mean of the data, in
standard deviations of the data along each axis. "Close to the data" means an energy distance
smaller than that of the data moved {CLOSE_SHIFT} standard deviations along x. The consistency gap is
|D's loss on the same fakes in G's view - in D's own view|: nonzero when G and D play different
games. "Both win" marks a seed whose D loss is below half its G loss, impossible in one consistent
zero-sum game.
"""


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
    judged_all: list[tuple[Experiment, list[Judged]]] = []
    for e_index, experiment in enumerate(experiments, start=1):
        datasets = datasets_of(experiment, profile)
        judged = []
        for c_index, claim in enumerate(experiment.claims, start=1):
            by_dataset = {d: judge_claim(claim, {v: numbers[f"{v}@{d}"] for v in claim.variants}) for d in datasets}
            verdict = overall([j.verdict for j in by_dataset.values()])
            judged.append(Judged(f"{e_index}.{c_index}", claim, by_dataset, verdict))
        judged_all.append((experiment, judged))

    all_datasets = sorted({d for e in experiments for d in datasets_of(e, profile)}, key=_dataset_order(profile))
    labels, grid = [], []
    for _, judged in judged_all:
        for j in judged:
            labels.append(f"{j.number} {_short(j.claim.statement)}")
            grid.append([j.by_dataset[d].verdict if d in j.by_dataset else NOT_RUN for d in all_datasets] + [j.verdict])
    verdict_grid(labels, all_datasets, grid, figures / "verdicts.png")

    lines = header_lines(run, experiments, results)
    lines += ["## Summary", "", "| claim | " + " | ".join(all_datasets) + " | overall |"]
    lines.append("|" + " --- |" * (len(all_datasets) + 2))
    for _, judged in judged_all:
        for j in judged:
            row = [j.by_dataset[d].verdict if d in j.by_dataset else NOT_RUN for d in all_datasets]
            lines.append(f"| {j.number} {j.claim.statement} | " + " | ".join(row) + f" | **{j.verdict}** |")
    counts = {v: sum(j.verdict == v for _, js in judged_all for j in js) for v in VERDICTS}
    lines += ["", "Overall: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".", ""]
    lines += ["![verdicts per claim and data set](figures/verdicts.png)", "", RULES_TEXT]

    for e_index, (experiment, judged) in enumerate(judged_all, start=1):
        datasets = datasets_of(experiment, profile)
        where = "beyond the blog" if experiment.beyond_blog else "blog section"
        lines += [f"## {e_index}. {experiment.section}", "", f"*{where}, `experiments/{experiment.name}.py`*", ""]
        lines += [experiment.summary, ""]
        lines += numbers_table(experiment, datasets, numbers) + [""]
        for j in judged:
            lines += claim_lines(j, datasets, profile.seeds)
        for p_index, plot in enumerate(experiment.plots, start=1):
            path = figures / f"{experiment.name}-{p_index}-{plot.kind}.png"
            draw_plot(plot, path, experiment, datasets, results, cells, numbers, stats)
            lines += [f"![{plot.kind}: {', '.join(plot.variants)}](figures/{path.name})", ""]

    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines).rstrip() + "\n")
    machine_readable = {
        "command": run.command,
        "profile": profile._asdict(),
        "seed": run.seed,
        "claims": [
            {
                "number": j.number,
                "experiment": experiment.name,
                "statement": j.claim.statement,
                "verdict": j.verdict,
                "by_dataset": {d: j.by_dataset[d]._asdict() for d in j.by_dataset},
            }
            for experiment, judged in judged_all
            for j in judged
        ],
    }
    with atomic_path(out / "verdicts.json") as tmp:
        tmp.write_text(json.dumps(machine_readable, indent=2) + "\n")
    return report


def _dataset_order(profile: Profile):
    order = list(dict.fromkeys(profile.datasets + profile.beyond_datasets))
    return lambda d: order.index(d) if d in order else len(order)


def _short(statement: str, width: int = 60) -> str:
    return statement if len(statement) <= width else statement[: width - 1].rstrip() + "…"
