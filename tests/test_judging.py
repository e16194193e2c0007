"""What the reports add beside each verdict, on hand-made cells: fragile thresholds, still-moving cells,
checks kept out of the counts, claims left unjudged for want of cells."""

import math

import numpy as np
import pytest
from test_conditions import numbers

from jaxbngan.conditions import d_near_ln2, moved_by_reward
from jaxbngan.reproduce.judging import judge_experiments, sensitivity_lines, unjudged_lines
from jaxbngan.reproduce.numbers import Settling, verify_identity
from jaxbngan.reproduce.report import summary_lines
from jaxbngan.reproduce.spec import Check, Claim, Controls, Experiment, preset

CALM = Settling("energy_distance", False, False, 0.0, 0.0)


def experiment(*claims: Claim, checks=()) -> Experiment:
    variants = (preset("bn-split-shift"), preset("bn-split"))
    return Experiment("shift", "section", "summary", variants, claims, (), checks=checks)


def judged(exp: Experiment, cells: dict, settled=None):
    settled = settled or dict.fromkeys(cells, CALM)
    return judge_experiments([exp], lambda e: ["ring8"], cells, settled)


def test_a_verdict_that_changes_at_a_neighbouring_threshold_is_fragile():
    near = Claim("D near ln 2", "blog", ("bn-split-shift",), d_near_ln2())
    cells = {"bn-split-shift@ring8": numbers(12, d_loss=np.full(12, math.log(2) + 0.15))}
    [(_, [j])], _ = judged(experiment(near), cells | {"bn-split@ring8": numbers(12)})
    assert j.by_dataset["ring8"].verdict == "not reproduced"
    assert j.fragile["ring8"] == ["equilibrium 0.2 (not 0.1): reproduced"] and j.fragile["overall"]
    steady = {
        "bn-split-shift@ring8": numbers(12, d_loss=np.full(12, math.log(2) + 0.01)),
        "bn-split@ring8": numbers(12),
    }
    [(_, [k])], _ = judged(experiment(near), steady)
    assert k.by_dataset["ring8"].verdict == "reproduced" and not any(k.fragile.values())
    table = sensitivity_lines([(experiment(near), [j, k])])
    assert sum(line.startswith("| 1.1 |") for line in table) == 2  # ring8 and overall, for the fragile one only


def test_a_verdict_on_a_still_moving_cell_is_flagged():
    claim = Claim("moved", "blog", ("bn-split-shift", "bn-split"), moved_by_reward(0, 1))
    cells = {"bn-split-shift@ring8": numbers(12, x_offset=np.ones(12)), "bn-split@ring8": numbers(12)}
    moving = Settling("energy_distance", True, False, -0.3, 0.0)
    [(_, [j])], _ = judged(experiment(claim), cells, {"bn-split-shift@ring8": moving, "bn-split@ring8": CALM})
    assert j.moving["ring8"] == ["`bn-split-shift@ring8`"] and j.verdict == "reproduced"


def test_a_claim_without_its_cells_is_left_unjudged_and_keeps_its_number():
    first = Claim("D near ln 2", "blog", ("bn-split",), d_near_ln2())
    second = Claim("moved", "blog", ("bn-split-shift", "bn-split"), moved_by_reward(0, 1))
    [(_, [j])], [missing] = judged(experiment(second, first), {"bn-split@ring8": numbers(12)})
    assert (j.number, j.id) == ("1.2", "shift.2")
    assert (missing.number, missing.missing) == ("1.1", ["bn-split-shift@ring8"])
    assert "bn-split-shift@ring8" in "\n".join(unjudged_lines([missing]))


def test_a_claim_missing_a_cell_on_one_data_set_is_judged_on_the_others(tmp_path):
    claim = Claim("moved", "blog", ("bn-split-shift", "bn-split"), moved_by_reward(0, 1))
    cells = {"bn-split-shift@ring8": numbers(12, x_offset=np.ones(12)), "bn-split@ring8": numbers(12)}
    cells |= {"bn-split@moons": numbers(12)}  # its twin on moons is not trained
    settled = dict.fromkeys(cells, CALM)
    [(_, [j])], unjudged = judge_experiments([experiment(claim)], lambda e: ["ring8", "moons"], cells, settled)
    assert unjudged == [] and list(j.by_dataset) == ["ring8"] and j.verdict == "reproduced"
    assert j.missing == ["bn-split-shift@moons"]
    table = summary_lines([(experiment(claim), [j])], ["ring8", "moons"], tmp_path / "verdicts.png")
    row = next(line for line in table if line.startswith("| 1.1 "))
    assert "| not trained yet |" in row and "(on ring8 only)" in row
    assert "Judged on ring8 only; missing: bn-split-shift@moons." in "\n".join(unjudged_lines([], [(None, [j])]))


def test_a_check_is_verified_on_every_log_and_is_not_a_claim():
    check = Check("no double win", "one computation", ("bn-split",))
    [(_, judged_claims)], _ = judged(experiment(checks=(check,)), {"bn-split@ring8": numbers(12)})
    assert judged_claims == []  # nothing to count: the check is no claim

    class History:  # the three logged fields the verification reads: 2 seeds x 3 logs
        g_loss = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)
        d_fake_loss = np.array([[1.0, 2.0, 3.0], [1.0, 2.5, 3.0]], np.float32)
        both_win = np.array([[False, False, False], [False, True, False]])

    result = verify_identity(History)
    assert (result.logs, result.equal, result.largest, result.bounded) == (6, 5, 0.25, 5)
    History.d_fake_loss = np.full((2, 3), np.nan, np.float32)  # a cell trained before the loss was logged
    assert verify_identity(History).equal is None


def controlled(positive: float, negative: float) -> dict:
    """The cells of a claim (moved 1 std by the reward) and of its controls, moved as far as given, same seeds."""
    moved = lambda by: numbers(12, x_offset=np.full(12, by))  # noqa: E731
    still = numbers(12)
    cells = {"bn-split-shift": moved(1.0), "bn-split": still, "blind-w": moved(positive), "blind-0": still}
    cells |= {"seeing-w": moved(negative), "seeing-0": still}
    return {f"{name}@ring8": cell for name, cell in cells.items()}


CONTROLS = Controls(0.05, ("blind-w", "blind-0"), ("seeing-w", "seeing-0"), moved_by_reward(0, 1))


@pytest.mark.parametrize(
    "positive, negative, verdict, why",
    [
        (1.0, 0.0, "reproduced", ""),  # both controls behave: judged
        (0.0, 0.0, "not judged", "not judged: controls failed at weight 0.05 (positive control did not move)"),
        (1.0, 1.0, "not judged", "not judged: controls failed at weight 0.05 (negative control moved)"),
    ],
)
def test_a_claim_is_judged_only_where_both_controls_behave(positive, negative, verdict, why, tmp_path):
    claim = Claim("moved", "blog", ("bn-split-shift", "bn-split"), moved_by_reward(0, 1), controls=CONTROLS)
    [(_, [j])], _ = judged(experiment(claim), controlled(positive, negative))
    assert (j.verdict, j.by_dataset["ring8"].verdict, j.by_dataset["ring8"].controls) == (verdict, verdict, why)
    table = summary_lines([(experiment(claim), [j])], ["ring8"], tmp_path / "verdicts.png")
    row = next(line for line in table if line.startswith("| 1.1 "))
    assert (why or "reproduced (12/12") in row  # the summary says why a claim was not judged


def test_a_claim_without_its_controls_cells_is_left_unjudged():
    claim = Claim("moved", "blog", ("bn-split-shift", "bn-split"), moved_by_reward(0, 1), controls=CONTROLS)
    cells = {key: cell for key, cell in controlled(1.0, 0.0).items() if not key.startswith("seeing-0")}
    [(_, [])], [missing] = judged(experiment(claim), cells)
    assert missing.missing == ["seeing-0@ring8"]
