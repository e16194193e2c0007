"""What one benchmark run measures: the sizes of every section, the settings, the workers' parameters."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

from jaxbngan import tuning
from jaxbngan.config import Config
from jaxbngan.presets import get_preset, with_overrides

PRESETS = ("no-bn", "bn-split", "fix")
CPU_SEEDS = (1, 4, 16, 64, 256, 1024)
ACCELERATOR_SEEDS = (*CPU_SEEDS, 4096, 16384)
WIDTHS = (1, 2, 4, 8, 16)
WIDTH_SEEDS = 64  # seed count of the width comparison
VARIANT_SEEDS = (1, 16, 256)  # seed counts of the XLA-flag comparison
LOGGING_SEEDS = 4
FULL_VMAP_MAX_SEEDS = 256  # the naive one-program vmap is compared up to here (memory)
END_TO_END_ACCELERATOR_SEEDS = 1024  # the accelerator target's run; a CPU runs one seed per core
SECTIONS = ("sweep", "widths", "variants", "end_to_end")  # besides the reference worker, which always runs
OPT_IN_SECTIONS = ("dcgan",)  # run only when --sections names them
PEERS = ("torch", "torch-compile", "keras")
FOCUS = "bn-split"  # the preset of the width, flag, logging, end-to-end and peer-ratio comparisons
RECORD = "BENCH "  # worker stdout lines carrying a record start with this
MEMORY_SHARE = 0.5  # a program is skipped when XLA says it needs more than this share of free memory
# The image-step section: (preset, data set) pairs in the driver's layout, seed counts, the torch
# peer's images as (channels, height, width) by data set, and the batch every DCGAN step takes.
DCGAN_CASES = (("dcgan-split", "digits"), ("dcgan-split", "shapes:side=32"))  # data set, then its params
DCGAN_SEEDS = (1, 4, 16, 64, 256)
DCGAN_PEER_IMAGES = {"digits": (1, 8, 8), "shapes:side=32": (1, 32, 32)}
DCGAN_BATCH = 64


class Settings(NamedTuple):
    """What one benchmark run measures, resolved from the command line."""

    presets: tuple[str, ...]
    sections: tuple[str, ...]
    seeds: tuple[int, ...] | None  # None: the backend's default list
    widths: tuple[int, ...]
    width_seeds: int
    variant_seeds: tuple[int, ...]
    logging_seeds: int
    end_to_end_seeds: int | None  # None: one per core on a CPU, END_TO_END_ACCELERATOR_SEEDS elsewhere
    seconds: float
    reps: int
    size: int | None  # population (= batch) size; None: the presets' own
    log_every: int | None
    peers: tuple[str, ...]
    out: Path
    device: str | None
    machine_scale: float  # matrix side and array length scale of the hardware probes
    quick: bool


def preset_config(preset: str, params: dict[str, Any]) -> Config:
    """`preset`'s config at the run's population size and `log_every` (from `worker_params`), where set."""
    config = get_preset(preset).config
    if params.get("size") is not None:
        config = with_overrides(config, data={"size": params["size"]})
    if params.get("log_every") is not None:
        config = dataclasses.replace(config, log_every=params["log_every"], steps=params["log_every"])
    return config


def worker_params(settings: Settings, seeds: tuple[int, ...]) -> dict[str, Any]:
    """What every JAX worker needs to know, as JSON-ready values."""
    return {
        "presets": list(settings.presets),
        "size": settings.size,
        "log_every": settings.log_every,
        "seconds": settings.seconds,
        "reps": settings.reps,
        "machine_scale": settings.machine_scale,
        "logging_seeds": settings.logging_seeds,
        "seeds": list(seeds),
        "widths": list(settings.widths),
        "width_seeds": settings.width_seeds,
        "variant_seeds": list(settings.variant_seeds),
    }


def variants(cores: int, quick: bool) -> dict[str, tuple[str, ...]]:
    """The CPU XLA_FLAGS compared: none, YNN fusion of reductions/elementwise off, one device per core, both."""
    devices = f"--xla_force_host_platform_device_count={cores}"
    variants = {
        "default": (),
        "device-per-core": (devices,),
        "ynn-reduce-eltwise-off": (tuning.CPU_YNN_FUSION_OFF,),
        "both": (devices, tuning.CPU_YNN_FUSION_OFF),
    }
    return dict(list(variants.items())[:2]) if quick else variants
