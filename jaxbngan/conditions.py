"""Conditions: the per-seed tests experiments declare their claims with, on the final numbers of a cell.

A condition reads the numbers of one or more cells of the same data set (the claim's variants, in
order), paired by seed: every variant trains from the same seed keys. `of` picks which variant a
condition reads (0: the first); its text names the variants as {0}, {1}, ..., and the report fills
in their names. Its test reads the thresholds `t` (`verdicts.Thresholds`), so the report can judge a
claim again at other values; `jaxbngan.verdicts` turns the per-seed flags into a verdict.

A shift is judged against the seed's twin (the same seed keys and data without the reward): the
signed difference of the offsets in the reward's direction, never an absolute band, since a run
that fits the data poorly is off-centre with or without a reward. Image cells share the conditions
on the fields they have in common; `jaxbngan.image_conditions` adds theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from jaxbngan.verdicts import CLOSE_SHIFT, EQUILIBRIUM_TOLERANCE, GAP, LN2, SHIFT, THRESHOLDS, Thresholds


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
    late_gap: np.ndarray  # consistency gap averaged over the last settling.MOVING_WINDOW of the logs
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


def moved_by_reward(
    of: int = 0, twin: int = 1, measure: str = "x-offset", offset: Callable = _reward_offset
) -> Condition:
    """The reward moved G: its offset exceeds the twin's (same seed, no reward) by more than a shift.

    `offset(cell)` reads a cell's offset along the reward's direction, named `measure` in the text.
    """
    return Condition(
        f"{measure} of {{{of}}} - {measure} of {{{twin}}} > +{SHIFT} std (same seed)",
        lambda *cells, t=THRESHOLDS: offset(cells[of]) - offset(cells[twin]) > t.shift,
        lambda *cells: offset(cells[of]) - offset(cells[twin]),
    )


def held_by_d(of: int = 0, twin: int = 1, measure: str = "x-offset", offset: Callable = _reward_offset) -> Condition:
    """The reward did not move G: its offset is not a shift beyond the twin's (same seed, no reward)."""
    return Condition(
        f"{measure} of {{{of}}} - {measure} of {{{twin}}} < +{SHIFT} std (same seed)",
        lambda *cells, t=THRESHOLDS: offset(cells[of]) - offset(cells[twin]) < t.shift,
        lambda *cells: offset(cells[of]) - offset(cells[twin]),
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
    """G's and D's views disagree more over the last settling.MOVING_WINDOW of training than another variant, same seed.

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
