"""Step throughput: seed scaling, execution variants, peers measured in the same run, the roofline.

    python benchmarks/throughput.py            # the full run: about 11 minutes on a 2-core CPU
    jaxbngan bench --quick --peers none        # every section at a toy size, in well under a minute

Each measurement runs in a worker subprocess (`python -m jaxbngan.bench --worker SPEC`): XLA_FLAGS
(host device count, CPU fusion) act only before JAX starts, and a worker's peak RSS is its own.
Workers get the XLA_FLAGS of their variant (the tuned ones from `tuning.xla_flags` unless they
compare others), never the caller's. The
parent never starts a JAX backend; it gathers the workers' records into `*.partial.json` after each
worker, so an interrupted run keeps what it measured, and writes the results JSON and the plot at
the end.

A timing is one or more chained calls of a compiled program (the state goes in, the advanced state
comes out) lasting about `--seconds`; each figure is the median of `--reps` timings after a warm-up.
Compilation is timed on its own (trace, lower and compile). The `end_to_end` section times what a
user waits for instead: the CLI driver's whole job (compilation, training with metrics every
`log_every` steps and a checkpoint per chunk, results written) on the preset's own step count.

Modules, each importing only those listed before it: `plan` (what a run measures), `roofline` (machine
rates, step costs), `timing` (timing a compiled program, the driver's layout), `dcgan` (the opt-in image
section), `workers` (the subprocess side), `jobs` (starting workers, reading their records), `peers`
(`benchmarks/peers/*`), `report` (summary, table, plot), `orchestrate` (the parent side), `cli`.
"""

from jaxbngan.bench.cli import main

__all__ = ["main"]
