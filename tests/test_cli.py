"""The command line: real runs in a subprocess (files, summary, exit codes, resume), errors as one line."""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import jax
import numpy as np
import pytest
from helpers import tiny

from jaxbngan import Metrics, api, cli, cli_results, request, rundir, seed_layout
from jaxbngan.catalog import DATA_SETS, FINAL_METRICS, SUMMARY_FIELDS, SWEEP_POINT_FIELDS, SWEEP_SUMMARY_FIELDS
from jaxbngan.config import ConfigError, to_dict
from jaxbngan.data import GENERATORS
from jaxbngan.overrides import Setting, parse_overrides
from jaxbngan.presets import DEFAULT_PRESET, PRESETS, get_preset

REPO = Path(__file__).resolve().parents[1]
# 3 seeds in groups of 2 (the second padded), two chunks of 10 steps each.
TINY = ["bn-split", "--steps", "20", "--set", "log_every=10", "--seeds", "3", "--set", "data.size=64"]
LAYOUT = ["--group-size", "2", "--chunk-steps", "10"]
FIGURES = {"samples.png", "losses.png", "diagnostic.png", "distances.png", "blindness.png"}


def jaxbngan(*args) -> subprocess.CompletedProcess:
    """The real command, as `python -m jaxbngan`, from the repository root."""
    # One CPU device, whatever the machine's cores: the layouts asserted below assume it.
    env = dict(os.environ, PYTHONPATH=str(REPO), XLA_FLAGS="--xla_force_host_platform_device_count=1")
    command = [sys.executable, "-m", "jaxbngan", *map(str, args)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def in_process(*args) -> tuple[int, str, str]:
    """`cli.main` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(map(str, args)))
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxbngan: error:"), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs") / "finished"
    result = jaxbngan("run", *TINY, *LAYOUT, "--out", root)
    assert result.returncode == 0, result.stderr
    assert f"results go to {root}/" in result.stdout and "devices: 1 of" in result.stdout
    assert "2 groups of 2 seeds (1 padding seed, discarded)" in result.stdout
    assert "  offset_x (std) " in result.stdout and "measured: median x-offset" in result.stdout
    assert "trained 60 seed-steps in" in result.stderr  # the progress line's total
    return root


@pytest.fixture(scope="module")
def resumed(tmp_path_factory) -> dict:
    """The same run stopped after its first chunk, inspected, refused a changed config, then resumed."""
    root = tmp_path_factory.mktemp("runs") / "resumed"
    stages = {"root": root, "stopped": jaxbngan("run", *TINY, *LAYOUT, "--out", root, "--time-limit", 0)}
    stages["files_when_stopped"] = {p.name for p in root.iterdir()}
    stages["plot_when_stopped"] = jaxbngan("plot", root)
    stages["changed"] = in_process("run", "--resume", "--out", root, "--steps", 40)
    stages["resume"] = jaxbngan("run", "--resume", "--out", root)
    return stages


def load_arrays(root: Path) -> dict[str, np.ndarray]:
    with np.load(root / rundir.METRICS) as metrics, np.load(root / rundir.SAMPLES) as samples:
        return {**{k: metrics[k] for k in metrics}, "fakes": samples["fakes"]}


def test_run_writes_a_complete_run_directory(finished):
    assert {p.name for p in finished.iterdir()} == {
        "config.json",
        "population.npy",
        "metrics.npz",
        "samples.npz",
        "summary.json",
    } | FIGURES
    spec = json.loads((finished / "config.json").read_text())
    assert spec["preset"] == "bn-split" and spec["seeds"] == 3 and spec["data"] == "ring8"
    assert spec["config"]["steps"] == 20 and spec["config"]["data"]["size"] == 64
    assert spec["config"]["discriminator"]["norms"] == ["batch", "batch"]
    assert set(spec["versions"]) >= {"jaxbngan", "jax"} and spec["device"].startswith("cpu")
    assert spec["git"] is None or set(spec["git"]) == {"commit", "dirty"}  # None outside a checkout
    assert spec["layout"] == {"seeds": 3, "group_size": 2, "chunk_steps": 10, "devices": 1}
    assert spec["execution"] == {"vmap_width": 1, "scan_unroll": 2, "programs": "separate"}  # what sets rounding

    arrays = load_arrays(finished)
    np.testing.assert_array_equal(arrays["steps"], [10, 20])
    for name in Metrics._fields:
        assert arrays[name].shape[:2] == (3, 2), name
    assert arrays["offset"].shape == (3, 2, 2) and arrays["d_fake_loss_by_view"].shape == (3, 2, 3)
    assert arrays["fakes"].shape == (3, 64, 2)
    assert np.all(np.isfinite(arrays["g_loss"]))
    assert not np.array_equal(arrays["fakes"][0], arrays["fakes"][2])  # the padded group's real seed is its own

    summary = json.loads((finished / "summary.json").read_text())
    assert summary["seeds"] == 3 and summary["diverged"] == [] and len(summary["per_seed"]) == 3
    assert set(summary["aggregate"]) >= {"g_loss", "d_loss", "offset_x", "energy_distance", "both_win"}
    g_loss = summary["aggregate"]["g_loss"]
    assert g_loss["seeds"] == 3 and g_loss["median"] == pytest.approx(np.median(arrays["g_loss"][:, -1]))
    assert g_loss["q25"] <= g_loss["median"] <= g_loss["q75"]
    assert summary["per_seed"][1]["d_loss"] == pytest.approx(float(arrays["d_loss"][1, -1]))
    assert summary["per_seed"][1]["diverged_at"] is None


def test_time_limit_stops_after_a_chunk_with_a_checkpoint(resumed):
    stopped = resumed["stopped"]
    assert stopped.returncode == cli.EXIT_STOPPED, stopped.stderr
    assert "--resume" in stopped.stdout
    files = resumed["files_when_stopped"]
    assert "checkpoint.npz" in files and "metrics.npz" not in files and "summary.json" not in files
    assert not any(name.startswith(".") for name in files)  # no temporary file left behind


def test_a_partial_run_can_be_plotted(resumed):
    plotted = resumed["plot_when_stopped"]
    assert plotted.returncode == 0, plotted.stderr
    assert "partial: 2 of 3 seeds have started" in plotted.stdout  # the first group; no padding shown
    assert "losses.png" in plotted.stdout and "diagnostic.png" in plotted.stdout


def test_resume_refuses_a_changed_config(resumed):
    assert_one_line_error(resumed["changed"][0], resumed["changed"][2], "steps: 20 -> 40")


def test_resume_ends_with_the_same_numbers_as_an_uninterrupted_run(finished, resumed):
    assert resumed["resume"].returncode == 0, resumed["resume"].stderr
    root = resumed["root"]
    assert {p.name for p in root.iterdir()} == {p.name for p in finished.iterdir()}
    uninterrupted, continued = load_arrays(finished), load_arrays(root)
    assert uninterrupted.keys() == continued.keys()
    for name in uninterrupted:
        np.testing.assert_array_equal(continued[name], uninterrupted[name], err_msg=name)
    summaries = [json.loads((r / "summary.json").read_text()) for r in (finished, root)]
    assert summaries[0]["aggregate"] == summaries[1]["aggregate"]


def test_compare_tabulates_runs_and_draws_a_figure(finished, resumed, tmp_path):
    figure = tmp_path / "cmp.png"
    result = jaxbngan("compare", finished, resumed["root"], "--out", figure)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[1]
    assert "finished" in header and "resumed" in header
    g_loss = next(line for line in result.stdout.splitlines() if line.startswith("g_loss"))
    median = np.median(load_arrays(finished)["g_loss"][:, -1])
    assert f"{median:.4g}" in g_loss and g_loss.count("[") == 2
    assert figure.stat().st_size > 0


def fabricated(root: Path, *, preset: str = "bn-split", steps: int = 20, data: str = "ring8") -> Path:
    """A finished run of 3 seeds written by rundir's own functions, without training.

    Seed i ends with its mean x i + 1 standard deviations of the real x away, D loss 0.1 * (i + 1),
    and both players winning for seeds 0 and 1.
    """
    seeds, logs = 3, 2
    config = tiny(preset, steps=steps, log_every=steps // logs)
    real = np.random.default_rng(0).normal(size=(64, 2)) * [4.0, 1.0]
    rundir.create(root, {"preset": preset, "data": data, "seeds": seeds, "seed": 0, "config": to_dict(config)}, real)
    extra = {"offset": (2,), "std_ratio": (2,), "d_fake_loss_by_view": (3,)}
    fields = {name: np.zeros((seeds, logs, *extra.get(name, ())), np.float32) for name in Metrics._fields}
    fields["offset"][:, :, 0] = np.arange(1, seeds + 1)[:, None] * np.std(real[:, 0])
    fields["d_loss"][:] = 0.1 * np.arange(1, seeds + 1)[:, None]
    fields["both_win"] = np.array([[True, True], [False, True], [False, False]])
    rundir.save_group(root, 0, Metrics(**fields), np.zeros((seeds, 5, 2), np.float32))
    rundir.finish(root, np.arange(1, logs + 1) * (steps // logs))
    return root


def test_summaries_give_offsets_in_std_of_the_data_and_name_the_unit(tmp_path):
    root = fabricated(tmp_path / "run")
    _, summary = api.conclude(root, seconds=1.0)
    # float32 offsets divided by the float64 std they were made from: equal up to float32 rounding
    assert summary["aggregate"]["offset_x"]["median"] == pytest.approx(2.0, rel=1e-6)
    assert [seed["offset_x"] for seed in summary["per_seed"]] == pytest.approx([1.0, 2.0, 3.0], rel=1e-6)
    assert summary["per_seed"][2]["offset"] == pytest.approx([3.0, 0.0], rel=1e-6)
    table = in_process("compare", root, fabricated(tmp_path / "other"), "--metrics", "offset_x,d_loss")[1]
    assert "offset_x (std)" in table


def test_the_end_of_run_message_says_what_was_measured(tmp_path):
    root = fabricated(tmp_path / "run")
    _, summary = api.conclude(root, seconds=1.0)
    offset, d_loss, both = cli_results.measured(summary, images=False)
    assert "median x-offset +2 std [IQR +1.5, +2.5]" in offset
    assert "median 0.2 [IQR 0.15, 0.25]; near ln 2 = 0.693 (within 0.1: D cannot tell" in d_loss
    assert "in 0 of 3 seeds; further below, D tells them apart" in d_loss  # 0.1, 0.2, 0.3: D wins
    summary["per_seed"][2]["d_loss"] = 0.65  # within the report's tolerance of ln 2
    assert "in 1 of 3 seeds" in cli_results.measured(summary, images=False)[1]
    # both win at the end for seeds 0 and 1; at 2, 1 and 0 of their 2 logs
    assert both.endswith("at the end in 67% of 3 seeds, over the run at 50% of the logs (mean over seeds)")


def test_explain_defines_every_field_of_a_real_summary(tmp_path):
    _, summary = api.conclude(fabricated(tmp_path / "run"), seconds=1.0)
    assert list(summary) == list(SUMMARY_FIELDS)
    assert list(summary["aggregate"]) == list(FINAL_METRICS)
    assert set(summary["per_seed"][0]) == {"seed", "diverged_at", "offset", *FINAL_METRICS}
    code, out, _ = in_process("explain")
    assert code == 0
    documented = [SUMMARY_FIELDS, FINAL_METRICS, SWEEP_SUMMARY_FIELDS, SWEEP_POINT_FIELDS]
    for name, meaning in [item for fields in documented for item in fields.items()]:
        assert any(line.split(None, 1) == [name, meaning] for line in out.splitlines()), name


def test_compare_writes_into_the_first_run_and_warns_when_runs_differ(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = fabricated(tmp_path / "a"), fabricated(tmp_path / "b", steps=40, data="moons")
    code, out, err = in_process("compare", first, second)
    assert code == 0 and (first / "compare.png").is_file() and not (tmp_path / "compare.png").exists()
    assert err.strip() == "jaxbngan: warning: the runs differ in data (a: ring8, b: moons); steps (a: 20, b: 40)"
    assert in_process("compare", first, fabricated(tmp_path / "c"))[2] == ""  # alike: no warning
    assert in_process("compare", first, fabricated(tmp_path / "fix", preset="fix"))[2] == ""  # what is compared


def test_compare_keeps_columns_apart_whatever_the_names(tmp_path):
    runs = fabricated(tmp_path / "a"), fabricated(tmp_path / "b")
    out = in_process("compare", *runs, "--out", tmp_path / "x.png")[1]
    for line in out.splitlines()[2:-1]:  # the metrics and seeds; the figure's path last
        assert len(re.split(r"\s{2,}", line.strip())) == 3, line  # name, a, b: two spaces at least between


def test_compare_shows_the_chosen_metrics_only(tmp_path):
    runs = fabricated(tmp_path / "a"), fabricated(tmp_path / "b")
    code, out, _ = in_process("compare", *runs, "--metrics", "d_loss,both_win", "--out", tmp_path / "x.png")
    rows = [line.split()[0] for line in out.splitlines()[2:-1]]
    assert code == 0 and rows == ["d_loss", "both_win", "seeds"]
    assert_one_line_error(*in_process("compare", *runs, "--metrics", "d_los")[::2], "unknown metric 'd_los'")


def test_unknown_preset_and_existing_directory_fail_in_one_line(finished):
    unknown = jaxbngan("run", "bn-splitt")
    assert_one_line_error(unknown.returncode, unknown.stderr, "unknown preset 'bn-splitt'", "bn-split")
    again = jaxbngan("run", *TINY, "--out", finished)
    assert_one_line_error(again.returncode, again.stderr, "exists", "--resume", "--overwrite")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    np.save(tmp_path / "flat.npy", np.zeros(10))
    np.save(tmp_path / "inf.npy", np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]]))
    np.save(tmp_path / "one_row.npy", np.zeros((1, 2)))
    np.save(tmp_path / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    np.savez(tmp_path / "two.npz", a=np.zeros((5, 2)), b=np.ones((5, 2)))
    return {
        "flat": tmp_path / "flat.npy",
        "inf": tmp_path / "inf.npy",
        "one_row": tmp_path / "one_row.npy",
        "strings": tmp_path / "strings.npy",
        "two": tmp_path / "two.npz",
        "word": write(tmp_path / "word.csv", "x,y\n1,2\n3,abc\n"),
        "ragged": write(tmp_path / "ragged.csv", "1,2\n3,4,5\n"),
        "nan": write(tmp_path / "nan.csv", "1,2\nnan,4\n5,6\n"),
        "text": write(tmp_path / "points.txt", "1 2\n3 4\n"),
    }


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("flat", ["flat.npy", "(n, d)", "(10,)"]),
        ("inf", ["inf.npy", "row 2", "NaN or inf"]),
        ("one_row", ["one_row.npy", "1 rows"]),
        ("strings", ["strings.npy", "real numbers"]),
        ("two", ["two.npz", "2 arrays", "a, b"]),
        ("word", ["word.csv", "line 3, column 2", "'abc'"]),
        ("ragged", ["ragged.csv", "line 2 has 3 columns"]),
        ("nan", ["nan.csv", "row 2"]),
        ("text", ["points.txt", "unsupported file type .txt"]),
    ],
)
def test_bad_data_files_fail_in_one_line(bad_files, case, fragments):
    assert_one_line_error(*in_process("run", "--data", bad_files[case])[::2], *fragments)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--data", "rng8"], ["unknown data set 'rng8'", "ring8"]),
        (["--data", "missing.csv"], ["missing.csv", "no such file"]),
        (["--seeds", "0"], ["seeds must be positive"]),
        (["--seeds", "-3"], ["seeds must be positive"]),
        (["--seeds", "many"], ["--seeds", "invalid int value"]),
        (["--steps", "0"], ["steps must be positive"]),
        (["--steps", "-5"], ["steps must be positive"]),
        (["--batch-size", "0"], ["batch_size must be at least 2"]),
        (["--set", "data.size=64", "--batch-size", "128"], ["batch_size (128) exceeds the population size (64)"]),
        (["--devices", "0"], ["--devices must be between 1 and"]),
        (["--set", "loss.shift_wieght=0.1"], ["unknown override key 'loss.shift_wieght'", "loss.shift_weight"]),
        (["--set", "loss.shift_weight"], ["--set expects KEY=VALUE"]),
        (["--lr", "fast"], ["optimizer.learning_rate", "expected a number", "'fast'"]),
        (["--d-batch", "mixed"], ["strategy.d_batch", "split, joint"]),
        (["--set", "strategy.order=sideways"], ["strategy.order", "g_first, d_first"]),
        (["--set", "strategy.g_noise=fresh"], ["strategy.g_noise='fresh'", "order='d_first'"]),
        (["--d-batch", "joint", "--set", "strategy.d_calls=real_first"], ["strategy.d_calls", "one call"]),
        (["--chunk-steps", "7"], ["--chunk-steps must be a multiple of log_every"]),
        (["--resume"], ["--resume needs --out"]),
        (["--resume", "--out", "no/such/run"], ["not a jaxbngan run directory"]),
    ],
)
def test_usage_errors_fail_in_one_line(args, fragments):
    assert_one_line_error(*in_process("run", *args)[::2], *fragments)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--steps", "200", "--set", "steps=100"], ["steps is set by both '--steps 200' and '--set steps=100'"]),
        (["--set", "steps=100", "--set", "steps=100"], ["conflicting settings: steps"]),
        (["--momentum", "0.9", "--set", "discriminator.momentum=0.5"], ["discriminator.momentum", "'--momentum 0.9'"]),
        (["--data", "moons", "--set", "data.name=ring8"], ["conflicting settings: the data set"]),
    ],
)
def test_a_field_set_twice_is_a_one_line_error(args, fragments):
    assert_one_line_error(*in_process("run", *args)[::2], *fragments)


def test_data_settings_do_not_apply_to_a_data_file(tmp_path):
    data = write(tmp_path / "points.csv", "1,2\n3,4\n5,7\n")
    code, _, err = in_process("run", "--data", data, "--set", "data.size=2")
    assert_one_line_error(code, err, "data.* settings do not apply to data read from a file", "points.csv")


@pytest.mark.parametrize(
    "seeds, group_size, devices, groups",
    [
        (3, 4, 4, "1 group of 4 seeds (1 padding seed, discarded)"),
        (5, 2, 1, "3 groups of 2 seeds (1 padding seed, discarded)"),
        (6, 4, 2, "2 groups of 4 seeds (2 padding seeds, discarded)"),
        (4, 4, 4, "1 group of 4 seeds,"),
    ],
)
def test_the_description_counts_padding_seeds(seeds, group_size, devices, groups):
    request = api.make_request(api.resolve("bn-split"), seeds, 0)
    layout = seed_layout.Layout(seeds=seeds, group_size=group_size, chunk_steps=10, devices=devices)
    session = api.Session(Path("runs/x"), request, layout, [jax.devices()[0]] * devices, resumed=False, complete=False)
    lines = api.describe(session, session.root)
    assert groups in lines[2], lines[2]


def test_overwrite_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    assert_one_line_error(*in_process("run", "--out", tmp_path, "--overwrite")[::2], "not a jaxbngan run directory")
    assert (tmp_path / "notes.txt").is_file()


def parsed(*pairs: tuple[str, str]) -> dict:
    return parse_overrides([Setting(key, value, f"--set {key}={value}") for key, value in pairs])


def test_overrides_parse_by_field_type():
    config = request.apply_overrides(
        PRESETS["bn-split"].config,
        parsed(
            ("discriminator.hidden", "32,16"),
            ("discriminator.norms", "layer,none"),
            ("data.params", "radius:3,std:0.5"),
            ("strategy.keep_g_step_stats", "false"),
            ("strategy.order", "d_first"),
            ("strategy.d_calls", "real_first"),
            ("batch_size", "none"),
            ("steps", "100"),
            ("optimizer.learning_rate", "2e-4"),
        ),
    )
    assert config.discriminator.hidden == (32, 16) and config.discriminator.norms == ("layer", "none")
    assert config.data.params == (("radius", 3.0), ("std", 0.5))
    assert config.strategy.keep_g_step_stats is False and config.batch_size is None
    assert (config.strategy.order, config.strategy.d_calls) == ("d_first", "real_first")
    assert config.steps == 100 and config.optimizer.learning_rate == 2e-4
    with pytest.raises(ConfigError, match="discriminator.norms: 'batchnorm' is not one of"):
        parsed(("discriminator.norms", "batchnorm,none"))


def test_list_names_every_preset_and_data_set():
    code, out, _ = in_process("list")
    assert code == 0
    for name in [*PRESETS, *GENERATORS]:
        assert f"  {name} " in out


@pytest.mark.parametrize("args", [["list"], ["explain"], ["--help"], ["--version"], ["run", "--help"]])
def test_commands_that_need_no_arrays_do_not_import_jax(args):
    code = (
        "import contextlib, io, sys\n"
        "from jaxbngan import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    cli.main({args!r})\n"
        "assert 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith('jax'))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_data_catalog_is_the_generators_first_doc_lines():
    assert DATA_SETS == {name: fn.__doc__.strip().splitlines()[0] for name, fn in GENERATORS.items()}


@pytest.mark.parametrize("command", ["bench", "reproduce"])
def test_bench_and_reproduce_get_their_arguments_untouched(monkeypatch, command):
    received = []
    module = types.ModuleType(f"jaxbngan.{command}")
    module.main = lambda argv: received.append(argv) or 3
    monkeypatch.setitem(sys.modules, f"jaxbngan.{command}", module)
    assert cli.main([command, "--seeds", "5", "x", "--help"]) == 3
    assert received == [["--seeds", "5", "x", "--help"]]


@pytest.mark.slow
def test_own_data_from_a_csv_file_runs_end_to_end(tmp_path):
    rows = np.random.default_rng(0).normal(size=(48, 3))
    data = write(tmp_path / "points.csv", "a,b,c\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    root = tmp_path / "own"
    result = jaxbngan("run", "bn-split", "--data", data, "--steps", 10, "--log-every", 5, "--seeds", 2, "--out", root)
    assert result.returncode == 0, result.stderr
    spec = json.loads((root / "config.json").read_text())
    assert spec["data"] == str(data) and spec["config"]["data"]["size"] == 48
    np.testing.assert_allclose(np.load(root / "population.npy"), rows, rtol=1e-6)
    assert load_arrays(root)["fakes"].shape == (2, 48, 3)


def test_a_preset_name_means_one_data_set_wherever_it_is_run(tmp_path, monkeypatch):
    # `jaxbngan run`, `jaxbngan run bn-split-shift`, `sweep bn-split-shift` and jaxbngan.run alike
    assert get_preset(DEFAULT_PRESET).config.data.name == "moons"  # where the report measures its effect
    monkeypatch.setattr(api, "train", lambda session, **kwargs: False)  # as if stopped at once: nothing compiles
    for command in (["run"], ["run", DEFAULT_PRESET], ["sweep", DEFAULT_PRESET, "--axis", "loss.shift_weight=0,1"]):
        args = [*command, "--steps", "20", "--log-every", "10", "--seeds", "1", "--set", "data.size=64"]
        root = tmp_path / "-".join(command)
        assert in_process(*args, "--time-limit", "0", "--out", root)[0] == cli.EXIT_STOPPED
        assert json.loads((root / "config.json").read_text())["data"] == "moons"
    assert api.resolve(DEFAULT_PRESET).data == "moons"
