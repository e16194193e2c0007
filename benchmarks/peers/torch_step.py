"""jaxbngan's train step in PyTorch, eager or under torch.compile; see harness.py for the protocol.

Same networks (glorot-uniform kernels, zero biases, BatchNorm1d with Keras's momentum 0.99 and
epsilon 1e-3), same Adam, same order: G step, then D step on the fakes made before G's update.
"""

from __future__ import annotations

from typing import Any

import harness
import torch
from torch import nn


def dense(in_features: int, out_features: int) -> nn.Linear:
    """A Linear layer with Keras's Dense initialization."""
    layer = nn.Linear(in_features, out_features)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(in_features: int, net: dict[str, Any], out_features: int) -> nn.Sequential:
    """Linear -> [BatchNorm1d] -> LeakyReLU per hidden layer, then Linear."""
    layers: list[nn.Module] = []
    for width, norm in zip(net["hidden"], net["norms"], strict=True):
        layers.append(dense(in_features, width))
        if norm == "batch":
            # PyTorch's momentum is the new batch's share; Keras's is the old average's.
            layers.append(nn.BatchNorm1d(width, momentum=1 - net["momentum"], eps=net["epsilon"]))
        layers.append(nn.LeakyReLU(net["leaky_slope"]))
        in_features = width
    layers.append(dense(in_features, out_features))
    return nn.Sequential(*layers)


def use_device(backend: str) -> torch.device:
    """The torch device of JAX's `backend`: the CPU, or CUDA for a GPU."""
    if backend == "cpu":
        return torch.device("cpu")
    if backend == "gpu" and torch.cuda.is_available():
        return torch.device("cuda")
    raise harness.Unsupported(f"jaxbngan runs on {backend}, where this torch ({torch.__version__}) cannot")


def make_step(config: dict[str, Any], batch: int, compiled: bool, device: torch.device):
    """One seed's models, optimizers and data on `device`; returns `step() -> (G's loss, D's loss)`."""
    torch.manual_seed(0)
    noise_dim, strategy, loss = config["noise_dim"], config["strategy"], config["loss"]
    g = mlp(noise_dim, config["generator"], harness.DATA_DIM).to(device)
    d = mlp(harness.DATA_DIM, config["discriminator"], 1).to(device)
    opt = config["optimizer"]
    g_opt, d_opt = (
        torch.optim.Adam(net.parameters(), lr=opt["learning_rate"], betas=(opt["b1"], opt["b2"]), eps=opt["eps"])
        for net in (g, d)
    )
    g_run, d_run = (torch.compile(g), torch.compile(d)) if compiled else (g, d)
    bce = nn.BCEWithLogitsLoss()
    real = torch.randn(batch, harness.DATA_DIM, device=device)
    fake_labels, real_labels = torch.zeros(batch, 1, device=device), torch.ones(batch, 1, device=device)

    def step():
        fake = g_run(torch.randn(batch, noise_dim, device=device))
        # G step: D sees the fakes alone in training mode, with its running averages, or joined with the real batch.
        d.train(strategy["g_view"] != "running")
        if strategy["g_view"] == "joint":
            logits = d_run(torch.cat([fake, real]))[:batch]
        else:
            logits = d_run(fake)
        d_loss_on_fakes = bce(logits, fake_labels)
        g_loss = -d_loss_on_fakes if loss["g_loss"] == "minimax" else bce(logits, real_labels)
        g_loss = g_loss - loss["shift_weight"] * fake[:, 0].mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(g.parameters()))  # G's gradients only, as jax.grad takes them
        g_opt.step()

        # D step, on the fakes G made before its update.
        d.train()
        fake = fake.detach()
        if strategy["d_batch"] == "split":
            logits_fake, logits_real = d_run(fake), d_run(real)
        else:
            logits = d_run(torch.cat([fake, real]))
            logits_fake, logits_real = logits[:batch], logits[batch:]
        d_loss = 0.5 * (bce(logits_real, real_labels) + bce(logits_fake, fake_labels))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        return d_loss_on_fakes.detach(), d_loss.detach()

    return step


if __name__ == "__main__":
    harness.run(f"{torch.__version__}, {torch.get_num_threads()} threads", use_device, make_step)
