"""The conditions claims are declared with, on synthetic per-seed numbers: bands, pairs, thresholds."""

import math

import numpy as np

from jaxbngan import conditions as c
from jaxbngan import verdicts as v


def numbers(seeds=4, **values) -> c.SeedNumbers:
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
    return c.SeedNumbers(**calm)


def test_shift_conditions_use_the_threshold_in_std_units():
    cell = numbers(x_offset=[0.3, 0.2, -0.3, np.nan])
    np.testing.assert_array_equal(c.shifted_right().test(cell), [True, False, False, False])
    np.testing.assert_array_equal(c.stayed_put().test(cell), [False, True, False, False])  # NaN never supports


def test_equilibrium_condition_is_a_band_around_ln2():
    cell = numbers(d_loss=[0.69, 0.6, 0.79, 0.09])
    np.testing.assert_array_equal(c.d_near_ln2().test(cell), [True, True, True, False])


def test_both_win_conditions_and_diverged_runs():
    cell = numbers(both_win=[True, False, False], g_loss=[5.0, 0.7, np.nan], d_loss=[0.01, 0.7, np.nan])
    np.testing.assert_array_equal(c.both_win().test(cell), [True, False, False])
    np.testing.assert_array_equal(c.no_both_win().test(cell), [False, True, False])  # diverged: not a success


def test_closeness_is_measured_against_the_moved_data():
    cell = numbers(energy_distance=[0.1, 0.3], energy_reference=0.2)
    np.testing.assert_array_equal(c.close_to_data().test(cell), [True, False])
    np.testing.assert_array_equal(c.far_from_data().test(cell), [False, True])


def test_paired_conditions_compare_the_same_seed_of_two_cells():
    slow = numbers(late_gap=[0.3, 0.1, 0.5], late_logit_gap=[1.0, 2.0, 0.0], displacement=[1.0, 0.0, 2.0])
    fast = numbers(late_gap=[0.2, 0.2, 0.2], late_logit_gap=[0.5, 0.5, 0.5], displacement=[0.5, 0.5, 0.5])
    np.testing.assert_array_equal(c.larger_late_gap(0, 1).test(slow, fast), [True, False, True])
    np.testing.assert_array_equal(c.larger_late_gap(1, 0).test(slow, fast), [False, True, False])
    np.testing.assert_array_equal(c.larger_late_gap(0, 1, unit="logit").test(slow, fast), [True, True, False])
    np.testing.assert_array_equal(c.more_displaced(0, 1).test(slow, fast), [True, False, True])
    np.testing.assert_array_equal(c.more_displaced(0, 1).difference(slow, fast), [0.5, -0.5, 1.5])
    np.testing.assert_array_equal(c.larger_late_gap(0, 1).difference(slow, fast), [0.3 - 0.2, 0.1 - 0.2, 0.5 - 0.2])
    near, far = numbers(3, energy_distance=[0.1, 0.5, 0.2]), numbers(3, energy_distance=[0.2, 0.2, 0.2])
    np.testing.assert_array_equal(c.closer_to_data(0, 1).test(near, far), [True, False, False])
    # `of` picks the cell: a condition on the second variant ignores the first.
    np.testing.assert_array_equal(c.consistent(1).test(numbers(3, gap=[1.0, 1.0, 1.0]), numbers(3)), [True] * 3)


def test_condition_texts_name_their_variants_by_position():
    assert c.larger_late_gap(0, 1).text.format("a", "b") == "late consistency gap of a larger than of b (same seed)"
    assert c.both_win(1).text.format("a", "b").startswith("b:")


def test_a_paired_shift_test_fails_where_the_absolute_band_passes():
    # The rewarded run ends within the band around the data's mean, but its twin without the reward
    # ended well left: the reward moved it right by 0.6 std.
    rewarded, twin = numbers(2, x_offset=[0.2, 0.2]), numbers(2, x_offset=[-0.4, 0.1])
    np.testing.assert_array_equal(c.stayed_put().test(rewarded, twin), [True, True])
    np.testing.assert_array_equal(c.held_by_d(0, 1).test(rewarded, twin), [False, True])
    np.testing.assert_array_equal(c.moved_by_reward(0, 1).test(rewarded, twin), [True, False])
    np.testing.assert_allclose(c.moved_by_reward(0, 1).difference(rewarded, twin), [0.6, 0.1])
    # Moving left of the twin is not the reward's doing: held, though outside the band.
    left = numbers(1, x_offset=[-0.9])
    assert c.held_by_d(0, 1).test(left, numbers(1))[0] and not c.stayed_put().test(left)[0]


def test_d_not_noticing_is_its_loss_against_the_twin_not_ln2():
    winning = numbers(2, d_loss=[0.04, 0.04])  # D wins on the data's shape ...
    twin = numbers(2, d_loss=[0.05, 0.5])  # ... as its twin does in the first seed, not in the second
    np.testing.assert_array_equal(c.d_loss_unchanged(0, 1).test(winning, twin), [True, False])
    np.testing.assert_array_equal(c.d_near_ln2().test(winning), [False, False])


def test_thresholds_are_read_from_the_given_setting():
    cell = numbers(d_loss=[0.693 + 0.15], x_offset=[0.3], gap=[0.15], seeds=1)
    assert not c.d_near_ln2().test(cell)[0] and c.d_near_ln2().test(cell, t=v.Thresholds(equilibrium=0.2))[0]
    assert c.shifted_right().test(cell)[0] and not c.shifted_right().test(cell, t=v.Thresholds(shift=0.5))[0]
    assert not c.consistent().test(cell)[0] and c.consistent().test(cell, t=v.Thresholds(gap=0.2))[0]
    far = numbers(1, energy_distance=[0.3], energy_reference={0.25: 0.1, 0.5: 0.2, 1.0: 0.4})
    assert not c.close_to_data().test(far)[0] and c.close_to_data().test(far, t=v.Thresholds(close=1.0))[0]


def test_the_double_win_has_readings_the_thresholds_choose():
    readings = {"half-end": np.array([True, False]), "ln2-end": np.array([False, False])}
    readings |= {"half-late": np.array([True, True]), "ln2-late": np.array([False, True])}
    cell = numbers(2, double_win=readings)
    np.testing.assert_array_equal(c.both_win().test(cell), [True, False])
    np.testing.assert_array_equal(c.both_win().test(cell, t=v.Thresholds(double_win="half-late")), [True, True])
    np.testing.assert_array_equal(c.no_both_win().test(cell, t=v.Thresholds(double_win="ln2-late")), [True, False])
    assert {value for name, value in v.NEIGHBOURS if name == "double_win"} == set(v.DOUBLE_WIN_READINGS[1:])


def test_running_means_between_needs_every_bn_layer_inside():
    position = np.array([[0.2, 0.9], [0.2, 1.3], [np.nan, np.nan], [-0.1, 0.5]])  # NaN: not logged
    cell = numbers(4, mean_position=np.column_stack([position, np.full(4, np.nan)]))  # a layer without BN
    np.testing.assert_array_equal(c.running_means_between().test(cell), [True, False, False, False])
