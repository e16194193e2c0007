"""Seeds where they decide (--adaptive-seeds): the planner on made-up claims, cells grown by blocks, the flag."""

import numpy as np
import pytest
from helpers import tiny
from test_conditions import numbers
from test_judging import experiment, judged

from jaxbngan.conditions import d_near_ln2
from jaxbngan.config import ConfigError, to_dict
from jaxbngan.metrics import Metrics
from jaxbngan.reproduce.adaptive import SeedRule, growing, parse_seed_rule, plan_seeds, seed_lines
from jaxbngan.reproduce.cells import Cell, CellResult, check_same_device, extended, load_cell, save_cell
from jaxbngan.reproduce.command import grow_cells
from jaxbngan.reproduce.judging import Judged
from jaxbngan.reproduce.provenance import device_text
from jaxbngan.reproduce.spec import Claim
from jaxbngan.verdicts import UNDECIDED, judge

RULE = SeedRule(block=8, cap=28)
OPEN = judge(np.arange(12) < 8)  # 8 of 12 seeds: "partly" and "reproduced" both within the interval
CLOSED = judge(np.ones(12, bool))


def claim(claim_id: str, *variants: str, **by_dataset) -> Judged:
    """A judged claim on `variants` with these judgements per data set; only what the planner reads."""
    made_up = Claim("statement", "blog", variants, d_near_ln2())
    return Judged("1.1", claim_id, made_up, by_dataset, UNDECIDED, {}, {}, {}, {}, {}, [])


def test_the_made_up_verdicts_are_what_the_tests_say():
    assert OPEN.verdict == UNDECIDED and OPEN.decided_at > 12 and CLOSED.verdict == "reproduced"


def test_only_the_cells_of_an_undecided_claim_grow_by_a_block():
    plan = plan_seeds(
        [claim("a.1", "x", "y", ring8=OPEN, grid=CLOSED), claim("a.2", "z", ring8=CLOSED)],
        {"x@ring8": 12, "y@ring8": 12, "z@ring8": 12, "x@grid": 12, "y@grid": 12},
        RULE,
    )
    assert {key: growth.target for key, growth in growing(plan).items()} == {"x@ring8": 20, "y@ring8": 20}
    [why] = plan["x@ring8"].why
    assert why.startswith("a.1 on ring8: reproduced or partly") and f"about {OPEN.decided_at} would decide" in why


def test_the_cap_stops_a_cell_and_a_block_never_passes_it():
    judged = [claim("a.1", "x", ring8=OPEN)]
    assert plan_seeds(judged, {"x@ring8": 24}, RULE)["x@ring8"].target == 28  # half a block, up to the cap
    at_cap = plan_seeds(judged, {"x@ring8": 28}, RULE)
    assert at_cap["x@ring8"].target == 28 and not growing(at_cap)  # still undecided: listed, not grown


def test_twins_grow_together_the_one_behind_first():
    plan = plan_seeds([claim("a.1", "x", "y", ring8=OPEN)], {"x@ring8": 20, "y@ring8": 12}, RULE)
    assert plan["x@ring8"].target == plan["y@ring8"].target == 20  # the claim is judged on its 12 common seeds
    assert list(growing(plan)) == ["y@ring8"]
    plan = plan_seeds([claim("a.1", "x", "y", ring8=OPEN)], {"x@ring8": 20, "y@ring8": 20}, RULE)
    assert {growth.target for growth in growing(plan).values()} == {28} and len(growing(plan)) == 2


def test_a_cell_shared_by_a_decided_and_an_undecided_claim_grows_and_the_decided_twin_does_not():
    judged = [claim("a.1", "shared", "decided-twin", ring8=CLOSED), claim("a.2", "shared", "open-twin", ring8=OPEN)]
    seeds = {"shared@ring8": 12, "decided-twin@ring8": 12, "open-twin@ring8": 12}
    assert set(growing(plan_seeds(judged, seeds, RULE))) == {"shared@ring8", "open-twin@ring8"}


def test_a_cell_asked_by_two_claims_takes_the_larger_ask_and_both_reasons():
    judged = [claim("a.1", "x", "y", ring8=OPEN), claim("a.2", "x", "z", ring8=OPEN)]
    plan = plan_seeds(judged, {"x@ring8": 20, "y@ring8": 20, "z@ring8": 12}, RULE)
    assert plan["x@ring8"].target == 28 and plan["z@ring8"].target == 20 and len(plan["x@ring8"].why) == 2


def test_a_claim_is_judged_on_the_seeds_all_its_cells_have():
    near = Claim("D near ln 2", "blog", ("bn-split-shift", "bn-split"), d_near_ln2())
    d_loss = np.r_[np.full(12, np.log(2)), np.full(8, 5.0)]  # the grown cell's 8 later seeds would not support
    cells = {"bn-split-shift@ring8": numbers(20, d_loss=d_loss), "bn-split@ring8": numbers(12)}
    [(_, [j])], _ = judged(experiment(near), cells)
    assert j.by_dataset["ring8"].seeds == 12 and j.by_dataset["ring8"].verdict == "reproduced"


@pytest.mark.parametrize(
    "text, message",
    [
        ("8", "takes BLOCK:CAP"),
        ("a:32", "takes BLOCK:CAP"),
        ("-1:32", "takes BLOCK:CAP"),
        ("0:32", "the block must be at least 1"),
        ("8:12", "the cap 12 must exceed the profile's 12 seeds"),
    ],
)
def test_bad_rules_are_one_line_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_seed_rule(text, 12)
    assert parse_seed_rule("8:32", 12) == SeedRule(8, 32)


def made_up_result(first_seed: int, seeds: int, why: str = "") -> CellResult:
    """A cell of `seeds` seeds whose every number is its seed's index, from `first_seed` on."""
    index = np.arange(first_seed, first_seed + seeds, dtype=np.float32)
    history = Metrics(*(np.broadcast_to(index[:, None], (seeds, 2)).copy() for _ in Metrics._fields))
    samples = np.broadcast_to(index[:, None, None], (seeds, 4, 2)).astype(np.float16)
    return CellResult(history, samples, {"seeds": seeds, "seed": 0, "wall_s": 1.0, "commit": why, "device": "cpu"})


def test_a_block_extends_a_cell_as_its_next_seeds_and_records_why(tmp_path):
    grown = extended(made_up_result(0, 12), made_up_result(12, 8, "abc"), ["a.1 on ring8: undecided"])
    np.testing.assert_array_equal(grown.history.g_loss[:, 0], np.arange(20))
    np.testing.assert_array_equal(grown.samples[:, 0, 0], np.arange(16))  # the first 16 seeds' fakes are kept
    assert grown.meta["seeds"] == 20 and grown.meta["wall_s"] == 2.0 and grown.meta["commit"] == ""
    [block] = grown.meta["blocks"]
    assert block == {"first_seed": 12, "seeds": 8, "why": ["a.1 on ring8: undecided"], "commit": "abc",
                     "device": "cpu", "wall_s": 1.0}  # fmt: skip
    lines = seed_lines({"x@ring8": grown.meta}, {"x@ring8": 12}, {}, RULE)
    assert "| `x@ring8` | 20 | 12 + 8 | seeds 12-19: a.1 on ring8: undecided |" in lines


def test_a_grown_cell_loads_only_under_its_cap(tmp_path):
    cell = Cell("bn-split", "ring8", tiny("bn-split"))
    grown = extended(made_up_result(0, 12), made_up_result(12, 8), ["why"])
    save_cell(tmp_path / "x.npz", grown._replace(meta=grown.meta | {"config": to_dict(cell.config)}))
    assert load_cell(tmp_path / "x.npz", cell, 12, 0, most=28).meta["seeds"] == 20
    with pytest.raises(ConfigError, match="grown by --adaptive-seeds past this run's 12"):
        load_cell(tmp_path / "x.npz", cell, 12, 0)
    with pytest.raises(ConfigError, match="more than the --adaptive-seeds cap 16"):
        load_cell(tmp_path / "x.npz", cell, 12, 0, most=16)
    with pytest.raises(ConfigError, match="another config or seeds"):
        load_cell(tmp_path / "x.npz", cell, 24, 0, most=28)  # fewer seeds than the profile's


def test_a_cell_grows_only_where_it_was_trained(tmp_path):
    # Other XLA flags round reductions differently (a plain Python process lacks the commands' CPU
    # flags): a block trained under them would not hold the numbers of a bigger run of the cell.
    cell = Cell("bn-split", "ring8", tiny("bn-split"))
    here = made_up_result(0, 12)._replace(meta=made_up_result(0, 12).meta | {"device": device_text()})
    elsewhere = here._replace(meta=here.meta | {"device": f"{device_text()} --xla_cpu_enable_fast_math=true"})
    results = {cell.key: elsewhere}
    judge = lambda _: [claim("a.1", "bn-split", ring8=OPEN)]  # noqa: E731
    with pytest.raises(ConfigError, match=r"bn-split@ring8 was trained on .*fast_math=true, this process runs on"):
        grow_cells([cell], tmp_path, results, 0, RULE, judge)
    assert results == {cell.key: elsewhere} and not (tmp_path / "cells").exists()  # refused before training
    check_same_device(cell.key, here.meta)  # where it was trained, it grows
