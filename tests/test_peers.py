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


@pytest.fixture
def torch_dcgan(harness):
    pytest.importorskip("torch", reason="the DCGAN peer needs torch (pip install '.[peers]')")
    return importlib.import_module("torch_dcgan")


@pytest.mark.parametrize(
    "shape, layers, first_map",
    [((1, 8, 8), 1, (4, 4)), ((1, 16, 16), 2, (4, 4)), ((3, 32, 32), 3, (4, 4)), ((1, 28, 28), 2, (7, 7))],
)
def test_dcgan_peer_nets_follow_the_image_shape(torch_dcgan, shape, layers, first_map):
    import torch
    from torch import nn

    assert torch_dcgan.stride2_layers(*shape[1:]) == (layers, first_map)
    g, d = torch_dcgan.generator(shape, width=4), torch_dcgan.discriminator(shape, width=4)
    fakes = g(torch.randn(5, torch_dcgan.NOISE_DIM))
    assert fakes.shape == (5, *shape) and fakes.abs().max() <= 1
    assert d(fakes).shape == (5, 1)
    # n stride-2 layers each; BN everywhere but G's output and D's input (the DCGAN rule).
    g_convs = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    d_convs = [m for m in d if isinstance(m, nn.Conv2d)]
    assert [m.stride for m in g_convs + d_convs] == [(2, 2)] * (2 * layers)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g) == layers
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d) == layers - 1
    assert [m.out_channels for m in d_convs] == [4 * 2**i for i in range(layers)]
    assert [m.in_channels for m in g_convs] == [4 * 2**i for i in reversed(range(layers))]


def test_dcgan_peer_refuses_images_that_do_not_halve(torch_dcgan, harness):
    for height, width in ((4, 4), (36, 36), (16, 10)):
        with pytest.raises(harness.Unsupported, match="does not halve"):
            torch_dcgan.stride2_layers(height, width)


def test_dcgan_peer_initializes_as_dcgan(torch_dcgan):
    import torch

    g = torch_dcgan.generator((1, 32, 32), width=64)
    g.apply(torch_dcgan.dcgan_init)
    conv, norm = g[4], g[5]  # the first stride-2 layer: 256 -> 128 channels, 4x4 kernels
    # 2**19 draws: the sample standard deviation is off by about 0.1% of 0.02; 10% is far outside that.
    assert abs(conv.weight.std().item() - 0.02) < 0.002 and conv.bias is None
    assert abs(norm.weight.mean().item() - 1.0) < 0.01 and torch.all(norm.bias == 0)


def test_dcgan_peer_step_trains_both_nets(torch_dcgan, monkeypatch):
    import torch

    nets = []
    make = torch_dcgan.generator, torch_dcgan.discriminator
    monkeypatch.setattr(torch_dcgan, "generator", lambda *a: nets.append(make[0](*a)) or nets[-1])
    monkeypatch.setattr(torch_dcgan, "discriminator", lambda *a: nets.append(make[1](*a)) or nets[-1])
    step = torch_dcgan.make_step((1, 8, 8), 16, torch.device("cpu"), width=8)
    before = [[p.detach().clone() for p in net.state_dict().values()] for net in nets]
    for _ in range(2):
        g_loss, d_loss = step()
        assert torch.isfinite(g_loss) and torch.isfinite(d_loss)
    for net, old in zip(nets, before, strict=True):  # every weight, BN scale and running average moved
        for (name, new), prior in zip(net.state_dict().items(), old, strict=True):
            assert not torch.equal(new, prior), name


def test_dcgan_peer_prints_one_record_per_image_shape(torch_dcgan, capsys):
    spec = {"peer": "torch-dcgan", "images": {"digits": [1, 8, 8], "odd": [1, 36, 36]}, "batch": 64}
    torch_dcgan.main(spec | {"seconds": 0.01, "reps": 3, "device": "cpu"})
    torch_dcgan.main(spec | {"seconds": 0.01, "reps": 3, "device": "tpu"})
    records = [json.loads(line[len("BENCH ") :]) for line in capsys.readouterr().out.splitlines()]
    assert [(r["section"], r["data"], r["device"]) for r in records] == [
        ("dcgan", "digits", "cpu"),
        ("dcgan", "odd", "cpu"),
        ("dcgan", "digits", "tpu"),
        ("dcgan", "odd", "tpu"),
    ]
    assert records[0]["seed_steps_per_s"] > 0 and len(records[0]["times_s"]) == 3
    assert "does not halve" in records[1]["skipped"]
    assert all("runs on tpu" in r["skipped"] for r in records[2:])
