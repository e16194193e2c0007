"""jaxbngan: batch normalization in GANs, as pure JAX functions that run many seeds at once."""

__version__ = "0.1.0"  # first: modules imported below read it

from jaxbngan.config import (
    Config,
    ConfigError,
    DataConfig,
    LossConfig,
    NetworkConfig,
    OptimizerConfig,
    StrategyConfig,
)
from jaxbngan.data import make_population, mixture_modes
from jaxbngan.metrics import VIEWS, Metrics
from jaxbngan.models import make_network
from jaxbngan.presets import PRESETS, get_preset
from jaxbngan.strategies import StepLosses, TrainState, make_strategy
from jaxbngan.train import TrainResult, make_run, make_train, seed_keys

from jaxbngan.api import Results, run  # isort: skip - the driver's front door, above every module it uses

__all__ = [
    "PRESETS",
    "Results",
    "VIEWS",
    "Config",
    "ConfigError",
    "DataConfig",
    "LossConfig",
    "Metrics",
    "NetworkConfig",
    "OptimizerConfig",
    "StepLosses",
    "StrategyConfig",
    "TrainResult",
    "TrainState",
    "get_preset",
    "make_network",
    "make_population",
    "make_run",
    "make_strategy",
    "make_train",
    "mixture_modes",
    "run",
    "seed_keys",
]
