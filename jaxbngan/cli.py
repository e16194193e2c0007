"""The `jaxbngan` command: list presets, run many seeds into a run directory, plot and compare runs.

Every mistake a user can make on the command line ends as one line on stderr and exit code 2.
JAX and matplotlib are imported only by the commands that need them: `--help`, `--version`,
`list` and `explain` answer without either. `run` and `sweep` only parse flags and print:
`jaxbngan.api` holds the run's life (new or continued, locked, trained, concluded), as it does for
`jaxbngan.run`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shlex
import signal
import sys
import threading
import time
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxbngan import __version__, compile_cache
from jaxbngan import cli_results as results
from jaxbngan.catalog import (
    DATA_SETS,
    FINAL_METRICS,
    OFFSET_UNIT,
    SUMMARY_FIELDS,
    SWEEP_POINT_FIELDS,
    SWEEP_SUMMARY_FIELDS,
)
from jaxbngan.config import DATA_KINDS, KNOBS, ConfigError
from jaxbngan.overrides import Setting, parse_overrides, split_setting
from jaxbngan.presets import DEFAULT_PRESET, PRESETS
from jaxbngan.usage import StrictParser, fail, os_error_text

if TYPE_CHECKING:  # imported by the commands that use them: JAX comes with them
    from jaxbngan import api

EXIT_STOPPED = 75  # stopped at --time-limit with work left (EX_TEMPFAIL): continue with --resume
EXIT_INTERRUPTED = 130
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
    "--g-view": (("strategy.g_view",), "how D normalizes fakes in G's step: fake, joint or running"),
    "--log-every": (("log_every",), "steps between logged metrics"),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in ("bench", "reproduce"):
            _start_jax()
            return (_bench if argv[0] == "bench" else _reproduce)(argv[1:])
        args = _parser().parse_args(argv)  # --help and --version end here, before JAX is imported
        args.command = shlex.join(["jaxbngan", *argv])
        if args.handler in (_list, _explain):  # they answer without JAX
            return args.handler(args)
        _start_jax()
        args.compile_cache = compile_cache.enable(getattr(args, "compile_cache", None))
        with compile_cache.CompileLog() as args.compilations:
            if args.handler is _run:  # SIGTERM interrupts a run as Ctrl-C does, and it says how to continue
                with _sigterm_interrupts():
                    return args.handler(args)
            return args.handler(args)
    except ConfigError as error:
        return fail("jaxbngan", error)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout again at exit
        return 0
    except OSError as error:  # a file or folder that cannot be read or written: the user's to fix
        return fail("jaxbngan", os_error_text(error))


@contextlib.contextmanager
def _sigterm_interrupts() -> typing.Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block (in the main thread; elsewhere it cannot be caught)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _start_jax() -> None:
    """Tune XLA for this machine before JAX starts its backend, and join a multi-process run if asked."""
    from jaxbngan.sharding import initialize_distributed
    from jaxbngan.tuning import use_tuned_xla_flags

    use_tuned_xla_flags()  # before JAX starts its backend, or the flags do nothing
    initialize_distributed()  # joins a multi-process run when JAXBNGAN_DISTRIBUTED=1


def _bench(argv: list[str]) -> int:
    from jaxbngan.bench import main as bench_main

    return bench_main(argv) or 0


def _reproduce(argv: list[str]) -> int:
    from jaxbngan.reproduce import main as reproduce_main

    return reproduce_main(argv) or 0


def _parser() -> argparse.ArgumentParser:
    parser = StrictParser(prog="jaxbngan", description="Batch normalization in GANs, many seeds at once, in JAX.")
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
    _add_run_arguments(run, "run directory (default: runs/PRESET-TIMESTAMP)")
    run.set_defaults(handler=_run, kind="run", axis=[])

    sweep = commands.add_parser(
        "sweep",
        help="run a grid of settings x seeds as one program into a sweep directory",
        description="Train every point of a grid of settings (--axis, repeatable) with the same SEEDS seeds, "
        "all in one jitted program, and write a sweep directory: a run directory whose summary and figures "
        "are per point. Axes take continuous settings that change no array shape: " + ", ".join(KNOBS) + ".",
    )
    _add_run_arguments(sweep, "sweep directory (default: runs/sweep-PRESET-TIMESTAMP)")
    sweep.add_argument(
        "--axis",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="a grid axis, e.g. discriminator.momentum=0.5,0.9,0.99 (repeatable: the grid is their product)",
    )
    sweep.add_argument(
        "--metric", default="d_loss", metavar="NAME", help="the final metric of the sweep's heatmap (default d_loss)"
    )
    sweep.set_defaults(handler=_run, kind="sweep")

    plot = commands.add_parser("plot", help="(re)draw the figures of a finished or partial run")
    plot.add_argument("run_dir", type=Path)
    plot.add_argument("--seeds", type=results.seed_list, metavar="I,J,...", help="draw only these seeds, e.g. 0,3,7")
    plot.add_argument("--metric", metavar="NAME", help="a sweep's heatmap metric (default d_loss)")
    plot.set_defaults(handler=results.plot)

    extract = commands.add_parser("extract", help="one point of a finished sweep as an ordinary run directory")
    extract.add_argument("sweep_dir", type=Path)
    extract.add_argument(
        "--point", required=True, metavar="I|PATH=V,...", help="the point's index, or its value on every axis"
    )
    extract.add_argument("--out", type=Path, help="run directory to write (default: SWEEP_DIR/point-I)")
    extract.set_defaults(handler=results.extract)

    compare = commands.add_parser("compare", help="final metrics of several runs side by side, and a figure")
    compare.add_argument(
        "run_dirs", type=Path, nargs="+", help="two or more runs; a sweep directory counts as its points"
    )
    compare.add_argument(
        "--out", type=Path, help=f"PNG figure (default: {results.COMPARE_FIGURE} in the first run's directory)"
    )
    compare.add_argument(
        "--metrics",
        type=results.name_list,
        metavar="NAME,...",
        help="the final metrics to show, e.g. d_loss,offset_x (default: all; `jaxbngan explain` defines them)",
    )
    compare.set_defaults(handler=results.compare)

    exporting = commands.add_parser(
        "export",
        help="every logged metric of a finished run as CSV, Parquet or TensorBoard logs",
        description="One row per seed and logged step, a column per metric (offset_x, d_fake_loss_fake_view, ...).",
    )
    exporting.add_argument("run_dir", type=Path)
    exporting.add_argument(
        "--format", default="csv", help="csv (default), parquet (needs pyarrow) or tensorboard (needs tensorboard)"
    )
    exporting.add_argument("--out", type=Path, help="file or, for tensorboard, directory (default: in RUN_DIR)")
    exporting.set_defaults(handler=results.export)

    explain = commands.add_parser("explain", help="what each field of summary.json means, one line each")
    explain.set_defaults(handler=_explain)

    commands.add_parser("bench", help="throughput benchmarks (see `jaxbngan bench --help`)", add_help=False)
    commands.add_parser("reproduce", help="reproduce the blog's figures (see `jaxbngan reproduce --help`)")
    return parser


def _add_run_arguments(parser: argparse.ArgumentParser, out_help: str) -> None:
    """The flags `run` and `sweep` share."""
    parser.add_argument(
        "preset",
        nargs="?",
        help=f"a preset from `jaxbngan list` (default: {DEFAULT_PRESET})",
    )
    parser.add_argument(
        "--data",
        metavar="NAME|FILE",
        help="a data set from `jaxbngan list`, or a .npy / .npz[:NAME] / .csv file of (n, d)",
    )
    parser.add_argument("--seeds", type=int, metavar="N", help=f"how many seeds (default {DEFAULT_SEEDS})")
    parser.add_argument(
        "--seed", type=int, metavar="N", help="first PRNG seed; seed i is the i-th key split from it (default 0)"
    )
    for flag, (_, text) in FLAGS.items():
        parser.add_argument(flag, metavar="X", help=text)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field, e.g. discriminator.norms=layer,layer or data.params=radius:3 (repeatable)",
    )
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    parser.add_argument("--overwrite", action="store_true", help="replace the run directory --out if it exists")
    parser.add_argument(
        "--devices", type=int, metavar="N", help="use at most N devices (default: all, but no more than --seeds)"
    )
    parser.add_argument(
        "--group-size", type=int, metavar="N", help="seeds per group (default: as many as fit in memory)"
    )
    parser.add_argument(
        "--chunk-steps", type=int, metavar="N", help="steps per jitted chunk between checkpoints (default: ~1/10)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help=f"stop at the first checkpoint after SECONDS (exit code {EXIT_STOPPED}); continue with --resume",
    )
    compile_cache.add_argument(parser)


# -- list -------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    width = max(map(len, PRESETS))
    for kind in DATA_KINDS:
        print(f"presets on {kind} (jaxbngan run PRESET):")
        for name, preset in PRESETS.items():
            if preset.kind == kind:
                default = f" (the default; on {preset.config.data.name})" if name == DEFAULT_PRESET else ""
                print(f"  {name:<{width}}  {preset.summary}{default}")
    print("data sets (--data NAME, or --data FILE.npy|.npz[:ARRAY]|.csv: (n, d) points, (n, H, W[, C]) images):")
    width = max(map(len, DATA_SETS))
    for name, description in DATA_SETS.items():
        print(f"  {name:<{width}}  {description}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    print(f"summary.json of a run directory (`jaxbngan run`; offsets in {OFFSET_UNIT}: standard deviations of the")
    print("real data per axis, or per channel for images):")
    width = max(map(len, [*SUMMARY_FIELDS, *FINAL_METRICS]))
    for name, meaning in SUMMARY_FIELDS.items():
        print(f"  {name:<{width}}  {meaning}")
    print("final metrics (the keys of aggregate and of each per_seed entry; `jaxbngan compare --metrics` takes them):")
    for name, meaning in FINAL_METRICS.items():
        print(f"  {name:<{width}}  {meaning}")
    print("summary.json of a sweep directory (`jaxbngan sweep`):")
    for name, meaning in SWEEP_SUMMARY_FIELDS.items():
        print(f"  {name:<{width}}  {meaning}")
    print("each entry of a sweep's points:")
    for name, meaning in SWEEP_POINT_FIELDS.items():
        print(f"  {name:<{width}}  {meaning}")
    return 0


# -- run --------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    """`jaxbngan run` and `sweep`: the flags as a request (or as what a continued run keeps), held and trained."""
    from jaxbngan import api
    from jaxbngan.grid import parse_axes

    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")
    _check_time_limit(args.time_limit)
    if args.resume:
        if args.out is None:
            raise ConfigError("--resume needs --out DIR, the run to continue")
        root = args.out
        request = functools.partial(_continued, args=args)
    else:
        source = api.resolve(args.preset or DEFAULT_PRESET, args.data, _overrides(args))
        grid = parse_axes(source.config, args.axis) if args.kind == "sweep" else None
        if grid is not None:
            _refuse_set_and_swept(args, [path for path, _ in grid.axes])
            results.metric(args.metric)
        request = api.make_request(source, DEFAULT_SEEDS if args.seeds is None else args.seeds, args.seed or 0, grid)
        if grid is not None:  # its size first: planning a large grid takes a while, and may refuse it
            print(api.grid_size_line(request), flush=True)
        root = args.out or _default_out(("sweep-" if grid else "") + request.source.preset)
    asked = api.LayoutAsked(args.devices, args.group_size, args.chunk_steps)
    with api.open_run(
        root, request, asked, command=args.command, resume=args.resume, overwrite=args.overwrite
    ) as session:
        if session.complete:
            print(f"{root} is already complete; nothing to train, summary and figures brought up to date")
            return _conclude(root, 0.0, args)  # what a kill before the summary or the figures left out
        return _train(session, args)


def _continued(saved: api.Source, spec: dict[str, Any], args: argparse.Namespace) -> api.Request:
    """The request of `--resume`: the saved run's, with the flags given (`api.open_run` refuses changes)."""
    from jaxbngan import api
    from jaxbngan.sweep import read_grid

    is_sweep = read_grid(spec) is not None
    if is_sweep != (args.kind == "sweep"):
        other = "sweep" if is_sweep else "run"
        raise ConfigError(f"{args.out} holds a {other}; continue it with `jaxbngan {other} --resume --out {args.out}`")
    return api.continued(
        saved,
        spec,
        preset=args.preset,
        data=args.data,
        overrides=_overrides(args),
        seeds=args.seeds,
        seed=args.seed,
        axes=args.axis,
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The typed config overrides of the named flags and --set; a field set twice is an error."""
    return parse_overrides(_settings(args))


def _settings(args: argparse.Namespace) -> list[Setting]:
    settings = []
    for flag, (keys, _) in FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            settings += [Setting(key, value, f"{flag} {value}") for key in keys]
    for text in args.set:
        key, value = split_setting(text)
        settings.append(Setting(key, value, f"--set {text}"))
    return settings


def _refuse_set_and_swept(args: argparse.Namespace, swept: list[str]) -> None:
    """A field both set (--set, --lr, ...) and swept (--axis) would silently take the axis's values: refuse it."""
    for setting in _settings(args):
        if setting.key in swept:
            raise ConfigError(
                f"{setting.given_as} conflicts with --axis {setting.key}: a swept field takes its values from "
                "--axis alone; drop one of them"
            )


def _check_time_limit(limit: float | None) -> None:
    if limit is not None and not limit >= 0:  # NaN too: it would never stop
        raise ConfigError(f"--time-limit must be a number of seconds, 0 or more, got {limit}")


def _train(session: api.Session, args: argparse.Namespace) -> int:
    """Train a held run to its end (or to --time-limit, or Ctrl-C), then summarize it; the exit code."""
    from jaxbngan import api, config

    root = session.root
    for line in api.describe(session, root):
        print(line)
    print("config:")
    for key, value in _flatten(config.to_dict(session.request.source.config)):
        print(f"  {key} = {value}")
    print(f"Ctrl-C stops when the running chunk of {session.layout.chunk_steps} steps ends; --resume continues")
    deadline = None if args.time_limit is None else time.monotonic() + args.time_limit
    started = time.monotonic()
    again = f"jaxbngan {args.kind} --resume --out {root}"
    try:
        complete = api.train(session, deadline=deadline)
    except KeyboardInterrupt:
        print(f"interrupted; {api.saved_progress(root)}; continue with: {again}")
        return EXIT_INTERRUPTED
    print(args.compilations.counts().describe(args.compile_cache))
    if not complete:
        print(f"stopped at the time limit; {api.saved_progress(root)}; continue with: {again}")
        return EXIT_STOPPED
    return _conclude(root, time.monotonic() - started, args)


def _conclude(root: Path, seconds: float, args: argparse.Namespace) -> int:
    """The summary and figures of a trained run; an interrupt (Ctrl-C, SIGTERM) says what is saved and what is not."""
    try:
        results.conclude(root, seconds, args)
    except KeyboardInterrupt:
        print(
            f"interrupted while writing the summary and figures; the trained run is saved in {root}; "
            f"write them with: jaxbngan {args.kind} --resume --out {root}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def _default_out(preset: str) -> Path:
    base = RUNS / f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    root, n = base, 1
    while root.exists():
        n += 1
        root = base.with_name(f"{base.name}-{n}")
    return root


def _flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items = []
    for key, value in values.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items
