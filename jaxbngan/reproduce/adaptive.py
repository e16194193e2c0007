"""Seeds where they decide: which cells get another block of seeds, and the report's table of seed counts.

A profile trains every cell with its seeds; `--adaptive-seeds BLOCK:CAP` then grows, block by block,
only the cells of a claim whose verdict on a data set is undecided, until it is decided or its cells
hold CAP seeds. A block trains the cell's next seeds (seed i is the i-th key of the same split, see
`train.seed_keys`), so a grown cell holds exactly the seeds a bigger run from scratch would, and a
claim's variants pair seed by seed on the seeds they all have (`numbers.common_seeds`). On a CPU
their numbers are those of the bigger run bit for bit (`driver`), scores of conv cells included,
since a cell grows only in a process with the XLA flags, devices and cores that trained it
(`cells.check_same_device`). The claim's
variants grow together: each to the claim's fewest seeds plus a block, so a twin catches up first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from jaxbngan.config import ConfigError
from jaxbngan.reproduce.cells import CellResult
from jaxbngan.reproduce.judging import Judged
from jaxbngan.verdicts import UNDECIDED, Judgement


class SeedRule(NamedTuple):
    """Grow undecided cells by `block` seeds at a time, up to `cap` seeds per cell."""

    block: int
    cap: int

    @property
    def text(self) -> str:
        """How the report and the command line write it."""
        return f"{self.block}:{self.cap}"


def adaptive_text(rule: SeedRule) -> str:
    """The rule in words, for a report's header."""
    return (
        f"`--adaptive-seeds {rule.text}`: blocks of {rule.block} more seeds for the cells of each claim left"
        f" undecided on a data set, up to {rule.cap} seeds per cell (see Seeds per cell)"
    )


def parse_seed_rule(text: str, seeds: int) -> SeedRule:
    """`BLOCK:CAP` of --adaptive-seeds; the cap must exceed `seeds`, the most a cell of the profile starts with."""
    block, colon, cap = text.partition(":")
    if not (colon and block.strip().isdigit() and cap.strip().isdigit()):
        raise ConfigError(f"--adaptive-seeds takes BLOCK:CAP, two positive integers such as 8:32; got {text!r}")
    rule = SeedRule(int(block), int(cap))
    if rule.block < 1:
        raise ConfigError(f"--adaptive-seeds: the block must be at least 1 seed, got {rule.block}")
    if rule.cap <= seeds:
        raise ConfigError(f"--adaptive-seeds: the cap {rule.cap} must exceed the profile's {seeds} seeds per cell")
    return rule


class Growth(NamedTuple):
    """What an undecided claim asks of one cell: its seeds after this round, and which claims ask it."""

    seeds: int  # held now
    target: int  # after this round; equal to `seeds` when the cap stops it or its twins are behind it
    why: tuple[str, ...]  # one line per undecided claim and data set that reads the cell


def undecided_text(claim_id: str, dataset: str, judgement: Judgement) -> str:
    """Why a cell grows: the claim, its data set, the verdicts left open and the seeds that would decide it."""
    decide = f"about {judgement.decided_at} would decide it" if judgement.decided_at else "no count decides it"
    return f"{claim_id} on {dataset}: {' or '.join(judgement.between)} at {judgement.seeds} seeds ({decide})"


def claims_of(judged_all: Sequence[tuple[object, Sequence[Judged]]]) -> list[Judged]:
    """The judged claims of every experiment, as `judging.judge_experiments` returns them per experiment."""
    return [claim for _, judged in judged_all for claim in judged]


def plan_seeds(judged: Sequence[Judged], seeds: Mapping[str, int], rule: SeedRule) -> dict[str, Growth]:
    """Every cell that an undecided claim reads, by key, with the seeds it should hold after this round.

    A claim undecided on a data set asks each of its cells there for the claim's fewest seeds plus
    a block, at most the cap; a cell read by several claims takes the largest ask. Decided claims
    ask nothing, so a cell grows only when some claim on it is undecided.
    """
    plan: dict[str, Growth] = {}
    for claim in judged:
        for dataset, judgement in claim.by_dataset.items():
            if judgement.verdict != UNDECIDED:
                continue
            keys = [f"{variant}@{dataset}" for variant in claim.claim.variants]
            target = min(rule.cap, min(seeds[key] for key in keys) + rule.block)
            why = undecided_text(claim.id, dataset, judgement)
            for key in keys:
                asked = plan.get(key, Growth(seeds[key], seeds[key], ()))
                plan[key] = Growth(asked.seeds, max(asked.target, target), (*asked.why, why))
    return plan


def growing(plan: Mapping[str, Growth]) -> dict[str, Growth]:
    """The cells of a plan that get seeds this round."""
    return {key: growth for key, growth in plan.items() if growth.target > growth.seeds}


def grown_seed_lines(
    judged_all: Sequence[tuple[object, Sequence[Judged]]],
    results: Mapping[str, CellResult],
    keys: Sequence[str],
    profile_seeds: Callable[[str], int],
    rule: SeedRule,
) -> list[str]:
    """A report's table of seeds per cell (`seed_lines`) for the cells `keys`, from the report's verdicts."""
    plan = plan_seeds(claims_of(judged_all), {key: results[key].meta["seeds"] for key in keys}, rule)
    metas = {key: results[key].meta for key in keys}
    return seed_lines(metas, {key: profile_seeds(key) for key in keys}, plan, rule)


def seed_lines(
    metas: Mapping[str, dict], profile_seeds: Mapping[str, int], plan: Mapping[str, Growth], rule: SeedRule
) -> list[str]:
    """The report's table: each cell's seeds, the profile's and every block's, and why each block was trained.

    `metas`: each cell's `CellResult.meta` (its `blocks`); `plan`: `plan_seeds` on the report's verdicts,
    whose undecided claims are those the cap leaves open (or a later run grows, after `--report-only`).
    """
    lines = [
        "## Seeds per cell",
        "",
        f"`--adaptive-seeds {rule.text}`: every cell starts with its profile's seeds; a block of {rule.block} more"
        " (the next seed keys, as a bigger run would use them) is added to the cells of each claim left undecided on"
        f" a data set, until the claim is decided or its cells hold {rule.cap} seeds. A claim is judged on the seeds"
        " all its cells have; its variants grow together.",
        "",
        "| cell | seeds | from | why |",
        "| --- | --- | --- | --- |",
    ]
    for key, meta in metas.items():
        blocks = meta.get("blocks", [])
        made = " + ".join([str(profile_seeds[key]), *(str(block["seeds"]) for block in blocks)])
        why = [f"{_seed_range(b['first_seed'], b['seeds'])}: {'; '.join(b['why'])}" for b in blocks]
        growth = plan.get(key)
        if growth is not None:
            still = "; ".join(growth.why)
            why.append(f"cap reached: {still}" if growth.seeds >= rule.cap else f"the next run grows it: {still}")
        reasons = "<br>".join(why) if why else "no claim on it was left undecided at the profile's seeds"
        lines.append(f"| `{key}` | {meta['seeds']} | {made} | {reasons} |")
    return lines + [""]


def _seed_range(first: int, count: int) -> str:
    return f"seed {first}" if count == 1 else f"seeds {first}-{first + count - 1}"
