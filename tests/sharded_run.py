"""A tiny run with its seeds sharded over devices, for tests/test_sharding.py (run in a subprocess).

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/sharded_run.py OUT

One process: writes the run on all devices, the same run unsharded, the run with every seed but
the first replaced, the compiled chunk's HLO and the errors of bad requests. Started once per
process with JAXBNGAN_DISTRIBUTED=1 (and the coordinator settings), process 0 writes the run
gathered from all processes, and each process the seeds it held.
"""

import json
import sys
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
from helpers import tiny

from jaxbngan import ConfigError, OptimizerConfig, make_run, seed_keys
from jaxbngan.sharding import gather_seeds, initialize_distributed, per_device, seed_devices, shard_seeds

SEEDS = 16
WIDTH = 2  # lax.map block of vmapped seeds, as the driver's per-backend width
CHUNKS = 2


def save(path: Path, states, history) -> None:
    """The history and final states of every seed, keyed by tree path (keys as raw data)."""
    states = states._replace(key=jax.random.key_data(states.key))
    flat, _ = jax.tree_util.tree_flatten_with_path({"history": history, "states": states})
    np.savez(path, **{jax.tree_util.keystr(p): np.asarray(leaf) for p, leaf in flat})


def chunk_runner(run, devices):
    """lax.map over blocks of WIDTH vmapped seeds: per device (traced once) or unsharded."""

    def chunk(states):
        return jax.lax.map(lambda state: run.segments(state, 1), states, batch_size=WIDTH)

    return per_device(chex.assert_max_traces(chunk, n=1), devices) if devices else jax.jit(chunk)


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
    init_per_device = per_device(jax.vmap(run.strategy.init), devices)
    states = init_per_device(placed)
    chunk = chunk_runner(run, devices)
    final, history = train(chunk, states)
    save(out / "sharded.npz", *gather_seeds((final, history)))

    others = keys.at[1:].set(seed_keys(1, SEEDS)[1:])
    save(out / "others_replaced.npz", *gather_seeds(train(chunk, init_per_device(shard_seeds(others, devices)))))

    (out / "chunk.hlo").write_text(chunk.lower(states).compile().as_text())
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
        "uneven": error_of(lambda: shard_seeds(keys[:12], devices)),
        "too_many": error_of(lambda: seed_devices(len(devices) + 1)),
        "zero": error_of(lambda: seed_devices(0)),
        "ragged": error_of(lambda: shard_seeds((keys, keys[:8]), devices)),
    }
    (out / "single.json").write_text(json.dumps({"layout": layout, "errors": errors}))


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
    joined = initialize_distributed()
    # Adam eps 1e-3, not Keras' 1e-7: BN leaves some gradients zero up to roundoff (biases before BN,
    # G's shift), which differs between layouts and which a tiny eps turns into 1e-3 steps. With
    # this eps the layouts agree to about 1e-6, so the tests can compare tightly.
    run = make_run(tiny("bn-split", steps=CHUNKS * 3, log_every=3, optimizer=OptimizerConfig(eps=1e-3)))
    keys = seed_keys(0, SEEDS)
    (multi_process if joined else single_process)(out, run, keys)


if __name__ == "__main__":
    main()
