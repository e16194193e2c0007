"""Claims judged on finished cells, with what a reviewer asks beside each verdict.

* Checks: statements that hold by an identity of the step code (G's view of D is the computation
  D's own step makes), verified on every seed and log and kept out of the verdict counts.
* Divergence: seeds that ran away (`finals.divergence_steps`), counted per cell and left out of
  the shares of every claim that reads the cell.
* Sensitivity: every verdict judged again at the neighbouring thresholds (`verdicts.NEIGHBOURS`);
  one that changes is fragile.
* Settling: whether the cells a claim reads were still moving over their last logs
  (`settling.still_moving`); a verdict on such a cell is flagged.

The 2-D and the image reports both judge through here; they differ in their numbers and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from jaxbngan.reproduce.numbers import (
    CheckResult,
    Settling,
    common_seeds,
    control_numbers,
    described_shares,
    judge_claim,
    kept_seeds,
    settling,
    verify_identity,
)
from jaxbngan.reproduce.spec import Check, Claim, Experiment
from jaxbngan.reproduce.text import (
    FRAGILE_MARK,
    MOVING_MARK,
    filled,
    interval_text,
    share_text,
)
from jaxbngan.settling import MOVING_TOLERANCE, MOVING_WINDOW
from jaxbngan.verdicts import (
    NEIGHBOURS,
    THRESHOLDS,
    UNDECIDED,
    Judgement,
    Thresholds,
    control_failures,
    median_interval,
    overall_judged,
)

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
    described: dict[str, list[float]]  # per data set, the share of kept seeds for each descriptive condition
    fragile: dict[str, list[str]]  # per data set and "overall": each neighbouring threshold that changes it
    moving: dict[str, list[str]]  # per data set, the claim's cells whose main metric was still moving
    missing: list[str]  # cells not trained (`--report-only`): the claim is judged only on its other data sets


class Unjudged(NamedTuple):
    """A claim the report cannot judge on any data set: a cell of each was not trained (`--report-only`)."""

    number: str
    id: str
    claim: Claim
    missing: list[str]  # the cell keys it lacks


class Judging(NamedTuple):
    """A report's trained cells, by key, with every claim judged on them."""

    numbers: dict  # per-seed numbers (SeedNumbers or ImageNumbers)
    settled: dict[str, Settling]
    judged_all: list[tuple[Experiment, list[Judged]]]  # per experiment, its judged claims
    unjudged: list[Unjudged]


class Verified(NamedTuple):
    """A check of the step code verified on each of its cells, by cell key."""

    check: Check
    results: dict[str, CheckResult]


def paired_numbers(claim: Claim, cells: Sequence) -> list[Paired]:
    """Median and interval of the per-seed difference of each paired condition of a claim on one data set.

    Seeds that diverged in one of the cells are left out, as the verdict leaves them out.
    """
    found = []
    kept = kept_seeds(cells)
    for index, condition in enumerate([claim.main, *claim.sides]):
        if condition.difference is None:
            continue
        difference = np.asarray(condition.difference(*cells), dtype=float)[kept]
        median, low, high = median_interval(difference)
        positive = int(np.sum(difference > 0))
        found.append(Paired(index, median, low, high, positive, int(difference.size)))
    return found


def measured_numbers(claim: Claim, cells: Sequence) -> list[Measured]:
    """The measured median and interval beside each number the blog quotes for a claim, on one data set."""
    found = []
    kept = kept_seeds(cells)
    for quote in claim.quotes:
        median, low, high = median_interval(np.asarray(getattr(cells[quote.of], quote.field))[kept])
        found.append(Measured(claim.variants[quote.of], QUANTITIES[quote.field], quote.text, median, low, high))
    return found


def neighbours() -> list[tuple[str, Thresholds]]:
    """Each neighbouring setting of the thresholds, with how the report names it."""
    found = []
    for name, value in NEIGHBOURS:
        label = (
            f"double win read as {value}"
            if name == "double_win"
            else f"{name} {value:g} (not {getattr(THRESHOLDS, name):g})"
        )
        found.append((label, THRESHOLDS._replace(**{name: value})))
    return found


def _short_verdict(judgement: Judgement) -> str:
    return judgement.verdict if judgement.verdict != UNDECIDED else f"undecided ({' or '.join(judgement.between)})"


def judge_experiments(
    experiments: Sequence[Experiment],
    datasets_for: Callable[[Experiment], Sequence[str]],
    numbers: dict,
    settled: dict[str, Settling],
) -> tuple[list[tuple[Experiment, list[Judged]]], list[Unjudged]]:
    """Every claim of every experiment judged on each of its data sets, at the report's thresholds and at
    their neighbours; `numbers` and `settled` by cell key. A claim is judged on each data set whose cells are
    all in `numbers`, and lists the cells it lacks on the others; one that lacks a cell on every data set is
    returned apart, unjudged. Either way it keeps its number."""
    judged_all, unjudged = [], []
    others = neighbours()
    for e_index, experiment in enumerate(experiments, start=1):
        judged, available = [], datasets_for(experiment)
        for c_index, claim in enumerate(experiment.claims, start=1):
            lacking = {d: [f"{v}@{d}" for v in claim.cells if f"{v}@{d}" not in numbers] for d in available}
            missing = [key for keys in lacking.values() for key in keys]
            datasets = [d for d, keys in lacking.items() if not keys]
            if not datasets:
                unjudged.append(Unjudged(f"{e_index}.{c_index}", f"{experiment.name}.{c_index}", claim, missing))
                continue
            cells_of = {d: common_seeds([numbers[f"{v}@{d}"] for v in claim.variants]) for d in datasets}
            named = {  # the controls' cells too
                d: {v: numbers[f"{v}@{d}"] for v in claim.cells} | dict(zip(claim.variants, cells_of[d], strict=True))
                for d in datasets
            }
            by_dataset = {d: judge_claim(claim, named[d]) for d in datasets}
            verdict = overall_judged(list(by_dataset.values()))
            fragile: dict[str, list[str]] = {d: [] for d in [*datasets, "overall"]}
            for label, thresholds in others:
                again = {d: judge_claim(claim, named[d], thresholds) for d in datasets}
                for d in datasets:
                    if again[d].verdict != by_dataset[d].verdict:
                        fragile[d].append(f"{label}: {_short_verdict(again[d])}")
                overall_again = overall_judged(list(again.values()))
                if overall_again != verdict:
                    fragile["overall"].append(f"{label}: {overall_again}")
            judged.append(
                Judged(
                    number=f"{e_index}.{c_index}",
                    id=f"{experiment.name}.{c_index}",
                    claim=claim,
                    by_dataset=by_dataset,
                    verdict=verdict,
                    paired={d: paired_numbers(claim, cells_of[d]) for d in datasets},
                    measured={d: measured_numbers(claim, cells_of[d]) for d in datasets},
                    described={d: described_shares(claim, named[d]) for d in datasets},
                    fragile=fragile,
                    moving={d: [f"`{v}@{d}`" for v in claim.variants if settled[f"{v}@{d}"].moving] for d in datasets},
                    missing=missing,
                )
            )
        judged_all.append((experiment, judged))
    return judged_all, unjudged


def judge_cells(
    experiments: Sequence[Experiment],
    datasets_for: Callable[[Experiment], Sequence[str]],
    results: dict,
    cells: dict,
    numbers_of: Callable,
) -> Judging:
    """The trained cells' numbers (`numbers_of(result, cell)`) and settling, and every claim judged on them."""
    present = [k for k in cells if k in results]  # all of them, unless --report-only left some untrained
    numbers = {k: numbers_of(results[k], cells[k]) for k in present}
    settled = {k: settling(results[k], cells[k].config, numbers[k].diverged) for k in present}
    return Judging(numbers, settled, *judge_experiments(experiments, datasets_for, numbers, settled))


def verify_checks(
    experiments: Sequence[Experiment], datasets_for: Callable[[Experiment], Sequence[str]], results: dict
) -> list[Verified]:
    """Every check of every experiment verified on each of its cells."""
    return [
        Verified(
            check,
            {
                f"{v}@{d}": verify_identity(results[f"{v}@{d}"].history)
                for v in check.variants
                for d in datasets_for(e)
                if f"{v}@{d}" in results
            },
        )
        for e in experiments
        for check in e.checks
    ]


def unjudged_lines(
    unjudged: Sequence[Unjudged], judged_all: Sequence[tuple[Experiment, list[Judged]]] = ()
) -> list[str]:
    """The claims left unjudged for want of cells, and those judged on some data sets only, each with the cells
    it lacks."""
    partly = [j for _, judged in judged_all for j in judged if j.missing]
    if not unjudged and not partly:
        return []
    lines = [
        "## Not judged in this report",
        "",
        "These claims read cells this report does not have (drawn with"
        " `--report-only` before they were trained); the profile trains them:",
        "",
    ]
    for item in unjudged:
        lines.append(f"- {item.number} ({item.id}) {item.claim.statement} Missing: {', '.join(item.missing)}.")
    for j in partly:
        lines.append(
            f"- {j.number} ({j.id}) {j.claim.statement} Judged on {', '.join(j.by_dataset)} only; missing:"
            f" {', '.join(j.missing)}."
        )
    return lines + [""]


def drawable(plot_variants: Sequence[str], datasets: Sequence[str], results: dict) -> bool:
    """Whether every cell a figure reads was trained."""
    return all(f"{v}@{d}" in results for v in plot_variants for d in datasets)


def checks_lines(verified: Sequence[Verified]) -> list[str]:
    """The report's section of checks: each identity, and on how many logs of every cell it held."""
    if not verified:
        return []
    lines = [
        "## Checks of the implementation (not findings)",
        "",
        "Each statement below holds by an identity of the step code, so it could not have come out otherwise: it"
        " checks the implementation and is left out of the verdicts. Each is verified on every seed and every log"
        " of its cells: G's reported loss is exactly D's loss on the same fakes in D's own step (where the cell"
        " logged the latter), and D's loss (L_real + L_fake) / 2 is at least half of G's, since L_real >= 0."
        " `tests/test_checks.py` shows each identity from the step code.",
        "",
        "| check | why it holds | cell | G loss = D's own loss on the fakes, bit for bit (logs) | largest relative"
        " difference | D loss >= G loss / 2 (logs) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item in verified:
        for key, result in item.results.items():
            if result.equal is None:
                equal, largest = "not logged by this cell", "-"
            else:
                equal, largest = f"{result.equal}/{result.logs}", f"{result.largest:.1e}"
            row = [item.check.statement, item.check.identity, f"`{key}`", equal, largest]
            lines.append("| " + " | ".join(row) + f" | {result.bounded}/{result.logs} |")
    return lines + [""]


def divergence_lines(numbers: dict, cell_keys: Sequence[str]) -> list[str]:
    """The report's section on diverged seeds: every cell with one, its share with the 95% interval."""
    rows = []
    for key in cell_keys:
        diverged = np.asarray(numbers[key].diverged, dtype=bool)
        if diverged.any():
            share = float(diverged.mean())
            rows.append(f"| `{key}` | {int(diverged.sum())}/{diverged.size} | {share_text(share, diverged.size)} |")
    lines = [
        "## Diverged seeds",
        "",
        "A seed has diverged when a loss or score is not finite, or its fakes' mean lies more than 100 spreads of"
        " the data from the data's mean, or their spread along some axis is more than 100 times the data's"
        " (`finals.divergence_steps`). Such a seed is left out of every share, median and paired difference of the"
        " claims that read its cell; how often a variant runs away is a finding of its own, shown here.",
        "",
    ]
    if not rows:
        return lines + ["No seed diverged in any cell.", ""]
    return lines + [
        "| cell | diverged | share [95%] |",
        "| --- | --- | --- |",
        *rows,
        "",
        f"{len(rows)} of {len(cell_keys)} cells have a diverged seed; the others none.",
        "",
    ]


def sensitivity_lines(judged_all: list[tuple[Experiment, list[Judged]]]) -> list[str]:
    """The report's sensitivity table: each verdict that changes at a neighbouring threshold."""
    rows, total, fragile = [], 0, 0
    for _, judged in judged_all:
        for j in judged:
            for dataset, changes in j.fragile.items():
                total += 1
                if changes:
                    fragile += 1
                    now = j.verdict if dataset == "overall" else _short_verdict(j.by_dataset[dataset])
                    rows.append(f"| {j.number} | {dataset} | {now} | {'; '.join(changes)} |")
    settings = ", ".join(label for label, _ in neighbours())
    table = ["| claim | data | verdict | at a neighbouring threshold |", "| --- | --- | --- | --- |", *rows, ""]
    return [
        "## Sensitivity: verdicts at the neighbouring thresholds",
        "",
        f"Every verdict (per data set and overall) is judged again with one threshold moved: {settings}. {fragile}"
        f" of {total} verdicts change at one of them and are marked {FRAGILE_MARK} in the summary; they are listed"
        " here with what they become.",
        "",
        *(table if rows else []),
    ]


def settling_lines(settled: dict[str, Settling]) -> list[str]:
    """The report's table of the cells still moving at the end of training."""
    moving = {key: s for key, s in settled.items() if s.moving}
    lines = [
        "## Still moving?",
        "",
        f"A cell is still moving when the median over its seeds of its main metric (energy distance for points,"
        f" Frechet distance for images) or of its consistency gap changed by more than {MOVING_TOLERANCE:.0%} over"
        f" the last {MOVING_WINDOW:.0%} of the logs (and by more than a floor below which a change is noise:"
        " `numbers.MOVING_FLOORS`). A verdict that reads such a cell is marked"
        f" {MOVING_MARK}: it may describe where training was, not where it goes. Each section's settling figure"
        " shows the curves with that window shaded, and below them the share of seeds in the double win at each log"
        " (not part of the rule).",
        "",
        f"{len(moving)} of {len(settled)} cells were still moving.",
        "",
    ]
    if moving:
        lines += ["| cell | metric | its change over the window | gap's change |", "| --- | --- | --- | --- |"]
        for key, s in moving.items():
            metric = f"{s.change:+.0%}" + (" (moving)" if s.metric_moving else "")
            gap = f"{s.gap_change:+.3f}" + (" (moving)" if s.gap_moving else "")
            lines.append(f"| `{key}` | {s.metric} | {metric} | {gap} |")
        lines.append("")
    return lines


def paired_lines(judged: Judged, datasets: Sequence[str]) -> list[str]:
    """A claim's paired differences per data set: median with its 95% interval and the positive count."""
    if not any(judged.paired[d] for d in datasets):
        return []
    lines = [
        "Paired by seed (A - B for the same seed key, diverged seeds left out): median difference with its 95%"
        " interval, and the seeds where it is positive:",
        "",
        "| data | condition | median A - B [95%] | A > B |",
        "| --- | --- | --- | --- |",
    ]
    for dataset in datasets:
        for p in judged.paired[dataset]:
            interval = interval_text(p.low, p.high, sign="+")
            lines.append(
                f"| {dataset} | cond. {p.condition + 1} | {p.median:+.3f} {interval} | {p.positive}/{p.seeds} |"
            )
    return lines + [""]


def condition_legend(claim: Claim) -> str:
    """Which condition each column of a claim's table is."""
    conditions = [claim.main, *claim.sides]
    legend = ", ".join(f"cond. {i + 1}: {filled(c.text, claim.variants)}" for i, c in enumerate(conditions))
    return legend + "".join(f", shown {i + 1}: {filled(c.text, claim.variants)}" for i, c in enumerate(claim.describes))


def controls_lines(experiment: Experiment, datasets: Sequence[str], numbers: dict) -> list[str]:
    """The controls of an experiment's shift claims, per weight and data set: in how many seeds and how far
    the reward moved G in each, and whether both behave (`verdicts.control_failures`); one table per direction."""
    distinct = {(c.weight, c.positive, c.negative): c for c in (claim.controls for claim in experiment.claims) if c}
    tables: dict[str, list[str]] = {}  # by the text of the condition that says the reward moved G
    for controls in distinct.values():
        for dataset in datasets:
            cells = {v: numbers.get(f"{v}@{dataset}") for v in (*controls.positive, *controls.negative)}
            if any(cell is None for cell in cells.values()):
                continue  # not trained (--report-only)
            found = control_numbers(controls, cells)
            texts = []
            for moved, effect in (found[:2], found[2:]):
                median, low, high = median_interval(effect)
                texts += [f"{int(moved.sum())}/{moved.size}: {share_text(float(np.mean(moved)), moved.size)}"]
                texts += [f"{median:+.3f} {interval_text(low, high, sign='+')}"]
            behave = "; ".join(control_failures(*found)) or "both behave"
            row = f"| {controls.weight:g} | {dataset} | `{controls.positive[0]}` | " + " | ".join(texts[:2])
            row += f" | `{controls.negative[0]}` | " + " | ".join(texts[2:]) + f" | {behave} |"
            tables.setdefault(controls.moved.text, []).append(row)
    lines = []
    for text, rows in tables.items():
        lines += [
            f"Controls of the claims above, each against its twin: the reward moved G when"
            f" {filled(text, ('rewarded', 'twin'))}. Positive: a provably blind D, which must let the reward move G;"
            " negative: a D that sees the shift.",
            "",
            "| weight | data | positive | seeds moved [95%] | median move [95%] | negative | seeds moved [95%]"
            " | median move [95%] | controls |",
            "|" + " --- |" * 9,
            *rows,
            "",
        ]
    return lines
