"""The reproduction entry point on the tiny profile: report structure, resuming, shared cells, errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import chex
import numpy as np
import pytest

from jaxbngan import driver, get_preset, rundir
from jaxbngan.conditions import SeedNumbers, both_win, more_displaced
from jaxbngan.config import ConfigError
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.reproduce import (
    PROFILES,
    SECTIONS,
    Claim,
    Experiment,
    Plot,
    Progress,
    Variant,
    consistency_gap,
    load_experiments,
    main,
    plan_cells,
    quoted,
    run_cell,
)
from jaxbngan.reproduce import cells as cells_module
from jaxbngan.reproduce.cells import cell_path, load_cell, run_sweep_cells
from jaxbngan.reproduce.command import parse_args, resolve_profile
from jaxbngan.reproduce.judging import Measured, Paired, measured_numbers, paired_numbers
from jaxbngan.reproduce.text import verdict_text
from jaxbngan.verdicts import UNDECIDED, VERDICTS, judge

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
HEADER_ITEMS = ("Command", "Profile", "Data sets", "Versions", "Cells trained by", "Device", "Wall time")


def reproduce(out, *args):
    return main([*args, "--out", str(out)], experiments_dir=EXPERIMENTS)


def check_report(out: Path, experiments: list[Experiment], datasets: list[str]) -> str:
    """The report's header, one verdict per claim and data set, existing figures; returns the text."""
    report = (out / "report.md").read_text()
    for item in HEADER_ITEMS:
        assert re.search(rf"^- {item}: ", report, re.MULTILINE), item
    assert "**2 seeds per cell**" in report
    claims = [c for e in experiments for c in e.claims]
    headings = re.findall(r"^### (\d+\.\d+) .* — \*\*(.+)\*\*$", report, re.MULTILINE)
    assert len(headings) == len(claims)
    assert all(verdict in VERDICTS for _, verdict in headings)
    for figure in re.findall(r"\]\((figures/[^)]+\.png)\)", report):
        assert (out / figure).stat().st_size > 0, figure
    saved = json.loads((out / "verdicts.json").read_text())
    assert [c["statement"] for c in saved["claims"]] == [c.statement for c in claims]
    assert [c["id"] for c in saved["claims"]] == [
        f"{e.name}.{i}" for e in experiments for i in range(1, 1 + len(e.claims))
    ]
    for claim in saved["claims"]:
        assert claim["by_dataset"] and set(claim["by_dataset"]) <= set(datasets)
        for judgement in claim["by_dataset"].values():
            assert judgement["verdict"] in VERDICTS and 0.0 <= judgement["support"] <= 1.0
            low, high = judgement["interval"]
            assert 0.0 <= low <= judgement["support"] <= high <= 1.0 and judgement["seeds"] == 2
            assert (judgement["verdict"] == UNDECIDED) == (len(judgement["between"]) > 1)
    # Checks are verified apart and never counted among the claims.
    checks = [c for e in experiments for c in e.checks]
    assert [c["statement"] for c in saved["checks"]] == [c.statement for c in checks]
    assert not {c.statement for c in checks} & {c["statement"] for c in saved["claims"]}
    counted = re.search(r"^Overall: (.*)\.$", report, re.MULTILINE).group(1)
    assert sum(int(part.split()[0]) for part in counted.split(", ")) == len(claims)
    return report


def test_tiny_run_writes_the_report_then_resumes_with_shared_cells(tmp_path, capsys):
    assert reproduce(tmp_path, "--tiny", "--only", "shift", "--datasets", "ring8") == 0
    shift = load_experiments(EXPERIMENTS, ["shift"])
    report = check_report(tmp_path, shift, ["ring8"])
    assert "- Command: `jaxbngan reproduce --tiny --only shift --datasets ring8 --out" in report
    for variant in ("bn-split-shift", "no-bn-shift", "bn-split", "no-bn"):  # each rewarded run and its twin
        assert f"| `{variant}` | ring8 |" in report
    assert "| ring8 | `bn-split-shift` | D loss | ln 2 |" in report  # the blog's number beside the measured one
    cells = sorted((tmp_path / "cells").iterdir())
    assert [c.name for c in cells] == [
        "bn-split-shift@ring8.npz",
        "bn-split@ring8.npz",
        "no-bn-shift@ring8.npz",
        "no-bn@ring8.npz",
    ]
    written = {c: c.stat().st_mtime_ns for c in cells}

    # `fix` reuses bn-split-shift and its twin from the shift experiment; only its own two cells train.
    capsys.readouterr()
    assert reproduce(tmp_path, "--tiny", "--only", "shift,fix", "--datasets", "ring8") == 0
    assert "6 cells of 2 seeds x 20 steps: 4 already done, 2 to run" in capsys.readouterr().err
    assert {c: c.stat().st_mtime_ns for c in cells} == written
    assert len(list((tmp_path / "cells").iterdir())) == 6
    check_report(tmp_path, load_experiments(EXPERIMENTS, ["shift", "fix"]), ["ring8"])

    # Cells made with other seeds are refused, not silently mixed in.
    assert reproduce(tmp_path, "--tiny", "--only", "shift", "--datasets", "ring8", "--seeds", "1") == 2
    error = capsys.readouterr().err.strip()
    assert "another config or seeds" in error and "\n" not in error


@pytest.mark.slow  # the planner is tested on made-up claims (test_adaptive), the seed offset in test_driver
def test_adaptive_seeds_grow_undecided_cells_into_what_a_bigger_run_trains(tmp_path):
    # `shift` on ring8 at 2 seeds: undecided claims; their cells grow by a block of 2 to the cap of 4.
    args = ("--tiny", "--only", "shift", "--datasets", "ring8")
    assert reproduce(tmp_path / "grown", *args, "--adaptive-seeds", "2:4") == 0
    cells = {c.key: c for c in plan_cells(load_experiments(EXPERIMENTS, ["shift"]), PROFILES["tiny"])}
    cells = {key: cell for key, cell in cells.items() if cell.dataset == "ring8"}
    grown = {k: load_cell(cell_path(tmp_path / "grown", c), c, 2, 0, most=4) for k, c in cells.items()}
    assert {r.meta["seeds"] for r in grown.values()} == {4}  # every claim of shift is undecided at 2 seeds
    report = (tmp_path / "grown" / "report.md").read_text()
    assert "- Adaptive seeds: `--adaptive-seeds 2:4`" in report and "| `no-bn@ring8` | 4 | 2 + 2 | seeds 2-3:" in report
    assert reproduce(tmp_path / "fresh", *args, "--seeds", "4") == 0
    for key, cell in cells.items():  # seeds 2 and 3 are those of a 4-seed run, bit for bit
        fresh = load_cell(cell_path(tmp_path / "fresh", cell), cell, 4, 0)
        chex.assert_trees_all_equal(grown[key].history, fresh.history)
        np.testing.assert_array_equal(grown[key].samples, fresh.samples)


def stop_after_one_chunk(monkeypatch):
    """Make `driver.train` stop as a Ctrl-C does after its first checkpoint."""
    train = driver.train

    def stopped_after_one_chunk(*args, **kwargs):
        assert not train(*args, **kwargs, deadline=0.0)
        raise KeyboardInterrupt

    monkeypatch.setattr(driver, "train", stopped_after_one_chunk)
    return train


def test_a_cell_left_half_trained_under_other_xla_flags_is_trained_afresh(tmp_path, monkeypatch, capsys):
    cell = plan_cells(load_experiments(EXPERIMENTS, ["shift"]), PROFILES["tiny"])[0]
    work = tmp_path / "cell.run"
    train = stop_after_one_chunk(monkeypatch)
    here = cells_module.device_text()
    monkeypatch.setattr(cells_module, "device_text", lambda: here + " --xla_other_flag")
    with pytest.raises(KeyboardInterrupt):
        run_cell(cell, 2, 0, work, lambda *_: None)
    monkeypatch.setattr(driver, "train", train)
    monkeypatch.setattr(cells_module, "device_text", lambda: here)
    reports = []
    run_cell(cell, 2, 0, work, lambda seeds, _: reports.append(seeds))
    assert reports == [1.0, 2.0]  # both chunks: the other flags' checkpoint was not continued
    assert "training it afresh" in capsys.readouterr().err


@pytest.mark.slow  # the driver's checkpoint resume is checked in the default suite (test_driver, test_grid)
def test_a_stopped_cell_continues_from_its_checkpoint(tmp_path, monkeypatch):
    cell = plan_cells(load_experiments(EXPERIMENTS, ["shift"]), PROFILES["tiny"])[0]
    reports = []
    fresh = run_cell(cell, 2, 0, tmp_path / "fresh.run", lambda seeds, _: reports.append(seeds))
    assert reports == [1.0, 2.0]  # one report per chunk, in seeds trained (20 steps in 2 chunks)
    train = stop_after_one_chunk(monkeypatch)
    work = tmp_path / "stopped.run"
    with pytest.raises(KeyboardInterrupt):
        run_cell(cell, 2, 0, work, lambda *_: None)
    assert (work / rundir.CHECKPOINT).is_file()
    monkeypatch.setattr(driver, "train", train)
    resumed_reports = []
    resumed = run_cell(cell, 2, 0, work, lambda seeds, _: resumed_reports.append(seeds))
    assert resumed_reports == [2.0]  # only the second chunk trained: the first came from the checkpoint
    chex.assert_trees_all_equal(resumed.history, fresh.history)
    # A work directory left by another seed is started afresh, not continued.
    other_seed = run_cell(cell, 2, 1, work, lambda *_: None)
    assert not np.allclose(other_seed.history.g_loss, fresh.history.g_loss)


def test_progress_counts_part_trained_seeds(capsys):
    cell = plan_cells(load_experiments(EXPERIMENTS, ["shift"]), PROFILES["tiny"])[0]
    progress = Progress(total=3, to_run=2)
    progress.block(cell, 0.0, 6, 1.0)  # nothing trained yet: no ETA
    progress.block(cell, 0.6, 6, 2.0)  # a tenth of the first cell in 2 s: 19 tenths to go
    first, second = capsys.readouterr().err.splitlines()
    assert "0.0/6 seeds" in first and "about ? left" in first
    assert "0.6/6 seeds" in second and "about 38 s left" in second


def test_progress_counts_a_sweeps_cells_as_they_train_together(capsys):
    cell = plan_cells(load_experiments(EXPERIMENTS, ["shift"]), PROFILES["tiny"])[0]
    progress = Progress(total=5, to_run=5)
    progress.block(cell, 3.0, 12, 5.0, cells=4)  # a quarter of a sweep of 4 cells: one cell's worth in 5 s
    assert "about 20 s left" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--only", "baseline,nonsense"], "unknown experiment 'nonsense'"),
        (["--datasets", "ring9"], "unknown data set 'ring9'"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--quick", "--tiny"], "not allowed with argument"),
        (["--experiments", "/nonexistent"], "no experiment script"),
        (["--adaptive-seeds", "4:2"], "the cap 2 must exceed the profile's 2 seeds"),
    ],
)
def test_bad_input_ends_as_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    assert reproduce(tmp_path, "--tiny", *args) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not (tmp_path / "cells").exists()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_experiment_plans_its_cells_once(profile):
    experiments = load_experiments(EXPERIMENTS, SECTIONS)
    assert [e.name for e in experiments] == list(SECTIONS)
    cells = plan_cells(experiments, PROFILES[profile])
    keys = [c.key for c in cells]
    assert len(keys) == len(set(keys))
    assert "joint@ring8" in keys  # declared by joint_batches and zero_loss_claims, planned once


def experiment(name="e", config=None, claims=(), plots=()):
    return Experiment(name, "section", "summary", (Variant("x", config or get_preset("joint").config),), claims, plots)


def test_one_variant_name_cannot_mean_two_configs():
    clash = [experiment("a", get_preset("joint").config), experiment("b", get_preset("fix").config)]
    with pytest.raises(ConfigError, match="declared twice"):
        plan_cells(clash, PROFILES["tiny"])


@pytest.mark.parametrize(
    "declared,message",
    [
        (experiment(claims=(Claim("s", "b", ("y",), both_win()),)), "variant 'y' is used but not declared"),
        (experiment(claims=(Claim("s", "b", ("x",), both_win(1)),)), "reads a variant the claim lacks"),
        (experiment(plots=(Plot("pie", ("x",)),)), "unknown plot kind 'pie'"),
        (experiment(claims=(Claim("s", "b", ("x",), both_win(), quotes=(quoted("gap", 0.1),)),)), "quoted number"),
        (experiment(claims=(Claim("s", "b", ("x",), both_win(), quotes=(quoted("d_loss", 0.1, of=1),)),)), "quoted"),
    ],
)
def test_declaration_mistakes_are_caught_before_anything_trains(declared, message):
    with pytest.raises(ConfigError, match=message):
        plan_cells([declared], PROFILES["tiny"])


@pytest.mark.parametrize(
    "preset,g_view,own_view",
    [
        ("bn-split", "fake", "fake"),
        ("joint", "fake", "joint"),
        ("running", "running", "fake"),
        ("fix", "running", "joint"),
    ],
)
def test_consistency_gap_compares_gs_view_with_ds_own_view(preset, g_view, own_view):
    by_view = np.random.default_rng(0).uniform(size=(3, 5, len(VIEWS)))  # (seeds, logs, views)
    history = Metrics(*([None] * len(Metrics._fields)))._replace(d_fake_loss_by_view=by_view)
    expected = np.abs(by_view[..., VIEWS.index(g_view)] - by_view[..., VIEWS.index(own_view)])
    np.testing.assert_allclose(consistency_gap(history, get_preset(preset).config), expected)


@pytest.mark.slow
def test_every_experiment_on_the_tiny_profile(tmp_path):
    assert reproduce(tmp_path, "--tiny") == 0
    check_report(tmp_path, load_experiments(EXPERIMENTS, SECTIONS), ["ring8", "moons"])


@pytest.mark.slow
def test_an_experiment_script_runs_alone(tmp_path):
    script = EXPERIMENTS / "baseline.py"
    done = subprocess.run(
        [sys.executable, str(script), "--tiny", "--datasets", "ring8", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "- Command: `python experiments/baseline.py --tiny" in (tmp_path / "report.md").read_text()


def seed_numbers_of(**values) -> SeedNumbers:
    """Six seeds of a calm run with `values` replacing fields."""
    calm = {name: np.zeros(6) for name in SeedNumbers._fields} | {"energy_reference": {0.5: 0.2}}
    calm["both_win"] = calm["diverged"] = np.zeros(6, dtype=bool)
    calm["double_win"] = {"half-end": calm["both_win"]}
    return SeedNumbers(**(calm | {k: np.asarray(v, dtype=float) for k, v in values.items()}))


def test_paired_differences_and_quoted_numbers_are_summarized_per_seed():
    a = seed_numbers_of(displacement=[3, 2, 1, 4, 5, 6], d_loss=[0.6, 0.7, 0.8, 0.65, 0.75, 0.7])
    b = seed_numbers_of(displacement=[1, 1, 2, 1, 1, 1])
    claim = Claim("s", "b", ("a", "b"), more_displaced(0, 1), quotes=(quoted("d_loss", 0.693, "ln 2"),))
    (paired,) = paired_numbers(claim, [a, b])
    # Differences 2, 1, -1, 3, 4, 5: median 2.5; with 6 seeds the 95% interval is min..max.
    assert paired == Paired(0, 2.5, -1.0, 5.0, 5, 6)
    (measured,) = measured_numbers(claim, [a, b])
    assert measured == Measured("a", "D loss", "ln 2", 0.7, 0.6, 0.8)


def test_an_undecided_verdict_says_between_what_and_how_many_seeds_would_decide():
    assert verdict_text(judge(np.ones(6, dtype=bool))) == (
        "undecided at 6 seeds (reproduced or partly; 12 seeds would decide it)"
    )
    assert verdict_text(judge(np.ones(12, dtype=bool))) == "reproduced"
    assert "no seed count decides it" in verdict_text(judge(np.array([1, 1, 1, 0, 0, 0], dtype=bool)))


def test_the_standard_profile_is_what_the_headline_report_needs():
    args = parse_args(["--standard"], "jaxbngan reproduce", "runs/reproduce", str(EXPERIMENTS))
    profile = resolve_profile(args)
    assert profile == PROFILES["standard"] and profile.seeds >= 32
    assert set(profile.datasets) >= {"ring8", "moons", "grid25"}  # the blog's sections
    assert set(profile.beyond_datasets) >= {"ring8", "moons"}  # lag, other norms, the Q&A claims
    assert (profile.steps, profile.data_size) == (PROFILES["quick"].steps, PROFILES["quick"].data_size)


def test_a_second_process_on_the_same_directory_is_refused_in_one_line(tmp_path, capsys):
    with rundir.owned(tmp_path, "python experiments/reproduce.py --quick"):
        assert reproduce(tmp_path, "--tiny", "--only", "shift", "--datasets", "ring8") == 2
    error = capsys.readouterr().err.strip()
    assert "is in use by pid" in error and "--quick" in error and "\n" not in error
    assert not (tmp_path / "cells").exists()


def test_the_standard_profile_leaves_out_only_what_the_issue_does_not_ask_for():
    required = {"running_average_lag", "other_norms", "zero_loss_claims"}  # lag, other norms, the Q&A claims
    blog = {e.name for e in load_experiments(EXPERIMENTS, SECTIONS) if not e.beyond_blog}
    left_out = set(PROFILES["standard"].leaves_out)
    assert left_out <= set(SECTIONS) and not left_out & (required | blog)
    assert PROFILES["standard"].left_out_why


def test_a_profile_leaves_out_its_skipped_experiments_unless_only_names_them(tmp_path, monkeypatch, capsys):
    tiny = PROFILES["tiny"]._replace(leaves_out=("fix",), left_out_why="a reason")
    monkeypatch.setitem(PROFILES, "tiny", tiny)
    monkeypatch.setattr("jaxbngan.reproduce.command.SECTIONS", ("shift", "fix"))
    assert reproduce(tmp_path, "--tiny", "--datasets", "ring8") == 0
    report = (tmp_path / "report.md").read_text()
    assert "- Left out by the profile: fix: a reason." in report
    assert {c["experiment"] for c in json.loads((tmp_path / "verdicts.json").read_text())["claims"]} == {"shift"}
    assert reproduce(tmp_path, "--tiny", "--datasets", "ring8", "--only", "shift,fix") == 0
    assert "Left out by the profile" not in (tmp_path / "report.md").read_text()


def test_a_sweeps_cells_train_as_one_program_and_equal_their_cells_alone(tmp_path):
    cells = plan_cells(load_experiments(EXPERIMENTS, ["running_average_lag"]), PROFILES["tiny"])
    swept = [c for c in cells if c.sweep == "fix-momentum" and c.dataset == "ring8"]
    assert [c.variant for c in swept] == [f"fix-momentum-{m:g}" for m in (0.5, 0.9, 0.99, 0.995, 0.999)]
    reports = []
    together = run_sweep_cells(swept[:2], 2, 0, tmp_path / "sweep.run", lambda seeds, _: reports.append(seeds))
    assert reports == [2.0, 4.0]  # both cells' seeds advance in each chunk of the one program
    alone = run_cell(swept[1], 2, 0, tmp_path / "alone.run", lambda *_: None)
    chex.assert_trees_all_equal(together[1].history, alone.history)
    assert together[1].meta["config"] == alone.meta["config"]
    with pytest.raises(ConfigError, match="fix-standing@ring8 differs from fix-momentum-0.5@ring8 in more than"):
        run_sweep_cells([swept[0], *(c for c in cells if c.variant == "fix-standing")], 2, 0, tmp_path / "x", print)
