"""A tiny run with its seeds sharded over devices, for tests/test_sharding.py (run in a subprocess).

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python tests/sharded_run.py OUT
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python tests/sharded_run.py OUT points|images

One process: writes the run on all devices, the same run unsharded, the run with every seed but
the first replaced, the partitioned chunk's HLO, the errors of bad requests, and the CLI driver's
histories of the same seeds under several layouts (devices, seeds, group sizes). Started once per
process with JAXBNGAN_DISTRIBUTED=1 (and the coordinator settings), process 0 writes the run
gathered from all processes, and each process the seeds it held. With `points` or `images`, only
the driver's layouts, at the sizes of a real preset of that kind.
"""

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
from helpers import tiny

from jaxbngan import ConfigError, driver, get_preset, make_run, rundir, seed_keys, seed_layout
from jaxbngan.config import to_dict
from jaxbngan.sharding import gather_seeds, initialize_distributed, per_device, seed_devices, shard_seeds
from jaxbngan.tuning import map_seeds

SEEDS = 16
# Seeds vmapped side by side: 1 as the driver on a CPU, where layouts agree bit for bit; 2 for the
# check that seeds sharing a vmapped block stay independent (a wider vmap rounds differently once
# the seeds are split over devices, which is why a GPU run records its width in config.json).
WIDTH, BLOCK_WIDTH = 1, 2
CHUNKS = 2
# (seeds, devices, group size) of the driver's layouts; the first two seeds are compared across them.
LAYOUTS = ((4, 1, 4), (4, 2, 2), (4, 1, 1), (2, 2, 2), (6, 2, 4))
# The same at real sizes (`... OUT points|images`, 4 devices): few layouts, as each device compiles its program.
REAL_LAYOUTS = ((2, 1, 2), (2, 2, 2), (4, 4, 4))


def save(path: Path, states, history) -> None:
    """The history and final states of every seed, keyed by tree path (keys as raw data)."""
    states = states._replace(key=jax.random.key_data(states.key))
    flat, _ = jax.tree_util.tree_flatten_with_path({"history": history, "states": states})
    np.savez(path, **{jax.tree_util.keystr(p): np.asarray(leaf) for p, leaf in flat})


def chunk_runner(run, devices, width=WIDTH, *, separate=True):
    """The driver's `tuning.map_seeds` over blocks of `width` seeds: per device (traced once) or unsharded.

    `separate`: each device runs its own one-device program (the driver's on a CPU), else one partitioned program.
    """

    def chunk(states):
        return map_seeds(lambda state: run.segments(state, 1), states, width)

    if not devices:
        return jax.jit(chunk)
    return per_device(chex.assert_max_traces(chunk, n=1), devices, separate=separate)


def train(chunk, states):
    """CHUNKS chunks, histories concatenated on the log axis."""
    histories = []
    for _ in range(CHUNKS):
        states, history = chunk(states)
        histories.append(history)
    return states, jax.tree.map(lambda *h: jnp.concatenate(h, axis=1), *histories)


def error_of(request) -> str:
    try:
        request()
    except ConfigError as error:
        return str(error)
    return ""


def single_process(out: Path, run, keys) -> None:
    devices = seed_devices()
    init = jax.jit(jax.vmap(run.strategy.init))
    save(out / "reference.npz", *train(chunk_runner(run, None), init(keys)))

    placed = shard_seeds(keys, devices)
    init_per_device = per_device(jax.vmap(run.strategy.init), devices, separate=True)
    states = init_per_device(placed)
    chunk = chunk_runner(run, devices)
    final, history = train(chunk, states)
    save(out / "sharded.npz", *gather_seeds((final, history)))

    chex.clear_trace_counter()  # another width is another program, partitioned as on the accelerators that vmap
    blocks = chunk_runner(run, devices, BLOCK_WIDTH, separate=False)
    save(out / "blocks.npz", *gather_seeds(train(blocks, states)))
    others = keys.at[1:].set(seed_keys(1, SEEDS)[1:])
    save(out / "others_replaced.npz", *gather_seeds(train(blocks, init_per_device(shard_seeds(others, devices)))))

    chex.clear_trace_counter()
    partitioned = chunk_runner(run, devices, separate=False)
    (out / "chunk.hlo").write_text(partitioned.lower(states).compile().as_text())
    # A program that does reduce over seeds, to show the collective check can fail.
    across = jax.jit(lambda s: jnp.mean(s.g_params["Dense_0"]["kernel"], axis=0))
    (out / "across_seeds.hlo").write_text(across.lower(states).compile().as_text())

    layout = {
        "devices": len(devices),
        "key_shards": [np.asarray(jax.random.key_data(s.data)).tolist() for s in placed.addressable_shards],
        "history_devices": len(history.g_loss.sharding.device_set),
        "history_spec": str(history.g_loss.sharding.spec),
        "devices_for_seeds": {seeds: len(seed_devices(seeds=seeds)) for seeds in (1, 3, 8, 20)},
        "devices_for_seeds_with_limit": len(seed_devices(2, seeds=20)),
    }
    errors = {
        "uneven": error_of(lambda: shard_seeds(keys[:10], devices)),
        "too_many": error_of(lambda: seed_devices(len(devices) + 1)),
        "zero": error_of(lambda: seed_devices(0)),
        "ragged": error_of(lambda: shard_seeds((keys, keys[:8]), devices)),
    }
    (out / "single.json").write_text(json.dumps({"layout": layout, "errors": errors}))
    driver_layouts(out, devices, tiny("bn-split", steps=12, log_every=3), LAYOUTS)


def driver_layouts(out: Path, devices, config, layouts, name: str = "layouts") -> None:
    """The CLI driver's histories of seeds 0 and 1 of `config` under each (seeds, devices, group size) of `layouts`."""
    histories = {}
    for seeds, count, group_size in layouts:
        root = Path(tempfile.mkdtemp(dir=out))
        rundir.create(root, {"config": to_dict(config)}, np.zeros((2, 2), np.float32))
        chunk_steps = config.steps // 2
        layout = seed_layout.Layout(seeds=seeds, group_size=group_size, chunk_steps=chunk_steps, devices=count)
        driver.train(root, config, layout, devices[:count], seed=0)
        for field, value in rundir.load(root).history._asdict().items():
            histories[f"{seeds}-{count}-{group_size}/{field}"] = np.asarray(value)[:2]
    np.savez(out / f"{name}.npz", **histories)


def real_sizes(out: Path, kind: str) -> None:
    """`driver_layouts` at the sizes of real presets: the blog's MLPs on 2048 points, or a DCGAN on digits."""
    devices = seed_devices()
    if kind == "points":
        config = dataclasses.replace(get_preset("bn-split").config, steps=20, log_every=10)
        driver_layouts(out, devices, config, REAL_LAYOUTS, kind)
    else:
        config = dataclasses.replace(get_preset("dcgan-split").config, steps=2, log_every=1)
        driver_layouts(out, devices, config, REAL_LAYOUTS[:2], kind)


def multi_process(out: Path, run, keys) -> None:
    devices = seed_devices()
    states = shard_seeds(jax.jit(jax.vmap(run.strategy.init))(keys), devices)  # host values, as on resume
    final, history = gather_seeds(train(chunk_runner(run, devices), states))
    kernel = states.g_params["Dense_0"]["kernel"]
    held = sorted(i for shard in kernel.addressable_shards for i in range(SEEDS)[shard.index[0]])
    process = jax.process_index()
    report = {
        "seeds": held,
        "devices": len(devices),
        "two_devices_on_processes": [d.process_index for d in seed_devices(2)],
        "devices_for_three_seeds": [d.process_index for d in seed_devices(seeds=3)],
        "three_devices": error_of(lambda: seed_devices(3)),
    }
    (out / f"process{process}.json").write_text(json.dumps(report))
    if process == 0:  # every process has the results; one writes them
        save(out / "multiprocess.npz", final, history)


def main() -> None:
    out = Path(sys.argv[1])
    if sys.argv[2:]:
        return real_sizes(out, sys.argv[2])
    joined = initialize_distributed()
    run = make_run(tiny("bn-split", steps=CHUNKS * 3, log_every=3))
    keys = seed_keys(0, SEEDS)
    (multi_process if joined else single_process)(out, run, keys)


if __name__ == "__main__":
    main()
