"""Backend-specific execution choices, in one place; `benchmarks/throughput.py` measures them.

The figures behind each choice are in `benchmarks/results/throughput-*.json` (sections `widths`,
`width_one` and `variants`) and in the README's Benchmarks section.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from typing import Any

import jax

# XLA:CPU hands reductions and elementwise fusions to YNNPACK by default; for the train step XLA's
# own loops are faster: 12-18% in the committed benchmark (3x while D used flax's BatchNorm). They
# also sum in another order, so a run with and one without this flag differ in the last bits.
CPU_YNN_FUSION_OFF = "--xla_cpu_experimental_ynn_fusion_type=-reduce,-eltwise"


def cpu_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def vmap_width(backend: str, seeds: int) -> int:
    """How many of a device's `seeds` one vmapped program runs side by side.

    On a CPU each seed's step already fills a core's caches, so a wider vmap only slows every seed
    down: one seed at a time per device (one device per core, see `xla_flags`) is fastest. On
    accelerators wider is better, so the device's whole share is vmapped at once.
    """
    if backend == "cpu":
        return 1
    return seeds


def scan_unroll(backend: str) -> int:
    """Train steps per iteration of the step scan on `backend`: the same for every layout of a run.

    On a CPU two steps per iteration let the end of one step overlap the start of the next: about
    5% at 1 seed on 2 cores, none at 64 (README.md, Benchmarks). It depends on the backend alone,
    never on how many seeds or devices share the run, because the unroll changes how XLA fuses a
    step and with it the rounding: a seed's numbers would then depend on the layout.
    """
    return 2 if backend == "cpu" else 1


def separate_programs(backend: str) -> bool:
    """Whether each device runs its own one-device program (`sharding.per_device`) rather than its part of one
    partitioned program.

    On a CPU, yes: XLA rounds a partitioned train step differently from the one-device step, so a
    seed's numbers would depend on `--devices`; with its own program every device computes a seed as
    `--devices 1` does, at the cost of one compilation per device, run side by side
    (docs/devices.md). On accelerators the vmap width changes with the layout anyway, and one compilation
    serves every device.
    """
    return backend == "cpu"


def map_seeds(fn: Callable[[Any], Any], seeds: Any, width: int) -> Any:
    """`fn` over the leading seed axis of the pytree `seeds`, `width` seeds vmapped at a time.

    Width 1 is a plain loop: a vmap of one seed gives every op a batch axis of size 1, which makes
    XLA:CPU's step 13-25% slower (README.md, Benchmarks).
    """
    if width == 1:
        return jax.lax.map(fn, seeds)
    return jax.lax.map(fn, seeds, batch_size=width)


def xla_flags(backend: str, cores: int) -> tuple[str, ...]:
    """XLA_FLAGS entries for `backend`; they act only if set before JAX starts its backend.

    On a CPU: one host device per core, so each core runs its own seeds, and XLA's own reductions.
    """
    if backend == "cpu":
        return (f"--xla_force_host_platform_device_count={cores}", CPU_YNN_FUSION_OFF)
    return ()


def use_tuned_xla_flags(environ: MutableMapping[str, str] = os.environ) -> None:
    """Add the CPU's `xla_flags` to XLA_FLAGS before JAX starts; a flag the user set keeps its value.

    Only CPU options are added, so a GPU or TPU run is unaffected by them.
    """
    given = environ.get("XLA_FLAGS", "")
    names_given = {flag.split("=")[0] for flag in given.split()}
    tuned = [flag for flag in xla_flags("cpu", cpu_cores()) if flag.split("=")[0] not in names_given]
    environ["XLA_FLAGS"] = " ".join([given, *tuned]).strip()
