"""Blog section "A Bonus Experiment": fakes forced to the real mean and variance before D sees them."""

from jaxbngan.conditions import both_win, no_both_win
from jaxbngan.reproduce import Check, Claim, Experiment, both_win_rates, derived, losses, preset, run_alone, samples

EXPERIMENT = Experiment(
    name="moment_matching",
    section="Bonus: moment matching",
    summary=(
        "G's output is standardized per feature and given the real data's mean and variance before D sees "
        "it (a BN layer with its scale and shift fixed to the real moments). The blog does not print which "
        "batch D trains on in this step. We read it as approach 1 (D on joint batches, G's step calling D on "
        "fakes alone), the failure it says moment matching repairs, and that reading is the one tested by the "
        "blog's two claims. The same two variants with split batches for D (`*-split`) are shown beside them, "
        "and the checks show why no double win can appear there: G's view is then D's own computation. "
        "Samples and metrics are the matched fakes, so offsets are zero by construction; the energy distance "
        "and the gap between D's views tell the variants apart."
    ),
    variants=(
        preset("moment-matching-first"),
        preset("moment-matching-all"),
        derived("moment-matching-first-split", "moment-matching-first", strategy={"d_batch": "split"}),
        derived("moment-matching-all-split", "moment-matching-all", strategy={"d_batch": "split"}),
    ),
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
    checks=(
        Check(
            statement="With split batches for D instead, moment matching and BN in every D layer: no double win.",
            identity="G's step calls D on the (matched) fakes alone in training mode, exactly as D's own step first"
            " calls it: G's loss is D's loss on the fakes, so D's loss is at least half of it",
            variants=("moment-matching-first-split", "moment-matching-all-split"),
        ),
    ),
    plots=(
        samples("moment-matching-first"),
        samples("moment-matching-all"),
        losses("moment-matching-all"),
        samples("moment-matching-all-split"),
        both_win_rates(
            "moment-matching-first", "moment-matching-all", "moment-matching-first-split", "moment-matching-all-split"
        ),
    ),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
