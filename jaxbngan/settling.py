"""Settling: whether a curve still moved over the last MOVING_WINDOW of its logs (`still_moving`).

The report flags the verdicts on cells whose main curves still move (`reproduce.numbers.settling`);
the convergence runs find the step from which a curve settles (`reproduce.convergence`); the late
consistency gap the conditions compare is averaged over the same window (`reproduce.numbers.late_mean`).
"""

from __future__ import annotations

import numpy as np

MOVING_WINDOW = 0.2  # the last share of the logs a curve is read over
MOVING_TOLERANCE = 0.1  # a move: a change beyond this share of the curve's value at the window's start


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
