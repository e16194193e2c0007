"""The roofline's two sides: what the machine can do (device identity, matmul rate, memory bandwidth)
and what one train step asks of it (FLOPs by hand and by XLA, the least bytes moved)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from jaxbngan import tuning
from jaxbngan.config import Config
from jaxbngan.train import Run


def layer_macs(config: Config, sample_shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Multiply-adds per example of each product layer of G and of D, input side first.

    MLP: a dense layer's in x out. DCGAN (`convnets`): the dense projection, then per convolution
    output pixels x taps x C x F, where a stride-s transposed convolution's taps are the (k / s)^2
    that meet input pixels (`conv.conv_transpose` skips the products with inserted zeros).
    """
    if config.generator.architecture == "mlp":
        g_sizes = (config.noise_dim, *config.generator.hidden, *sample_shape)
        d_sizes = (*sample_shape, *config.discriminator.hidden, 1)
        return _dense(g_sizes), _dense(d_sizes)
    from jaxbngan.convnets import KERNEL, _strides

    taps = KERNEL[0] * KERNEL[1]
    height, width, colors = sample_shape
    g_channels = config.generator.channels
    g_strides = _strides(height, width, len(g_channels))
    side_h, side_w = height // 2 ** g_strides.count(2), width // 2 ** g_strides.count(2)
    g = [config.noise_dim * side_h * side_w * g_channels[0]]
    for c_in, c_out, stride in zip(g_channels, (*g_channels[1:], colors), g_strides, strict=True):
        side_h, side_w = side_h * stride, side_w * stride
        g.append(side_h * side_w * (taps // stride**2) * c_in * c_out)
    d_channels = config.discriminator.channels
    d, side_h, side_w = [], height, width
    d_strides = _strides(height, width, len(d_channels))
    for c_in, c_out, stride in zip((colors, *d_channels[:-1]), d_channels, d_strides, strict=True):
        side_h, side_w = -(-side_h // stride), -(-side_w // stride)
        d.append(side_h * side_w * taps * c_in * c_out)
    d.append(side_h * side_w * d_channels[-1])  # flatten -> Dense(1)
    return g, d


def _dense(sizes: tuple[int, ...]) -> list[int]:
    return [a * b for a, b in zip(sizes, sizes[1:], strict=False)]


def matmul_flops(config: Config, batch: int, sample_shape: tuple[int, ...]) -> int:
    """FLOPs of one train step's products (dense layers and convolutions), counted by hand from the layer shapes.

    Forward 1x, weight gradients 1x, input gradients 1x each layer's multiply-adds (2 FLOPs each);
    D's weight gradients in G's step and the first layers' input gradients are not needed.
    Elementwise work (BN, activations, Adam) and the patch gathers are left out.
    """
    g_layers, d_layers = layer_macs(config, sample_shape)
    g, d = sum(g_layers), sum(d_layers)
    g_first, d_first = g_layers[0], d_layers[0]
    d_rows_in_g_step = 2 * batch if config.strategy.g_view == "joint" else batch
    g_step = batch * (g + g + (g - g_first)) + d_rows_in_g_step * (d + d)  # G fwd+bwd, D fwd + input grads
    d_step = 2 * batch * (d + d + (d - d_first))  # fake and real rows: fwd, weight and input grads
    return 2 * (g_step + d_step)


def step_cost(preset: str, config: Config, run: Run, state: Any, step: Any) -> dict[str, Any]:
    """One seed's `step`, compiled for `state`: its FLOPs and bytes (XLA's count, the hand count, the least bytes)."""
    analysis = step.cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    state_bytes = sum(leaf.nbytes for leaf in jax.tree.leaves(jax.random.key_data(state.key)))
    state_bytes += sum(leaf.nbytes for leaf in jax.tree.leaves(state._replace(key=None)))
    batch = config.batch_size or run.population.shape[0]
    return {
        "preset": preset,
        "batch": batch,
        "flops_xla": analysis.get("flops"),
        "bytes_accessed_xla": analysis.get("bytes accessed"),
        "flops_matmul_by_hand": matmul_flops(config, batch, run.population.shape[1:]),
        # The state is read and written once and the real batch read once; activations could stay in cache.
        "least_bytes": 2 * state_bytes + run.population.nbytes,
        "state_bytes": state_bytes,
    }


def _median_time(fn: Callable, arg: Any, repeat: int, reps: int = 5, chained: bool = False) -> float:
    """Median seconds per call of `fn(arg)` (or of `arg = fn(arg)` when `chained`), over `reps` runs of `repeat`."""
    out = jax.block_until_ready(fn(arg))
    arg = out if chained else arg
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(repeat):
            out = fn(arg)
            arg = out if chained else arg
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / repeat)
    return statistics.median(times)


def machine(scale: float) -> dict[str, Any]:
    """This device's matmul rate (a large square product, and the step's own shape) and memory bandwidth."""
    key = jax.random.key(0)
    side = int(2048 * scale)
    square = jax.random.normal(key, (side, side))
    square_s = _median_time(jax.jit(lambda a: a @ a), square, repeat=5)
    # The step's shape, (2048, 64) @ (64, 64), chained through an orthogonal matrix so values stay finite.
    rows, chain = int(2048 * scale), 100
    q, _ = jnp.linalg.qr(jax.random.normal(key, (64, 64)))
    chained = jax.jit(lambda x: jax.lax.fori_loop(0, chain, lambda _, y: y @ q, x))
    chained_s = _median_time(chained, jax.random.normal(key, (rows, 64)), repeat=3)
    # 256 MiB of float32 at scale 1, far beyond any cache, updated in place: a fresh output buffer
    # would time the kernel's page zeroing instead of the memory.
    length = int(64 * 2**20 * scale)
    stream = jax.jit(lambda x: x * 1.0001 + 1.0, donate_argnums=0)
    stream_s = _median_time(stream, jnp.ones((length,)), repeat=3, chained=True)
    return {
        "matmul_flops_per_s": 2 * side**3 / square_s,
        "matmul_side": side,
        "step_shape_matmul_flops_per_s": 2 * rows * 64 * 64 * chain / chained_s,
        "memory_bytes_per_s": 2 * 4 * length / stream_s,  # read once, written once
        "stream_bytes": 4 * length,
    }


def probe() -> dict[str, Any]:
    """The backend, devices and versions a worker sees, and the device name of the result files."""
    devices = jax.devices()
    backend = jax.default_backend()
    cpu_model = _cpu_model()
    cores = tuning.cpu_cores()
    if backend == "cpu":
        name = f"cpu-{cores}core-{_slug(cpu_model)}"
    else:
        name = f"{backend}-{_slug(devices[0].device_kind)}"
    return {
        "backend": backend,
        "device_name": name,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "cores": cores,
        "cpu_model": cpu_model,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"
