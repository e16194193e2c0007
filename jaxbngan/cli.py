"""The `jaxbngan` command: list presets, run many seeds into a run directory, plot and compare runs.

Every mistake a user can make on the command line ends as one line on stderr and exit code 2.
`plots` (matplotlib) is imported only by the commands that draw, so the others start faster.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import json
import math
import os
import shlex
import sys
import time
import types
import typing
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import numpy as np

from jaxbngan import __version__, driver, export, provenance, rundir
from jaxbngan.config import DATA_KINDS, Config, ConfigError, DataConfig, from_dict, to_dict
from jaxbngan.data import GENERATORS, is_data_file, load_data_file, make_population
from jaxbngan.presets import DEFAULT_PRESET, PRESETS, Preset, get_preset
from jaxbngan.sharding import initialize_distributed, seed_devices, writes_files
from jaxbngan.tuning import scan_unroll, use_tuned_xla_flags

EXIT_USAGE = 2
EXIT_STOPPED = 75  # stopped at --time-limit with work left (EX_TEMPFAIL): continue with --resume
EXIT_INTERRUPTED = 130
MAX_SEED = 2**32 - 1  # JAX keys take 32-bit seeds (without x64 a larger one wraps onto a smaller one)
DEFAULT_SEEDS = 8  # with the default preset, about a minute on a 2-core CPU
RUNS = Path("runs")

# Named flags of `run`: flag -> (config keys it sets, help). Values parse like `--set` values.
FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "--steps": (("steps",), "training steps per seed"),
    "--batch-size": (("batch_size",), "samples per step and side; 'none' for the whole population (blog)"),
    "--lr": (("optimizer.learning_rate",), "Adam learning rate of both players"),
    "--momentum": (("generator.momentum", "discriminator.momentum"), "BN momentum of both networks (Keras)"),
    "--shift-weight": (("loss.shift_weight",), "weight of the shift term (blog: 0.005)"),
    "--label-smoothing": (("loss.label_smoothing",), "one-sided label smoothing of D's real targets"),
    "--g-loss": (("loss.g_loss",), "minimax (blog) or nonsaturating"),
    "--d-batch": (("strategy.d_batch",), "how D sees real and fake in its step: split or joint"),
    "--g-view": (("strategy.g_view",), "how D normalizes fakes in G's step: fake, running or joint"),
    "--log-every": (("log_every",), "steps between logged metrics"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are ConfigErrors, so they end as one line like every other user error."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    use_tuned_xla_flags()  # before JAX starts its backend, or the flags do nothing
    try:
        initialize_distributed()  # joins a multi-process run when JAXBNGAN_DISTRIBUTED=1
        if argv and argv[0] == "bench":
            return _bench(argv[1:])
        if argv and argv[0] == "reproduce":
            return _reproduce(argv[1:])
        args = _parser().parse_args(argv)
        args.command = shlex.join(["jaxbngan", *argv])
        return args.handler(args)
    except ConfigError as error:
        print(f"jaxbngan: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout again at exit
        return 0
    except OSError as error:  # a file or folder that cannot be read or written: the user's to fix
        print(f"jaxbngan: error: {_os_error(error)}", file=sys.stderr)
        return EXIT_USAGE


def _os_error(error: OSError) -> str:
    """One line for a failed file operation, naming the final file rather than its temporary."""
    if error.filename is None:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{rundir.final_name(error.filename)}: {error.strerror or type(error).__name__}"


def _bench(argv: list[str]) -> int:
    from jaxbngan.bench import main as bench_main

    return bench_main(argv) or 0


def _reproduce(argv: list[str]) -> int:
    from jaxbngan.reproduce import main as reproduce_main

    return reproduce_main(argv) or 0


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="jaxbngan", description="Batch normalization in GANs, many seeds at once, in JAX.")
    parser.add_argument("--version", action="version", version=f"jaxbngan {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="presets and data sets, one line each")
    listing.set_defaults(handler=_list)

    run = commands.add_parser(
        "run",
        help="run seeds of a preset into a run directory",
        description="Train SEEDS seeds of PRESET in parallel and write a run directory. Named flags and "
        "--set override any config field; the resolved config is printed and saved.",
    )
    run.add_argument("preset", nargs="?", help=f"a preset from `jaxbngan list` (default: {DEFAULT_PRESET})")
    run.add_argument(
        "--data",
        metavar="NAME|FILE",
        help="a data set from `jaxbngan list`, or a .npy / .npz[:NAME] / .csv file of (n, d)",
    )
    run.add_argument("--seeds", type=int, metavar="N", help=f"how many seeds (default {DEFAULT_SEEDS})")
    run.add_argument(
        "--seed", type=int, metavar="N", help="first PRNG seed; seed i is the i-th key split from it (default 0)"
    )
    for flag, (_, text) in FLAGS.items():
        run.add_argument(flag, metavar="X", help=text)
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field, e.g. discriminator.norms=layer,layer or data.params=radius:3 (repeatable)",
    )
    run.add_argument("--out", type=Path, help="run directory (default: runs/PRESET-TIMESTAMP)")
    run.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    run.add_argument("--overwrite", action="store_true", help="replace the run directory --out if it exists")
    run.add_argument(
        "--devices", type=int, metavar="N", help="use at most N devices (default: all, but no more than --seeds)"
    )
    run.add_argument("--group-size", type=int, metavar="N", help="seeds per group (default: as many as fit in memory)")
    run.add_argument(
        "--chunk-steps", type=int, metavar="N", help="steps per jitted chunk between checkpoints (default: ~1/10)"
    )
    run.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help=f"stop at the first checkpoint after SECONDS (exit code {EXIT_STOPPED}); continue with --resume",
    )
    run.set_defaults(handler=_run)

    plot = commands.add_parser("plot", help="(re)draw the figures of a finished or partial run")
    plot.add_argument("run_dir", type=Path)
    plot.add_argument("--seeds", type=_seed_list, metavar="I,J,...", help="draw only these seeds, e.g. 0,3,7")
    plot.set_defaults(handler=_plot)

    compare = commands.add_parser("compare", help="final metrics of several runs side by side, and a figure")
    compare.add_argument("run_dirs", type=Path, nargs="+", help="two or more run directories")
    compare.add_argument("--out", type=Path, default=Path("compare.png"), help="PNG figure (default compare.png)")
    compare.set_defaults(handler=_compare)

    exporting = commands.add_parser(
        "export",
        help="every logged metric of a finished run as CSV, Parquet or TensorBoard logs",
        description="One row per seed and logged step, a column per metric (offset_x, d_fake_loss_fake_view, ...).",
    )
    exporting.add_argument("run_dir", type=Path)
    exporting.add_argument("--format", choices=export.FORMATS, default="csv", help="(default csv)")
    exporting.add_argument("--out", type=Path, help="file or, for tensorboard, directory (default: in RUN_DIR)")
    exporting.set_defaults(handler=_export)

    commands.add_parser("bench", help="throughput benchmarks (see `jaxbngan bench --help`)", add_help=False)
    commands.add_parser("reproduce", help="reproduce the blog's figures (see `jaxbngan reproduce --help`)")
    return parser


# -- list -------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    width = max(map(len, PRESETS))
    for kind in DATA_KINDS:
        print(f"presets on {kind} (jaxbngan run PRESET):")
        for name, preset in PRESETS.items():
            if preset.kind == kind:
                default = " (default)" if name == DEFAULT_PRESET else ""
                print(f"  {name:<{width}}  {preset.summary}{default}")
    print("data sets (--data NAME, or --data FILE.npy|.npz[:ARRAY]|.csv: (n, d) points, (n, H, W[, C]) images):")
    width = max(map(len, GENERATORS))
    for name, generator in GENERATORS.items():
        print(f"  {name:<{width}}  {generator.__doc__.strip().splitlines()[0]}")
    return 0


# -- run --------------------------------------------------------------------------------------------


class Request(NamedTuple):
    """A run as the command line asks for it."""

    preset: Preset
    config: Config
    data: str  # a data set name, or the absolute path of a data file
    population: np.ndarray | None  # own data; None for a named data set
    seeds: int
    seed: int


def _run(args: argparse.Namespace) -> int:
    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")
    if args.resume:
        if args.out is None:
            raise ConfigError("--resume needs --out DIR, the run to continue")
        root = args.out
        rundir.read_spec(root)  # a run directory, before anything is written into it
    else:
        request = _resolve(args, None, None)
        devices = seed_devices(args.devices, seeds=request.seeds)
        population = request.population if request.population is not None else make_population(request.config.data)
        layout = driver.plan_layout(
            request.config,
            request.seeds,
            devices,
            driver.sample_shape(population),
            group_size=args.group_size,
            chunk_steps=args.chunk_steps,
        )
        root = args.out or _default_out(request.preset.name)
        if writes_files():
            _claim(root, args.overwrite)  # refuse before anything is written
    # One process writes a run directory, from here to the end: a second run, --resume or --overwrite is refused.
    with rundir.owned(root, args.command) if writes_files() else contextlib.nullcontext():
        if writes_files():
            rundir.tidy(root)
        if args.resume:
            spec = rundir.read_spec(root)
            if rundir.is_complete(root):
                print(f"{root} is already complete; nothing to train, summary and figures brought up to date")
                _conclude(root, spec, seconds=0.0)  # what a kill before the summary or the figures left out
                return 0
            request, layout = _resumed(root, spec, args)
            devices = seed_devices(layout.devices)
        elif writes_files():
            if _claim(root, args.overwrite):
                rundir.clear(root)
            rundir.create(root, _spec(request, layout, devices), np.asarray(population))
        return _train(root, request, layout, devices, args)


def _resumed(root: Path, spec: dict[str, Any], args: argparse.Namespace) -> tuple[Request, driver.Layout]:
    """The request and layout of the run in `root`, refusing changed settings and a damaged config.json."""
    try:
        request = _resolve(args, spec, rundir.read_population(root))
        _check_unchanged(request, spec, args)
        return request, driver.Layout(**spec["layout"])
    except (KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{root / rundir.SPEC} is damaged ({type(error).__name__}: {error})") from None


def _train(root: Path, request: Request, layout: driver.Layout, devices: list, args: argparse.Namespace) -> int:
    _describe(request, layout, devices, root, resumed=args.resume)
    progress = driver.Progress(request.seeds * request.config.steps)
    deadline = None if args.time_limit is None else time.monotonic() + args.time_limit
    started = time.monotonic()
    try:
        complete = driver.train(
            root,
            request.config,
            layout,
            devices,
            seed=request.seed,
            population=request.population,
            progress=progress,
            deadline=deadline,
        )
    except KeyboardInterrupt:
        progress.close()
        print(f"interrupted; continue from the last checkpoint with: jaxbngan run --resume --out {root}")
        return EXIT_INTERRUPTED
    progress.close()
    if not complete:
        print(f"stopped at the time limit; continue with: jaxbngan run --resume --out {root}")
        return EXIT_STOPPED
    _conclude(root, rundir.read_spec(root) if writes_files() else {}, time.monotonic() - started)
    return 0


def _resolve(args: argparse.Namespace, spec: dict[str, Any] | None, saved: np.ndarray | None) -> Request:
    """The preset, config, data and seeds the arguments ask for, on top of a resumed run's spec if given."""
    preset = get_preset(args.preset or (spec["preset"] if spec else DEFAULT_PRESET))
    seeds = args.seeds if args.seeds is not None else (spec["seeds"] if spec else DEFAULT_SEEDS)
    seed = args.seed if args.seed is not None else (spec["seed"] if spec else 0)
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed must be in [0, {MAX_SEED}] (JAX keys take 32-bit seeds), got {seed}")
    if args.time_limit is not None and not args.time_limit >= 0:  # NaN too: it would never stop
        raise ConfigError(f"--time-limit must be a number of seconds, 0 or more, got {args.time_limit}")

    overrides = []  # named flags first, then --set in the order given: the last word wins
    for flag, (keys, _) in FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            overrides += [(key, value) for key in keys]
    overrides += [_split_setting(setting) for setting in args.set]
    config = from_dict(spec["config"]) if spec else preset.config
    source = args.data or (spec["data"] if spec else None)
    population = None
    if source is not None and source not in GENERATORS:
        if not (is_data_file(source) or Path(source).exists()):
            raise _unknown_data_set(source)
        if args.data is None and saved is not None:
            population = saved  # a resumed run's own data, as it was read when the run started
        else:
            population = load_data_file(source)
            source = str(Path(source).resolve())
        if any(key.startswith("data.") for key, _ in overrides):
            raise ConfigError("--set data.* does not apply to data read from a file")
        config = dataclasses.replace(config, data=DataConfig(name=source, size=population.shape[0]))
    elif source is not None:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, name=source))
    config = apply_overrides(config, overrides)
    if population is None:
        if config.data.name not in GENERATORS:  # set by --set data.name
            raise _unknown_data_set(config.data.name)
        source = config.data.name
    config.validate()
    return Request(preset, config, source, population, seeds, seed)


def _unknown_data_set(name: str) -> ConfigError:
    near = difflib.get_close_matches(name, GENERATORS, n=3)
    hint = f"did you mean {', '.join(near)}?" if near else f"choose from {', '.join(GENERATORS)} or a data file"
    return ConfigError(f"unknown data set {name!r}; {hint}")


def _split_setting(setting: str) -> tuple[str, str]:
    key, sep, value = setting.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE, got {setting!r}")
    return key.strip(), value.strip()


def _check_unchanged(request: Request, spec: dict[str, Any], args: argparse.Namespace) -> None:
    """Refuse to resume with settings other than the run was started with."""
    changes = [
        f"{key}: {before!r} -> {after!r}"
        for key, before, after in _differences(spec["config"], json.loads(json.dumps(to_dict(request.config))))
    ]
    for name, value in (("preset", request.preset.name), ("seeds", request.seeds), ("seed", request.seed)):
        if spec[name] != value:
            changes.append(f"{name}: {spec[name]!r} -> {value!r}")
    if args.data is not None and request.data != spec["data"]:
        changes.append(f"data: {spec['data']!r} -> {request.data!r}")
    for name, flag in (("devices", args.devices), ("group_size", args.group_size), ("chunk_steps", args.chunk_steps)):
        if flag is not None and flag != spec["layout"][name]:
            changes.append(f"{name}: {spec['layout'][name]!r} -> {flag!r}")
    if changes:
        raise ConfigError(f"--resume keeps the run's settings, but these differ: {'; '.join(changes)}")


def _differences(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    found = []
    for key in before:
        if isinstance(before[key], dict):
            found += _differences(before[key], after[key], f"{prefix}{key}.")
        elif before[key] != after[key]:
            found.append((f"{prefix}{key}", before[key], after[key]))
    return found


def _claim(root: Path, overwrite: bool) -> bool:
    """Make sure a new run may write to `root`; True if it holds a run that --overwrite will clear."""
    if not root.exists():
        return False
    if not root.is_dir():
        raise ConfigError(f"{root} exists and is not a directory")
    if not any(path.name != rundir.LOCK for path in root.iterdir()):
        return False
    if not overwrite:
        raise ConfigError(f"{root} exists; pass --resume to continue that run or --overwrite to replace it")
    if not rundir.is_run_dir(root):
        raise ConfigError(f"{root} is not a jaxbngan run directory (no {rundir.SPEC}); refusing to delete it")
    return True


def _default_out(preset: str) -> Path:
    base = RUNS / f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    root, n = base, 1
    while root.exists():
        n += 1
        root = base.with_name(f"{base.name}-{n}")
    return root


def _spec(request: Request, layout: driver.Layout, devices: list) -> dict[str, Any]:
    platform = devices[0].platform
    return {
        "preset": request.preset.name,
        "summary": request.preset.summary,
        "data": request.data,
        "seeds": request.seeds,
        "seed": request.seed,
        "layout": dataclasses.asdict(layout),
        # Choices that change a seed's rounding; on a CPU neither depends on the layout (README, Many devices).
        "execution": {"vmap_width": layout.width(platform), "scan_unroll": scan_unroll(platform)},
        "config": to_dict(request.config),
        "versions": {"jaxbngan": __version__, "jax": jax.__version__, "python": sys.version.split()[0]},
        "git": provenance.git_state(),  # None outside a checkout
        "device": f"{devices[0].platform}: {len(devices)} x {devices[0].device_kind}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _describe(request: Request, layout: driver.Layout, devices: list, root: Path, *, resumed: bool) -> None:
    config = request.config
    shape = f"{config.data.size} x {request.population.shape[1] if request.population is not None else 2}"
    print(f"{'resuming' if resumed else 'running'} {request.preset.name}: {request.preset.summary}")
    print(f"data {request.data} ({shape}); {request.seeds} seeds from seed {request.seed}; {config.steps} steps")
    width = layout.width(devices[0].platform)
    print(
        f"devices: {len(devices)} of {len(jax.devices())} ({devices[0].platform}); {layout.groups} group(s) of "
        f"{layout.group_size} seeds, {width} vmapped at a time per device; chunks of {layout.chunk_steps} steps"
    )
    print("config:")
    for key, value in _flatten(to_dict(config)):
        print(f"  {key} = {value}")
    print(f"results go to {root}/")


def _flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items = []
    for key, value in values.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _conclude(root: Path, spec: dict[str, Any], seconds: float) -> None:
    """Write the summary (unless a previous call did) and the figures of a complete run; print the headline numbers."""
    from jaxbngan import plots

    if not writes_files():
        return  # process 0 of a multi-process run writes and reports
    results = rundir.load(root)
    if (root / rundir.SUMMARY).is_file():
        summary = rundir.read_summary(root)
    else:
        summary = {"preset": spec["preset"], "data": spec["data"], "steps": spec["config"]["steps"]}
        summary |= rundir.summarize(results.history, results.steps, results.real)
        summary["wall_seconds"] = seconds  # of this invocation (a resumed run counts only its own part)
        rundir.write_summary(root, summary)
    figures = plots.draw_run(root, results)
    print(f"final metrics over {summary['seeds']} seeds, median [interquartile range]:")
    for name, stats in summary["aggregate"].items():
        print(f"  {name:<20} {_cell(stats)}")
    diverged = summary["diverged"]
    if diverged:
        shown = ", ".join(f"seed {d['seed']} at step {d['step']}" for d in diverged[:10])
        more = f" and {len(diverged) - 10} more" if len(diverged) > 10 else ""
        print(f"diverged (left out above): {shown}{more}")
    files = sorted(p.name for p in root.iterdir() if p.name != rundir.LOCK)
    print(f"done in {seconds:.0f} s; results in {root}/: {', '.join(files)}")
    print(f"figures: {', '.join(str(f) for f in figures)}")


def _cell(stats: dict[str, float]) -> str:
    if stats["seeds"] == 0:
        return "n/a"
    return f"{stats['median']:.4g} [{stats['q25']:.4g}, {stats['q75']:.4g}]"


# -- overrides --------------------------------------------------------------------------------------


def override_types() -> dict[str, Any]:
    """Every overridable key ('steps', 'loss.shift_weight', ...) with its field's type."""
    types_ = {}
    for name, hint in typing.get_type_hints(Config).items():
        if dataclasses.is_dataclass(hint):
            for field, field_hint in typing.get_type_hints(hint).items():
                types_[f"{name}.{field}"] = field_hint
        else:
            types_[name] = hint
    return types_


def apply_overrides(config: Config, overrides: list[tuple[str, str]]) -> Config:
    """`config` with each `key=value` applied in order; values parse by the field's type."""
    known = override_types()
    for key, text in overrides:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(near)}?" if near else "; keys are SECTION.FIELD as in config.json"
            raise ConfigError(f"unknown override key {key!r}{hint}")
        value = parse_value(text, known[key], key)
        section, _, field = key.rpartition(".")
        if section:
            config = dataclasses.replace(
                config, **{section: dataclasses.replace(getattr(config, section), **{field: value})}
            )
        else:
            config = dataclasses.replace(config, **{field: value})
    return config


def parse_value(text: str, hint: Any, key: str) -> Any:
    """Parse a command-line string as a value of type `hint` (int, float, bool, str, Literal, X | None, tuple)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return parse_value(text, inner, key)
    if origin is Literal:
        if text not in args:
            raise ConfigError(f"{key}: {text!r} is not one of {', '.join(map(str, args))}")
        return text
    if origin is tuple:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(item, args[0], key) for item in items)
        parts = text.split(":")
        if len(parts) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} parts NAME:VALUE, got {text!r}")
        return tuple(parse_value(part.strip(), a, key) for part, a in zip(parts, args, strict=True))
    if hint is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if hint in (int, float):
        try:
            value = hint(text)
        except ValueError:
            raise ConfigError(f"{key}: expected {'an integer' if hint is int else 'a number'}, got {text!r}") from None
        if hint is float and not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {text!r}")
        return value
    if hint is str:
        return text
    raise ConfigError(f"{key}: cannot be set from the command line")


# -- plot and compare -------------------------------------------------------------------------------


def _plot(args: argparse.Namespace) -> int:
    from jaxbngan import plots

    results = rundir.load(args.run_dir)
    figures = plots.draw_run(args.run_dir, results, seeds=args.seeds)
    if not results.complete:
        seeds = results.history.g_loss.shape[0]
        print(f"{args.run_dir} is partial: {seeds} of {results.spec['seeds']} seeds have started")
    print(f"figures: {', '.join(str(f) for f in figures)}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from jaxbngan import plots

    if len(args.run_dirs) < 2:
        raise ConfigError("compare needs two or more runs; one run's numbers are in its summary.json")
    if args.out.suffix.lower() != ".png":
        raise ConfigError(f"--out must name a .png file (the figure is a PNG), got {str(args.out)!r}")
    labels = _labels(args.run_dirs)
    finals = {}
    for label, root in zip(labels, args.run_dirs, strict=True):
        results = rundir.load(root)
        if not results.complete:
            raise ConfigError(f"{root} has not finished; continue it with `jaxbngan run --resume --out {root}`")
        healthy = rundir.divergence_steps(results.history, results.steps, results.real) < 0
        finals[label] = {name: values[healthy] for name, values in rundir.final_metrics(results.history).items()}
    width = max(22, *(len(label) + 2 for label in labels))
    print("final metrics, median [interquartile range] over seeds (diverged seeds left out)")
    print(f"{'':<20}" + "".join(f"{label:>{width}}" for label in labels))
    for name in next(iter(finals.values())):
        cells = [_cell(rundir.aggregate(finals[label][name])) for label in labels]
        print(f"{name:<20}" + "".join(f"{cell:>{width}}" for cell in cells))
    print(f"{'seeds':<20}" + "".join(f"{len(finals[label]['g_loss']):>{width}}" for label in labels))
    plots.compare_runs(finals, args.out)
    print(f"figure: {args.out}")
    return 0


def _labels(roots: list[Path]) -> list[str]:
    names = [root.resolve().name for root in roots]
    return names if len(set(names)) == len(names) else [str(root) for root in roots]


# -- plot --seeds, and export -----------------------------------------------------------------------


def _seed_list(text: str) -> list[int]:
    """`--seeds 0,3,7` as [0, 3, 7] (ranges are checked against the run by `plots.draw_run`)."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected seed indices like 0,3,7, got {text!r}")
    return seeds


def _export(args: argparse.Namespace) -> int:
    written = export.export_run(args.run_dir, args.format, args.out)
    print(f"{args.format}: {written}")
    return 0
