"""The verdict rules on synthetic per-seed flags: thresholds, shares, presuppositions, data sets, controls."""

import numpy as np
import pytest

from jaxbngan import verdicts as v

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
        ([v.REPRODUCED, v.NOT_JUDGED], v.REPRODUCED),  # controls failed there: it abstains too
        ([v.UNTESTABLE, v.NOT_JUDGED], v.NOT_JUDGED),
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


def test_a_diverged_seed_is_left_out_of_every_share():
    # Four seeds, the last diverged: judged on three, all supporting.
    judgement = v.judge(np.array([1, 1, 1, 0], dtype=bool), diverged=np.array([0, 0, 0, 1], dtype=bool))
    assert (judgement.seeds, judgement.diverged, judgement.support) == (3, 1, 1.0)
    assert v.judge(np.array([1, 1, 1, 0], dtype=bool)).support == 0.75  # counted, the same seed pulls it down
    everything = v.judge(np.ones(2, dtype=bool), diverged=np.ones(2, dtype=bool))
    assert everything.verdict == v.UNTESTABLE and everything.seeds == 0 and everything.diverged == 2


MOVED, HELD = np.ones(12, dtype=bool), np.zeros(12, dtype=bool)


@pytest.mark.parametrize(
    "positive, negative, failures",
    [
        ((MOVED, np.full(12, 1.0)), (HELD, np.zeros(12)), ()),  # both behave: the claim is judged
        ((HELD, np.zeros(12)), (HELD, np.zeros(12)), ("positive control did not move",)),
        ((MOVED, np.full(12, 1.0)), (MOVED, np.full(12, 0.9)), ("negative control moved",)),
        ((HELD, np.zeros(12)), (MOVED, np.full(12, 0.9)), ("positive control did not move", "negative control moved")),
        ((MOVED, np.full(12, 1.0)), (MOVED, np.full(12, 0.5)), ()),  # moved, but half as far as the blind D
        ((MOVED, np.full(12, 1.0)), (MOVED, np.full(12, 0.51)), ("negative control moved",)),
        ((np.arange(12) < 7, np.ones(12)), (HELD, np.zeros(12)), ("positive control's move undecided at 12 seeds",)),
        (
            (np.arange(12) < 7, np.ones(12)),
            (np.arange(12) < 5, np.ones(12)),
            ("positive control's move undecided at 12 seeds", "negative control's hold undecided at 12 seeds"),
        ),
        ((MOVED[:0], np.zeros(0)), (HELD, np.zeros(12)), ("positive control: every seed diverged",)),
    ],
)
def test_the_controls_rule_on_made_up_numbers(positive, negative, failures):
    assert v.control_failures(*positive, *negative) == failures


def test_a_claim_whose_controls_failed_is_not_judged_and_says_why():
    judgement = v.judge(np.ones(12, dtype=bool))
    set_aside = v.not_judged(judgement, 0.05, ("positive control did not move", "negative control moved"))
    assert set_aside.verdict == v.NOT_JUDGED and set_aside.between == (v.NOT_JUDGED,)
    assert set_aside.controls == (
        "not judged: controls failed at weight 0.05 (positive control did not move; negative control moved)"
    )
    assert set_aside.support == judgement.support  # what the seeds said stays on record
