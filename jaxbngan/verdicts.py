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

A claim is never "partly" at 0 supporting seeds: the main effect alone counts only where the
whole claim holds in some seed.

Conditions read the numbers of one or more cells of the same data set (the claim's variants, in
order), paired by seed: every variant trains from the same seed keys. A condition's text names
the variants as {0}, {1}, ...; the report fills in their names. A seed that diverged in any of
the claim's variants (`finals.divergence_steps`) is left out of its shares: the report counts
those seeds apart.

Every threshold a condition reads is a field of `Thresholds`, so the report can judge each claim
again at the neighbouring values (`NEIGHBOURS`) and mark a verdict that changes as fragile. A
shift is judged against the seed's twin (the same seed keys and data without the reward): the
signed difference of the offsets in the reward's direction, never an absolute band, since a run
that fits the data poorly is off-centre with or without a reward.
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

# "Still moving": a cell's main metric (the median over seeds at each log) changed by more than
# MOVING_TOLERANCE of its value over the last MOVING_WINDOW of the logs (and by more than the
# metric's floor, below which a change is noise).
MOVING_WINDOW = 0.2
MOVING_TOLERANCE = 0.1

Z95 = 1.959963984540054  # standard normal quantile of 0.975: two-sided 95% intervals
MAX_SEEDS = 100_000  # beyond this, "the seeds that would decide it" is reported as out of reach

REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE = "reproduced", "partly", "not reproduced", "untestable"
UNDECIDED = "undecided"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE, UNDECIDED)


class SeedNumbers(NamedTuple):
    """Final numbers of one cell (variant x data set), one entry per seed unless noted."""

    g_loss: np.ndarray  # D's BCE on the fakes in G's view (the blog's "G loss")
    d_loss: np.ndarray  # 0.5 * (BCE_real + BCE_fake) in D's own step
    x_offset: np.ndarray  # (mean fake x - mean real x) / std of real x: the shift reward's direction
    displacement: np.ndarray  # norm of the mean offset, each axis in units of the real std
    energy_distance: np.ndarray  # fakes vs the real data
    energy_reference: dict  # {close shift in std: energy distance of the real data moved that far along x}
    both_win: np.ndarray  # bool: D loss < G loss / 2 at the last log, impossible in one zero-sum game
    gap: np.ndarray  # consistency gap at the end of training
    late_gap: np.ndarray  # consistency gap averaged over the last MOVING_WINDOW of the logs
    late_logit_gap: np.ndarray  # the same in logits: |D's mean logit on the fakes in G's view - in its own|
    double_win: dict  # {reading of DOUBLE_WIN_READINGS: (seeds,) bool}
    diverged: np.ndarray  # bool: the seed left the sane range (`finals.divergence_steps`)
    mean_position: np.ndarray  # (seeds, D layers): median position of the running means, fake 0 .. real 1


class Condition(NamedTuple):
    """A per-seed test and the sentence that explains it; a paired test also gives its per-seed difference.

    `test(*cells, t=THRESHOLDS)` reads the claim's cells (SeedNumbers or ImageNumbers) and the thresholds.
    """

    text: str
    test: Callable[..., np.ndarray]  # (*numbers of the claim's variants, t=Thresholds) -> (seeds,) bool
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
    diverged: int = 0  # seeds left out because they diverged in one of the claim's variants


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
# `of` picks which of the claim's variants a condition reads (0: the first); `t` the thresholds.


def d_near_ln2(of: int = 0) -> Condition:
    """D's loss is "around ln 2"."""
    return Condition(
        f"{{{of}}}: |D loss - ln 2| < {EQUILIBRIUM_TOLERANCE}",
        lambda *cells, t=THRESHOLDS: np.abs(cells[of].d_loss - LN2) < t.equilibrium,
    )


def d_loss_unchanged(of: int = 0, twin: int = 1) -> Condition:
    """D's loss is the twin's (the same seed without the reward): D does not notice what the reward did."""
    return Condition(
        f"|D loss of {{{of}}} - D loss of {{{twin}}}| < {THRESHOLDS.unchanged} (same seed)",
        lambda *cells, t=THRESHOLDS: np.abs(cells[of].d_loss - cells[twin].d_loss) < t.unchanged,
        lambda *cells: cells[of].d_loss - cells[twin].d_loss,
    )


def _reward_offset(cell) -> np.ndarray:
    """The offset along the reward's direction: x for points, brightness for images (in std of the data)."""
    return cell.x_offset if hasattr(cell, "x_offset") else cell.brightness


def moved_by_reward(of: int = 0, twin: int = 1, measure: str = "x-offset") -> Condition:
    """The reward moved G: its offset exceeds the twin's (same seed, no reward) by more than a shift."""
    return Condition(
        f"{measure} of {{{of}}} - {measure} of {{{twin}}} > +{SHIFT} std (same seed)",
        lambda *cells, t=THRESHOLDS: _reward_offset(cells[of]) - _reward_offset(cells[twin]) > t.shift,
        lambda *cells: _reward_offset(cells[of]) - _reward_offset(cells[twin]),
    )


def held_by_d(of: int = 0, twin: int = 1, measure: str = "x-offset") -> Condition:
    """The reward did not move G: its offset is not a shift beyond the twin's (same seed, no reward)."""
    return Condition(
        f"{measure} of {{{of}}} - {measure} of {{{twin}}} < +{SHIFT} std (same seed)",
        lambda *cells, t=THRESHOLDS: _reward_offset(cells[of]) - _reward_offset(cells[twin]) < t.shift,
        lambda *cells: _reward_offset(cells[of]) - _reward_offset(cells[twin]),
    )


def shifted_right(of: int = 0) -> Condition:
    """The fakes moved right by more than a shift (an absolute band: descriptive, beside the paired test)."""
    return Condition(f"{{{of}}}: x-offset > +{SHIFT} std", lambda *cells, t=THRESHOLDS: cells[of].x_offset > t.shift)


def stayed_put(of: int = 0) -> Condition:
    """The fakes did not move along x by a shift or more (an absolute band: descriptive)."""
    return Condition(
        f"{{{of}}}: |x-offset| < {SHIFT} std", lambda *cells, t=THRESHOLDS: np.abs(cells[of].x_offset) < t.shift
    )


def more_displaced(of: int = 0, than: int = 1) -> Condition:
    """The fakes' mean is further from the real mean than in another variant, same seed."""
    return Condition(
        f"offset of {{{of}}} larger than offset of {{{than}}} (same seed)",
        lambda *cells, t=THRESHOLDS: cells[of].displacement > cells[than].displacement,
        lambda *cells: cells[of].displacement - cells[than].displacement,
    )


def _double_win(cell, t: Thresholds) -> np.ndarray:
    return np.asarray(cell.double_win[t.double_win], dtype=bool)


def both_win(of: int = 0) -> Condition:
    """G and D both beat the equilibrium: D loss < G loss / 2 at the end (or another reading, `Thresholds`)."""
    return Condition(
        f"{{{of}}}: both players win (D loss < G loss / 2)", lambda *cells, t=THRESHOLDS: _double_win(cells[of], t)
    )


def no_both_win(of: int = 0) -> Condition:
    """The run does not end with both players winning."""

    def test(*cells, t: Thresholds = THRESHOLDS) -> np.ndarray:
        finite = np.isfinite(cells[of].g_loss) & np.isfinite(cells[of].d_loss)  # a diverged run wins nothing
        return finite & ~_double_win(cells[of], t)

    return Condition(f"{{{of}}}: not both players win", test)


def same_double_win(of: int = 0, twin: int = 1) -> Condition:
    """The seed ends with the double win exactly when its twin does."""
    return Condition(
        f"{{{of}}} ends in the double win exactly when {{{twin}}} does (same seed)",
        lambda *cells, t=THRESHOLDS: _double_win(cells[of], t) == _double_win(cells[twin], t),
    )


def close_to_data(of: int = 0) -> Condition:
    """The fakes are nearer to the data than the data moved by `close` std."""
    return Condition(
        f"{{{of}}}: energy distance below that of the data moved {CLOSE_SHIFT} std",
        lambda *cells, t=THRESHOLDS: cells[of].energy_distance < cells[of].energy_reference[t.close],
    )


def far_from_data(of: int = 0) -> Condition:
    """The fakes are further from the data than the data moved by `close` std."""
    return Condition(
        f"{{{of}}}: energy distance above that of the data moved {CLOSE_SHIFT} std",
        lambda *cells, t=THRESHOLDS: cells[of].energy_distance >= cells[of].energy_reference[t.close],
    )


def closer_to_data(of: int = 0, than: int = 1) -> Condition:
    """The fakes are nearer to the data (energy distance) than in another variant, same seed."""
    return Condition(
        f"energy distance of {{{of}}} smaller than of {{{than}}} (same seed)",
        lambda *cells, t=THRESHOLDS: cells[of].energy_distance < cells[than].energy_distance,
        lambda *cells: cells[of].energy_distance - cells[than].energy_distance,
    )


def consistent(of: int = 0) -> Condition:
    """G's view of D agrees with D's own view at the end of training."""
    return Condition(f"{{{of}}}: consistency gap < {GAP}", lambda *cells, t=THRESHOLDS: cells[of].gap < t.gap)


GAP_UNITS = {"loss": ("late_gap", "consistency gap"), "logit": ("late_logit_gap", "consistency gap in logits")}


def larger_late_gap(of: int = 0, than: int = 1, unit: str = "loss") -> Condition:
    """G's and D's views disagree more over the last MOVING_WINDOW of training than in another variant, same seed.

    Averaged over the final window only, the gap is the lag of settled averages, not the memory of their
    start value that a whole-run average carries. `unit`: cross-entropy (`loss`) or mean logit (`logit`).
    """
    field, name = GAP_UNITS[unit]

    def larger(*cells, t=THRESHOLDS):
        a, b = np.asarray(getattr(cells[of], field), float), np.asarray(getattr(cells[than], field), float)
        # NaN where a cell predates the metric (logits are logged since the lag sweeps per start): not measured
        return np.where(np.isfinite(a) & np.isfinite(b), a > b, np.nan)

    return Condition(
        f"late {name} of {{{of}}} larger than of {{{than}}} (same seed)",
        larger,
        lambda *cells: getattr(cells[of], field) - getattr(cells[than], field),
    )


def running_means_between(of: int = 0) -> Condition:
    """In every BN layer of D, the running means sit between the fake-only and the real-only batch means.

    Per layer, the median over features of the running mean's position on the line from the fake
    batch's mean (0) to the real batch's (1), at the end of training; a seed without the log fails.
    """

    def test(*cells, t: Thresholds = THRESHOLDS) -> np.ndarray:
        position = np.asarray(cells[of].mean_position, dtype=float)  # (seeds, layers), NaN: no BN there
        layers = np.isfinite(position).any(axis=0)
        inside = (position[:, layers] >= 0) & (position[:, layers] <= 1)
        return inside.all(axis=1) & layers.any()

    return Condition(f"{{{of}}}: running means between the fake and the real batch means in every BN layer", test)


def window_start(logs: int) -> int:
    """The index of the log where the last MOVING_WINDOW of `logs` logs begins (two logs at least)."""
    return max(0, min(logs - 2, int(round(logs * (1 - MOVING_WINDOW))) - 1))


def window_ends(curve: np.ndarray) -> tuple[float, float]:
    """A curve's values at the start of its last MOVING_WINDOW of logs and at its last log."""
    curve = np.asarray(curve, dtype=float)
    return float(curve[window_start(curve.size)]), float(curve[-1])


def still_moving(curve: np.ndarray, floor: float = 0.0) -> bool:
    """Did a metric's curve (the median over seeds at each log) still move over its last MOVING_WINDOW of logs?

    Moving: it changed by more than MOVING_TOLERANCE of its value at the window's start, and by more
    than `floor`. A curve with no finite value is not moving (nothing to read).
    """
    first, last = window_ends(curve)
    if not (np.isfinite(first) and np.isfinite(last)):
        return False
    change = abs(last - first)
    return bool(change > MOVING_TOLERANCE * abs(first) and change > floor)
