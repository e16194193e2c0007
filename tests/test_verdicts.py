"""The verdict rules on synthetic per-seed numbers: thresholds, shares, presuppositions, data sets."""

import math

import numpy as np
import pytest

from jaxbngan import verdicts as v


def numbers(seeds=4, **values) -> v.SeedNumbers:
    """SeedNumbers of a calm, consistent run, with `values` replacing fields.

    `both_win` sets every reading of the double win; `energy_reference` a number sets it at every closeness.
    """
    calm = dict(
        g_loss=np.full(seeds, math.log(2)),
        d_loss=np.full(seeds, math.log(2)),
        x_offset=np.zeros(seeds),
        displacement=np.zeros(seeds),
        energy_distance=np.full(seeds, 0.01),
        energy_reference=0.2,
        both_win=np.zeros(seeds, dtype=bool),
        gap=np.zeros(seeds),
        late_gap=np.zeros(seeds),
        late_logit_gap=np.zeros(seeds),
        diverged=np.zeros(seeds, dtype=bool),
        mean_position=np.full((seeds, 2), 0.5),
    )
    calm.update({k: np.asarray(x) if isinstance(x, list) else x for k, x in values.items()})
    if not isinstance(calm["energy_reference"], dict):
        calm["energy_reference"] = {close: calm["energy_reference"] for close in v.CLOSE_SHIFTS}
    calm.setdefault(
        "double_win", {reading: np.asarray(calm["both_win"], dtype=bool) for reading in v.DOUBLE_WIN_READINGS}
    )
    return v.SeedNumbers(**calm)


Z2 = 1.959963984540054**2  # the squared 97.5% normal quantile, in the hand-computed bounds below


def tiled(pattern, times=250):
    """Per-seed flags repeating `pattern`: many seeds, so the intervals are narrow and the point rule shows."""
    return np.tile(np.array(pattern, dtype=bool), times)


@pytest.mark.parametrize(
    "main,side,verdict",
    [
        ([1] * 9 + [0], [1] * 10, v.REPRODUCED),  # 90% support
        ([1] * 6 + [0] * 4, [1] * 10, v.PARTLY),  # 60% support
        ([1] * 9 + [0], [1] * 3 + [0] * 7, v.PARTLY),  # 30% support, but the main effect alone reaches 90%
        ([1] * 5 + [0] * 5, [0, 1] * 5, v.NOT_REPRODUCED),  # 30% support, main effect 50%
        ([1] + [0] * 9, [1] * 10, v.NOT_REPRODUCED),
        ([1] * 10, [0] * 10, v.NOT_REPRODUCED),  # the main effect everywhere, the claim nowhere: never "partly"
    ],
)
def test_judge_applies_the_thresholds_far_from_them(main, side, verdict):
    judgement = v.judge(tiled(main), [tiled(side)])
    assert judgement.verdict == verdict and judgement.between == (verdict,) and judgement.decided_at is None
    assert judgement.seeds == 2500
    assert judgement.support == pytest.approx(np.mean(np.array(main) & np.array(side)))
    assert judgement.shares == (pytest.approx(np.mean(main)), pytest.approx(np.mean(side)))


def test_wilson_interval_matches_hand_computed_bounds():
    # 3 of 6: center 0.5, half-width z / (1 + z^2/6) * sqrt(0.25/6 + z^2/144) = 0.31238.
    assert v.wilson_interval(0.5, 6) == pytest.approx((0.18762, 0.81238), abs=1e-5)
    # All seeds: the lower bound is n / (n + z^2); none: the upper bound is z^2 / (n + z^2).
    assert v.wilson_interval(1.0, 6) == pytest.approx((6 / (6 + Z2), 1.0))
    assert v.wilson_interval(0.0, 32) == pytest.approx((0.0, Z2 / (32 + Z2)))


def test_one_seed_more_decides_a_unanimous_claim():
    # n / (n + z^2) >= 0.75 needs n >= 3 z^2 = 11.52: 11 unanimous seeds cannot rule out "partly", 12 can.
    eleven = v.judge(np.ones(11, dtype=bool))
    assert eleven.verdict == v.UNDECIDED and eleven.between == (v.REPRODUCED, v.PARTLY)
    assert eleven.decided_at == 12
    assert v.judge(np.ones(12, dtype=bool)).verdict == v.REPRODUCED
    # z^2 / (n + z^2) < 0.5 needs n > z^2 = 3.84: no support in 3 seeds may still be a majority, in 4 not.
    three = v.judge(np.zeros(3, dtype=bool))
    assert three.verdict == v.UNDECIDED and three.between == (v.PARTLY, v.NOT_REPRODUCED)
    assert three.decided_at == 4
    assert v.judge(np.zeros(4, dtype=bool)).verdict == v.NOT_REPRODUCED


def test_seeds_to_decide_is_the_first_count_that_decides():
    for support in (5 / 6, 4 / 6, 2 / 6, 26 / 32):
        n = v.seeds_to_decide(support, support, None, 6)
        assert n is not None and n > 6
        assert len(v.possible_verdicts(support, support, None, n)) == 1
        assert len(v.possible_verdicts(support, support, None, n - 1)) > 1


def test_a_share_on_a_threshold_stays_undecided():
    on_the_line = v.judge(tiled([1, 1, 1, 0], 1000))  # 75% of 4000 seeds
    assert on_the_line.verdict == v.UNDECIDED and on_the_line.between == (v.REPRODUCED, v.PARTLY)
    assert v.judge(np.array([1, 1, 1, 0, 0, 0], dtype=bool)).decided_at is None  # 50%: no count decides it


def test_judge_is_untestable_when_the_presupposition_is_rare_and_says_how_rare():
    everywhere = np.ones(40, dtype=bool)
    rare = v.judge(everywhere, presupposition=tiled([1, 0, 0, 0], 10))
    assert rare.verdict == v.UNTESTABLE and rare.presupposition == 0.25
    common = v.judge(everywhere, presupposition=tiled([1, 1, 1, 0], 10))
    assert common.verdict == v.REPRODUCED and common.presupposition == 0.75
    open_question = v.judge(everywhere, presupposition=tiled([1, 0], 20))
    assert open_question.verdict == v.UNDECIDED and open_question.between == (v.REPRODUCED, v.UNTESTABLE)
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
        ([v.REPRODUCED, v.UNDECIDED], v.UNDECIDED),  # the undecided one may still agree or not
        ([v.REPRODUCED, v.NOT_REPRODUCED, v.UNDECIDED], v.PARTLY),  # already mixed, whatever it becomes
    ],
)
def test_overall_verdict_over_data_sets(per_dataset, expected):
    assert v.overall(per_dataset) == expected


def test_overall_over_judgements_decides_when_every_open_outcome_agrees():
    unanimous_six = v.judge(np.ones(6, dtype=bool))  # reproduced or partly
    none_of_twelve = v.judge(np.zeros(12, dtype=bool))  # not reproduced
    assert v.overall_judged([unanimous_six, none_of_twelve]) == v.PARTLY  # mixed, whichever it becomes
    assert v.overall_judged([unanimous_six, v.judge(np.ones(12, dtype=bool))]) == v.UNDECIDED
    assert v.overall_judged([v.judge(np.ones(12, dtype=bool))] * 2) == v.REPRODUCED


def test_median_interval_uses_binomial_order_statistics():
    # 6 values: min..max covers the median with 1 - 2/64 = 96.9%, the next ranks in only 1 - 14/64.
    assert v.median_interval(np.array([5.0, 1.0, 3.0, 2.0, 6.0, 4.0])) == (3.5, 1.0, 6.0)
    # 32 values: P(B <= 9) = 0.0100, P(B <= 10) = 0.0251 for B ~ Binomial(32, 1/2): ranks 10 and 23.
    assert v.median_interval(np.arange(32.0)) == (15.5, 9.0, 22.0)
    median, low, high = v.median_interval(np.array([1.0, 2.0, np.nan, 3.0, 4.0, 5.0]))  # 5 finite: too few
    assert median == 3.0 and np.isnan(low) and np.isnan(high)


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
    slow = numbers(late_gap=[0.3, 0.1, 0.5], late_logit_gap=[1.0, 2.0, 0.0], displacement=[1.0, 0.0, 2.0])
    fast = numbers(late_gap=[0.2, 0.2, 0.2], late_logit_gap=[0.5, 0.5, 0.5], displacement=[0.5, 0.5, 0.5])
    np.testing.assert_array_equal(v.larger_late_gap(0, 1).test(slow, fast), [True, False, True])
    np.testing.assert_array_equal(v.larger_late_gap(1, 0).test(slow, fast), [False, True, False])
    np.testing.assert_array_equal(v.larger_late_gap(0, 1, unit="logit").test(slow, fast), [True, True, False])
    np.testing.assert_array_equal(v.more_displaced(0, 1).test(slow, fast), [True, False, True])
    np.testing.assert_array_equal(v.more_displaced(0, 1).difference(slow, fast), [0.5, -0.5, 1.5])
    np.testing.assert_array_equal(v.larger_late_gap(0, 1).difference(slow, fast), [0.3 - 0.2, 0.1 - 0.2, 0.5 - 0.2])
    near, far = numbers(3, energy_distance=[0.1, 0.5, 0.2]), numbers(3, energy_distance=[0.2, 0.2, 0.2])
    np.testing.assert_array_equal(v.closer_to_data(0, 1).test(near, far), [True, False, False])
    # `of` picks the cell: a condition on the second variant ignores the first.
    np.testing.assert_array_equal(v.consistent(1).test(numbers(3, gap=[1.0, 1.0, 1.0]), numbers(3)), [True] * 3)


def test_condition_texts_name_their_variants_by_position():
    assert v.larger_late_gap(0, 1).text.format("a", "b") == "late consistency gap of a larger than of b (same seed)"
    assert v.both_win(1).text.format("a", "b").startswith("b:")


def test_a_diverged_seed_is_left_out_of_every_share():
    # Four seeds, the last diverged: judged on three, all supporting.
    judgement = v.judge(np.array([1, 1, 1, 0], dtype=bool), diverged=np.array([0, 0, 0, 1], dtype=bool))
    assert (judgement.seeds, judgement.diverged, judgement.support) == (3, 1, 1.0)
    assert v.judge(np.array([1, 1, 1, 0], dtype=bool)).support == 0.75  # counted, the same seed pulls it down
    everything = v.judge(np.ones(2, dtype=bool), diverged=np.ones(2, dtype=bool))
    assert everything.verdict == v.UNTESTABLE and everything.seeds == 0 and everything.diverged == 2


def test_a_paired_shift_test_fails_where_the_absolute_band_passes():
    # The rewarded run ends within the band around the data's mean, but its twin without the reward
    # ended well left: the reward moved it right by 0.6 std.
    rewarded, twin = numbers(2, x_offset=[0.2, 0.2]), numbers(2, x_offset=[-0.4, 0.1])
    np.testing.assert_array_equal(v.stayed_put().test(rewarded, twin), [True, True])
    np.testing.assert_array_equal(v.held_by_d(0, 1).test(rewarded, twin), [False, True])
    np.testing.assert_array_equal(v.moved_by_reward(0, 1).test(rewarded, twin), [True, False])
    np.testing.assert_allclose(v.moved_by_reward(0, 1).difference(rewarded, twin), [0.6, 0.1])
    # Moving left of the twin is not the reward's doing: held, though outside the band.
    left = numbers(1, x_offset=[-0.9])
    assert v.held_by_d(0, 1).test(left, numbers(1))[0] and not v.stayed_put().test(left)[0]


def test_d_not_noticing_is_its_loss_against_the_twin_not_ln2():
    winning = numbers(2, d_loss=[0.04, 0.04])  # D wins on the data's shape ...
    twin = numbers(2, d_loss=[0.05, 0.5])  # ... as its twin does in the first seed, not in the second
    np.testing.assert_array_equal(v.d_loss_unchanged(0, 1).test(winning, twin), [True, False])
    np.testing.assert_array_equal(v.d_near_ln2().test(winning), [False, False])


def test_thresholds_are_read_from_the_given_setting():
    cell = numbers(d_loss=[0.693 + 0.15], x_offset=[0.3], gap=[0.15], seeds=1)
    assert not v.d_near_ln2().test(cell)[0] and v.d_near_ln2().test(cell, t=v.Thresholds(equilibrium=0.2))[0]
    assert v.shifted_right().test(cell)[0] and not v.shifted_right().test(cell, t=v.Thresholds(shift=0.5))[0]
    assert not v.consistent().test(cell)[0] and v.consistent().test(cell, t=v.Thresholds(gap=0.2))[0]
    far = numbers(1, energy_distance=[0.3], energy_reference={0.25: 0.1, 0.5: 0.2, 1.0: 0.4})
    assert not v.close_to_data().test(far)[0] and v.close_to_data().test(far, t=v.Thresholds(close=1.0))[0]


def test_the_double_win_has_readings_the_thresholds_choose():
    readings = {"half-end": np.array([True, False]), "ln2-end": np.array([False, False])}
    readings |= {"half-late": np.array([True, True]), "ln2-late": np.array([False, True])}
    cell = numbers(2, double_win=readings)
    np.testing.assert_array_equal(v.both_win().test(cell), [True, False])
    np.testing.assert_array_equal(v.both_win().test(cell, t=v.Thresholds(double_win="half-late")), [True, True])
    np.testing.assert_array_equal(v.no_both_win().test(cell, t=v.Thresholds(double_win="ln2-late")), [True, False])
    assert {value for name, value in v.NEIGHBOURS if name == "double_win"} == set(v.DOUBLE_WIN_READINGS[1:])


def test_running_means_between_needs_every_bn_layer_inside():
    position = np.array([[0.2, 0.9], [0.2, 1.3], [np.nan, np.nan], [-0.1, 0.5]])  # NaN: not logged
    cell = numbers(4, mean_position=np.column_stack([position, np.full(4, np.nan)]))  # a layer without BN
    np.testing.assert_array_equal(v.running_means_between().test(cell), [True, False, False, False])


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
    assert v.still_moving(curve, floor=0.005) is moving
