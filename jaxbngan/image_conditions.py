"""Per-seed numbers of an image cell and the conditions the image claims add to `jaxbngan.conditions`.

The verdict rule is the 2-D one (`verdicts.judge`); so are the conditions on losses, the double
win and the consistency gap (`jaxbngan.conditions`), which read fields of the same names. What
images add: the offset along the reward's direction (`LossConfig.shift_direction`): the brightness
offset (the mean pixel of the fakes minus that of the data, in standard deviations of the data's
pixels), plus for "brightness_contrast" the contrast offset (the std of the fakes' pixels minus the
data's, same unit), compared with the twin of the same seed without the reward, since G's fakes need
not match the data's brightness even where D sees everything; and the sample-quality scores of the
in-house classifier (`jaxbngan.image_metrics`), compared seed by seed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxbngan.conditions import Condition, held_by_d, moved_by_reward
from jaxbngan.verdicts import THRESHOLDS, Thresholds


class ImageNumbers(NamedTuple):
    """Final numbers of one image cell (variant x data set), one entry per seed."""

    g_loss: np.ndarray  # D's BCE on the fakes in G's view
    d_loss: np.ndarray  # 0.5 * (BCE_real + BCE_fake) in D's own step
    both_win: np.ndarray  # bool: D loss < G loss / 2
    gap: np.ndarray  # consistency gap at the end of training
    late_gap: np.ndarray  # consistency gap averaged over the last settling.MOVING_WINDOW of the logs
    late_logit_gap: np.ndarray  # the same in logits: |D's mean logit on the fakes in G's view - in its own|
    brightness: np.ndarray  # mean fake pixel - mean real pixel, in std of the real pixels
    contrast: np.ndarray  # std of the fake pixels - std of the real pixels (per channel, averaged), same unit
    frechet: np.ndarray  # Frechet distance in the classifier's features
    kid: np.ndarray  # KID in the classifier's features
    coverage: np.ndarray  # share of classes with at least a quarter of their fair share of fakes
    class_kl: np.ndarray  # KL of the fakes' predicted classes from the data's labels
    double_win: dict  # {reading of verdicts.DOUBLE_WIN_READINGS: (seeds,) bool}
    diverged: np.ndarray  # bool: the seed left the sane range (`finals.divergence_steps`)
    mean_position: np.ndarray  # (seeds, D layers): median position of the running means, fake 0 .. real 1


# Per reward direction (`LossConfig.shift_direction`): its name in conditions, and a cell's offset along it.
REWARD_OFFSETS = {
    "mean": ("brightness", lambda cell: cell.brightness),
    "brightness_contrast": ("brightness + contrast", lambda cell: cell.brightness + cell.contrast),
}


def brightened(of: int = 0, twin: int = 1, direction: str = "mean") -> Condition:
    """The reward moved G's fakes along its direction (brighter; or brighter plus more contrasted) by more
    than a shift beyond the twin's (same seed without the reward)."""
    measure, offset = REWARD_OFFSETS[direction]
    return moved_by_reward(of, twin, measure, offset)


def kept_brightness(of: int = 0, twin: int = 1, direction: str = "mean") -> Condition:
    """The reward did not move G's fakes along its direction by a shift beyond the twin's (same seed)."""
    measure, offset = REWARD_OFFSETS[direction]
    return held_by_d(of, twin, measure, offset)


def lower_frechet(of: int = 0, than: int = 1) -> Condition:
    """The fakes end nearer the data in the classifier's features (Frechet distance) than another variant's."""

    def test(*cells: ImageNumbers, t: Thresholds = THRESHOLDS) -> np.ndarray:
        return cells[of].frechet < cells[than].frechet  # NaN (a diverged seed) compares False: no support

    return Condition(
        f"Frechet distance of {{{of}}} below that of {{{than}}} (same seed)",
        test,
        lambda *cells: cells[of].frechet - cells[than].frechet,
    )
