"""The run directory: what a run writes, and how it is read back (`finals` computes what summary.json reports).

    config.json      the run spec: preset, data, seeds, layout, resolved config, versions, device
    population.npy   the real data the run learned
    metrics.npz      per-seed metric histories, each (seeds, logs, ...), and `steps` (logs,)
    samples.npz      `fakes`: final samples of every seed, (seeds, rows, d)
    summary.json     final metrics per seed and aggregated over seeds, divergence flags
    *.png            figures (see `plots.draw_run`)
    checkpoint.npz   while running: the active group's state and its partial history
    groups/          while running: finished groups, merged into metrics.npz and samples.npz at the end
    .lock            while running: held by the one process that writes the directory (`owned`)

Every file is written to a temporary name and renamed into place, so an interrupted run never
leaves a half-written file under a final name; the next process to own the directory removes
temporaries a killed one left (`tidy`). Finishing has one commit point: `finish` writes
samples.npz, then metrics.npz last, and a run is complete exactly when metrics.npz exists
(`is_complete`). Until then the groups stay, so a run killed anywhere is either resumable or
complete. summary.json and the figures are derived from the complete files and can be redrawn.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxbngan.config import ConfigError, error_text
from jaxbngan.metrics import Metrics

SPEC = "config.json"
POPULATION = "population.npy"
METRICS = "metrics.npz"
SAMPLES = "samples.npz"
SUMMARY = "summary.json"
CHECKPOINT = "checkpoint.npz"
GROUPS = "groups"
LOCK = ".lock"
SAMPLE_ROWS = 512  # fakes kept per seed; noise is i.i.d., so a prefix is a random subsample
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp\d+$")  # `atomic_path`'s names


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")  # matches TEMPORARY
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def final_name(path: str | os.PathLike) -> Path:
    """The file a temporary of `atomic_path` stands for (`path` itself if it is none)."""
    path = Path(path)
    match = TEMPORARY.match(path.name)
    return path.with_name(match["name"]) if match else path


def write_json(path: str | os.PathLike, value: Any) -> None:
    """Write `value` as indented JSON, atomically; NaN and inf become null."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_ready(value), indent=2) + "\n")


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write named arrays to an .npz file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def write_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write one array to an .npy file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# -- the spec and the real data --------------------------------------------------------------------


def create(root: Path, spec: dict[str, Any], population: np.ndarray) -> None:
    """Make a fresh run directory holding the spec and the real data."""
    root.mkdir(parents=True, exist_ok=True)
    write_npy(root / POPULATION, population)
    write_json(root / SPEC, spec)  # last: a directory with config.json is a run directory


def is_run_dir(root: Path) -> bool:
    """Whether `root` holds a run's config.json."""
    return (root / SPEC).is_file()


def is_complete(root: Path) -> bool:
    """Whether the run has finished: `finish` writes metrics.npz last, as its one commit point."""
    return (root / METRICS).is_file()


@contextlib.contextmanager
def owned(root: Path, command: str) -> Iterator[None]:
    """Hold `root` (made if missing) for the block, as the one process writing it; ConfigError if another holds it.

    An exclusive `flock` on root/.lock, which records this process's pid, host and `command` so a
    second writer can name the holder. The lock dies with the process, even on kill -9.
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"{root} is in use by {_holder(path)}; wait for it to end or stop it first") from None
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)  # the holder removed this file as it let go; lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command}).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # before letting go, so no one locks a file that is gone
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text())
        return f"pid {holder['pid']} on {holder['host']} ({holder['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def tidy(root: Path) -> None:
    """Remove what a killed process left: temporaries, and the groups and checkpoint of a complete run."""
    for folder in (root, root / GROUPS):
        if folder.is_dir():
            for path in folder.iterdir():
                if TEMPORARY.match(path.name):
                    path.unlink(missing_ok=True)
    if is_complete(root):
        (root / CHECKPOINT).unlink(missing_ok=True)
        shutil.rmtree(root / GROUPS, ignore_errors=True)


def remove(root: Path) -> None:
    """Delete a run directory, refusing anything that is not one."""
    if not is_run_dir(root):
        raise ConfigError(f"{root} is not a jaxbngan run directory (no {SPEC}); refusing to delete it")
    shutil.rmtree(root)


def is_half_created(root: Path) -> bool:
    """Whether `root` holds what `create` writes before config.json and nothing else: a run killed while created."""
    if not root.is_dir() or is_run_dir(root):
        return False
    names = {path.name for path in root.iterdir()} - {LOCK}
    return POPULATION in names and all(name == POPULATION or TEMPORARY.match(name) for name in names)


def half_created_error(root: Path) -> ConfigError:
    """What to do with a directory that `is_half_created`: start the run again."""
    return ConfigError(
        f"{root} holds a run killed while it was created ({POPULATION}, no {SPEC}): nothing was trained; "
        "start it again with --overwrite"
    )


def clear(root: Path) -> None:
    """Empty a run directory this process `owned`, keeping its lock; refuse anything that is not a run."""
    if not is_run_dir(root) and not is_half_created(root):
        raise ConfigError(f"{root} is not a jaxbngan run directory (no {SPEC}); refusing to delete it")
    for path in root.iterdir():
        if path.name != LOCK:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def read_spec(root: Path) -> dict[str, Any]:
    """The spec saved in config.json."""
    if is_half_created(root):
        raise half_created_error(root)
    if not is_run_dir(root):
        raise ConfigError(f"{root} is not a jaxbngan run directory (no {SPEC})")
    try:
        spec = json.loads((root / SPEC).read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{root / SPEC} is damaged ({error_text(error)})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ConfigError(f"{root / SPEC} is damaged (no config in it)")
    return spec


def read_population(root: Path) -> np.ndarray:
    """The real data a run learned."""
    try:
        return np.load(root / POPULATION, allow_pickle=False)
    except (OSError, EOFError, ValueError) as error:
        raise ConfigError(f"{root / POPULATION} is damaged ({error_text(error)})") from None


# -- checkpoints and finished groups ---------------------------------------------------------------


class Checkpoint(NamedTuple):
    """The active group of an interrupted run."""

    group: int
    logs_done: int
    state: Any  # TrainState of numpy leaves (keys as typed key arrays), leading axis = group seeds
    history: Metrics  # (group seeds, logs_done, ...)


def save_checkpoint(root: Path, group: int, logs_done: int, state: Any, history: Metrics) -> None:
    """Write the active group's state and partial history, atomically."""
    leaves = jax.tree.leaves(state)
    arrays = {f"state_{i}": _storable(leaf) for i, leaf in enumerate(leaves)}
    arrays |= {f"history_{name}": np.asarray(value) for name, value in history._asdict().items()}
    write_npz(root / CHECKPOINT, {"group": np.array(group), "logs_done": np.array(logs_done), **arrays})


def load_checkpoint(root: Path, template: Any) -> Checkpoint | None:
    """The saved checkpoint, its state shaped like `template` (a tree of ShapeDtypeStructs); None if absent."""
    if not (root / CHECKPOINT).is_file():
        return None
    expected, treedef = jax.tree.flatten(template)
    names = ["group", "logs_done", *(f"state_{i}" for i in range(len(expected)))]
    saved = read_arrays(root / CHECKPOINT, names + [f"history_{name}" for name in Metrics._fields])
    leaves = []
    for i, like in enumerate(expected):
        leaf = saved[f"state_{i}"]
        if jax.dtypes.issubdtype(like.dtype, jax.dtypes.prng_key):
            leaf = jax.random.wrap_key_data(leaf)
        if leaf.shape != like.shape:
            raise ConfigError(f"{root / CHECKPOINT} does not match this run's config (state leaf {i})")
        leaves.append(leaf)
    history = Metrics(**{name: saved[f"history_{name}"] for name in Metrics._fields})
    return Checkpoint(int(saved["group"]), int(saved["logs_done"]), jax.tree.unflatten(treedef, leaves), history)


def checkpoint_position(root: Path) -> tuple[int, int] | None:
    """(group, logs done) of the saved checkpoint; None without one."""
    if not (root / CHECKPOINT).is_file():
        return None
    saved = read_arrays(root / CHECKPOINT, ["group", "logs_done"])
    return int(saved["group"]), int(saved["logs_done"])


def read_arrays(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Every array of an .npz file the run wrote; ConfigError naming the file if it is damaged or lacks `names`."""
    advice = "; delete it to rerun the unfinished group from its start" if path.name == CHECKPOINT else ""
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ConfigError(f"{path} is damaged ({error_text(error)}){advice}") from None
    missing = [name for name in names if name not in arrays]
    if missing:
        raise ConfigError(f"{path} is damaged (no array {missing[0]}){advice}")
    return arrays


def _storable(leaf: Any) -> np.ndarray:
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        leaf = jax.random.key_data(leaf)
    return np.asarray(leaf)


def save_group(root: Path, group: int, history: Metrics, fakes: np.ndarray) -> None:
    """Write the results of one finished group of seeds."""
    (root / GROUPS).mkdir(exist_ok=True)
    write_npz(_group_file(root, group), {**_metric_arrays(history), "fakes": fakes[:, :SAMPLE_ROWS]})
    (root / CHECKPOINT).unlink(missing_ok=True)  # it held this group, now finished


def finished_groups(root: Path) -> int:
    """How many groups, counted from the first, have their results written."""
    count = 0
    while _group_file(root, count).is_file():
        count += 1
    return count


def _group_file(root: Path, group: int) -> Path:
    return root / GROUPS / f"{group:06d}.npz"


def finish(root: Path, steps: np.ndarray) -> None:
    """Merge the groups into samples.npz and then metrics.npz, the commit point; then drop checkpoint and groups."""
    history, fakes = _load_groups(root)
    write_npz(root / SAMPLES, {"fakes": fakes})
    write_npz(root / METRICS, {**_metric_arrays(history), "steps": steps})  # last: now the run is complete
    tidy(root)


def _metric_arrays(history: Metrics) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in history._asdict().items()}


def _load_groups(root: Path) -> tuple[Metrics, np.ndarray]:
    parts, fakes = [], []
    for group in range(finished_groups(root)):
        saved = read_arrays(_group_file(root, group), [*Metrics._fields, "fakes"])
        parts.append(Metrics(**{name: saved[name] for name in Metrics._fields}))
        fakes.append(saved["fakes"])
    return concat_seeds(parts), np.concatenate(fakes)


def concat_seeds(parts: list[Metrics]) -> Metrics:
    """Histories of several seed groups as one (seeds first)."""
    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)


# -- reading results back ---------------------------------------------------------------------------


class Results(NamedTuple):
    """What a run directory holds so far."""

    spec: dict[str, Any]
    history: Metrics | None  # (seeds, logs, ...); NaN where a partial run has not logged yet
    steps: np.ndarray  # (logs,)
    fakes: np.ndarray | None  # (seeds, rows, d) of the seeds that finished
    real: np.ndarray
    complete: bool


def load(root: Path) -> Results:
    """The results of a finished run, or whatever a partial run has written so far."""
    spec = read_spec(root)
    config = spec["config"]
    try:
        steps = config["log_every"] * np.arange(1, config["steps"] // config["log_every"] + 1)
    except (KeyError, TypeError, ZeroDivisionError):
        raise ConfigError(f"{root / SPEC} is damaged (no valid steps and log_every)") from None
    real = read_population(root)
    if is_complete(root):
        saved = read_arrays(root / METRICS, list(Metrics._fields))
        fakes = read_arrays(root / SAMPLES, ["fakes"])["fakes"]
        history = Metrics(**{name: saved[name] for name in Metrics._fields})
        return Results(spec, history, steps, fakes, real, complete=True)
    parts, fakes = [], None
    if finished_groups(root):
        finished, fakes = _load_groups(root)
        parts.append(finished)
    if (root / CHECKPOINT).is_file():
        saved = read_arrays(root / CHECKPOINT, ["group", *(f"history_{name}" for name in Metrics._fields)])
        if int(saved["group"]) == finished_groups(root):  # not a leftover of a finished group
            parts.append(Metrics(**{name: saved[f"history_{name}"] for name in Metrics._fields}))
    history = None
    if parts:  # without the seeds that only pad the last group (a sweep's members are points x seeds)
        kept = spec.get("members", spec.get("seeds"))
        history = jax.tree.map(lambda x: x[:kept], concat_seeds([_padded(p, len(steps)) for p in parts]))
    return Results(spec, history, steps, fakes, real, complete=False)


def _padded(history: Metrics, logs: int) -> Metrics:
    """Float copies with NaN for the logs not reached yet."""

    def pad(x):
        x = np.asarray(x, dtype=float)
        width = [(0, 0), (0, logs - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
        return np.pad(x, width, constant_values=np.nan)

    return jax.tree.map(pad, history)


# -- the summary ------------------------------------------------------------------------------------


def resume_command(root: Path) -> str:
    """The command that continues the run or sweep in `root`."""
    kind = "sweep" if read_spec(root).get("grid") else "run"
    return f"jaxbngan {kind} --resume --out {root}"


def write_summary(root: Path, summary: dict[str, Any]) -> None:
    """Write summary.json, atomically."""
    write_json(root / SUMMARY, summary)


def read_summary(root: Path) -> dict[str, Any]:
    """The summary of a finished run."""
    if not (root / SUMMARY).is_file():
        raise ConfigError(f"{root} has no {SUMMARY} yet; finish it with `{resume_command(root)}`")
    return json.loads((root / SUMMARY).read_text())
