"""Configs: validation reads as one line; presets round-trip through JSON-ready dicts."""

import dataclasses
import json

import pytest

from jaxbngan import PRESETS, Config, ConfigError, NetworkConfig, StrategyConfig, get_preset
from jaxbngan.config import from_dict, to_dict


@pytest.mark.parametrize(
    "config,message",
    [
        (Config(steps=0), "steps must be positive"),
        (Config(steps=2000, log_every=300), "multiple of log_every"),
        (Config(batch_size=5000), "exceeds the population size"),
        (Config(strategy=StrategyConfig(g_view="train")), "strategy.g_view"),
        (Config(discriminator=NetworkConfig(norms=("batch",))), "one entry per hidden layer"),
        (Config(discriminator=NetworkConfig(norms=("batch", "batchnorm"))), "unknown norm 'batchnorm'"),
        (Config(generator=NetworkConfig(norms=("reference", "none"))), "for D only"),
        (Config(discriminator=NetworkConfig(norms=("group", "group"), groups=5)), "must divide"),
    ],
)
def test_invalid_configs_raise_one_clear_error(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_hashable_and_round_trip(name):
    config = PRESETS[name].config.validate()
    hash(config)
    assert from_dict(json.loads(json.dumps(to_dict(config)))) == config


def test_unknown_preset_suggests_near_names():
    with pytest.raises(ConfigError, match="did you mean bn-split"):
        get_preset("bn-splt")


def test_presets_encode_the_blog_strategies():
    assert get_preset("joint").config.strategy == StrategyConfig(d_batch="joint", g_view="fake")
    assert get_preset("running").config.strategy == StrategyConfig(d_batch="split", g_view="running")
    assert get_preset("fix").config.strategy == StrategyConfig(d_batch="joint", g_view="running")
    assert get_preset("bn-split-shift").config.loss.shift_weight == 0.005
    assert get_preset("dcgan").config.discriminator.norms == ("none", "batch")
    assert dataclasses.replace(get_preset("no-bn").config) == Config()
