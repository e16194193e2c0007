"""The chunked driver: memory-sized groups, chunk lengths, one trace per run, per-seed keys, divergence, progress."""

import dataclasses
import io

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tiny, tiny_images, without_running_positions

from jaxbngan import Metrics, driver, finals, make_run, rundir, seed_keys, seed_layout, tuning
from jaxbngan.classifier import ClassifierConfig, train_classifier
from jaxbngan.config import ConfigError, to_dict
from jaxbngan.data import labelled_population, make_population
from jaxbngan.memory import SeedMemory, seed_memory
from jaxbngan.progress import ProgressLine
from jaxbngan.seed_layout import BLOCKS_PER_GROUP, Layout, group_per_device, sample_shape
from jaxbngan.tuning import vmap_width

CONFIG = tiny("joint", size=256, steps=6, log_every=3)  # joint: D's largest batches
SEEDS = 3


@pytest.fixture(scope="module")
def vmapped():
    """Plain vmapped runs of SEEDS seeds (compiled ahead of time), clean and with seed 1 poisoned."""
    run = make_run(CONFIG)
    states = jax.vmap(run.strategy.init)(seed_keys(0, SEEDS))
    poisoned = states._replace(g_params=jax.tree.map(lambda x: x.at[1].set(jnp.nan), states.g_params))
    compiled = jax.jit(jax.vmap(lambda s: run.segments(s, 2))).lower(states).compile()
    clean, dirty = jax.device_get((compiled(states)[1], compiled(poisoned)[1]))
    return compiled, clean, dirty


def test_memory_estimate_bounds_what_xla_allocates(vmapped):
    analysis = vmapped[0].memory_analysis()
    measured = analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes
    estimate = seed_memory(CONFIG, 2)
    assert measured <= SEEDS * (estimate.resident + estimate.working) <= 10 * measured


def test_memory_estimate_grows_with_batch_and_width():
    small = seed_memory(tiny("bn-split", size=256), 2)
    assert seed_memory(tiny("bn-split", size=1024), 2).working > 3 * small.working
    wide = tiny("bn-split", size=256)
    wide = dataclasses.replace(wide, discriminator=dataclasses.replace(wide.discriminator, hidden=(256, 256)))
    assert seed_memory(wide, 2).working > small.working and seed_memory(wide, 2).resident > 4 * small.resident


@pytest.mark.slow  # the points estimate is checked in the default suite
def test_image_memory_is_xla_s_count_of_one_segment_and_grows_with_the_nets():
    small = tiny_images("dcgan-split")
    wide = dataclasses.replace(small, discriminator=dataclasses.replace(small.discriminator, channels=(32, 64)))
    small_memory, wide_memory = seed_memory(small, (8, 8, 1)), seed_memory(wide, (8, 8, 1))
    assert 0 < small_memory.working < wide_memory.working
    assert 0 < small_memory.resident < wide_memory.resident  # D's parameters and Adam's moments


def test_groups_fit_the_budget_and_are_balanced():
    memory = SeedMemory(resident=1_000, working=100_000)
    room_for_50 = 50 * 101_000  # on a GPU every seed of a group works at once
    assert group_per_device(1000, memory, room_for_50, "gpu") == 50
    assert group_per_device(120, memory, room_for_50, "gpu") == 40  # 3 groups of 40, not 50 + 50 + 20
    assert group_per_device(30, memory, room_for_50, "gpu") == 30
    assert group_per_device(10, memory, budget=10, backend="gpu") == 1  # one seed runs even if it seems too big
    # On a CPU only a vmap block works at once: memory allows far more, the block cap keeps chunks short.
    cap = BLOCKS_PER_GROUP * vmap_width("cpu", 10**6)
    assert group_per_device(100_000, memory, 10**12, "cpu") <= cap
    assert group_per_device(1000, SeedMemory(10**6, 0), 10 * 10**6, "cpu") == 10  # resident-bound


def test_layout_checks_counts_and_device_multiples():
    config = tiny("bn-split", steps=40, log_every=10)
    device = jax.devices()[0]
    layout = seed_layout.plan_layout(config, 5, [device, device], 2)
    assert layout.group_size % 2 == 0 and layout.groups * layout.group_size >= 5
    assert seed_layout.plan_layout(config, 5, [device], 2, chunk_steps=20).chunk_steps == 20
    with pytest.raises(ConfigError, match="--seeds must be positive"):
        seed_layout.plan_layout(config, 0, [device], 2)
    with pytest.raises(ConfigError, match="positive multiple of the device count"):
        seed_layout.plan_layout(config, 5, [device, device], 2, group_size=3)
    with pytest.raises(ConfigError, match="--chunk-steps"):
        seed_layout.plan_layout(config, 5, [device], 2, chunk_steps=30)


@pytest.mark.parametrize("logs, chunk", [(40, 4), (100, 10), (37, 1), (12, 1), (1, 1), (30, 3)])
def test_default_chunks_divide_the_run(logs, chunk):
    assert seed_layout.default_chunk_logs(logs) == chunk


# The GPU's rules (a vmap per device) run the same loop as the CPU's: `-m slow` checks them too.
@pytest.mark.parametrize("rules", ["cpu", pytest.param("gpu", marks=pytest.mark.slow)])
def test_chunks_trace_once_per_run_also_when_resumed_and_seeds_keep_their_keys(tmp_path, monkeypatch, vmapped, rules):
    # With the GPU's rules on this CPU: each device vmaps its whole share, one step per scan iteration.
    monkeypatch.setattr(seed_layout, "vmap_width", lambda backend, seeds: tuning.vmap_width(rules, seeds))
    monkeypatch.setattr(driver, "scan_unroll", lambda backend: tuning.scan_unroll(rules))
    per_device = driver.per_device
    monkeypatch.setattr(driver, "per_device", lambda fn, *a, **k: per_device(chex.assert_max_traces(fn, n=1), *a, **k))
    rundir.create(tmp_path, {"config": to_dict(CONFIG)}, np.zeros((2, 2), np.float32))
    layout = Layout(seeds=SEEDS, group_size=2, chunk_steps=3, devices=1)  # two groups (one padded), two chunks each
    assert layout.width("cpu") == (2 if rules == "gpu" else 1)
    assert not driver.train(tmp_path, CONFIG, layout, jax.devices(), seed=0, deadline=0.0)  # stops after a chunk
    chex.clear_trace_counter()  # a new process would start counting afresh
    # Group 0 from its checkpoint, then group 1 from fresh keys: one program for both.
    progress = ProgressLine(SEEDS * CONFIG.steps, io.StringIO())
    assert driver.train(tmp_path, CONFIG, layout, jax.devices(), seed=0, progress=progress)
    assert progress.origin[1] == 2 * 3  # timed from where it continued: group 0's two seeds, 3 of 6 steps each
    assert progress.done == SEEDS * CONFIG.steps

    # Blocked vs. whole vmaps sum in another order: see test_train.test_vmapped_seeds_match_separate_runs.
    history, expected = (without_running_positions(h) for h in (rundir.load(tmp_path).history, vmapped[1]))
    chex.assert_trees_all_close(history, expected, rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("kind", ["points", pytest.param("images", marks=pytest.mark.slow)])  # images: 70 s
def test_later_seeds_trained_alone_equal_those_rows_of_a_bigger_run_bit_for_bit(tmp_path, kind):
    # What --adaptive-seeds relies on: seeds 4 and 5 trained on their own are rows 4 and 5 of 6 seeds;
    # on conv nets too, with the scores a classifier computes from the fakes (an untrained one will do).
    config, classifier = CONFIG, None
    if kind == "images":
        config = tiny_images("dcgan-split")
        small = ClassifierConfig(channels=(4, 8, 8), features=16, steps=1, batch=32)
        classifier = train_classifier(jax.random.key(0), *labelled_population(config.data), small)

    def run(root, seeds, first_seed):
        rundir.create(root, {"config": to_dict(config)}, np.zeros((2, 2), np.float32))
        device = jax.devices()[:1]
        layout = seed_layout.plan_layout(config, seeds, device, sample_shape(make_population(config.data)))
        assert driver.train(root, config, layout, device, seed=3, first_seed=first_seed, classifier=classifier)
        return rundir.load(root)

    whole, block = run(tmp_path / "whole", 6, 0), run(tmp_path / "block", 2, 4)
    chex.assert_trees_all_equal(block.history, jax.tree.map(lambda x: x[4:], whole.history))
    assert np.isfinite(block.history.frechet_distance).all() == (kind == "images")
    np.testing.assert_array_equal(block.fakes, whole.fakes[4:])
    assert not np.array_equal(block.fakes, whole.fakes[:2])  # the offset picks other keys


def test_a_diverging_seed_is_flagged_and_leaves_the_others_alone(vmapped):
    _, clean, dirty = vmapped
    for seed in (0, 2):
        chex.assert_trees_all_equal(*(jax.tree.map(lambda x, i=seed: x[i], h) for h in (clean, dirty)))

    summary = finals.summarize(dirty, np.array([3, 6]), make_population(CONFIG.data))
    assert summary["diverged"] == [{"seed": 1, "step": 3}]
    assert summary["per_seed"][1]["diverged_at"] == 3 and summary["per_seed"][0]["diverged_at"] is None
    assert summary["aggregate"]["g_loss"]["seeds"] == 2
    healthy = np.asarray(clean.g_loss)[[0, 2], -1]
    assert summary["aggregate"]["g_loss"]["median"] == pytest.approx(np.median(healthy))


def test_divergence_is_the_first_log_with_non_finite_training_numbers():
    seeds, logs = 3, 4
    history = Metrics(
        g_loss=np.zeros((seeds, logs)),
        d_loss=np.zeros((seeds, logs)),
        offset=np.zeros((seeds, logs, 2)),
        std_ratio=np.full((seeds, logs, 2), np.inf),  # a constant real column: not a divergence
        energy_distance=np.zeros((seeds, logs)),
        d_fake_loss_by_view=np.zeros((seeds, logs, 3)),
        d_fake_logit_by_view=np.zeros((seeds, logs, 3)),
        both_win=np.zeros((seeds, logs), bool),
        high_quality=np.full((seeds, logs), np.nan),  # data without modes: not a divergence
        mode_coverage=np.full((seeds, logs), np.nan),
        kid=np.full((seeds, logs), np.nan),
        frechet_distance=np.full((seeds, logs), np.nan),
        pixel_kid=np.full((seeds, logs), np.nan),
        class_kl=np.full((seeds, logs), np.nan),
        d_fake_loss=np.zeros((seeds, logs)),
        running_position=np.full((seeds, logs, 2, 2), np.nan),  # D without BN: not a divergence
        running_between=np.full((seeds, logs, 2, 2), np.nan),
    )
    history.offset[0, 2, 1] = np.inf
    history.d_fake_loss_by_view[2, 3, 0] = np.nan
    steps = np.array([50, 100, 150, 200])
    real = np.random.default_rng(0).normal(size=(64, 2))
    np.testing.assert_array_equal(finals.divergence_steps(history, steps, real), [150, -1, 200])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def clock(*times: float):
    """A fake clock that reads `times` in turn (the first is read when Progress is made)."""
    return iter(times).__next__


def test_progress_reports_rate_and_eta_and_prints_sparsely_off_a_terminal():
    stream = io.StringIO()
    progress = ProgressLine(1000, stream, interval=15, clock=clock(0.0, 10.0, 12.0, 30.0, 40.0, 50.0))
    for done in (100, 200, 600, 1000):
        progress.update(done, f"step {done // 10}/100")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # the first, the one 20 s later, the last, the total; not the one after 2 s
    # The first chunk is timed from the start, its compilation included: 100 seed-steps in 10 s.
    assert "step 10/100" in lines[0] and "10 seed-steps/s (first chunk, compilation included)" in lines[0]
    assert "ETA 0:01:30" in lines[0]
    # Later chunks are timed from the end of the first: 500 seed-steps in 20 s.
    assert "25 seed-steps/s |" in lines[1] and "ETA 0:00:16" in lines[1] and "60.0%" in lines[1]
    assert "100.0%" in lines[2]
    assert lines[3] == "trained 1,000 seed-steps in 0:00:50: 20 seed-steps/s, compilation included"


def test_a_one_chunk_run_gets_an_eta_and_a_final_line():
    stream = io.StringIO()
    progress = ProgressLine(1000, stream, clock=clock(0.0, 8.0, 8.0))
    progress.update(1000, "step 100/100")
    progress.close()
    first, last = stream.getvalue().splitlines()
    assert "125 seed-steps/s (first chunk, compilation included) | ETA 0:00:00" in first
    assert last == "trained 1,000 seed-steps in 0:00:08: 125 seed-steps/s, compilation included"


def test_a_resumed_run_is_timed_from_where_it_continues():
    stream = io.StringIO()
    progress = ProgressLine(1000, stream, clock=clock(0.0, 5.0, 15.0, 25.0))
    progress.begin(400)  # at 5 s
    progress.update(500, "step 50/100")  # 100 seed-steps in 10 s: 500 left take 50 s
    progress.close()
    first, last = stream.getvalue().splitlines()
    assert "10 seed-steps/s" in first and "ETA 0:00:50" in first
    assert last == "trained 100 seed-steps in 0:00:20: 5 seed-steps/s, compilation included"


def test_progress_prints_where_it_stopped_when_closed_early():
    stream = io.StringIO()
    progress = ProgressLine(1000, stream, interval=15, clock=clock(0.0, 1.0, 2.0, 3.0))
    progress.update(100, "step 10/100")
    progress.update(200, "step 20/100")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "step 20/100" in lines[1] and lines[2].startswith("trained 200 seed-steps")


def test_progress_redraws_one_line_on_a_terminal():
    stream = Terminal()
    progress = ProgressLine(100, stream, clock=clock(0.0, 1.0, 2.0, 3.0))
    progress.update(50, "a")
    progress.update(100, "b")
    progress.close()
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().count("\n") == 2  # the line, the total
