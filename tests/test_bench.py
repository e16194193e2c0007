"""The throughput benchmark: a toy-size run of the real script and its output, the hand FLOP count, bad input."""

import dataclasses
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from helpers import tiny

from jaxbngan import make_run, tuning
from jaxbngan.bench import dcgan, main, plan, report, roofline, startup_child
from jaxbngan.presets import get_preset, with_overrides

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "throughput.py"


def bench_script(tmp_path, *args) -> dict:
    """Run benchmarks/throughput.py at toy size into tmp_path; its results JSON."""
    command = [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path), "--device", "toy", *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "seed-steps/s" in done.stdout
    assert (tmp_path / "throughput-toy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "throughput-toy.partial.json").exists()
    return json.loads((tmp_path / "throughput-toy.json").read_text())


def assert_timed(records: list[dict]) -> None:
    assert records
    for record in records:
        assert len(record["times_s"]) == 3
        assert record["median_s"] == statistics.median(record["times_s"])
        assert record["seed_steps_per_s"] > 0 and record["compile_s"] > 0


@pytest.mark.slow
def test_quick_sweep_writes_results_and_summary(tmp_path):
    results = bench_script(tmp_path, "--presets", "bn-split", "--peers", "none", "--sections", "sweep,end_to_end")
    assert results["errors"] == []
    assert len(results["load_average_start"]) == len(results["load_average_end"]) == 3
    assert results["probe"]["backend"] == jax.default_backend()
    assert results["machine"]["matmul_flops_per_s"] > 0 and results["machine"]["memory_bytes_per_s"] > 0
    for section in ("throughput", "naive_loop", "logging"):
        assert_timed(results[section])
    assert [r["seeds"] for r in results["throughput"]] == [1, 2]
    if results["probe"]["backend"] == "cpu":  # the tuned flags reached the workers: a device per core
        assert results["xla_flags"] == list(tuning.xla_flags("cpu", tuning.cpu_cores()))
        assert results["throughput"][1]["devices"] == min(2, tuning.cpu_cores())
    assert {r["logging"] for r in results["logging"]} == {"with", "without"}
    assert "widths" not in results and "variants" not in results
    (whole,) = results["end_to_end"]  # the driver's whole job, 2 seeds x 5 steps at toy size
    assert (whole["seeds"], whole["steps"], len(whole["times_s"])) == (2, 5, 3)
    assert whole["median_s"] == statistics.median(whole["times_s"])
    assert whole["seed_steps_per_s"] == 2 * 5 / whole["median_s"]
    assert results["summary"]["end_to_end"] == whole
    # `jaxbngan run` itself, a first run filling a compilation cache and a second loading from it, by phase
    assert [r["run"] for r in results["startup"]] == ["first", "second"] * 3
    for record in results["startup"]:
        assert record["exit"] == 0 and record["missing"] == []
        assert sum(record["phases"].values()) == pytest.approx(record["wall_s"])
        assert 0 < record["outside_training_share"] < 1
    assert set(results["summary"]["startup"]) == {"first", "second"}

    entry = results["summary"]["presets"]["bn-split"]
    assert set(entry["seed_steps_per_s"]) == {"1", "2"}  # JSON keys
    assert entry["flops_per_step_by_hand"] == results["cost"][0]["flops_matmul_by_hand"]
    assert entry["roofline_fraction"]["1"] > 0
    assert entry["ratio_to_peer"]["naive-jax-loop"]["2"] > 0
    assert results["summary"]["targets"]["min_bn_split_seed_steps_per_s"] > 0


@pytest.mark.slow
def test_quick_run_of_every_section_and_installed_peer(tmp_path):
    results = bench_script(tmp_path)
    assert results["errors"] == []
    for section in ("throughput", "widths", "width_one", "unroll", "full_vmap", "variants"):
        assert_timed(results[section])
    assert len({r["variant"] for r in results["variants"]}) == 2
    assert {r["preset"] for r in results["throughput"]} == set(plan.PRESETS)
    timed_peers = [r for r in results.get("peers", []) if "skipped" not in r]
    for peer, module in (("torch", "torch"), ("keras", "tensorflow")):
        if importlib.util.find_spec(module):
            assert peer in {r["peer"] for r in timed_peers}
    if timed_peers:
        assert_timed(timed_peers)


@pytest.mark.parametrize("preset", ["no-bn", "bn-split", "fix", "joint-g-step"])
def test_hand_flop_count_is_xla_count_without_elementwise_work(preset):
    config = tiny(preset, size=256)
    run = make_run(config)
    state = run.strategy.init(jax.random.key(0))
    xla = jax.jit(run.strategy.train_step).lower(state).compile().cost_analysis()
    xla = xla[0] if isinstance(xla, list) else xla
    by_hand = roofline.matmul_flops(config, run.population.shape[0], run.population.shape[1:])
    # XLA also counts BN, activations, losses and Adam, but turns the products with one or two
    # terms per sum into elementwise work that it counts at half the hand count's 2 FLOPs per term.
    assert 0.8 < by_hand / xla["flops"] < 1.1


@pytest.mark.parametrize("side", [8, 16])  # a stride-2 layer then a stride-1 one; two stride-2 layers
def test_hand_flop_count_of_conv_nets_is_xla_count_without_elementwise_work(side):
    """The DCGAN step's products by hand from the layer shapes (strides from the image size) against XLA's count."""
    config = dataclasses.replace(with_overrides(get_preset("dcgan-split").config, data={"size": 32}), batch_size=16)
    run = make_run(config, np.zeros((32, side, side, 1), np.float32))  # own images: no classifier to train
    state = run.strategy.init(jax.random.key(0))
    xla = jax.jit(run.strategy.train_step).lower(state).compile().cost_analysis()
    xla = xla[0] if isinstance(xla, list) else xla
    assert 0.85 < roofline.matmul_flops(config, 16, (side, side, 1)) / xla["flops"] < 1.15


@pytest.mark.parametrize(
    "args, message",
    [
        (["--reps", "2"], "--reps must be at least 3"),
        (["--presets", "bn-splt"], "did you mean bn-split"),
        (["--peers", "jax"], "unknown peer 'jax'"),
        (["--seeds", "0,4"], "--seeds must be positive"),
        (["--device", "a/b"], "--device must be"),
    ],
)
def test_bad_arguments_end_as_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def sweep_results(backend: str, rates: dict[int, float], end_to_end: list[dict] | None = None) -> dict:
    """Collected records of a bn-split sweep on `backend`, as the orchestrator gathers them."""
    results = {
        "probe": {"backend": backend},
        "cost": [{"preset": "bn-split", "flops_matmul_by_hand": 1, "flops_xla": 1, "least_bytes": 1}],
        "throughput": [
            {"preset": "bn-split", "seeds": seeds, "seed_steps_per_s": rate, "program_bytes": 1, "max_rss_bytes": 1}
            | {"compile_s": 1.0}
            for seeds, rate in rates.items()
        ],
    }
    return results | ({"end_to_end": end_to_end} if end_to_end else {})


def test_targets_follow_the_backend():
    cpu = report.summarize(sweep_results("cpu", {1: 490.0, 1024: 580.0}))["targets"]
    assert cpu["min_bn_split_seed_steps_per_s"] == 490.0 and cpu["bn_split_at_least_500_everywhere"] is False

    # On an accelerator only 1024 seeds and more count, and the end-to-end run's slowest repetition.
    whole = [{"seeds": 1024, "steps": 2000, "times_s": [19.0, 26.0, 20.0]}]
    gpu = report.summarize(sweep_results("gpu", {1: 900.0, 1024: 150_000.0, 4096: 99_000.0}, whole))["targets"]
    assert gpu["min_bn_split_seed_steps_per_s_from_1024_seeds"] == 99_000.0
    assert gpu["bn_split_at_least_100000_from_1024_seeds"] is False
    assert gpu["end_to_end_1024_seeds_2000_steps_max_s"] == 26.0 and gpu["end_to_end_under_25_s"] is False
    fast = report.summarize(sweep_results("gpu", {1024: 150_000.0}, [whole[0] | {"times_s": [20.0, 21.0, 22.0]}]))
    assert fast["targets"]["bn_split_at_least_100000_from_1024_seeds"] is True
    assert fast["targets"]["end_to_end_under_25_s"] is True
    toy = report.summarize(sweep_results("gpu", {4: 1000.0}, [{"seeds": 2, "steps": 5, "times_s": [1.0] * 3}]))
    assert toy["targets"] == {
        "min_bn_split_seed_steps_per_s_from_1024_seeds": None,
        "bn_split_at_least_100000_from_1024_seeds": None,
    }


def test_dcgan_section_times_a_registered_preset_in_the_drivers_layout():
    # The section takes any registered preset whose run has the 2-D presets' interface; bn-split stands in here.
    records = list(dcgan.cells("bn-split", "moons", {"seconds": 0.01, "reps": 3, "dcgan_seeds": [2]}))
    assert [(r["layout"], r["seeds"]) for r in records] == [("naive-loop", 1), ("driver", 2)]
    assert all((r["preset"], r["data"], r["batch"]) == ("bn-split", "moons", None) for r in records)
    assert_timed(records)
    assert records[1]["steps_per_call"] >= 1 and records[1]["devices"] >= 1


def test_dcgan_section_skips_missing_presets_and_data_in_one_line():
    assert dcgan.unavailable("bn-split", "digits") is None
    note = dcgan.unavailable("dcgan-splt-missing", "digits")
    assert note.startswith("dcgan: skipped dcgan-splt-missing on digits, unknown preset") and "\n" not in note
    (record,) = dcgan.cells("bn-split", "no-such-data", {"seconds": 0.01, "reps": 3, "dcgan_seeds": [1]})
    assert "unknown data set 'no-such-data'" in record["skipped"] and "seed_steps_per_s" not in record


def test_dcgan_summary_sets_each_case_against_the_torch_peer():
    case = {"preset": "dcgan-split", "data": "digits", "batch": 64}
    records = [
        case | {"layout": "naive-loop", "seeds": 1, "seed_steps_per_s": 30.0},
        case | {"layout": "driver", "seeds": 1, "seed_steps_per_s": 40.0},
        case | {"layout": "driver", "seeds": 4, "seed_steps_per_s": 100.0},
        {"peer": "torch-dcgan", "data": "digits", "seeds": 1, "seed_steps_per_s": 20.0},
        {"peer": "torch-dcgan", "data": "shapes:side=32", "seeds": 1, "skipped": "no gpu here"},
    ]
    results = {"dcgan": records}
    results["summary"] = report.summarize(results)
    assert results["summary"]["dcgan"] == {
        "cases": {
            "dcgan-split on digits": {
                "seed_steps_per_s": {1: 40.0, 4: 100.0},
                "naive_loop_seed_steps_per_s": 30.0,
                "torch_dcgan_seed_steps_per_s": 20.0,
                "ratio_to_torch_dcgan": {1: 2.0, 4: 5.0},
            }
        },
        "torch_dcgan_seed_steps_per_s": {"digits": 20.0},
    }
    assert "torch-dcgan (eager, one seed) on digits: 20.0" in report.table(results)


@pytest.mark.slow
def test_sharding_benchmark_times_the_drivers_layout(tmp_path):
    script = REPO / "benchmarks" / "sharding.py"
    command = [sys.executable, str(script), "--seeds", "2", "--steps", "2", "--rounds", "1", "--devices", "1", "2"]
    done = subprocess.run([*command, "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (path,) = tmp_path.glob("sharding-cpu-*.json")
    report = json.loads(path.read_text())
    cells = [(row["devices"], row["program"]) for row in report["results"]]
    assert cells == [(1, "separate"), (1, "partitioned"), (2, "separate"), (2, "partitioned")]
    for row in report["results"]:
        # The worker runs the CLI driver's layout for its device count, unroll included.
        width = tuning.vmap_width("cpu", row["seeds_per_device"])
        assert row["vmap_width"] == width
        assert row["scan_unroll"] == tuning.scan_unroll("cpu")
        assert row["seed_steps_per_s"] > 0 and row["first_call_s"] > 0


def test_phase_clock_takes_nested_phases_and_compilations_out_of_the_enclosing_one():
    clock = startup_child._Clock()
    inner = clock.wrap("writing", lambda: time.sleep(0.02))

    def outer():
        time.sleep(0.02)
        inner()
        clock.compiled("/jax/core/compile/backend_compile_duration", 0.005)
        clock.compiled("/jax/some/other/event", 1.0)

    start = time.perf_counter()
    clock.wrap("training", outer)()
    wall = time.perf_counter() - start
    assert set(clock.seconds) == {"training", "writing", "compile"}
    assert clock.seconds["compile"] == 0.005
    assert clock.seconds["writing"] >= 0.02 and clock.seconds["training"] >= 0.02 - 0.005
    assert 0.04 <= sum(clock.seconds.values()) <= wall  # the outermost phase's time, split without a gap
