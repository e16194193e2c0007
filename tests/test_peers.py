"""The peers' harness: each peer runs on jaxbngan's kind of device or is recorded as skipped."""

import importlib
import json
import sys
from pathlib import Path

import pytest

from jaxbngan import get_preset
from jaxbngan.config import to_dict

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.syspath_prepend(str(PEERS))
    return importlib.import_module("harness")


def run_peer(harness, monkeypatch, capsys, device, use_device, make_step) -> list[dict]:
    """The records `harness.run` prints for bn-split and no-bn with a fake peer."""
    configs = {name: to_dict(get_preset(name).config) for name in ("bn-split", "no-bn")}
    spec = {"peer": "fake", "configs": configs, "size": 8, "seconds": 0.01, "reps": 3, "compile": False}
    monkeypatch.setattr(sys, "argv", ["fake_step.py", json.dumps(spec | {"device": device})])
    harness.run("fake 1.0", use_device, make_step)
    out = capsys.readouterr().out.splitlines()
    return [json.loads(line[len(harness.RECORD) :]) for line in out]


def test_a_peer_steps_on_the_device_handle_it_chose(harness, monkeypatch, capsys):
    seen = []

    def make_step(config, batch, compiled, target):
        seen.append((batch, compiled, target))
        return lambda: (0.0, 0.0)

    records = run_peer(harness, monkeypatch, capsys, "gpu", lambda backend: f"handle of {backend}", make_step)
    assert seen == [(8, False, "handle of gpu")] * 2
    assert [(r["preset"], r["device"]) for r in records] == [("bn-split", "gpu"), ("no-bn", "gpu")]
    assert all(r["seed_steps_per_s"] > 0 and len(r["times_s"]) == 3 for r in records)


def test_a_peer_that_cannot_use_the_device_skips_every_preset(harness, monkeypatch, capsys):
    def use_device(backend):
        raise harness.Unsupported(f"no {backend} here")

    def make_step(*args):
        raise AssertionError("a skipped peer must not build a step")

    records = run_peer(harness, monkeypatch, capsys, "tpu", use_device, make_step)
    assert [(r["preset"], r["skipped"], r["device"]) for r in records] == [
        ("bn-split", "no tpu here", "tpu"),
        ("no-bn", "no tpu here", "tpu"),
    ]
    assert not any("seed_steps_per_s" in r for r in records)


def test_torch_peer_maps_backends_to_its_devices(harness):
    torch = pytest.importorskip("torch")
    torch_step = importlib.import_module("torch_step")
    assert torch_step.use_device("cpu") == torch.device("cpu")
    with pytest.raises(harness.Unsupported, match="runs on tpu"):
        torch_step.use_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(harness.Unsupported, match="runs on gpu"):
            torch_step.use_device("gpu")
