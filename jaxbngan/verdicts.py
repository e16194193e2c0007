"""Verdict rules: pure functions from per-seed numbers to "reproduced", "partly" or "not reproduced".

A claim is tested seed by seed. Its main condition is the effect the claim is about; its side
conditions are what the blog says comes with it. A seed supports the claim when every condition
holds. With `ROBUST` = 75% and `MAJORITY` = 50%:

* reproduced      - at least 75% of seeds support the claim;
* partly          - at least 50% do, or the main effect alone holds in at least 75%;
* not reproduced  - otherwise;
* untestable      - the claim presupposes something (e.g. a failure to be cured) that holds in
                    fewer than 50% of seeds, so the seeds cannot speak for or against it.

Every share is a sample of seeds, so each of these comparisons ("at least 75%", ...) is made on its
95% Wilson score interval: it holds when the whole interval is on or above the threshold, fails
when the whole interval is below it, and is open otherwise. A claim whose open comparisons could
still give two verdicts is

* undecided       - with the verdicts it lies between and the number of seeds that would decide
                    it if the observed shares stayed as they are.

Conditions read the numbers of one or more cells of the same data set (the claim's variants, in
order), paired by seed: every variant trains from the same seed keys. A condition's text names
the variants as {0}, {1}, ...; the report fills in their names.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

LN2 = math.log(2)  # D's loss when it outputs 1/2 everywhere: the equilibrium
ROBUST = 0.75  # share of seeds for "reproduced"
MAJORITY = 0.5  # share of seeds for "partly", and for a presupposition to count as met
EQUILIBRIUM_TOLERANCE = 0.1  # "around ln 2": |D loss - ln 2| below this
SHIFT = 0.25  # x-offset, in standard deviations of the real data's x, that counts as a shift
CLOSE_SHIFT = 0.5  # "close to the data": nearer (energy distance) than the data moved by this many std
GAP = 0.1  # consistency gap: |D's loss on the fakes in G's view - in D's own view|

Z95 = 1.959963984540054  # standard normal quantile of 0.975: two-sided 95% intervals
MAX_SEEDS = 100_000  # beyond this, "the seeds that would decide it" is reported as out of reach

REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE = "reproduced", "partly", "not reproduced", "untestable"
UNDECIDED = "undecided"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE, UNDECIDED)


class SeedNumbers(NamedTuple):
    """Final numbers of one cell (variant x data set), one entry per seed unless noted."""

    g_loss: np.ndarray  # D's BCE on the fakes in G's view (the blog's "G loss")
    d_loss: np.ndarray  # 0.5 * (BCE_real + BCE_fake) in D's own step
    x_offset: np.ndarray  # (mean fake x - mean real x) / std of real x
    displacement: np.ndarray  # norm of the mean offset, each axis in units of the real std
    energy_distance: np.ndarray  # fakes vs the real data
    energy_reference: float  # energy distance of the real data moved by CLOSE_SHIFT std along x
    both_win: np.ndarray  # bool: D loss < G loss / 2, impossible in one consistent zero-sum game
    gap: np.ndarray  # consistency gap at the end of training
    mean_gap: np.ndarray  # consistency gap averaged over all logs of the run


class Condition(NamedTuple):
    """A per-seed test and the sentence that explains it; a paired test also gives its per-seed difference."""

    text: str
    test: Callable[..., np.ndarray]  # (*SeedNumbers of the claim's variants) -> (seeds,) bool
    difference: Callable[..., np.ndarray] | None = None  # paired: (seeds,) the compared quantity, A - B


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


def _verdict(rare_presupposition: bool, robust: bool, majority: bool, main_robust: bool) -> str:
    """The verdict rule on decided comparisons."""
    if rare_presupposition:
        return UNTESTABLE
    if robust:
        return REPRODUCED
    if majority or main_robust:
        return PARTLY
    return NOT_REPRODUCED


def possible_verdicts(support: float, main: float, presupposition: float | None, seeds: int) -> tuple[str, ...]:
    """Every verdict the rule gives for some outcome of the comparisons the intervals leave open."""
    met = True if presupposition is None else at_least(presupposition, seeds, MAJORITY)
    rare = None if met is None else not met
    known = (rare, at_least(support, seeds, ROBUST), at_least(support, seeds, MAJORITY), at_least(main, seeds, ROBUST))
    found = set()
    for outcome in itertools.product((False, True), repeat=len(known)):
        if any(k is not None and k != o for k, o in zip(known, outcome, strict=True)):
            continue
        if outcome[1] and not outcome[2]:  # support at least 75% but below 50%: impossible
            continue
        found.add(_verdict(*outcome))
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


def judge(main: np.ndarray, sides: Sequence[np.ndarray] = (), presupposition: np.ndarray | None = None) -> Judgement:
    """Apply the verdict rule to per-seed flags (NaN-derived flags are False: such a seed does not support)."""
    flags = [np.asarray(main, dtype=bool), *(np.asarray(s, dtype=bool) for s in sides)]
    seeds = int(flags[0].size)
    support = _share(np.logical_and.reduce(flags))
    shares = tuple(_share(f) for f in flags)
    presupposed = None if presupposition is None else _share(presupposition)
    between = possible_verdicts(support, shares[0], presupposed, seeds)
    if len(between) == 1:
        verdict, decided_at = between[0], None
    else:
        verdict, decided_at = UNDECIDED, seeds_to_decide(support, shares[0], presupposed, seeds)
    interval = wilson_interval(support, seeds)
    return Judgement(verdict, support, shares, presupposed, seeds, interval, between, decided_at)


def overall(verdicts: Sequence[str]) -> str:
    """One verdict over data sets: unanimous verdicts stand, mixed ones are 'partly'; untestable ones abstain.

    An undecided data set leaves the overall verdict undecided, unless the decided ones already disagree.
    """
    tested = [v for v in verdicts if v != UNTESTABLE]
    if not tested:
        return UNTESTABLE
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


# -- conditions -------------------------------------------------------------------------------------
# `of` picks which of the claim's variants a condition reads (0: the first).


def d_near_ln2(of: int = 0) -> Condition:
    """D's loss is "around ln 2"."""
    return Condition(
        f"{{{of}}}: |D loss - ln 2| < {EQUILIBRIUM_TOLERANCE}",
        lambda *cells: np.abs(cells[of].d_loss - LN2) < EQUILIBRIUM_TOLERANCE,
    )


def shifted_right(of: int = 0) -> Condition:
    """The fakes moved right by more than SHIFT std."""
    return Condition(f"{{{of}}}: x-offset > +{SHIFT} std", lambda *cells: cells[of].x_offset > SHIFT)


def stayed_put(of: int = 0) -> Condition:
    """The fakes did not move along x by SHIFT std or more."""
    return Condition(f"{{{of}}}: |x-offset| < {SHIFT} std", lambda *cells: np.abs(cells[of].x_offset) < SHIFT)


def more_displaced(of: int = 0, than: int = 1) -> Condition:
    """The fakes' mean is further from the real mean than in another variant, same seed."""
    return Condition(
        f"offset of {{{of}}} larger than offset of {{{than}}} (same seed)",
        lambda *cells: cells[of].displacement > cells[than].displacement,
        lambda *cells: cells[of].displacement - cells[than].displacement,
    )


def both_win(of: int = 0) -> Condition:
    """G and D both beat the equilibrium: D loss < G loss / 2."""
    return Condition(f"{{{of}}}: both players win (D loss < G loss / 2)", lambda *cells: cells[of].both_win)


def same_double_win(of: int = 0, twin: int = 1) -> Condition:
    """The seed ends with the double win exactly when its twin does."""
    return Condition(
        f"{{{of}}} ends in the double win exactly when {{{twin}}} does (same seed)",
        lambda *cells: np.asarray(cells[of].both_win, dtype=bool) == np.asarray(cells[twin].both_win, dtype=bool),
    )


def no_both_win(of: int = 0) -> Condition:
    """The run does not end with both players winning."""

    def test(*cells: SeedNumbers) -> np.ndarray:
        finite = np.isfinite(cells[of].g_loss) & np.isfinite(cells[of].d_loss)  # a diverged run wins nothing
        return finite & ~np.asarray(cells[of].both_win, dtype=bool)

    return Condition(f"{{{of}}}: not both players win", test)


def close_to_data(of: int = 0) -> Condition:
    """The fakes are nearer to the data than the data moved by CLOSE_SHIFT std."""
    return Condition(
        f"{{{of}}}: energy distance below that of the data moved {CLOSE_SHIFT} std",
        lambda *cells: cells[of].energy_distance < cells[of].energy_reference,
    )


def far_from_data(of: int = 0) -> Condition:
    """The fakes are further from the data than the data moved by CLOSE_SHIFT std."""
    return Condition(
        f"{{{of}}}: energy distance above that of the data moved {CLOSE_SHIFT} std",
        lambda *cells: cells[of].energy_distance >= cells[of].energy_reference,
    )


def closer_to_data(of: int = 0, than: int = 1) -> Condition:
    """The fakes are nearer to the data (energy distance) than in another variant, same seed."""
    return Condition(
        f"energy distance of {{{of}}} smaller than of {{{than}}} (same seed)",
        lambda *cells: cells[of].energy_distance < cells[than].energy_distance,
        lambda *cells: cells[of].energy_distance - cells[than].energy_distance,
    )


def consistent(of: int = 0) -> Condition:
    """G's view of D agrees with D's own view at the end of training."""
    return Condition(f"{{{of}}}: consistency gap < {GAP}", lambda *cells: cells[of].gap < GAP)


def larger_mean_gap(of: int = 0, than: int = 1) -> Condition:
    """G's and D's views disagree more over training than in another variant, same seed."""
    return Condition(
        f"mean consistency gap of {{{of}}} larger than of {{{than}}} (same seed)",
        lambda *cells: cells[of].mean_gap > cells[than].mean_gap,
        lambda *cells: cells[of].mean_gap - cells[than].mean_gap,
    )
