"""The image study: the blog's claims and open questions on DCGAN conv nets over many seeds, with verdicts.

python experiments/images.py --profile images-cpu --adaptive-seeds 4:16 --out experiments/results-images  # ~6 h
python experiments/images.py --profile images-gpu --out experiments/results-images-gpu  # 64+ seeds per cell (GPU)
python experiments/images.py --profile tiny --out /tmp/images-tiny  # the machinery only

The momentum-lag sweep (`experiments/image_lag.py`) trains its momenta as one sweep program per image set, and
the shift section (`experiments/image_shift.py`) each D's reward weights.
"""

import sys
from pathlib import Path

from jaxbngan.reproduce import image_main

if __name__ == "__main__":
    sys.exit(image_main(sys.argv[1:], prog="python experiments/images.py", experiments_dir=Path(__file__).parent))
