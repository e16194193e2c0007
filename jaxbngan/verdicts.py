"""Verdict rules: pure functions from a claim's per-seed flags to "reproduced", "partly" or "not reproduced".

A claim is tested seed by seed (`jaxbngan.conditions`). Its main condition is the effect the claim is
about; its side conditions are what the blog says comes with it. A seed supports the claim when every
condition holds. With `ROBUST` = 75% and `MAJORITY` = 50%:

* reproduced      - at least 75% of seeds support the claim;
* partly          - at least 50% do, or the main effect alone holds in at least 75%;
* not reproduced  - otherwise;
* untestable      - the claim presupposes something (e.g. a failure to be cured) that holds in
                    fewer than 50% of seeds, so the seeds cannot speak for or against it;
* not judged      - a shift claim whose controls failed at its reward weight (`control_failures`):
                    the experiment could not have detected what the claim is about.

Every share is a sample of seeds, so each of these comparisons ("at least 75%", ...) is made on its
95% Wilson score interval: it holds when the whole interval is on or above the threshold, fails
when the whole interval is below it, and is open otherwise. A claim whose open comparisons could
still give two verdicts is

* undecided       - with the verdicts it lies between and the number of seeds that would decide
                    it if the observed shares stayed as they are.

A claim is never "partly" at 0 supporting seeds: the main effect alone counts only where the
whole claim holds in some seed.

A seed that diverged in any of the claim's variants (`finals.divergence_steps`) is left out of its
shares: the report counts those seeds apart.

Every threshold a condition reads is a field of `Thresholds`, so the report can judge each claim
again at the neighbouring values (`NEIGHBOURS`) and mark a verdict that changes as fragile.

A shift claim may name controls, each a rewarded variant and its twin at the claim's weight: a
positive control, a D provably blind to the reward's direction, must let the reward move G in at
least half the seeds; a negative control, a D that sees the direction, must hold G (the reward
moved fewer than half its seeds) or move it much less (a median move at most CONTROL_SHARE of the
blind D's). Both by the shares' intervals, as the verdicts. Where either misbehaves, the claim is
not judged at that weight on that data set.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

LN2 = math.log(2)  # D's loss when it outputs 1/2 everywhere: the equilibrium
ROBUST = 0.75  # share of seeds for "reproduced"
MAJORITY = 0.5  # share of seeds for "partly", and for a presupposition to count as met

# The readings of "both players win": D below half of G's loss (the blog's footnote 4: impossible
# in one zero-sum game), or D below ln 2 while G is above it; at the last log, or in at least
# ROBUST of the logs of the second half of training.
DOUBLE_WIN_READINGS = ("half-end", "ln2-end", "half-late", "ln2-late")


class Thresholds(NamedTuple):
    """Every threshold the conditions read; the defaults are the report's."""

    equilibrium: float = 0.1  # "around ln 2": |D loss - ln 2| below this
    shift: float = 0.25  # offset, in standard deviations of the data, that counts as a shift
    close: float = 0.5  # "close to the data": nearer (energy distance) than the data moved this many std along x
    gap: float = 0.1  # consistency gap: |D's loss on the fakes in G's view - in D's own view|
    unchanged: float = 0.1  # D's loss "unchanged" by the reward: within this of its twin's, same seed
    double_win: str = "half-end"  # one of DOUBLE_WIN_READINGS


THRESHOLDS = Thresholds()
EQUILIBRIUM_TOLERANCE, SHIFT, CLOSE_SHIFT, GAP = (
    THRESHOLDS.equilibrium,
    THRESHOLDS.shift,
    THRESHOLDS.close,
    THRESHOLDS.gap,
)

# The neighbours each verdict is judged at again: every number halved and doubled, and the other
# readings of the double win. A verdict that changes at one of them is fragile.
NEIGHBOURS: tuple[tuple[str, float | str], ...] = (
    *(
        (name, factor * getattr(THRESHOLDS, name))
        for name in ("equilibrium", "shift", "close", "gap", "unchanged")
        for factor in (0.5, 2.0)
    ),
    *(("double_win", reading) for reading in DOUBLE_WIN_READINGS[1:]),
)
CLOSE_SHIFTS = tuple(sorted({CLOSE_SHIFT, *(value for name, value in NEIGHBOURS if name == "close")}))

Z95 = 1.959963984540054  # standard normal quantile of 0.975: two-sided 95% intervals
MAX_SEEDS = 100_000  # beyond this, "the seeds that would decide it" is reported as out of reach

REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE = "reproduced", "partly", "not reproduced", "untestable"
UNDECIDED, NOT_JUDGED = "undecided", "not judged"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE, UNDECIDED, NOT_JUDGED)
ABSTAINING = (UNTESTABLE, NOT_JUDGED)  # data sets whose verdict does not count in the overall one
CONTROL_SHARE = 0.5  # "much less": a seeing D's median move at most this share of the blind D's


class Judgement(NamedTuple):
    """The verdict on one claim for one data set."""

    verdict: str
    support: float  # share of seeds where every condition holds
    shares: tuple[float, ...]  # share of seeds for each condition: main, then sides
    presupposition: float | None  # share of seeds where the presupposition holds (None: none)
    seeds: int  # how many seeds the shares are of
    interval: tuple[float, float]  # 95% Wilson interval of `support`
    between: tuple[str, ...]  # the verdicts the intervals leave open (one when decided), in VERDICTS order
    decided_at: int | None  # undecided: seeds that would decide it at the observed shares (None: beyond MAX_SEEDS)
    diverged: int = 0  # seeds left out because they diverged in one of the claim's variants
    controls: str = ""  # not judged: why (`not_judged`)


def wilson_interval(share: float, seeds: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share observed on `seeds` seeds (95% by default)."""
    if seeds < 1:
        return (0.0, 1.0)
    z2 = z * z / seeds
    center = (share + z2 / 2) / (1 + z2)
    half = z / (1 + z2) * math.sqrt(share * (1 - share) / seeds + z2 / (4 * seeds))
    return (max(0.0, center - half), min(1.0, center + half))


def at_least(share: float, seeds: int, threshold: float) -> bool | None:
    """Is the share at least `threshold`? True or False when its interval says so, None when it straddles."""
    low, high = wilson_interval(share, seeds)
    if low >= threshold:
        return True
    if high < threshold:
        return False
    return None


def _verdict(rare_presupposition: bool, robust: bool, majority: bool, main_robust: bool, supported: bool) -> str:
    """The verdict rule on decided comparisons; `supported`: the whole claim holds in at least one seed."""
    if rare_presupposition:
        return UNTESTABLE
    if robust:
        return REPRODUCED
    if majority or (main_robust and supported):
        return PARTLY
    return NOT_REPRODUCED


def possible_verdicts(support: float, main: float, presupposition: float | None, seeds: int) -> tuple[str, ...]:
    """Every verdict the rule gives for some outcome of the comparisons the intervals leave open."""
    if seeds < 1:
        return (UNTESTABLE,)  # every seed diverged: nothing is left to judge
    met = True if presupposition is None else at_least(presupposition, seeds, MAJORITY)
    rare = None if met is None else not met
    known = (rare, at_least(support, seeds, ROBUST), at_least(support, seeds, MAJORITY), at_least(main, seeds, ROBUST))
    found = set()
    for outcome in itertools.product((False, True), repeat=len(known)):
        if any(k is not None and k != o for k, o in zip(known, outcome, strict=True)):
            continue
        if outcome[1] and not outcome[2]:  # support at least 75% but below 50%: impossible
            continue
        found.add(_verdict(*outcome, support > 0))
    return tuple(v for v in VERDICTS if v in found)


def seeds_to_decide(support: float, main: float, presupposition: float | None, seeds: int) -> int | None:
    """The fewest seeds (more than `seeds`; within 1% past 1000) at which the same shares give one verdict.

    None when no count up to MAX_SEEDS decides it (a share on a threshold never is).
    """
    n = seeds + 1
    while n <= MAX_SEEDS:
        if len(possible_verdicts(support, main, presupposition, n)) == 1:
            return n
        n = n + 1 if n < 1000 else int(n * 1.01) + 1  # past 1000 seeds, 1% steps are precise enough
    return None


def _share(flags: np.ndarray) -> float:
    return float(np.mean(np.asarray(flags, dtype=bool)))


def _held(flags: np.ndarray) -> np.ndarray:
    """Per-seed flags as bools; a NaN (the condition's quantity not measured) does not hold."""
    return np.nan_to_num(np.asarray(flags, dtype=float), nan=0.0).astype(bool)


def judge(
    main: np.ndarray,
    sides: Sequence[np.ndarray] = (),
    presupposition: np.ndarray | None = None,
    diverged: np.ndarray | None = None,
) -> Judgement:
    """Apply the verdict rule to per-seed flags (NaN-derived flags are False: such a seed does not support).

    Seeds marked in `diverged` are left out of every share and counted in `Judgement.diverged`.
    """
    kept = ~np.asarray(diverged, dtype=bool) if diverged is not None else np.ones(np.shape(main), dtype=bool)
    flags = [_held(main)[kept], *(_held(s)[kept] for s in sides)]
    seeds = int(flags[0].size)
    if seeds == 0:
        nan_shares = tuple(math.nan for _ in flags)
        return Judgement(UNTESTABLE, math.nan, nan_shares, None, 0, (0.0, 1.0), (UNTESTABLE,), None, int(kept.size))
    support = _share(np.logical_and.reduce(flags))
    shares = tuple(_share(f) for f in flags)
    presupposed = None if presupposition is None else _share(_held(presupposition)[kept])
    between = possible_verdicts(support, shares[0], presupposed, seeds)
    if len(between) == 1:
        verdict, decided_at = between[0], None
    else:
        verdict, decided_at = UNDECIDED, seeds_to_decide(support, shares[0], presupposed, seeds)
    interval = wilson_interval(support, seeds)
    diverged_count = int(kept.size - seeds)
    return Judgement(verdict, support, shares, presupposed, seeds, interval, between, decided_at, diverged_count)


def overall(verdicts: Sequence[str]) -> str:
    """One verdict over data sets: unanimous verdicts stand, mixed ones are 'partly'; untestable ones abstain.

    An undecided data set leaves the overall verdict undecided, unless the decided ones already disagree.
    Data sets where the claim was not judged (its controls failed) abstain as well.
    """
    tested = [v for v in verdicts if v not in ABSTAINING]
    if not tested:
        return NOT_JUDGED if NOT_JUDGED in verdicts else UNTESTABLE
    decided = {v for v in tested if v != UNDECIDED}
    if len(decided) > 1:
        return PARTLY
    if UNDECIDED in tested:
        return UNDECIDED
    return tested[0]


def overall_judged(judgements: Sequence[Judgement]) -> str:
    """`overall` over data sets, undecided only when the verdicts each data set leaves open give more than one."""
    outcomes = {overall(combination) for combination in itertools.product(*(j.between for j in judgements))}
    return outcomes.pop() if len(outcomes) == 1 else UNDECIDED


def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median of the finite values and its distribution-free interval from order statistics (NaN if too few).

    The interval [x_(j), x_(n+1-j)] covers the true median with probability 1 - 2 P(Binomial(n, 1/2) < j);
    j is the largest rank that keeps this at least `confidence` (6 values give min..max, 96.9%).
    """
    finite = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    n = finite.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    median = float(np.median(finite))
    below = np.cumsum([math.comb(n, k) for k in range(n + 1)]) / 2.0**n  # below[k] = P(B <= k)
    ranks = [j for j in range(1, n // 2 + 1) if 1 - 2 * below[j - 1] >= confidence]
    if not ranks:
        return (median, math.nan, math.nan)
    j = max(ranks)
    return (median, float(finite[j - 1]), float(finite[n - j]))


# -- controls of the shift claims ------------------------------------------------------------------


def positive_control_failure(moved: np.ndarray) -> str:
    """Why a provably blind D fails as a positive control ("" when it behaves): the reward must move G in at
    least half the seeds, by the share's 95% interval. `moved`: per kept seed, the reward moved G."""
    moved = np.asarray(moved, dtype=bool)
    if moved.size == 0:
        return "positive control: every seed diverged"
    behaves = at_least(_share(moved), moved.size, MAJORITY)
    if behaves is None:
        return f"positive control's move undecided at {moved.size} seeds"
    return "" if behaves else "positive control did not move"


def negative_control_failure(moved: np.ndarray, effect: np.ndarray, blind_effect: np.ndarray) -> str:
    """Why a D that sees the shift fails as a negative control ("" when it behaves): the reward must move G in
    fewer than half the seeds (by the interval), or move it much less than the blind D does (a median move
    at most CONTROL_SHARE of the blind D's). `moved` and `effect` (the move, rewarded - twin) per kept seed
    of the seeing D, `blind_effect` per kept seed of the positive control."""
    moved = np.asarray(moved, dtype=bool)
    if moved.size == 0:
        return "negative control: every seed diverged"
    moved_in_most = at_least(_share(moved), moved.size, MAJORITY)
    blind = np.median(blind_effect) if np.size(blind_effect) else math.nan
    much_less = bool(np.median(effect) <= CONTROL_SHARE * blind)  # NaN compares False: not shown to behave
    if moved_in_most is False or much_less:
        return ""
    return "negative control moved" if moved_in_most else f"negative control's hold undecided at {moved.size} seeds"


def control_failures(
    positive_moved: np.ndarray, positive_effect: np.ndarray, negative_moved: np.ndarray, negative_effect: np.ndarray
) -> tuple[str, ...]:
    """What went wrong with a shift claim's controls at one weight on one data set: () when both behave."""
    found = (
        positive_control_failure(positive_moved),
        negative_control_failure(negative_moved, negative_effect, positive_effect),
    )
    return tuple(failure for failure in found if failure)


def not_judged(judgement: Judgement, weight: float, failures: Sequence[str]) -> Judgement:
    """A judgement set aside because the claim's controls failed at its reward weight, with the reason."""
    reason = f"not judged: controls failed at weight {weight:g} ({'; '.join(failures)})"
    return judgement._replace(verdict=NOT_JUDGED, between=(NOT_JUDGED,), decided_at=None, controls=reason)
