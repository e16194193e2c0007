"""`jaxbngan bench`: the command line, resolved into `plan.Settings`; `--worker SPEC` runs one worker job."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from jaxbngan.bench.orchestrate import orchestrate
from jaxbngan.bench.plan import (
    LOGGING_SEEDS,
    OPT_IN_SECTIONS,
    PEERS,
    PRESETS,
    SECTIONS,
    VARIANT_SEEDS,
    WIDTH_SEEDS,
    WIDTHS,
    Settings,
)
from jaxbngan.bench.workers import work
from jaxbngan.config import ConfigError
from jaxbngan.presets import get_preset
from jaxbngan.usage import StrictParser, fail


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = StrictParser(
        prog="jaxbngan bench",
        description="Time the full train step (G step + D step) over seed counts, execution variants and peers.",
    )
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets (default: %(default)s)")
    parser.add_argument("--seeds", help="comma-separated seed counts (default: 1..1024 on CPU, up to 16384 elsewhere)")
    parser.add_argument("--seconds", type=float, help="length of one timing in seconds (default 1.5; quick 0.05)")
    parser.add_argument("--reps", type=int, default=3, help="timings per figure, median reported (at least 3)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated from {', '.join(PEERS)}, or none")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated from %(default)s; the machine probe, FLOP count, naive loop and logging cost always run",
    )
    parser.add_argument("--out", default="benchmarks/results", help="results folder (default: %(default)s)")
    parser.add_argument("--device", help="device name in the file names (default: detected, e.g. cpu-2core-amd-epyc)")
    parser.add_argument("--quick", action="store_true", help="toy sizes: a population of 128, 1 and 2 seeds")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _int_list(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{what} must be positive integers, got {text!r}")
    return tuple(sorted(set(values)))


def _settings(args: argparse.Namespace) -> Settings:
    presets = tuple(p.strip() for p in args.presets.split(",") if p.strip())
    if not presets:
        raise ConfigError("--presets names no preset")
    for name in presets:
        get_preset(name)
    peers = () if args.peers.strip() == "none" else tuple(p.strip() for p in args.peers.split(",") if p.strip())
    for peer in peers:
        if peer not in PEERS:
            raise ConfigError(f"unknown peer {peer!r}; choose from {', '.join(PEERS)} or none")
    sections = tuple(p.strip() for p in args.sections.split(",") if p.strip())
    for section in sections:
        if section not in (*SECTIONS, *OPT_IN_SECTIONS):
            raise ConfigError(f"unknown section {section!r}; choose from {', '.join((*SECTIONS, *OPT_IN_SECTIONS))}")
    if args.reps < 3:
        raise ConfigError(f"--reps must be at least 3 (a median of fewer says little), got {args.reps}")
    seconds = args.seconds if args.seconds is not None else (0.05 if args.quick else 1.5)
    if not seconds > 0:
        raise ConfigError(f"--seconds must be positive, got {seconds}")
    seeds = _int_list(args.seeds, "--seeds") if args.seeds else ((1, 2) if args.quick else None)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ConfigError(f"--out {args.out} exists and is not a folder")
    if args.device is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", args.device):
        raise ConfigError(f"--device must be letters, digits, '.', '_' or '-', got {args.device!r}")
    return Settings(
        presets=presets,
        sections=sections,
        seeds=seeds,
        widths=(1, 2) if args.quick else WIDTHS,
        width_seeds=2 if args.quick else WIDTH_SEEDS,
        variant_seeds=(2,) if args.quick else VARIANT_SEEDS,
        logging_seeds=2 if args.quick else LOGGING_SEEDS,
        end_to_end_seeds=2 if args.quick else None,
        seconds=seconds,
        reps=args.reps,
        size=128 if args.quick else None,
        log_every=5 if args.quick else None,
        peers=peers,
        out=Path(args.out),
        device=args.device,
        machine_scale=0.25 if args.quick else 1.0,
        quick=args.quick,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (`jaxbngan bench ARGS`); returns the process exit code."""
    try:
        args = _parse(argv)
        settings = None if args.worker else _settings(args)
    except ConfigError as error:
        return fail("jaxbngan bench", error)
    if args.worker:
        work(json.loads(args.worker))
        return 0
    return orchestrate(settings, argv if argv is not None else sys.argv[1:])
