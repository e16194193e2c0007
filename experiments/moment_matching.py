"""Blog section "A Bonus Experiment": fakes forced to the real mean and variance before D sees them."""

from jaxbngan.reproduce import Claim, Experiment, losses, preset, run_alone, samples
from jaxbngan.verdicts import both_win, no_both_win

EXPERIMENT = Experiment(
    name="moment_matching",
    section="Bonus: moment matching",
    summary=(
        "G's output is standardized per feature and given the real data's mean and variance before D sees "
        "it (a BN layer with its scale and shift fixed to the real moments); D trains on joint batches and G's "
        "step calls D on fakes alone. Samples and metrics are the matched fakes, so offsets are zero by "
        "construction; the energy distance and the gap between D's views tell the variants apart."
    ),
    variants=(preset("moment-matching-first"), preset("moment-matching-all")),
    claims=(
        Claim(
            statement="Moment matching with BN only in D's first layer trains without a double win.",
            blog='"This actually works, if D has BN only in the first layer"',
            variants=("moment-matching-first",),
            main=no_both_win(),
        ),
        Claim(
            statement="Moment matching with BN in every D layer: the mismatch returns and both players win.",
            blog='"we once again run into the old issues of G and D playing different games"',
            variants=("moment-matching-all",),
            main=both_win(),
        ),
    ),
    plots=(samples("moment-matching-first"), samples("moment-matching-all"), losses("moment-matching-all")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
