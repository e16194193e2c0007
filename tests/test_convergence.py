"""The settle rule that chooses the image study's budgets, on made-up curves, and the command end to end."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jaxbngan.reproduce.convergence import curve_budget, settled_at
from jaxbngan.settling import still_moving

ROOT = Path(__file__).resolve().parents[1]


def test_a_curve_that_flattens_settles_at_the_first_cut_that_stays_still():
    curve = np.concatenate([np.linspace(10.0, 1.0, 10), np.ones(20)])  # falls for 10 logs, then flat
    t = settled_at(curve, floor=0.0)
    assert t is not None
    assert not still_moving(curve[: t + 1]) and still_moving(curve[:t])  # the first cut that is still
    assert all(not still_moving(curve[: u + 1]) for u in range(t, curve.size))


def test_a_curve_still_falling_at_its_end_has_not_settled():
    assert settled_at(np.linspace(10.0, 1.0, 30), floor=0.0) is None


def test_a_change_below_the_floor_is_noise():
    wobble = 0.5 + 0.01 * np.sin(np.arange(30))  # moves by 4% of 0.5 ... then by 2%: under a floor of 0.05
    assert settled_at(np.linspace(0.0, 0.3, 30), floor=0.5) == 0
    assert settled_at(wobble, floor=0.05) == 0


def test_a_curves_budget_is_its_latest_settle_step_with_the_cells_still_moving_counted():
    settled = [{"gap": 300, "frechet_distance": 900}, {"gap": 1200, "frechet_distance": None}]
    assert curve_budget(settled, "gap") == (1200, 0)
    assert curve_budget(settled, "frechet_distance") == (900, 1)
    assert curve_budget([{"gap": None}], "gap") == (None, 1)


@pytest.mark.slow  # two tiny image cells: about a minute with compilation
def test_tiny_command_writes_the_table_and_the_curves(tmp_path):
    done = subprocess.run(
        [sys.executable, "experiments/image_convergence.py", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "report.md").read_text()
    assert "dcgan-running-tiny-widths@digits" in report and (tmp_path / "curves.png").is_file()
