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


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 16, 16), (3, 32, 32), (1, 28, 28)])
def test_dcgan_peer_nets_are_jaxbngans_layer_for_layer(torch_dcgan, shape):
    import jax
    import jax.numpy as jnp
    import torch

    from jaxbngan import get_preset
    from jaxbngan.convnets import halvings
    from jaxbngan.models import make_network

    config = get_preset("dcgan-split").config
    height, width = shape[1:]
    assert torch_dcgan.G_CHANNELS == config.generator.channels
    assert torch_dcgan.D_CHANNELS == config.discriminator.channels
    assert torch_dcgan.halvings(height, width, 2) == halvings(height, width, 2)
    g, d = torch_dcgan.generator(shape), torch_dcgan.discriminator(shape)
    fakes = g(torch.randn(5, torch_dcgan.NOISE_DIM))
    assert fakes.shape == (5, *shape) and fakes.abs().max() <= 1
    assert d(fakes).shape == (5, 1)
    # The same layers, widths, biases and norms: every parameter tensor has its twin of the same size.
    image = (height, width, shape[0])
    jax_g = make_network(config.generator, image).init(jax.random.key(0), jnp.zeros((2, config.noise_dim)))[0]
    jax_d = make_network(config.discriminator, 1).init(jax.random.key(0), jnp.zeros((2, *image)))[0]
    for torch_net, jax_params in ((g, jax_g), (d, jax_d)):
        assert sorted(p.numel() for p in torch_net.parameters()) == sorted(x.size for x in jax.tree.leaves(jax_params))


def test_dcgan_peer_refuses_images_that_do_not_halve(torch_dcgan, harness):
    for height, width in ((4, 4), (6, 6), (7, 16)):
        with pytest.raises(harness.Unsupported, match="does not halve"):
            torch_dcgan.strides(height, width, 2)


def test_dcgan_peer_initializes_as_dcgan(torch_dcgan):
    import torch
    from torch import nn

    g = torch_dcgan.generator((1, 32, 32))
    g.apply(torch_dcgan.dcgan_init)
    conv = next(m for m in g if isinstance(m, nn.ConvTranspose2d))  # 128 -> 64 channels, 4x4 kernels
    norm = next(m for m in g if isinstance(m, nn.BatchNorm2d))
    # 2**17 draws: the sample standard deviation is off by about 0.2% of 0.02; 10% is far outside that.
    assert abs(conv.weight.std().item() - 0.02) < 0.002 and conv.bias is None
    assert abs(norm.weight.mean().item() - 1.0) < 0.01 and torch.all(norm.bias == 0)


def test_dcgan_peer_step_trains_both_nets(torch_dcgan, monkeypatch):
    import torch

    nets = []
    make = torch_dcgan.generator, torch_dcgan.discriminator
    monkeypatch.setattr(torch_dcgan, "generator", lambda *a: nets.append(make[0](*a)) or nets[-1])
    monkeypatch.setattr(torch_dcgan, "discriminator", lambda *a: nets.append(make[1](*a)) or nets[-1])
    step = torch_dcgan.make_step((1, 8, 8), 16, torch.device("cpu"), (8, 4), (4, 8))
    before = [[p.detach().clone() for p in net.state_dict().values()] for net in nets]
    for _ in range(2):
        g_loss, d_loss = step()
        assert torch.isfinite(g_loss) and torch.isfinite(d_loss)
    for net, old in zip(nets, before, strict=True):  # every weight, BN scale and running average moved
        for (name, new), prior in zip(net.state_dict().items(), old, strict=True):
            assert not torch.equal(new, prior), name


def test_dcgan_peer_prints_one_record_per_image_shape(torch_dcgan, capsys):
    spec = {"peer": "torch-dcgan", "images": {"digits": [1, 8, 8], "odd": [1, 6, 6]}, "batch": 64}
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
