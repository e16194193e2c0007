"""The command line of the image study: parse the flags, train the missing image cells, write the image report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from jaxbngan import compile_cache, rundir
from jaxbngan.config import ConfigError
from jaxbngan.reproduce.adaptive import claims_of
from jaxbngan.reproduce.cells import CellResult
from jaxbngan.reproduce.command import (
    add_cell_flags,
    run_command,
    seed_rule,
    select_experiments,
    train_study_cells,
)
from jaxbngan.reproduce.image_report import image_numbers, profile_stats, write_image_report
from jaxbngan.reproduce.image_spec import IMAGE_PROFILES, IMAGE_SECTIONS, ImageProfile, plan_image_cells
from jaxbngan.reproduce.judging import Judged, judge_cells
from jaxbngan.reproduce.report import Invocation
from jaxbngan.reproduce.spec import Experiment
from jaxbngan.usage import StrictParser


def parse_image_args(argv: Sequence[str], prog: str, default_out: str, experiments_dir: str) -> argparse.Namespace:
    """The command line of `image_main`."""
    parser = StrictParser(
        prog=prog, description="The blog's claims and open questions at image scale, over many seeds."
    )
    parser.add_argument("--out", default=default_out, help=f"output directory (default: {default_out})")
    parser.add_argument(
        "--profile",
        default="images-cpu",
        choices=tuple(IMAGE_PROFILES),
        help="images-cpu: about 6.5 h on 2 CPU cores (estimated); images-gpu: 64+ seeds per cell; tiny: the machinery",
    )
    parser.add_argument("--seeds", type=int, help="seeds per cell on every data set (default: the profile's)")
    parser.add_argument("--seed", type=int, default=0, help="integer the seed keys derive from (default: 0)")
    parser.add_argument("--datasets", help="comma-separated data sets of the profile to run (default: all)")
    parser.add_argument("--only", help=f"comma-separated experiments to run, of: {', '.join(IMAGE_SECTIONS)}")
    parser.add_argument("--experiments", default=experiments_dir, help="directory of the experiment scripts")
    add_cell_flags(parser)
    compile_cache.add_argument(parser)
    return parser.parse_args(argv)


def resolve_image_profile(args: argparse.Namespace) -> ImageProfile:
    """The profile named by --profile, with --seeds and --datasets applied."""
    profile = IMAGE_PROFILES[args.profile]
    if args.seeds is not None:
        if args.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {args.seeds}")
        profile = profile._replace(sets=tuple(s._replace(seeds=args.seeds) for s in profile.sets))
    if args.datasets:
        chosen = [d.strip() for d in args.datasets.split(",") if d.strip()]
        for dataset in chosen:
            if dataset not in profile.datasets:
                raise ConfigError(
                    f"profile {profile.name} has no data set {dataset!r}; it has {', '.join(profile.datasets)}"
                )
        profile = profile._replace(sets=tuple(s for s in profile.sets if s.name in chosen))
    return profile


def experiments_on(profile: ImageProfile, chosen: Sequence[Experiment]) -> list[Experiment]:
    """The chosen experiments that run on a data set of the profile: --datasets may leave a section none."""
    kept = [e for e in chosen if profile.datasets_of(e)]
    if not kept:
        names = ", ".join(e.name for e in chosen)
        raise ConfigError(f"profile {profile.name} runs none of {names} on {', '.join(profile.datasets)}")
    return kept


def image_main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "python experiments/images.py",
    experiments: Sequence[Experiment] | None = None,
    experiments_dir: str | os.PathLike = "experiments",
) -> int:
    """Train the image cells not yet in --out, then write the report; exit code 0, 2 on bad input, 130 on Ctrl-C."""
    return run_command(argv, prog, experiments, experiments_dir, "runs/images", parse_image_args, _study)


def _study(args: argparse.Namespace, command: str, given: Sequence[Experiment] | None) -> int:
    start = time.perf_counter()
    profile = resolve_image_profile(args)
    given = experiments_on(profile, select_experiments(args, IMAGE_SECTIONS, given, "study"))
    rule = seed_rule(args, max(s.seeds for s in profile.sets))
    cells = plan_image_cells(list(given), profile)
    by_key = {c.key: c for c in cells}
    out = Path(args.out)

    def make_judge() -> Callable[[dict[str, CellResult]], list[Judged]]:
        stats = profile_stats(profile)
        return lambda results: claims_of(
            judge_cells(given, profile.datasets_of, results, by_key, image_numbers(stats)).judged_all
        )

    with rundir.owned(out, command):  # one process trains into a report directory at a time
        seeds_of = lambda cell: profile.seeds_of(cell.dataset)  # noqa: E731
        results, trained = train_study_cells(cells, out, seeds_of, args, rule, make_judge)
        run = Invocation(command, profile, args.seed, time.perf_counter() - start, trained, rule)
        report = write_image_report(out, run, given, results, by_key, Path(args.experiments))
    print(f"report: {report}", file=sys.stderr)
    return 0


def run_alone_images(experiment: Experiment) -> None:
    """Entry point of one image experiment script: `python experiments/<name>.py [--profile P] [--out DIR]`."""
    sys.exit(image_main(sys.argv[1:], prog=f"python experiments/{experiment.name}.py", experiments=[experiment]))
