"""Step-throughput benchmark of jaxbngan: `python benchmarks/throughput.py --help` (same as `jaxbngan bench`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from jaxbngan.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
