"""Backend-specific execution choices, in one place; `benchmarks/throughput.py` measures them.

The figures behind each choice are in `benchmarks/results/throughput-*.json` (sections `widths`
and `variants`) and in the README's Benchmarks section.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# XLA:CPU hands reductions and elementwise fusions to YNNPACK by default; for the train step's
# batch-norm reductions XLA's own loops are about 3x faster.
CPU_YNN_FUSION_OFF = "--xla_cpu_experimental_ynn_fusion_type=-reduce,-eltwise"


def vmap_width(backend: str, seeds: int) -> int:
    """How many seeds one vmapped program runs side by side; larger groups loop over such blocks.

    On a CPU each seed's step already fills a core's caches, so a wider vmap only slows every seed
    down: one seed at a time per device (one device per core, see `xla_flags`) is fastest. On
    accelerators wider is better, so the whole group is vmapped at once.
    """
    if backend == "cpu":
        return 1
    return seeds


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
    tuned = [flag for flag in xla_flags("cpu", os.cpu_count() or 1) if flag.split("=")[0] not in names_given]
    environ["XLA_FLAGS"] = " ".join([given, *tuned]).strip()
