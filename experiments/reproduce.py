"""Reproduce every section of the blog over many seeds and write the report with verdicts.

python experiments/reproduce.py --quick --out experiments/results   # 6 seeds, under 30 min on 2 CPU cores
python experiments/reproduce.py --standard --out experiments/results-standard  # 32 seeds, hours on 2 cores
python experiments/reproduce.py --out runs/full                     # 64 seeds, three data sets (GPU)
"""

import sys
from pathlib import Path

from jaxbngan.reproduce import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="python experiments/reproduce.py", experiments_dir=Path(__file__).parent))
