"""Seeds sharded over devices and processes: the same numbers bit for bit, independent seeds, no collectives.

XLA gives the CPU several devices only in a fresh process, so tests/sharded_run.py runs the sharded
runs in subprocesses: one process with 4 devices, and two processes with 2 devices each joined by
`jax.distributed` on localhost, exactly as two hosts would be.
"""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import chex
import jax
import numpy as np
import pytest

from jaxbngan import ConfigError, seed_keys, tuning
from jaxbngan.sharding import initialize_distributed, seed_devices, shard_seeds

SCRIPT = Path(__file__).with_name("sharded_run.py")
COLLECTIVE = re.compile(r"\b(all-gather|all-reduce|all-to-all|collective-permute|reduce-scatter|collective-broadcast)")
# No tolerance anywhere: a seed runs the same program whatever the layout, so its numbers are equal.


def launch(out: Path, devices: int, *args: str, **env: str) -> subprocess.Popen:
    flags = " ".join([os.environ.get("XLA_FLAGS", ""), *tuning.xla_flags("cpu", devices)]).strip()
    path = os.pathsep.join(filter(None, [str(SCRIPT.parent.parent), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "PYTHONPATH": path, **env}
    # Each device compiles its own program: small ones too go to the session's cache, so the layouts
    # that give a device the same block of seeds load it instead of compiling it again.
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(out), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(*processes: subprocess.Popen) -> None:
    for process in processes:
        log, _ = process.communicate(timeout=600)
        assert process.returncode == 0, log[-4000:]


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return dict(data)


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    """Outputs of one process with 4 devices (each compiles its own program: more devices, more compiling)."""
    out = tmp_path_factory.mktemp("single")
    finish(launch(out, 4))
    return out


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Path:
    """Outputs of two processes with 2 devices each."""
    out = tmp_path_factory.mktemp("multi")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    processes = [
        launch(
            out,
            2,
            JAXBNGAN_DISTRIBUTED="1",
            JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
            JAXBNGAN_NUM_PROCESSES="2",
            JAXBNGAN_PROCESS_ID=str(process),
        )
        for process in range(2)
    ]
    finish(*processes)
    return out


def real_sizes(tmp_path_factory, kind: str) -> Path:
    """The driver's layouts at a real preset's sizes, in one process with 4 devices and the command line's XLA flags."""
    out = tmp_path_factory.mktemp(kind)
    finish(launch(out, 4, kind))
    return out


def test_four_devices_give_the_numbers_of_one(single):
    reference, sharded = load(single / "reference.npz"), load(single / "sharded.npz")
    assert reference.keys() == sharded.keys()
    chex.assert_trees_all_equal(sharded, reference)
    layout = json.loads((single / "single.json").read_text())["layout"]
    assert (layout["devices"], layout["history_devices"], layout["history_spec"]) == (4, 4, "P('seeds',)")
    # Device i holds seeds 4i to 4i + 3, in order.
    np.testing.assert_array_equal(
        np.asarray(layout["key_shards"]), np.asarray(jax.random.key_data(seed_keys(0, 16))).reshape(4, 4, 2)
    )


def assert_layouts_agree(layouts: dict[str, np.ndarray], count: int) -> None:
    """Every layout's histories of seeds 0 and 1 equal the first layout's, bit for bit."""
    names = sorted({key.split("/")[0] for key in layouts})
    assert len(names) == count
    for name in names[1:]:
        for key in [k for k in layouts if k.startswith(names[0] + "/")]:
            field = key.split("/")[1]
            np.testing.assert_array_equal(layouts[f"{name}/{field}"], layouts[key], err_msg=f"{name} {field}")


def test_a_seed_gets_the_same_numbers_on_any_layout_of_the_driver(single):
    # Devices 1 or 2, 2 to 6 seeds, groups of 1 to 4 (padded or not): one backend, one result per seed.
    assert_layouts_agree(load(single / "layouts.npz"), 5)


@pytest.mark.slow  # the tiny layouts above are checked by default; these compile a program per device at full size
def test_the_same_holds_at_the_sizes_of_real_presets(tmp_path_factory):
    # bn-split (batches of 2048, 64-wide layers) on 1, 2 and 4 devices: XLA rounds a program partitioned
    # over 2 or more devices unlike the one-device program, so each device runs the one-device program.
    assert_layouts_agree(load(real_sizes(tmp_path_factory, "points") / "points.npz"), 3)


@pytest.mark.slow
def test_the_same_holds_for_a_dcgan_on_digits(tmp_path_factory):
    assert_layouts_agree(load(real_sizes(tmp_path_factory, "images") / "images.npz"), 2)


def test_a_seed_ignores_the_other_seeds(single):
    sharded, others = load(single / "blocks.npz"), load(single / "others_replaced.npz")
    # Seed 0 shares its device and its vmapped block with seed 1; every other seed was replaced.
    chex.assert_trees_all_equal({k: v[0] for k, v in sharded.items()}, {k: v[0] for k, v in others.items()})
    losses = "['history'].g_loss"
    assert np.all(np.abs(sharded[losses][1:, -1] - others[losses][1:, -1]) > 1e-4)


def test_the_compiled_chunk_never_communicates(single):
    # Separate one-device programs cannot; the partitioned program (accelerators') holds no collective either.
    chunk = (single / "chunk.hlo").read_text()
    assert "num_partitions=4" in chunk  # one program partitioned over all 4 devices
    assert COLLECTIVE.findall(chunk) == []
    # The same check sees the all-reduce of a mean over seeds.
    assert "all-reduce" in COLLECTIVE.findall((single / "across_seeds.hlo").read_text())


def test_no_more_devices_than_seeds_unless_asked(single):
    layout = json.loads((single / "single.json").read_text())["layout"]
    assert layout["devices_for_seeds"] == {"1": 1, "3": 3, "8": 4, "20": 4}
    assert layout["devices_for_seeds_with_limit"] == 2


def test_bad_requests_are_one_line_errors(single):
    errors = json.loads((single / "single.json").read_text())["errors"]
    assert errors["uneven"].startswith("10 seeds cannot be split evenly over 4 devices")
    assert errors["too_many"] == "--devices must be between 1 and 4 (visible devices), got 5"
    assert errors["zero"] == "--devices must be between 1 and 4 (visible devices), got 0"
    assert errors["ragged"].startswith("every leaf needs the same leading seed axis")
    visible = jax.device_count()
    with pytest.raises(ConfigError, match=f"between 1 and {visible}"):
        seed_devices(visible + 1)
    with pytest.raises(ConfigError, match="same leading seed axis"):
        shard_seeds({"scalar": np.float32(1.0)}, seed_devices())


def test_two_processes_give_the_numbers_of_one(single, multi):
    chex.assert_trees_all_equal(load(multi / "multiprocess.npz"), load(single / "reference.npz"))
    reports = [json.loads((multi / f"process{p}.json").read_text()) for p in range(2)]
    # Process p holds the p-th contiguous block of seeds; a device limit takes as many from each.
    assert [r["seeds"] for r in reports] == [list(range(8)), list(range(8, 16))]
    for report in reports:
        assert report["devices"] == 4
        assert report["two_devices_on_processes"] == [0, 1]
        assert report["devices_for_three_seeds"] == [0, 0, 1, 1]  # rounded up to a multiple of the processes
        assert report["three_devices"] == "--devices 3 must be a multiple of the 2 processes (each brings as many)"


def test_distributed_start_is_asked_for_and_fails_clearly(monkeypatch):
    monkeypatch.delenv("JAXBNGAN_DISTRIBUTED", raising=False)
    assert initialize_distributed() is False
    assert initialize_distributed(enable=False) is False
    monkeypatch.setenv("JAXBNGAN_DISTRIBUTED", "maybe")
    with pytest.raises(ConfigError, match="JAXBNGAN_DISTRIBUTED must be 1 or 0"):
        initialize_distributed()
    monkeypatch.setenv("JAXBNGAN_DISTRIBUTED", "1")
    monkeypatch.setenv("JAXBNGAN_PROCESS_ID", "first")
    with pytest.raises(ConfigError, match="JAXBNGAN_PROCESS_ID must be an integer"):
        initialize_distributed()
    monkeypatch.delenv("JAXBNGAN_PROCESS_ID")
    jax.devices()  # JAX has started in this process: too late to join
    with pytest.raises(ConfigError, match="cannot join the multi-process run: .*must be called before"):
        initialize_distributed()
