"""Faults, bad input and concurrent runs: nothing lost, one line instead of a traceback, one writer per run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from helpers import in_process, tiny

import jaxbngan
from jaxbngan import Metrics, api, cli, driver, finals, memory, rundir, seed_layout
from jaxbngan.config import ConfigError, to_dict

REPO = Path(__file__).resolve().parents[1]
TINY = ["bn-split", "--steps", "20", "--log-every", "10", "--seeds", "2", "--set", "data.size=64", "--devices", "1"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # permissions do not stop root


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A finished run and a run stopped after its first chunk, to copy and damage."""
    base = tmp_path_factory.mktemp("runs")
    finished, stopped = base / "finished", base / "stopped"
    assert in_process("run", *TINY, "--out", finished)[0] == 0
    assert in_process("run", *TINY, "--out", stopped, "--time-limit", 0)[0] == cli.EXIT_STOPPED
    return {"finished": finished, "stopped": stopped}


def copy(runs: dict[str, Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(runs[name], tmp_path / name))


# -- one commit point, and leftovers cleaned --------------------------------------------------------


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


def test_a_kill_inside_finish_leaves_a_resumable_run(tmp_path, monkeypatch):
    config = tiny("bn-split", steps=6, log_every=3)
    layout = seed_layout.Layout(seeds=2, group_size=2, chunk_steps=3, devices=1)
    rundir.create(tmp_path, {"config": to_dict(config), "seeds": 2}, np.zeros((2, 2), np.float32))
    write_npz = rundir.write_npz

    def killed_after_the_first_merged_file(path, arrays):
        write_npz(path, arrays)
        if Path(path).name in (rundir.METRICS, rundir.SAMPLES):  # whichever comes first
            raise Killed

    monkeypatch.setattr(rundir, "write_npz", killed_after_the_first_merged_file)
    with pytest.raises(Killed):
        driver.train(tmp_path, config, layout, jax.devices()[:1], seed=0)
    monkeypatch.undo()
    assert not rundir.is_complete(tmp_path)
    assert rundir.load(tmp_path).history.g_loss.shape == (2, 2)  # readable, as a partial run
    assert driver.train(tmp_path, config, layout, jax.devices()[:1], seed=0)
    results = rundir.load(tmp_path)
    assert results.complete and results.fakes.shape[0] == 2
    assert not (tmp_path / rundir.GROUPS).exists()


def test_leftover_temporaries_are_removed_by_the_next_owner(runs, tmp_path):
    root = copy(runs, "stopped", tmp_path)
    (root / rundir.GROUPS).mkdir(exist_ok=True)
    left = [root / ".metrics.npz.tmp4242", root / rundir.GROUPS / ".000001.npz.tmp17"]
    for path in left:
        path.write_bytes(b"half")
    assert in_process("run", "--resume", "--out", root)[0] == 0
    assert not any(path.exists() for path in left)
    assert rundir.is_complete(root) and not any(p.name.startswith(".") for p in root.iterdir())


@pytest.mark.parametrize("lost", ["summary.json", "losses.png"])
def test_resuming_a_complete_run_writes_what_a_kill_left_out(runs, tmp_path, lost):
    root = copy(runs, "finished", tmp_path)
    summary = (root / "summary.json").read_text()
    (root / lost).unlink()
    code, out, err = in_process("run", "--resume", "--out", root)
    assert code == 0, err
    assert "already complete" in out and (root / lost).is_file()
    if lost == "losses.png":  # a summary that was there is kept as it was
        assert (root / "summary.json").read_text() == summary


# -- one writer per run directory -------------------------------------------------------------------


@pytest.mark.parametrize("second", ["resume", "overwrite"])
def test_a_run_directory_has_one_writer(runs, tmp_path, second):
    root = copy(runs, "stopped", tmp_path)
    files = sorted(p.name for p in root.iterdir())
    args = {
        "resume": ["run", "--resume", "--out", root],
        "overwrite": ["run", *TINY, "--out", root, "--overwrite"],
    }[second]
    with rundir.owned(root, "jaxbngan run --out elsewhere"):
        code, _, err = in_process(*args)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"is in use by pid {os.getpid()}" in err and "jaxbngan run --out elsewhere" in err
    assert sorted(p.name for p in root.iterdir()) == files  # nothing deleted, nothing written
    assert in_process("run", "--resume", "--out", root)[0] == 0  # once the holder is gone


@pytest.mark.parametrize("holder", ["command line", "jaxbngan.run"])
def test_the_api_and_the_command_line_refuse_a_directory_the_other_holds(tmp_path, monkeypatch, holder):
    root, config = tmp_path / "run", tiny("bn-split")
    train, refusals = api.train, []

    def train_while_the_other_asks(session, **kwargs):
        if holder == "command line":
            with pytest.raises(ConfigError) as refused:
                jaxbngan.run(config, seeds=2, out=root, progress=False)
            refusals.append(str(refused.value))
        else:
            code, _, err = in_process("run", "--resume", "--out", root)
            refusals.append(err if code == 2 else f"exit code {code}")
        return train(session, **kwargs)

    monkeypatch.setattr(api, "train", train_while_the_other_asks)
    if holder == "command line":
        assert in_process("run", *TINY, "--out", root)[0] == 0
    else:
        assert jaxbngan.run(config, seeds=2, out=root, progress=False).summary["seeds"] == 2
    (refusal,) = refusals
    assert f"is in use by pid {os.getpid()}" in refusal, refusal
    assert ("(jaxbngan run " if holder == "command line" else "(jaxbngan.run(") in refusal, refusal


def test_ctrl_c_says_how_long_stopping_takes_and_what_was_saved(tmp_path, monkeypatch):
    root, chunks = tmp_path / "run", []

    def interrupted_after(chunks_done):
        def train(root, config, layout, devices, **kwargs):
            if chunks_done:  # a checkpoint after the first chunk, as the driver writes it
                state = {"params": np.zeros(2)}
                rundir.save_checkpoint(root, 0, 1, state, Metrics(*([np.zeros((2, 1))] * len(Metrics._fields))))
            chunks.append(layout.chunk_steps)
            raise KeyboardInterrupt

        return train

    monkeypatch.setattr(driver, "train", interrupted_after(0))
    code, out, _ = in_process("run", *TINY, "--out", root)
    assert code == cli.EXIT_INTERRUPTED
    assert f"Ctrl-C stops when the running chunk of {chunks[0]} steps ends" in out
    assert "interrupted; nothing was saved yet (no chunk had ended), so continuing starts from step 0" in out
    monkeypatch.setattr(driver, "train", interrupted_after(1))
    code, out, err = in_process("run", "--resume", "--out", root)
    assert code == cli.EXIT_INTERRUPTED and "saved: a checkpoint at step 10 of group 1" in out, err
    assert f"continue with: jaxbngan run --resume --out {root}" in out


def test_a_fresh_directory_taken_by_another_run_is_refused(tmp_path):
    root = tmp_path / "new"
    with rundir.owned(root, "jaxbngan run"):
        code, _, err = in_process("run", *TINY, "--out", root)
    assert code == 2 and "is in use by" in err
    assert list(root.iterdir()) == []  # the lock goes with its holder


def test_the_lock_dies_with_its_holder(tmp_path):
    holder = "import sys, time; from pathlib import Path; from jaxbngan import rundir\n"
    holder += "with rundir.owned(Path(sys.argv[1]), 'holder'):\n    print('held', flush=True); time.sleep(600)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-c", holder, str(tmp_path)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"in use by pid {process.pid} on .* \\(holder\\)"):
            with rundir.owned(tmp_path, "second"):
                pass
    finally:
        process.kill()  # SIGKILL: no cleanup runs
        process.wait()
    with rundir.owned(tmp_path, "second"):  # free at once, though its file was left behind
        assert json.loads((tmp_path / rundir.LOCK).read_text())["command"] == "second"


# -- the same numbers on any layout: tests/test_sharding.py (forced host devices, bit for bit) -----

# -- bad input: one line on stderr, exit code 2, nothing written ------------------------------------


@pytest.fixture(scope="module")
def places(runs, tmp_path_factory) -> dict[str, str]:
    """Paths the bad-input cases name: `{fresh}` must still not exist after the command."""
    base = tmp_path_factory.mktemp("places")
    truncated = Path(shutil.copytree(runs["stopped"], base / "truncated"))
    checkpoint = (truncated / rundir.CHECKPOINT).read_bytes()
    (truncated / rundir.CHECKPOINT).write_bytes(checkpoint[: len(checkpoint) // 2])
    malformed = Path(shutil.copytree(runs["stopped"], base / "malformed"))
    (malformed / rundir.SPEC).write_text('{"config": {"steps": 20, ')
    keyless = Path(shutil.copytree(runs["stopped"], base / "keyless"))
    (keyless / rundir.SPEC).write_text(json.dumps({"config": {"steps": 20, "log_every": 10}}))
    population = Path(shutil.copytree(runs["stopped"], base / "population"))
    (population / rundir.POPULATION).write_bytes(b"\x93NUMPY")
    (base / "file").write_text("not a folder")
    readonly = Path(shutil.copytree(runs["finished"], base / "readonly"))
    unwritable = Path(shutil.copytree(runs["finished"], base / "unwritable"))
    (unwritable / "losses.png").unlink()
    (unwritable / "losses.png").mkdir()  # a figure that cannot be written, even by root
    locked = base / "locked"
    locked.mkdir()
    for folder in (readonly, locked):
        folder.chmod(0o555)
    return {
        "fresh": str(base / "fresh"),
        "file": str(base / "file"),
        "finished": str(runs["finished"]),
        "truncated": str(truncated),
        "malformed": str(malformed),
        "keyless": str(keyless),
        "population": str(population),
        "readonly": str(readonly),
        "unwritable": str(unwritable),
        "locked": str(locked),
    }


PERMISSIONS = pytest.mark.skipif(IS_ROOT, reason="permissions do not stop root")
RUN = ["run", "bn-split", "--out", "{fresh}"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([*RUN, "--seeds", "1000000000000"], "need about"),  # refused with the estimate, before anything is written
        ([*RUN, "--seed", "99999999999999999999999"], "seed must be in [0, 4294967295]"),
        ([*RUN, "--seed", "4294967296"], "seed must be in"),  # JAX would wrap it onto seed 0
        ([*RUN, "--steps", "1000000000000"], "steps must be at most"),
        ([*RUN, "--steps", "1000000000", "--seeds", "100000"], "need about"),
        ([*RUN, "--group-size", "1000000000000"], "--group-size must be at most"),
        ([*RUN, "--time-limit", "nan"], "--time-limit must be a number of seconds"),
        ([*RUN, "--set", "optimizer.eps=-1"], "optimizer.eps must be positive"),
        ([*RUN, "--set", "optimizer.b2=1"], "optimizer.b1 and b2 must be in [0, 1)"),
        ([*RUN, "--shift-weight", "-1"], "loss.shift_weight must not be negative"),
        (["run", "bn-split", "--out", "{file}/run"], "Not a directory"),
        (["run", "bn-split", "--out", "{file}"], "exists and is not a directory"),
        pytest.param(["run", "bn-split", "--out", "{locked}/run"], "Permission denied", marks=PERMISSIONS),
        pytest.param(["run", "bn-split", "--out", "{locked}"], "Permission denied", marks=PERMISSIONS),
        pytest.param(["plot", "{readonly}"], "Permission denied", marks=PERMISSIONS),
        (["plot", "{unwritable}"], "losses.png: Is a directory"),
        (["compare", "{finished}", "{finished}", "--out", "{file}/c.png"], "file: File exists"),
        pytest.param(["compare", "{finished}", "{finished}", "--out", "{locked}/c.png"], "denied", marks=PERMISSIONS),
        (["run", "--resume", "--out", "{truncated}"], "checkpoint.npz is damaged"),
        (["run", "--resume", "--out", "{malformed}"], "config.json is damaged"),
        (["run", "--resume", "--out", "{keyless}"], "config.json is damaged"),
        (["run", "--resume", "--out", "{population}"], "population.npy is damaged"),
        (["compare", "{finished}", "{finished}", "--out", "{fresh}.xyz"], "--out must name a .png file"),
        (["compare", "{finished}"], "compare needs two or more runs"),
        (["bench", "--nosuchflag"], "unrecognized arguments: --nosuchflag"),
        (["bench", "--out", "{file}"], "exists and is not a folder"),
    ],
)
def test_bad_input_ends_in_one_line(places, args, fragment):
    env = dict(os.environ, PYTHONPATH=str(REPO), XLA_FLAGS="--xla_force_host_platform_device_count=1")
    command = [sys.executable, "-m", "jaxbngan", *(arg.format(**places) for arg in args)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr
    assert not Path(places["fresh"]).exists()


def test_a_run_that_cannot_fit_is_refused_with_the_estimate(monkeypatch):
    config = tiny("bn-split")
    monkeypatch.setattr(memory, "_available_host_memory", lambda: 10**9)
    need = memory.results_bytes(config, 10**6, 2)
    assert need > 10**9
    with pytest.raises(ConfigError, match=r"need about [\d.]+ GB of host memory at the end, more than the 1 GB avail"):
        seed_layout.plan_layout(config, 10**6, jax.devices()[:1], 2)
    monkeypatch.setattr(memory, "memory_budget", lambda devices, whole=False: 1000)
    with pytest.raises(ConfigError, match="one seed needs about .* more than the 1 KB free per device"):
        seed_layout.plan_layout(config, 1, jax.devices()[:1], 2)


def test_chunk_planning_is_quick_for_any_step_count():
    assert seed_layout.default_chunk_logs(10**12) == 10**11
    assert seed_layout.default_chunk_logs(2**31 - 1) == 1  # a prime


# -- divergence beyond NaN --------------------------------------------------------------------------


def history_of(offsets: np.ndarray, std_ratio: float = 1.0) -> Metrics:
    seeds, logs = offsets.shape[:2]
    zeros = np.zeros((seeds, logs))
    return Metrics(
        g_loss=zeros,
        d_loss=zeros,
        offset=offsets,
        std_ratio=np.full((seeds, logs, 2), std_ratio),
        energy_distance=zeros,
        d_fake_loss_by_view=np.zeros((seeds, logs, 3)),
        d_fake_logit_by_view=np.zeros((seeds, logs, 3)),
        both_win=zeros.astype(bool),
        high_quality=zeros,
        mode_coverage=zeros,
        kid=zeros,
        frechet_distance=zeros,
        pixel_kid=zeros,
        class_kl=zeros,
        d_fake_loss=zeros,
        running_position=np.full((seeds, logs, 2, 2), np.nan),  # (seeds, logs, D layers, moments)
        running_between=np.full((seeds, logs, 2, 2), np.nan),
    )


def test_a_seed_whose_fakes_leave_a_sane_range_is_flagged():
    real = np.random.default_rng(0).normal(size=(256, 2)) * 3.0  # spread about 3 * sqrt(2)
    offsets = np.zeros((3, 2, 2))
    offsets[0, 1] = [1e18, 0.0]  # finite, and far outside
    offsets[1, :] = [20.0, 20.0]  # a few spreads away: a bad seed, not a diverged one
    steps = np.array([10, 20])
    np.testing.assert_array_equal(finals.divergence_steps(history_of(offsets), steps, real), [20, -1, -1])
    summary = finals.summarize(history_of(offsets), steps, real)
    assert summary["diverged"] == [{"seed": 0, "step": 20}] and summary["aggregate"]["offset_x"]["seeds"] == 2
    # Fakes a thousand times wider than the data have diverged too; the same data scaled keeps the verdict.
    wide = finals.divergence_steps(history_of(np.zeros((1, 2, 2)), std_ratio=1e3), steps, real)
    np.testing.assert_array_equal(wide, [10])
    np.testing.assert_array_equal(finals.divergence_steps(history_of(offsets * 1e6), steps, real * 1e6), [20, -1, -1])
