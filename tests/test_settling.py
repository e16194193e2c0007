"""Whether a curve still moves over its last logs, on made-up curves."""

import numpy as np
import pytest

from jaxbngan import settling


@pytest.mark.parametrize(
    "curve,moving",
    [
        (np.linspace(1.0, 0.5, 10), True),  # still falling: over the last 20% of logs it loses 0.11, 18% of 0.61
        (np.r_[np.linspace(1.0, 0.5, 7), [0.5, 0.5, 0.5]], False),  # flat over its window
        (np.r_[np.ones(8), [1.05, 1.08]], False),  # within 10%
        (np.r_[np.full(8, 0.001), [0.002, 0.003]], False),  # 200% of almost nothing: under the floor
        (np.full(10, np.nan), False),  # nothing logged: nothing to read
    ],
)
def test_still_moving_reads_the_last_fifth_of_the_logs(curve, moving):
    assert settling.still_moving(curve, floor=0.005) is moving
