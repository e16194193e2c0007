"""The command line of a reproduction: parse the flags, train the missing cells, write the report."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from jaxbngan import compile_cache, rundir
from jaxbngan.config import ConfigError, DataConfig
from jaxbngan.data import make_population
from jaxbngan.reproduce.adaptive import SeedRule, claims_of, growing, parse_seed_rule, plan_seeds
from jaxbngan.reproduce.cells import (
    Cell,
    CellResult,
    Progress,
    cell_path,
    check_same_device,
    extended,
    load_cell,
    plan_cells,
    run_cell,
    run_sweep_cells,
    save_cell,
)
from jaxbngan.reproduce.judging import Judged, judge_cells
from jaxbngan.reproduce.provenance import git_revision
from jaxbngan.reproduce.report import Invocation, cell_stats, point_numbers, write_report
from jaxbngan.reproduce.spec import PROFILES, SECTIONS, Experiment, Profile, datasets_of
from jaxbngan.tuning import use_tuned_xla_flags
from jaxbngan.usage import StrictParser, fail


def load_experiments(directory: Path, names: Sequence[str]) -> list[Experiment]:
    """Import `EXPERIMENT` from experiments/<name>.py for each name, in report order."""
    experiments = []
    for name in names:
        path = directory / f"{name}.py"
        if not path.is_file():
            raise ConfigError(f"no experiment script {path}; run from the repository root or pass --experiments DIR")
        spec = importlib.util.spec_from_file_location(f"jaxbngan_experiments.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        experiments.append(module.EXPERIMENT)
    return experiments


def parse_args(argv: Sequence[str], prog: str, default_out: str, experiments_dir: str) -> argparse.Namespace:
    """The command line of `main`."""
    parser = StrictParser(prog=prog, description="Reproduce the blog's claims over many seeds.")
    parser.add_argument("--out", default=default_out, help=f"output directory (default: {default_out})")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--standard", action="store_true", help="32 seeds, three data sets: a few hours on a 2-core CPU, resumable"
    )
    size.add_argument("--quick", action="store_true", help="6 seeds, fewer data sets: under 30 min on a 2-core CPU")
    size.add_argument("--tiny", action="store_true", help="2 seeds, 20 steps: checks the machinery, nothing else")
    parser.add_argument("--seeds", type=int, help="seeds per cell (default: the profile's)")
    parser.add_argument("--seed", type=int, default=0, help="integer the seed keys derive from (default: 0)")
    parser.add_argument("--datasets", help="comma-separated data sets for every section (default: the profile's)")
    parser.add_argument("--only", help=f"comma-separated experiments to run, of: {', '.join(SECTIONS)}")
    parser.add_argument("--experiments", default=experiments_dir, help="directory of the experiment scripts")
    add_cell_flags(parser)
    compile_cache.add_argument(parser)
    return parser.parse_args(argv)


def add_report_only(parser: argparse.ArgumentParser) -> None:
    """The flag that draws the report from the cells already trained, training nothing."""
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="draw the report from the cells already in --out and train nothing; the report names the cells it lacks",
    )


def add_cell_flags(parser: argparse.ArgumentParser) -> None:
    """The flags on which cells a study trains: --report-only, and --adaptive-seeds for its undecided claims."""
    add_report_only(parser)
    parser.add_argument(
        "--adaptive-seeds",
        metavar="BLOCK:CAP",
        help="after the profile's seeds, add BLOCK more seeds at a time to the cells of each claim still undecided,"
        " until it is decided or its cells hold CAP seeds (e.g. 8:32)",
    )


def seed_rule(args: argparse.Namespace, seeds: int) -> SeedRule | None:
    """The rule of --adaptive-seeds, None without it; `seeds`: the most seeds a cell of the profile starts with."""
    return None if args.adaptive_seeds is None else parse_seed_rule(args.adaptive_seeds, seeds)


def resolve_profile(args: argparse.Namespace) -> Profile:
    """The profile named by the flags, with --seeds and --datasets applied."""
    named = [name for name in ("standard", "quick", "tiny") if getattr(args, name)]
    profile = PROFILES[named[0] if named else "full"]
    if args.seeds is not None:
        if args.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {args.seeds}")
        profile = profile._replace(seeds=args.seeds)
    if args.datasets:
        chosen = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
        for dataset in chosen:
            make_population(DataConfig(name=dataset, size=2))  # ConfigError for an unknown name
        profile = profile._replace(datasets=chosen, beyond_datasets=chosen)
    return profile


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "jaxbngan reproduce",
    experiments: Sequence[Experiment] | None = None,
    experiments_dir: str | os.PathLike = "experiments",
) -> int:
    """Train the cells not yet in --out, then write the report; exit code 0, 2 on bad input, 130 on Ctrl-C."""
    return run_command(argv, prog, experiments, experiments_dir, "runs/reproduce", parse_args, _reproduce)


def run_command(
    argv: Sequence[str] | None,
    prog: str,
    experiments: Sequence[Experiment] | None,
    experiments_dir: str | os.PathLike,
    default_out: str,
    parse: Callable[..., argparse.Namespace],
    study: Callable[[argparse.Namespace, str, Sequence[Experiment] | None], int],
) -> int:
    """A reproduction's command line: parse with `parse`, run `study`, and end a user error or Ctrl-C in one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if experiments and len(experiments) == 1:
        default_out = f"runs/{experiments[0].name}"
    use_tuned_xla_flags()
    git_revision()  # the code this process imported, before anything trains (it is read once)
    try:
        args = parse(argv, prog, default_out, str(experiments_dir))
        compile_cache.enable(args.compile_cache)
        return study(args, shlex.join([*shlex.split(prog), *argv]), experiments)
    except ConfigError as error:
        return fail(prog, error)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished cells are saved, the same command resumes", file=sys.stderr)
        return 130


def select_experiments(
    args: argparse.Namespace, sections: Sequence[str], given: Sequence[Experiment] | None, whole: str
) -> Sequence[Experiment]:
    """The experiments to run: those given, or the scripts of `sections` (narrowed by --only) from --experiments."""
    if given is not None:
        if args.only:
            raise ConfigError(f"--only applies to the whole {whole}, not to one experiment's script")
        return given
    names = tuple(sections)
    if args.only:
        names = tuple(n.strip() for n in args.only.split(",") if n.strip())
        unknown = [n for n in names if n not in sections]
        if unknown:
            raise ConfigError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(sections)}")
    return load_experiments(Path(args.experiments), names)


def _reproduce(args: argparse.Namespace, command: str, given: Sequence[Experiment] | None) -> int:
    start = time.perf_counter()
    profile = resolve_profile(args)
    sections = SECTIONS if args.only else tuple(s for s in SECTIONS if s not in profile.leaves_out)
    given = select_experiments(args, sections, given, "reproduction")
    rule = seed_rule(args, profile.seeds)
    cells = plan_cells(given, profile)
    by_key = {c.key: c for c in cells}
    out = Path(args.out)

    def make_judge() -> Callable[[dict[str, CellResult]], list[Judged]]:
        stats = cell_stats(cells)
        datasets_for = lambda e: datasets_of(e, profile)  # noqa: E731
        return lambda results: claims_of(
            judge_cells(given, datasets_for, results, by_key, point_numbers(stats)).judged_all
        )

    with rundir.owned(out, command):  # one process trains into a report directory at a time
        results, trained = train_study_cells(cells, out, lambda cell: profile.seeds, args, rule, make_judge)
        run = Invocation(command, profile, args.seed, time.perf_counter() - start, trained, rule)
        report = write_report(out, run, given, results, by_key)
    print(f"report: {report}", file=sys.stderr)
    return 0


def train_cells(
    cells: Sequence[Cell],
    out: Path,
    seeds_of: Callable[[Cell], int],
    seed: int,
    *,
    train: bool = True,
    most: int | None = None,
) -> tuple[dict[str, CellResult], int]:
    """Load the cells already in `out`, train the others (`seeds_of(cell)` seeds each); (results by key, trained).

    With `train` False the missing cells stay missing: the report judges what is there. Cells grown
    by --adaptive-seeds load with up to `most` seeds.
    """
    results: dict[str, CellResult] = {}
    for cell in cells:
        found = load_cell(cell_path(out, cell), cell, seeds_of(cell), seed, most)
        if found is not None:
            results[cell.key] = found
    to_run = [cell for cell in cells if cell.key not in results]
    seed_counts = sorted({seeds_of(cell) for cell in cells})
    plan = f"{len(to_run)} to run" if train else f"{len(to_run)} missing, not trained (--report-only)"
    print(
        f"{len(cells)} cells of {'/'.join(map(str, seed_counts))} seeds x {cells[0].config.steps} steps:"
        f" {len(results)} already done, {plan}; results in {out}",
        file=sys.stderr,
        flush=True,
    )
    if not train:
        return results, 0
    progress = Progress(len(cells), len(to_run))
    for batch in _sweep_batches(to_run):
        trained, work = _train_batch(batch, out, seeds_of(batch[0]), seed, 0, progress)
        for cell, result in zip(batch, trained, strict=True):
            save_cell(cell_path(out, cell), result)
            progress.finished(result.meta["wall_s"])
            results[cell.key] = result
        rundir.remove(work)
    return results, len(to_run)


def train_study_cells(
    cells: Sequence[Cell],
    out: Path,
    seeds_of: Callable[[Cell], int],
    args: argparse.Namespace,
    rule: SeedRule | None,
    make_judge: Callable[[], Callable[[dict[str, CellResult]], list[Judged]]],
) -> tuple[dict[str, CellResult], int]:
    """`train_cells` under the flags, then, with --adaptive-seeds, `grow_cells` with the judge `make_judge` builds."""
    most = None if rule is None else rule.cap
    results, trained = train_cells(cells, out, seeds_of, args.seed, train=not args.report_only, most=most)
    if rule is not None and not args.report_only:
        grow_cells(cells, out, results, args.seed, rule, make_judge())
    return results, trained


def grow_cells(
    cells: Sequence[Cell],
    out: Path,
    results: dict[str, CellResult],
    seed: int,
    rule: SeedRule,
    judge: Callable[[dict[str, CellResult]], list[Judged]],
) -> None:
    """Add blocks of seeds to the cells of undecided claims (`adaptive.plan_seeds`) until every claim is decided
    or its cells hold the cap; `results` is updated in place.

    `judge(results)` judges every claim on the cells as they are. Each block is appended to its cell's
    file as soon as it is trained, so a stopped run resumes at the block it was in. A cell grows only
    in a process that runs as the one that trained it (`cells.check_same_device`), checked before
    anything trains.
    """
    while grow := growing(plan_seeds(judge(results), {k: r.meta["seeds"] for k, r in results.items()}, rule)):
        to_grow = [cell for cell in cells if cell.key in grow]
        for cell in to_grow:
            check_same_device(cell.key, results[cell.key].meta)
        print(
            f"--adaptive-seeds {rule.text}: {len(to_grow)} cells of undecided claims get more seeds",
            file=sys.stderr,
            flush=True,
        )
        progress = Progress(len(to_grow), len(to_grow))
        for batch in _sweep_batches(to_grow, lambda cell: (grow[cell.key].seeds, grow[cell.key].target)):
            now, target = grow[batch[0].key].seeds, grow[batch[0].key].target
            trained, work = _train_batch(batch, out, target - now, seed, now, progress)
            for cell, block in zip(batch, trained, strict=True):
                results[cell.key] = extended(results[cell.key], block, grow[cell.key].why)
                save_cell(cell_path(out, cell), results[cell.key])
                progress.finished(block.meta["wall_s"])
            rundir.remove(work)


def _train_batch(
    batch: Sequence[Cell], out: Path, seeds: int, seed: int, first_seed: int, progress: Progress
) -> tuple[list[CellResult], Path]:
    """Train seeds `first_seed`.. of one cell, or of one sweep's cells as one program; (results, run directory)."""
    first = batch[0]

    def report_block(done: float, spent: float, members: int = seeds * len(batch)) -> None:
        progress.block(first, done, members, spent, len(batch))  # a sweep's seeds count as those of all its cells

    if len(batch) == 1:
        work = cell_path(out, first).with_suffix(".run")
        return [run_cell(first, seeds, seed, work, report_block, first_seed)], work
    work = out / "cells" / f"{first.sweep}@{first.dataset}.run"
    return run_sweep_cells(batch, seeds, seed, work, report_block, first_seed), work


def _sweep_batches(cells: Sequence[Cell], alike: Callable[[Cell], tuple] = lambda cell: ()) -> list[list[Cell]]:
    """The cells to train, in order, the cells of one sweep on one data set (and alike) gathered at its first."""
    batches: dict[tuple | int, list[Cell]] = {}
    for index, cell in enumerate(cells):
        batches.setdefault((cell.sweep, cell.dataset, *alike(cell)) if cell.sweep else index, []).append(cell)
    return list(batches.values())


def run_alone(experiment: Experiment) -> None:
    """Entry point of one experiment script: `python experiments/<name>.py [--quick|--tiny] [--out DIR]`."""
    sys.exit(main(sys.argv[1:], prog=f"python experiments/{experiment.name}.py", experiments=[experiment]))
