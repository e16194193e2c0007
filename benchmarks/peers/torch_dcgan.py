"""The DCGAN image train step in PyTorch eager: the peer of jaxbngan's conv presets (`dcgan-split`).

Run as `python torch_dcgan.py SPEC_JSON` by `jaxbngan bench --sections dcgan`. SPEC holds `images`
(data set name -> [channels, height, width]), `batch`, `seconds`, `reps` and `device` (the JAX
backend, see harness.py); the peer prints one `BENCH` record (section `dcgan`) per image shape, timed
as harness.py times every peer. The real images are uniform in [-1, 1]: the values do not change the
work, the shapes do.

Sizes follow from the image shape (C, H, W). Each net has n = floor(log2(H / 4)) stride-2 layers, so
G's first feature map is (H / 2**n, W / 2**n): 4x4 for 8x8 (n = 1), 16x16 (n = 2) and 32x32 (n = 3),
7x7 for 28x28 (n = 2). Widths: D's layer i has `width * 2**i` channels; G mirrors them.

- G: noise (100) -> Linear -> reshape (width * 2**(n-1), H / 2**n, W / 2**n) -> BN -> ReLU,
  then n - 1 times ConvTranspose2d (k 4, stride 2, pad 1) -> BN -> ReLU halving the channels,
  then ConvTranspose2d (k 4, stride 2, pad 1) to C channels -> tanh: exactly (C, H, W).
- D: n times Conv2d (k 4, stride 2, pad 1) -> BN (not in the first layer) -> LeakyReLU(0.2),
  then flatten -> Linear(1), a logit.
- The DCGAN rule: BN in every layer but G's output and D's input; no bias where BN follows.
  Weights N(0, 0.02), BN scale N(1, 0.02), biases 0. BN momentum 0.9 in jaxbngan's convention
  (PyTorch's 0.1), epsilon 1e-5, as pytorch/examples' dcgan.
- Adam(2e-4, b1 0.5, b2 0.999) for each net; batch 64 drawn without replacement from the population.

One step, in jaxbngan's order: G step with the non-saturating loss (D in training mode on the fake
batch, so its running averages update, as in pytorch/examples), then D step on the fakes made before
G's update, the fake batch and the real batch as separate calls (fake first, as jaxbngan's split step),
loss 0.5 * (BCE(real, 1) + BCE(fake, 0)).
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


def stride2_layers(height: int, width: int) -> tuple[int, tuple[int, int]]:
    """The count n of stride-2 layers for an image of `height` x `width`, and G's first map (H / 2**n, W / 2**n)."""
    n = (height // 4).bit_length() - 1  # floor(log2(height / 4))
    if n < 1 or height % 2**n or width % 2**n:
        raise harness.Unsupported(f"a {height}x{width} image does not halve to a map of 4 to 7 pixels a side")
    return n, (height // 2**n, width // 2**n)


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=1 - MOMENTUM, eps=EPSILON)  # PyTorch's momentum is the new share


def generator(image_shape: tuple[int, int, int], width: int = 64) -> nn.Sequential:
    """G: noise (batch, NOISE_DIM) -> images (batch, *image_shape) in [-1, 1]."""
    channels, height, image_width = image_shape
    n, (h0, w0) = stride2_layers(height, image_width)
    widths = [width * 2**i for i in reversed(range(n))]  # G's feature maps, widest first
    layers: list[nn.Module] = [
        nn.Linear(NOISE_DIM, widths[0] * h0 * w0, bias=False),
        nn.Unflatten(1, (widths[0], h0, w0)),
        _batch_norm(widths[0]),
        nn.ReLU(),
    ]
    for wide, narrow in zip(widths, widths[1:], strict=False):
        layers += [nn.ConvTranspose2d(wide, narrow, 4, 2, 1, bias=False), _batch_norm(narrow), nn.ReLU()]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(image_shape: tuple[int, int, int], width: int = 64) -> nn.Sequential:
    """D: images (batch, *image_shape) -> logits (batch, 1)."""
    channels, height, image_width = image_shape
    n, (h_last, w_last) = stride2_layers(height, image_width)
    layers: list[nn.Module] = []
    for i in range(n):
        out = width * 2**i
        first = i == 0
        layers.append(nn.Conv2d(channels if first else out // 2, out, 4, 2, 1, bias=first))
        layers += [] if first else [_batch_norm(out)]
        layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    layers += [nn.Flatten(), nn.Linear(width * 2 ** (n - 1) * h_last * w_last, 1)]
    return nn.Sequential(*layers)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialization, applied with `net.apply`: N(0, 0.02) weights, BN scale N(1, 0.02), zero biases."""
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def make_step(image_shape: tuple[int, int, int], batch: int, device: torch.device, width: int = 64):
    """One seed's nets, optimizers and population on `device`; returns `step() -> (G's loss, D's loss)`."""
    torch.manual_seed(0)
    g, d = generator(image_shape, width).to(device), discriminator(image_shape, width).to(device)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    g_opt, d_opt = (torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999)) for net in (g, d))
    bce = nn.BCEWithLogitsLoss()
    population = torch.rand(POPULATION, *image_shape, device=device) * 2 - 1
    real_labels, fake_labels = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)

    def step():
        real = population[torch.randperm(POPULATION, device=device)[:batch]]
        # G step: D in training mode on the fake batch alone; non-saturating loss.
        fake = g(torch.randn(batch, NOISE_DIM, device=device))
        g_loss = bce(d(fake), real_labels)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(g.parameters()))  # G's gradients only, as jax.grad takes them
        g_opt.step()

        # D step, on the fakes G made before its update: two calls, fake then real.
        fake = fake.detach()
        logits_fake, logits_real = d(fake), d(real)
        d_loss = 0.5 * (bce(logits_real, real_labels) + bce(logits_fake, fake_labels))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
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
