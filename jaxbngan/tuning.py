"""Backend-specific execution choices, in one place; `benchmarks/throughput.py` measures them."""

from __future__ import annotations


def vmap_width(backend: str, seeds: int) -> int:
    """How many seeds one vmapped program runs side by side; larger groups loop over such blocks.

    On a CPU a wide vmap spills each seed's working set out of cache and slows down per seed; on
    accelerators wider is better, so the whole group is vmapped at once.
    """
    if backend == "cpu":
        return min(seeds, 4)
    return seeds
