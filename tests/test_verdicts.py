"""The verdict rules on synthetic per-seed numbers: thresholds, shares, presuppositions, data sets."""

import math

import numpy as np
import pytest

from jaxbngan import verdicts as v


def numbers(seeds=4, **values) -> v.SeedNumbers:
    """SeedNumbers of a calm, consistent run, with `values` replacing fields."""
    calm = dict(
        g_loss=np.full(seeds, math.log(2)),
        d_loss=np.full(seeds, math.log(2)),
        x_offset=np.zeros(seeds),
        displacement=np.zeros(seeds),
        energy_distance=np.full(seeds, 0.01),
        energy_reference=0.2,
        both_win=np.zeros(seeds, dtype=bool),
        gap=np.zeros(seeds),
        mean_gap=np.zeros(seeds),
    )
    calm.update({k: np.asarray(x) if isinstance(x, list) else x for k, x in values.items()})
    return v.SeedNumbers(**calm)


@pytest.mark.parametrize(
    "main,side,verdict",
    [
        ([1, 1, 1, 0], [1, 1, 1, 1], v.REPRODUCED),  # 75% support: the boundary counts
        ([1, 1, 0, 0], [1, 1, 1, 1], v.PARTLY),  # 50% support
        ([1, 1, 1, 1], [0, 0, 0, 0], v.PARTLY),  # the main effect everywhere, the side nowhere
        ([1, 1, 1, 0], [0, 1, 0, 1], v.PARTLY),  # 25% support, but the main effect alone reaches 75%
        ([1, 1, 0, 0], [0, 1, 1, 0], v.NOT_REPRODUCED),  # 25% support, main effect 50%
        ([1, 0, 0, 0], [1, 1, 1, 1], v.NOT_REPRODUCED),
    ],
)
def test_judge_applies_the_thresholds(main, side, verdict):
    judgement = v.judge(np.array(main, dtype=bool), [np.array(side, dtype=bool)])
    assert judgement.verdict == verdict
    assert judgement.support == pytest.approx(np.mean(np.array(main) & np.array(side)))
    assert judgement.shares == (pytest.approx(np.mean(main)), pytest.approx(np.mean(side)))


def test_judge_is_untestable_when_the_presupposition_is_rare_and_says_how_rare():
    everywhere = np.ones(4, dtype=bool)
    rare = v.judge(everywhere, presupposition=np.array([1, 0, 0, 0], dtype=bool))
    assert rare.verdict == v.UNTESTABLE and rare.presupposition == 0.25
    common = v.judge(everywhere, presupposition=np.array([1, 1, 0, 0], dtype=bool))
    assert common.verdict == v.REPRODUCED and common.presupposition == 0.5
    assert v.judge(everywhere).presupposition is None


@pytest.mark.parametrize(
    "per_dataset,expected",
    [
        ([v.REPRODUCED] * 3, v.REPRODUCED),
        ([v.NOT_REPRODUCED] * 3, v.NOT_REPRODUCED),
        ([v.REPRODUCED, v.NOT_REPRODUCED], v.PARTLY),
        ([v.PARTLY, v.PARTLY], v.PARTLY),
        ([v.REPRODUCED, v.UNTESTABLE], v.REPRODUCED),  # untestable data sets abstain
        ([v.UNTESTABLE, v.UNTESTABLE], v.UNTESTABLE),
    ],
)
def test_overall_verdict_over_data_sets(per_dataset, expected):
    assert v.overall(per_dataset) == expected


def test_shift_conditions_use_the_threshold_in_std_units():
    cell = numbers(x_offset=[0.3, 0.2, -0.3, np.nan])
    np.testing.assert_array_equal(v.shifted_right().test(cell), [True, False, False, False])
    np.testing.assert_array_equal(v.stayed_put().test(cell), [False, True, False, False])  # NaN never supports


def test_equilibrium_condition_is_a_band_around_ln2():
    cell = numbers(d_loss=[0.69, 0.6, 0.79, 0.09])
    np.testing.assert_array_equal(v.d_near_ln2().test(cell), [True, True, True, False])


def test_both_win_conditions_and_diverged_runs():
    cell = numbers(both_win=[True, False, False], g_loss=[5.0, 0.7, np.nan], d_loss=[0.01, 0.7, np.nan])
    np.testing.assert_array_equal(v.both_win().test(cell), [True, False, False])
    np.testing.assert_array_equal(v.no_both_win().test(cell), [False, True, False])  # diverged: not a success


def test_closeness_is_measured_against_the_moved_data():
    cell = numbers(energy_distance=[0.1, 0.3], energy_reference=0.2)
    np.testing.assert_array_equal(v.close_to_data().test(cell), [True, False])
    np.testing.assert_array_equal(v.far_from_data().test(cell), [False, True])


def test_paired_conditions_compare_the_same_seed_of_two_cells():
    slow = numbers(mean_gap=[0.3, 0.1, 0.5], displacement=[1.0, 0.0, 2.0])
    fast = numbers(mean_gap=[0.2, 0.2, 0.2], displacement=[0.5, 0.5, 0.5])
    np.testing.assert_array_equal(v.larger_mean_gap(0, 1).test(slow, fast), [True, False, True])
    np.testing.assert_array_equal(v.larger_mean_gap(1, 0).test(slow, fast), [False, True, False])
    np.testing.assert_array_equal(v.more_displaced(0, 1).test(slow, fast), [True, False, True])
    near, far = numbers(3, energy_distance=[0.1, 0.5, 0.2]), numbers(3, energy_distance=[0.2, 0.2, 0.2])
    np.testing.assert_array_equal(v.closer_to_data(0, 1).test(near, far), [True, False, False])
    # `of` picks the cell: a condition on the second variant ignores the first.
    np.testing.assert_array_equal(v.consistent(1).test(numbers(3, gap=[1.0, 1.0, 1.0]), numbers(3)), [True] * 3)


def test_condition_texts_name_their_variants_by_position():
    assert v.larger_mean_gap(0, 1).text.format("a", "b") == "mean consistency gap of a larger than of b (same seed)"
    assert v.both_win(1).text.format("a", "b").startswith("b:")
