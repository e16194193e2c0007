"""Verdict rules: pure functions from per-seed numbers to "reproduced", "partly" or "not reproduced".

A claim is tested seed by seed. Its main condition is the effect the claim is about; its side
conditions are what the blog says comes with it. A seed supports the claim when every condition
holds. With `ROBUST` = 75% and `MAJORITY` = 50%:

* reproduced      - at least 75% of seeds support the claim;
* partly          - at least 50% do, or the main effect alone holds in at least 75%;
* not reproduced  - otherwise;
* untestable      - the claim presupposes something (e.g. a failure to be cured) that holds in
                    fewer than 50% of seeds, so the seeds cannot speak for or against it.

Conditions read the numbers of one or more cells of the same data set (the claim's variants, in
order), paired by seed: every variant trains from the same seed keys. A condition's text names
the variants as {0}, {1}, ...; the report fills in their names.
"""

from __future__ import annotations

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

REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE = "reproduced", "partly", "not reproduced", "untestable"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, UNTESTABLE)


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
    """A per-seed test and the sentence that explains it."""

    text: str
    test: Callable[..., np.ndarray]  # (*SeedNumbers of the claim's variants) -> (seeds,) bool


class Judgement(NamedTuple):
    """The verdict on one claim for one data set."""

    verdict: str
    support: float  # share of seeds where every condition holds
    shares: tuple[float, ...]  # share of seeds for each condition: main, then sides
    presupposition: float | None  # share of seeds where the presupposition holds (None: none)


def _share(flags: np.ndarray) -> float:
    return float(np.mean(np.asarray(flags, dtype=bool)))


def judge(main: np.ndarray, sides: Sequence[np.ndarray] = (), presupposition: np.ndarray | None = None) -> Judgement:
    """Apply the verdict rule to per-seed flags (NaN-derived flags are False: such a seed does not support)."""
    flags = [np.asarray(main, dtype=bool), *(np.asarray(s, dtype=bool) for s in sides)]
    support = _share(np.logical_and.reduce(flags))
    shares = tuple(_share(f) for f in flags)
    presupposed = None if presupposition is None else _share(presupposition)
    if presupposed is not None and presupposed < MAJORITY:
        verdict = UNTESTABLE
    elif support >= ROBUST:
        verdict = REPRODUCED
    elif support >= MAJORITY or shares[0] >= ROBUST:
        verdict = PARTLY
    else:
        verdict = NOT_REPRODUCED
    return Judgement(verdict, support, shares, presupposed)


def overall(verdicts: Sequence[str]) -> str:
    """One verdict over data sets: unanimous verdicts stand, mixed ones are 'partly'; untestable ones abstain."""
    tested = [v for v in verdicts if v != UNTESTABLE]
    if not tested:
        return UNTESTABLE
    if len(set(tested)) == 1:
        return tested[0]
    return PARTLY


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
    )


def both_win(of: int = 0) -> Condition:
    """G and D both beat the equilibrium: D loss < G loss / 2."""
    return Condition(f"{{{of}}}: both players win (D loss < G loss / 2)", lambda *cells: cells[of].both_win)


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
    )


def consistent(of: int = 0) -> Condition:
    """G's view of D agrees with D's own view at the end of training."""
    return Condition(f"{{{of}}}: consistency gap < {GAP}", lambda *cells: cells[of].gap < GAP)


def larger_mean_gap(of: int = 0, than: int = 1) -> Condition:
    """G's and D's views disagree more over training than in another variant, same seed."""
    return Condition(
        f"mean consistency gap of {{{of}}} larger than of {{{than}}} (same seed)",
        lambda *cells: cells[of].mean_gap > cells[than].mean_gap,
    )
