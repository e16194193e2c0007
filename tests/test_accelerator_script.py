"""benchmarks/accelerator.sh, shrunk with --cpu-smoke: every step runs or stops at its budget, and says so in JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STEPS = ["tests", "points", "end_to_end", "images", "images_cell"]
KILL_AFTER_S = 15  # a step that ignores SIGINT is killed this long after its budget


@pytest.mark.slow
def test_cpu_smoke_keeps_its_deadline_and_writes_json(tmp_path):
    deadline = 60
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=str(REPO))
    command = ["bash", "benchmarks/accelerator.sh", "--cpu-smoke", "--deadline", str(deadline), "--out", str(tmp_path)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [s["step"] for s in summary["steps"]] == STEPS
    assert {s["status"] for s in summary["steps"]} <= {"ok", "stopped", "skipped"}, summary["steps"]
    assert summary["steps"][0]["status"] == "ok"
    assert json.loads((tmp_path / "tests.json").read_text())["failures"] == 0
    assert summary["wall_s"] <= deadline + KILL_AFTER_S + 10


def test_bad_arguments_exit_2(tmp_path):
    for args in (["--deadline", "soon"], ["--frobnicate"]):
        result = subprocess.run(
            ["bash", "benchmarks/accelerator.sh", *args, "--out", str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and "accelerator.sh:" in result.stderr, result.stderr
