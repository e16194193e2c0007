"""How the reports write numbers: spreads, shares with their intervals, verdicts, diverged counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxbngan.finals import aggregate
from jaxbngan.verdicts import NOT_JUDGED, UNDECIDED, Judgement, wilson_interval

FRAGILE_MARK = "‡"  # the verdict changes at a neighbouring threshold
MOVING_MARK = "†"  # a cell the claim reads was still moving at the end


def spread_text(values: np.ndarray, digits: int = 2) -> str:
    """Median [interquartile range] over the finite values, or 'n/a'."""
    stats = aggregate(values)
    if stats["seeds"] == 0:
        return "n/a"
    median, q25, q75 = (f"{stats[k]:.{digits}f}" for k in ("median", "q25", "q75"))
    return f"{median} [{q25}, {q75}]"


def percent_text(share: float) -> str:
    """A share as a whole percentage."""
    return f"{100 * share:.0f}%"


def interval_text(low: float, high: float, digits: int = 3, sign: str = "") -> str:
    """A 95% interval of a median, or why there is none."""
    if np.isnan(low):
        return "n/a (under 6 seeds)"
    return f"[{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


def share_text(share: float, seeds: int) -> str:
    """A share of seeds with its 95% Wilson interval: '83% [44, 97]'."""
    if not seeds or np.isnan(share):
        return "n/a"
    low, high = wilson_interval(share, seeds)
    return f"{percent_text(share)} [{100 * low:.0f}, {100 * high:.0f}]"


def supporting_seeds(judgement: Judgement) -> int:
    """How many of the judged seeds support the claim."""
    return round(judgement.support * judgement.seeds) if judgement.seeds else 0


def verdict_text(judgement: Judgement) -> str:
    """The verdict; when undecided, between what and how many seeds would decide it at the observed shares;
    when not judged, which control failed."""
    if judgement.verdict == NOT_JUDGED:
        return judgement.controls
    if judgement.verdict != UNDECIDED:
        return judgement.verdict
    between = " or ".join(judgement.between)
    if judgement.decided_at is None:
        return f"undecided at {judgement.seeds} seeds ({between}; a share on a threshold: no seed count decides it)"
    return f"undecided at {judgement.seeds} seeds ({between}; {judgement.decided_at} seeds would decide it)"


def diverged_text(diverged: np.ndarray) -> str:
    """'k/n' seeds diverged (bold), '0' when none."""
    count = int(np.sum(diverged))
    return f"**{count}/{np.size(diverged)}**" if count else "0"


def filled(text: str, variants: Sequence[str]) -> str:
    """A condition's text with its variants' names in place of {0}, {1}, ..."""
    return text.format(*(f"`{v}`" for v in variants))


def win_texts(numbers) -> list[str]:
    """The shares of the kept seeds ending with both players winning, by D < G/2 and by D < ln 2 < G."""
    kept = ~np.asarray(numbers.diverged, dtype=bool)
    seeds = int(kept.sum())
    if not seeds:
        return ["n/a", "n/a"]
    return [share_text(float(np.mean(numbers.double_win[r][kept])), seeds) for r in ("half-end", "ln2-end")]
