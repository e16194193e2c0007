"""The image study (issue 17): its rules, profiles, cell planning, report, and (slow) the tiny profile end to end."""

import dataclasses
import json
import math
import re
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import without_running_positions

from jaxbngan import rundir
from jaxbngan.config import ConfigError
from jaxbngan.image_conditions import ImageNumbers, brightened, kept_brightness, lower_frechet
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.reproduce import (
    IMAGE_PROFILES,
    IMAGE_SECTIONS,
    PROFILES,
    CellResult,
    image_main,
    image_report,
    load_experiments,
    plan_cells,
)
from jaxbngan.reproduce.cells import run_cell, run_sweep_cells
from jaxbngan.reproduce.image_command import experiments_on, parse_image_args, resolve_image_profile
from jaxbngan.reproduce.image_numbers import ImageStats, image_seed_numbers
from jaxbngan.reproduce.image_spec import OPEN_QUESTIONS, OpenQuestion, plan_image_cells
from jaxbngan.reproduce.report import Invocation
from jaxbngan.strategies import shift_reward
from jaxbngan.verdicts import LN2, NOT_JUDGED, SHIFT, VERDICTS, judge

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def numbers(**fields) -> ImageNumbers:
    """ImageNumbers of 4 seeds: zeros except the given fields."""
    base = {name: np.zeros(4) for name in ImageNumbers._fields} | {"both_win": np.zeros(4, bool)}
    return ImageNumbers(**(base | {k: np.asarray(v, dtype=float) for k, v in fields.items()}))


def test_brightness_conditions_compare_with_the_twin_of_the_same_seed():
    reference = numbers(brightness=[0.0, 1.0, -1.0, 0.5])
    shifted = numbers(brightness=[0.0, 1.0, -1.0, 0.5] + np.array([SHIFT + 0.01, SHIFT - 0.01, -SHIFT - 0.01, 0.0]))
    np.testing.assert_array_equal(brightened(0, 1).test(shifted, reference), [True, False, False, False])
    # Darker than the twin is not what the reward asks for: the reward did not brighten those seeds.
    np.testing.assert_array_equal(kept_brightness(0, 1).test(shifted, reference), [False, True, True, True])
    # Paired: the difference is the variant's brightness minus the reference's, seed by seed.
    np.testing.assert_allclose(brightened(0, 1).difference(shifted, reference), [0.26, 0.24, -0.26, 0.0])
    np.testing.assert_array_equal(brightened(1, 0).test(reference, shifted), [True, False, False, False])


def test_lower_frechet_is_paired_and_a_diverged_seed_does_not_support():
    a, b = numbers(frechet=[1.0, 2.0, math.nan, 3.0]), numbers(frechet=[2.0, 1.0, 1.0, math.nan])
    condition = lower_frechet(0, 1)
    np.testing.assert_array_equal(condition.test(a, b), [True, False, False, False])
    np.testing.assert_array_equal(condition.difference(a, b)[:2], [-1.0, 1.0])
    assert judge(condition.test(a, b)).support == 0.25
    assert condition.text.format("`a`", "`b`") == "Frechet distance of `a` below that of `b` (same seed)"


def test_the_2d_profiles_are_not_the_image_profiles():
    # A 2-D reproduction resumes by cell config equality: its profiles must not change under it.
    standard = PROFILES["standard"][:7]
    assert standard == ("standard", 32, 2000, 50, 2048, ("ring8", "moons", "grid25"), ("ring8", "moons"))
    assert PROFILES["quick"].seeds == 6 and PROFILES["tiny"].steps == 20
    assert all(image.name not in ("full", "standard", "quick") for image in IMAGE_PROFILES.values())


def test_the_image_profiles_meet_the_seed_counts_of_issue_17():
    cpu, gpu = IMAGE_PROFILES["images-cpu"], IMAGE_PROFILES["images-gpu"]
    assert set(cpu.datasets) == set(gpu.datasets) == {"digits", "shapes"}
    assert min(s.seeds for s in cpu.sets) >= 8
    assert min(s.seeds for s in gpu.sets) >= 64


@pytest.mark.parametrize("profile", sorted(IMAGE_PROFILES))
def test_every_image_experiment_plans_its_cells_once(profile):
    experiments = load_experiments(EXPERIMENTS, IMAGE_SECTIONS)
    cells = plan_image_cells(experiments, IMAGE_PROFILES[profile])
    keys = [c.key for c in cells]
    assert len(keys) == len(set(keys))
    p = IMAGE_PROFILES[profile]
    covered = [{v.name for e in experiments if s.covers(e.name) for v in e.variants} for s in p.sets]
    assert len(cells) == sum(len(variants) for variants in covered)
    for cell in cells:
        c = cell.config
        image_set = next(s for s in p.sets if s.name == cell.dataset)
        assert (c.steps, c.log_every) == (image_set.steps or p.steps, image_set.log_every or p.log_every)
        assert (c.batch_size, c.metric_samples) == (p.batch_size, p.metric_samples)
        assert (c.generator.channels, c.discriminator.channels) == (p.g_channels, p.d_channels)
        assert c.data == next(s.data for s in p.sets if s.name == cell.dataset)


def test_image_experiments_are_not_2d_sections():
    with pytest.raises(ConfigError, match="unknown plot kind 'reward-weights'"):
        plan_cells(load_experiments(EXPERIMENTS, ["image_shift"]), PROFILES["tiny"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "nope"], "invalid choice"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--datasets", "ring8"], "profile images-cpu has no data set 'ring8'"),
        (["--only", "shift"], "unknown experiment 'shift'"),
        (["--adaptive-seeds", "8"], "--adaptive-seeds takes BLOCK:CAP"),
        (["--profile", "tiny", "--adaptive-seeds", "1:2"], "the cap 2 must exceed the profile's 2 seeds"),
        (["--datasets", "shapes", "--only", "image_lag"], "profile images-cpu runs none of image_lag on shapes"),
    ],
)
def test_bad_input_ends_as_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    assert image_main([*args, "--out", str(tmp_path / "out")], experiments_dir=EXPERIMENTS) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_second_process_on_the_same_directory_is_refused(tmp_path, capsys):
    with rundir.owned(tmp_path, "python experiments/images.py"):
        assert image_main(["--profile", "tiny", "--out", str(tmp_path)], experiments_dir=EXPERIMENTS) == 2
    error = capsys.readouterr().err.strip()
    assert "is in use by pid" in error and "\n" not in error
    assert not (tmp_path / "cells").exists()


def test_a_data_set_leaves_out_the_sections_that_do_not_run_on_it():
    args = parse_image_args(["--datasets", "shapes"], "prog", "out", "experiments")  # images-cpu: 2 sections
    chosen = load_experiments(EXPERIMENTS, ["image_strategies", "image_lag"])
    assert [e.name for e in experiments_on(resolve_image_profile(args), chosen)] == ["image_strategies"]


def test_seeds_and_datasets_flags_narrow_the_profile():
    args = parse_image_args(["--seeds", "3", "--datasets", "shapes"], "prog", "out", "experiments")
    profile = resolve_image_profile(args)
    assert profile.datasets == ("shapes",) and profile.seeds_of("shapes") == 3


# -- the report on made-up cells: every section, verdicts decided by construction ----------------------

SEEDS = 12  # 12 unanimous seeds decide "reproduced"
LOGS = IMAGE_PROFILES["tiny"].steps // IMAGE_PROFILES["tiny"].log_every


def made_up_cell(*, brightness: float, frechet: float, d_loss: float = LN2) -> CellResult:
    """A finished cell whose every seed ends with these numbers (offsets in pixel units, pixel std 2)."""
    full = lambda value, *shape: np.full((SEEDS, LOGS, *shape), value, np.float32)  # noqa: E731
    history = Metrics(
        g_loss=full(LN2),
        d_loss=full(d_loss),
        offset=full(2.0 * brightness, 1),
        std_ratio=full(1.0, 1),
        energy_distance=full(np.nan),
        d_fake_loss_by_view=full(LN2, len(VIEWS)),
        d_fake_logit_by_view=full(0.0, len(VIEWS)),
        both_win=np.zeros((SEEDS, LOGS), bool),
        high_quality=full(np.nan),
        mode_coverage=full(0.9),
        kid=full(frechet / 10),
        frechet_distance=full(frechet),
        pixel_kid=full(0.1),
        class_kl=full(0.2),
        d_fake_loss=full(LN2),
        running_position=full(np.nan, 2, 2),
        running_between=full(np.nan, 2, 2),
    )
    samples = np.zeros((2, 16, 8, 8, 1), np.float16)  # the grids of two seeds: enough to draw them
    return CellResult(history, samples, {"wall_s": 1.0})


def test_image_report_from_made_up_cells(tmp_path, monkeypatch):
    profile = IMAGE_PROFILES["tiny"]._replace(sets=IMAGE_PROFILES["tiny"].sets[:1])
    population = np.zeros((32, 8, 8, 1), np.float32)
    monkeypatch.setattr(image_report, "image_stats", lambda data, samples: ImageStats(population, 2.0, 1, 0, 1, 16))
    experiments = load_experiments(EXPERIMENTS, IMAGE_SECTIONS)
    cells = {c.key: c for c in plan_image_cells(experiments, profile)}
    # The positive control moves at 0.05 and 0.5 only, the negative one at 0.5 as far as the positive one:
    # every shift claim is judged at 0.05 alone (brightness), and at both weights of the contrast reward.
    shifted = {
        "shift-bn-reflect-w-0.05": 0.6,
        "shift-bn-reflect-w-0.5": 0.6,
        "shift-no-norm-w-0.5": 0.5,
        "shift-instance-w-0.05": 0.3,
        "shift-instance-w-0.5": 0.3,
        "shift-bn-reflect-bc-w-0.05": 0.6,
        "shift-bn-reflect-bc-w-0.5": 0.6,
        "shift-instance-bc-w-0.5": 0.3,
        "dcgan-bn-first-shift": 0.3,
    }
    results = {
        key: made_up_cell(brightness=shifted.get(cell.variant, 0.0), frechet=1.0 + 0.1 * i)
        for i, (key, cell) in enumerate(cells.items())
    }
    run = Invocation("made up", profile, 0, 1.0, 0)
    report = image_report.write_image_report(tmp_path, run, experiments, results, cells, EXPERIMENTS).read_text()

    verdicts = {c["id"]: c["verdict"] for c in json.loads((tmp_path / "verdicts.json").read_text())["claims"]}
    assert len(verdicts) == sum(len(e.claims) for e in experiments)
    judged = {"image_shift.4": "reproduced", "image_shift.7": "reproduced"}  # weight 0.05: IN moved, LN held
    judged |= {"image_shift.9": "not reproduced", "image_shift.10": "reproduced"}  # the contrast reward
    shift = {key: verdict for key, verdict in verdicts.items() if key.startswith("image_shift.")}
    assert shift == {key: judged.get(key, NOT_JUDGED) for key in shift}
    assert "not judged: controls failed at weight 0.005 (positive control did not move)" in report
    assert "not judged: controls failed at weight 0.5 (negative control moved)" in report
    assert "| 0.05 | digits | `shift-bn-reflect-w-0.05` | 12/12: 100% [76, 100] |" in report  # the controls' table
    assert verdicts["image_strategies.1"] == "not reproduced"  # nobody wins twice here
    assert set(verdicts.values()) <= set(VERDICTS)
    # The ranking table of the last section lists its variants by Frechet distance, lowest first.
    ranking = report[report.index(f"## {IMAGE_SECTIONS.index('image_norm_ranking') + 1}. ") :]
    ranked = re.findall(r"^\| digits \| (\d) \| `([^`]+)` \| ([\d.]+) ", ranking, re.MULTILINE)
    assert [int(r) for r, _, _ in ranked] == list(range(1, 7))
    assert [float(f) for _, _, f in ranked] == sorted(float(f) for _, _, f in ranked)
    assert "| digits | - | real vs real (16 each) |" in report
    for figure in re.findall(r"\]\((figures/[^)]+\.png)\)", report):
        assert (tmp_path / figure).stat().st_size > 0, figure
    assert "- Profile: `tiny`" in report
    shift = IMAGE_SECTIONS.index("image_shift") + 1
    assert f"- {shift}.4 (image_shift.4) **reproduced** at digits 12 seeds: Instance norm" in report  # closing note
    # The open questions come first, each with the verdicts of its claims, their seeds and steps.
    answers = report[report.index("## The blog's open questions") : report.index("## How to read this report")]
    instance_norm = answers[answers.index("### Is instance norm blind") :]
    assert f"- {shift}.4 Instance norm in every D layer (reflected borders) is blind: at weight 0.05" in instance_norm
    assert "**reproduced**: digits at 6 steps, reproduced, 12/12 seeds support it (100% [76, 100])" in instance_norm
    assert "digits at 6 steps, not judged: controls failed at weight 0.005 (positive control did not move)." in answers
    assert "Measured elsewhere: the moment probe" in answers
    probe = re.search(r"!\[results-probe/accuracy.png\]\(([^)]+)\)", answers)
    assert probe and (tmp_path / probe.group(1)).resolve() == EXPERIMENTS / "results-probe/accuracy.png"


def test_every_open_question_names_claims_the_image_study_makes():
    experiments = load_experiments(EXPERIMENTS, IMAGE_SECTIONS)
    ids = {f"{e.name}.{i}" for e in experiments for i in range(1, len(e.claims) + 1)}
    for question in OPEN_QUESTIONS:
        assert question.claims and set(question.claims) <= ids, question.question


def test_an_open_question_whose_cells_are_missing_says_so_and_one_without_claims_is_left_out():
    experiment = load_experiments(EXPERIMENTS, ["image_lag"])[0]
    missing = image_report.Unjudged("3.1", "image_lag.1", experiment.claims[0], ["dcgan-fix-momentum-0.5@digits"])
    questions = [OpenQuestion("Lag?", ("image_lag.1",)), OpenQuestion("Shift?", ("image_shift.1",))]
    lines = image_report.open_question_lines(questions, [], [missing], {"digits": 2000}, Path("."))
    assert "### Lag?" in lines and "### Shift?" not in lines
    assert f"- 3.1 {experiment.claims[0].statement} **Not judged yet**: missing dcgan-fix-momentum-0.5@digits." in lines


@pytest.mark.slow
def test_every_image_experiment_on_the_tiny_profile(tmp_path):
    assert image_main(["--profile", "tiny", "--out", str(tmp_path)], experiments_dir=EXPERIMENTS) == 0
    saved = json.loads((tmp_path / "verdicts.json").read_text())
    assert {c["experiment"] for c in saved["claims"]} == set(IMAGE_SECTIONS)
    assert all(set(c["by_dataset"]) == {"digits", "shapes"} for c in saved["claims"])
    assert image_main(["--profile", "tiny", "--out", str(tmp_path)], experiments_dir=EXPERIMENTS) == 0  # resumes


def test_the_offset_along_the_contrast_shift_is_what_the_reward_measures():
    # Fakes = an affine map of the data, two channels of different spread: the cell's brightness plus
    # contrast is the reward's rise from the data to the fakes, in std of the data's pixels.
    population = np.asarray(jax.random.normal(jax.random.key(0), (64, 8, 8, 2))) * np.array([0.5, 2.0]) + 0.3
    fakes = 1.5 * population - 0.2
    real_std = population.std(axis=(0, 1, 2))
    per_log = lambda values: np.broadcast_to(np.asarray(values, np.float32), (SEEDS, LOGS, 2))  # noqa: E731
    cell = made_up_cell(brightness=0.0, frechet=1.0)
    offset = fakes.mean(axis=(0, 1, 2)) - population.mean(axis=(0, 1, 2))
    history = cell.history._replace(offset=per_log(offset), std_ratio=per_log(fakes.std(axis=(0, 1, 2)) / real_std))
    stats = ImageStats(population, float(population.std()), 1, 0, 1, 16)
    config = IMAGE_PROFILES["tiny"]
    cell_config = next(c.config for c in plan_image_cells(load_experiments(EXPERIMENTS, ["image_shift"]), config))
    found = image_seed_numbers(cell._replace(history=history), cell_config, stats)
    reward = lambda x: float(shift_reward(jnp.asarray(x), "brightness_contrast"))  # noqa: E731
    expected = (reward(fakes) - reward(population)) / population.std()
    np.testing.assert_allclose(found.brightness + found.contrast, expected, rtol=1e-5)
    np.testing.assert_allclose(found.brightness, offset.mean() / population.std(), rtol=1e-5)


@pytest.mark.slow
def test_a_shift_sweep_pairs_its_twin_seed_by_seed(tmp_path):
    # The weight-0 member of a sweep is the run of its config alone, bit for bit (the same seed keys);
    # the twin of the brightness-and-contrast sweep is that member too: without the reward the other
    # direction's program trains the same run, to rounding (its std term adds zeros to G's gradients).
    cells = plan_image_cells(load_experiments(EXPERIMENTS, ["image_shift"]), IMAGE_PROFILES["tiny"])
    by_name = {c.variant: c for c in cells if c.dataset == "digits"}
    swept = [by_name["shift-instance-w-0"], by_name["shift-instance-w-0.5"]]
    together = run_sweep_cells(swept, 2, 0, tmp_path / "sweep.run", lambda *_: None)
    alone = run_cell(swept[0], 2, 0, tmp_path / "alone.run", lambda *_: None)
    chex.assert_trees_all_equal(together[0].history, alone.history)
    contrast = by_name["shift-instance-bc-w-0.5"]
    unrewarded = contrast._replace(
        config=dataclasses.replace(contrast.config, loss=dataclasses.replace(contrast.config.loss, shift_weight=0.0))
    )
    other = run_cell(unrewarded, 2, 0, tmp_path / "bc.run", lambda *_: None).history
    chex.assert_trees_all_close(without_running_positions(other), without_running_positions(alone.history), rtol=1e-5)
    assert not np.array_equal(together[1].history.offset, alone.history.offset)  # the reward did something


@pytest.mark.slow
def test_adaptive_seeds_grow_the_undecided_cells_on_the_tiny_profile(tmp_path):
    args = ["--profile", "tiny", "--only", "image_lag", "--datasets", "digits", "--out", str(tmp_path)]
    assert image_main([*args, "--adaptive-seeds", "1:3"], experiments_dir=EXPERIMENTS) == 0
    saved = json.loads((tmp_path / "verdicts.json").read_text())
    metas = {path.stem: read_meta(path) for path in (tmp_path / "cells").glob("*.npz")}
    grown = {key for key, meta in metas.items() if meta.get("blocks")}
    assert grown and all(metas[key]["seeds"] == 3 and metas[key]["blocks"][0]["first_seed"] == 2 for key in grown)
    assert all(meta["seeds"] == 2 for key, meta in metas.items() if key not in grown)
    # A claim still undecided has every variant at the cap: they grew together.
    variants = {c.statement: c.variants for c in load_experiments(EXPERIMENTS, ["image_lag"])[0].claims}
    for claim in saved["claims"]:
        if claim["by_dataset"]["digits"]["verdict"] == "undecided":
            assert {f"{v}@digits" for v in variants[claim["statement"]]} <= grown
    report = (tmp_path / "report.md").read_text()
    assert "## Seeds per cell" in report and saved["profile"]["adaptive_seeds"] == {"block": 1, "cap": 3}
    before = {path.name: path.read_bytes() for path in (tmp_path / "cells").glob("*.npz")}
    assert image_main([*args, "--adaptive-seeds", "1:3"], experiments_dir=EXPERIMENTS) == 0  # nothing left to do
    assert {path.name: path.read_bytes() for path in (tmp_path / "cells").glob("*.npz")} == before
    assert image_main(args, experiments_dir=EXPERIMENTS) == 2  # without the flag the grown cells are refused


def read_meta(path: Path) -> dict:
    with np.load(path) as saved:
        return json.loads(str(saved["meta"]))


def test_a_data_set_limited_to_some_sections_plans_and_names_only_theirs():
    tiny = IMAGE_PROFILES["tiny"]
    digits, shapes = tiny.sets
    profile = tiny._replace(sets=(digits, shapes._replace(sections=("image_strategies",))))
    experiments = load_experiments(EXPERIMENTS, ["image_strategies", "image_lag"])
    on_shapes = {c.variant for c in plan_image_cells(experiments, profile) if c.dataset == "shapes"}
    assert on_shapes == {v.name for v in experiments[0].variants}
    assert profile.datasets_of(experiments[0]) == ("digits", "shapes")
    assert profile.datasets_of(experiments[1]) == ("digits",)
