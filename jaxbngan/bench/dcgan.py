"""The image-step section (opt in with `--sections dcgan`): a DCGAN preset's jitted train step on an
image data set, timed in the CLI driver's layout over 1 to 256 seeds, with the naive loop beside it.

What it needs from the JAX side: a preset registered in `jaxbngan.presets` (`plan.DCGAN_CASES` names
`dcgan-split`), an image data set that `data.name` selects (`digits`), and `make_run(config)` giving a
`Run` whose `strategy.init(key)` and `strategy.train_step(state) -> (state, losses)` are those of the
2-D presets. An unregistered preset skips its case with a one-line note; an unknown data set is a
skipped record. The PyTorch peer of the same step is `benchmarks/peers/torch_dcgan.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax

from jaxbngan.bench import roofline
from jaxbngan.bench.timing import compile_timed, driver_layout, naive_loop
from jaxbngan.classifier import classifier_for
from jaxbngan.config import Config, ConfigError
from jaxbngan.presets import get_preset, with_overrides
from jaxbngan.train import make_run


def unavailable(preset: str, data: str) -> str | None:
    """A one-line note when `preset` is not registered (the case is then skipped); None when it is."""
    try:
        get_preset(preset)
    except ConfigError as error:
        return f"dcgan: skipped {preset} on {data}, {error}"
    return None


def image_config(preset: str, data: str) -> Config:
    """`preset`'s config on `data` ("NAME" or "NAME:PARAM=VALUE,..."); its own batch and size otherwise."""
    name, _, given = data.partition(":")
    params = tuple((key, float(value)) for key, value in (item.split("=") for item in given.split(",") if item))
    return with_overrides(get_preset(preset).config, data={"name": name, "params": params})


def cells(preset: str, data: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Records of `preset` on `data`: the naive loop, then the driver's layout at each of `params["dcgan_seeds"]`."""
    case = {"preset": preset, "data": data}
    try:
        config = image_config(preset, data)
        run = make_run(config, classifier=classifier_for(config.data))
    except ConfigError as error:
        yield {**case, "skipped": str(error)}
        return
    case["batch"] = config.batch_size
    state = run.strategy.init(jax.random.key(0))
    step, compile_s = compile_timed(run.strategy.train_step, state)
    cost = roofline.step_cost(preset, config, run, state, step)
    case |= {key: cost[key] for key in ("flops_matmul_by_hand", "flops_xla", "bytes_accessed_xla")}
    loop = naive_loop(run, step, compile_s, params)
    yield {**case, "layout": "naive-loop", **loop}
    for seeds in params["dcgan_seeds"]:
        yield {**case, "layout": "driver", **driver_layout(run, seeds, loop["seed_steps_per_s"], params)}
