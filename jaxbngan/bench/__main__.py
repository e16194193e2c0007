"""`python -m jaxbngan.bench ARGS`: the benchmark's command line, and how the parent starts its workers."""

import sys

from jaxbngan.bench.cli import main

sys.exit(main(sys.argv[1:]))
