"""Where the image train step spends its time: XLA:CPU's per-op timing from a `jax.profiler` trace.

    python benchmarks/profile_image_step.py --data digits --steps 20 --calls 3

Compiles `--steps` train steps of `--preset` (one seed, the driver's scan unroll and tuned XLA_FLAGS)
as one program, traces `--calls` calls of it, and sums each XLA op's time over the trace. Every op
is put in a category by what its HLO computes (a fusion by the ops it fuses): products (dot),
patches (concatenate, slice, pad: the patch gathers of `jaxbngan.conv` and the sub-pixel stacking),
layout (transpose, copy), reductions (BN statistics, losses), elementwise, and other. Prints a
markdown table per category and the top ops, and writes them as JSON with `--json`.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from jaxbngan import tuning  # noqa: E402

CATEGORIES = ("products", "patches", "layout", "reductions", "elementwise", "other")


def categorize(hlo: str) -> dict[str, str]:
    """Each instruction name of compiled HLO text -> its category (a fusion by the opcodes it calls)."""
    computations: dict[str, set[str]] = {}
    current = None
    ops: dict[str, tuple[str, str | None]] = {}  # name -> (opcode, called computation)
    for line in hlo.splitlines():
        header = re.match(r"^(?:ENTRY )?%?([\w.\-]+) .*\{$", line)
        if header and not line.startswith(" "):
            current = header.group(1)
            computations[current] = set()
            continue
        match = re.match(r"^\s+(?:ROOT )?%?([\w.\-]+) = \S+(?: \S+)*? ([a-z\-]+)\(", line)
        if match and current is not None:
            name, opcode = match.groups()
            computations[current].add(opcode)
            called = re.search(r"calls=%?([\w.\-]+)", line)
            ops[name] = (opcode, called.group(1) if called else None)
    kinds = {}
    for name, (opcode, called) in ops.items():
        inner = set(computations.get(called, ())) if called else {opcode}
        if opcode != "fusion":
            inner.add(opcode)
        if inner & {"dot", "convolution"}:
            kinds[name] = "products"
        elif inner & {"concatenate", "slice", "pad", "dynamic-slice", "gather"}:
            kinds[name] = "patches"
        elif inner & {"reduce", "reduce-window"}:
            kinds[name] = "reductions"
        elif inner <= {"transpose", "copy", "bitcast", "reshape", "parameter", "tuple", "get-tuple-element"}:
            kinds[name] = "layout"
        elif inner & {"add", "multiply", "subtract", "divide", "maximum", "exponential", "tanh", "rsqrt", "select"}:
            kinds[name] = "elementwise"
        else:
            kinds[name] = "other"
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="dcgan-split")
    parser.add_argument("--data", default="digits", help="data set, NAME or NAME:PARAM=VALUE (default: digits)")
    parser.add_argument("--steps", type=int, default=20, help="train steps per traced call")
    parser.add_argument("--calls", type=int, default=3, help="traced calls")
    parser.add_argument("--top", type=int, default=15, help="ops listed by time")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    tuning.use_tuned_xla_flags()
    import time

    import jax

    from jaxbngan.bench.dcgan import image_config
    from jaxbngan.bench.timing import advance
    from jaxbngan.train import make_run

    run = make_run(image_config(args.preset, args.data))
    state = run.strategy.init(jax.random.key(0))
    program = jax.jit(advance(run, args.steps, tuning.scan_unroll("cpu"))).lower(state).compile()
    kinds = categorize(program.as_text())
    state = jax.block_until_ready(program(state))
    with tempfile.TemporaryDirectory() as folder:
        jax.profiler.start_trace(folder)
        start = time.perf_counter()
        for _ in range(args.calls):
            state = jax.block_until_ready(program(state))
        wall = time.perf_counter() - start
        jax.profiler.stop_trace()
        trace = next(Path(folder).rglob("*.xplane.pb"))
        profile = jax.profiler.ProfileData.from_file(str(trace))
    per_op: collections.Counter = collections.Counter()
    for plane in profile.planes:
        for line in plane.lines:
            for event in line.events:
                if event.name in kinds:
                    per_op[event.name] += event.duration_ns / 1e9
    steps = args.steps * args.calls
    total = sum(per_op.values())
    by_kind = collections.Counter()
    for name, seconds in per_op.items():
        by_kind[kinds[name]] += seconds
    figures = {
        "command": "python benchmarks/profile_image_step.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "preset": args.preset,
        "data": args.data,
        "xla_flags": __import__("os").environ.get("XLA_FLAGS", ""),
        "wall_ms_per_step": 1e3 * wall / steps,
        "op_ms_per_step": 1e3 * total / steps,
        "categories_ms_per_step": {k: 1e3 * by_kind[k] / steps for k in CATEGORIES},
        "top_ops_ms_per_step": {f"{n} ({kinds[n]})": 1e3 * s / steps for n, s in per_op.most_common(args.top)},
    }
    wall_ms, op_ms = figures["wall_ms_per_step"], figures["op_ms_per_step"]
    print(f"{args.preset} on {args.data}: {wall_ms:.1f} ms/step wall, ops {op_ms:.1f} ms")
    print("| category | ms/step | share |\n|---|---:|---:|")
    for kind in CATEGORIES:
        print(f"| {kind} | {1e3 * by_kind[kind] / steps:.2f} | {by_kind[kind] / total:.0%} |")
    print("\n| top op | ms/step |\n|---|---:|")
    for name, ms in figures["top_ops_ms_per_step"].items():
        print(f"| {name} | {ms:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
