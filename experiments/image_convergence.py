"""How long the image study must train: long runs per strategy, the curves, and the step each settles by.

python experiments/image_convergence.py --out experiments/results-convergence  # 11 cells, 1-2 h on 2 free cores
python experiments/image_convergence.py --tiny --out /tmp/convergence-tiny     # the machinery only
"""

import sys

from jaxbngan.reproduce.convergence import convergence_main

if __name__ == "__main__":
    sys.exit(convergence_main())
