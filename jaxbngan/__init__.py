"""jaxbngan: batch normalization in GANs, as pure JAX functions that run many seeds at once.

The names below are imported on first use (PEP 562), so `import jaxbngan` and the commands that
need no arrays (`jaxbngan --help`, `list`, `--version`) do not import JAX.
"""

import importlib
import importlib.util
from typing import Any

__version__ = "0.1.0"

# Each public name -> the module that defines it.
_EXPORTS = {
    "Config": "jaxbngan.config",
    "ConfigError": "jaxbngan.config",
    "DataConfig": "jaxbngan.config",
    "LossConfig": "jaxbngan.config",
    "NetworkConfig": "jaxbngan.config",
    "OptimizerConfig": "jaxbngan.config",
    "StrategyConfig": "jaxbngan.config",
    "make_population": "jaxbngan.data",
    "mixture_modes": "jaxbngan.data",
    "VIEWS": "jaxbngan.metrics",
    "Metrics": "jaxbngan.metrics",
    "make_network": "jaxbngan.models",
    "PRESETS": "jaxbngan.presets",
    "get_preset": "jaxbngan.presets",
    "StepLosses": "jaxbngan.strategies",
    "TrainState": "jaxbngan.strategies",
    "make_strategy": "jaxbngan.strategies",
    "TrainResult": "jaxbngan.train",
    "make_run": "jaxbngan.train",
    "make_train": "jaxbngan.train",
    "seed_keys": "jaxbngan.train",
    "Results": "jaxbngan.api",  # the driver's front door
    "run": "jaxbngan.api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """A public name, or a submodule (`jaxbngan.tuning`), imported on first use."""
    if name not in _EXPORTS:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")  # binds itself as an attribute
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
