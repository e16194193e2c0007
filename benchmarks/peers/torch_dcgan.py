"""The DCGAN image train step in PyTorch eager: the peer of jaxbngan's conv presets (`dcgan-split`).

Run as `python torch_dcgan.py SPEC_JSON` by `jaxbngan bench --sections dcgan`. SPEC holds `images`
(data set name -> [channels, height, width]), `batch`, `seconds`, `reps` and `device` (the JAX
backend, see harness.py); the peer prints one `BENCH` record (section `dcgan`) per image shape, timed
as harness.py times every peer. The real images are uniform in [-1, 1]: the values do not change the
work, the shapes do.

The nets are jaxbngan's DCGAN nets (`jaxbngan/convnets.py`) layer for layer, with the presets'
widths (G 128, 64; D 64, 128). Layer i of a net has stride 2 while H and W are even and halve to at
least 4, stride 1 after that (`halvings`, as jaxbngan's); kernels are 4x4 with 'SAME' sizes (stride 1
pads 1 before and 2 after, as XLA does; a stride-1 transposed convolution is a convolution).

- G: noise (100) -> Linear -> reshape (G's first width, H / 2**s, W / 2**s) -> BN -> ReLU, then a
  transposed convolution -> BN -> ReLU per further width, then one to C channels -> tanh: (C, H, W).
- D: a convolution -> BN (not in the first layer) -> LeakyReLU(0.2) per width, then flatten ->
  Linear(1), a logit.
- The DCGAN rule: BN in every layer but G's output and D's input; no bias where BN follows.
  Weights N(0, 0.02), BN scale N(1, 0.02), biases 0. BN momentum 0.9 in jaxbngan's convention
  (PyTorch's 0.1), epsilon 1e-5, as pytorch/examples' dcgan.
- Adam(2e-4, b1 0.5, b2 0.999) for each net; batch 64 drawn without replacement from the population.

One step, in pytorch/examples' order as `dcgan-split` runs it: D step on the real batch and the
fakes as separate calls (real first), loss 0.5 * (BCE(real, 1) + BCE(fake, 0)); then G step with the
non-saturating loss on the same fakes, D (just updated) in training mode, so its running averages
update a third time.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import harness
import torch
from torch import nn
from torch_step import use_device

NOISE_DIM = 100
POPULATION = 2048  # real images the batches are drawn from
LEAKY_SLOPE = 0.2
MOMENTUM = 0.9  # jaxbngan's convention: the running average keeps this share per update
EPSILON = 1e-5


G_CHANNELS = (128, 64)  # jaxbngan's dcgan presets
D_CHANNELS = (64, 128)


def halvings(height: int, width: int, layers: int) -> int:
    """How many of `layers` stride-2 layers fit (height, width): jaxbngan.convnets.halvings, for torch alone."""
    count = 0
    while count < layers and height % 2 == 0 and width % 2 == 0 and height >= 8 and width >= 8:
        height, width, count = height // 2, width // 2, count + 1
    return count


def strides(height: int, width: int, layers: int) -> tuple[int, ...]:
    """Per layer: 2 for the first `halvings` layers, 1 for the rest."""
    halved = halvings(height, width, layers)
    if halved == 0:
        raise harness.Unsupported(f"a {height}x{width} image does not halve to a map of at least 4 pixels a side")
    return (2,) * halved + (1,) * (layers - halved)


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=1 - MOMENTUM, eps=EPSILON)  # PyTorch's momentum is the new share


def _conv(inputs: int, outputs: int, stride: int, bias: bool, transposed: bool = False) -> list[nn.Module]:
    """A 4x4 convolution with XLA's 'SAME' output size: H * 2 (transposed), H / 2 or H."""
    if stride == 2:
        layer = nn.ConvTranspose2d if transposed else nn.Conv2d
        return [layer(inputs, outputs, 4, 2, 1, bias=bias)]
    pad = (2, 1, 2, 1) if transposed else (1, 2, 1, 2)  # the flipped kernel of a transposed one pads mirrored
    return [nn.ZeroPad2d(pad), nn.Conv2d(inputs, outputs, 4, 1, 0, bias=bias)]


def generator(image_shape: tuple[int, int, int], channels: tuple[int, ...] = G_CHANNELS) -> nn.Sequential:
    """G: noise (batch, NOISE_DIM) -> images (batch, *image_shape) in [-1, 1]."""
    colors, height, width = image_shape
    steps = strides(height, width, len(channels))  # one per transposed convolution, the output's included
    h0, w0 = height // 2 ** steps.count(2), width // 2 ** steps.count(2)
    layers: list[nn.Module] = [
        nn.Linear(NOISE_DIM, channels[0] * h0 * w0, bias=False),
        nn.Unflatten(1, (channels[0], h0, w0)),
        _batch_norm(channels[0]),
        nn.ReLU(),
    ]
    for wide, narrow, stride in zip(channels[:-1], channels[1:], steps[:-1], strict=True):
        layers += [*_conv(wide, narrow, stride, False, transposed=True), _batch_norm(narrow), nn.ReLU()]
    layers += [*_conv(channels[-1], colors, steps[-1], True, transposed=True), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(image_shape: tuple[int, int, int], channels: tuple[int, ...] = D_CHANNELS) -> nn.Sequential:
    """D: images (batch, *image_shape) -> logits (batch, 1)."""
    colors, height, width = image_shape
    steps = strides(height, width, len(channels))
    layers: list[nn.Module] = []
    for i, (out, stride) in enumerate(zip(channels, steps, strict=True)):
        first = i == 0
        layers += _conv(colors if first else channels[i - 1], out, stride, first)
        layers += [] if first else [_batch_norm(out)]
        layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    shrink = 2 ** steps.count(2)
    layers += [nn.Flatten(), nn.Linear(channels[-1] * (height // shrink) * (width // shrink), 1)]
    return nn.Sequential(*layers)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialization, applied with `net.apply`: N(0, 0.02) weights, BN scale N(1, 0.02), zero biases."""
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def make_step(
    image_shape: tuple[int, int, int],
    batch: int,
    device: torch.device,
    g_channels: tuple[int, ...] = G_CHANNELS,
    d_channels: tuple[int, ...] = D_CHANNELS,
):
    """One seed's nets, optimizers and population on `device`; returns `step() -> (G's loss, D's loss)`."""
    torch.manual_seed(0)
    g, d = generator(image_shape, g_channels).to(device), discriminator(image_shape, d_channels).to(device)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    g_opt, d_opt = (torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999)) for net in (g, d))
    bce = nn.BCEWithLogitsLoss()
    population = torch.rand(POPULATION, *image_shape, device=device) * 2 - 1
    real_labels, fake_labels = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)

    def step():
        real = population[torch.randperm(POPULATION, device=device)[:batch]]
        fake = g(torch.randn(batch, NOISE_DIM, device=device))
        # D step first: two calls, real then fake.
        logits_real, logits_fake = d(real), d(fake.detach())
        d_loss = 0.5 * (bce(logits_real, real_labels) + bce(logits_fake, fake_labels))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()

        # G step against the D just updated, in training mode on the same fakes; non-saturating loss.
        g_loss = bce(d(fake), real_labels)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(g.parameters()))  # G's gradients only, as jax.grad takes them
        g_opt.step()
        return g_loss.detach(), d_loss.detach()

    return step


def main(spec: dict[str, Any]) -> None:
    """Time the step on every image shape of `spec` and print one record each."""
    version = f"{torch.__version__}, {torch.get_num_threads()} threads"
    try:
        device, no_device = use_device(spec["device"]), None
    except harness.Unsupported as error:
        device, no_device = None, error
    for data, shape in spec["images"].items():
        record = {"section": "dcgan", "peer": spec["peer"], "version": version, "data": data, "image_shape": shape}
        record |= {"batch": spec["batch"], "seeds": 1, "device": spec["device"]}
        try:
            if no_device is not None:
                raise no_device
            step = make_step(tuple(shape), spec["batch"], device)
        except harness.Unsupported as error:
            print(harness.RECORD + json.dumps({**record, "skipped": str(error)}), flush=True)
            continue
        timed = harness.time_step(step, spec["seconds"], spec["reps"])
        print(harness.RECORD + json.dumps({**record, **timed}), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
