"""Blog section "How Do We Fix This?" (approach 1): D trains on joint real+fake batches."""

from jaxbngan.conditions import both_win, far_from_data
from jaxbngan.reproduce import Claim, Experiment, losses, preset, quoted, run_alone, samples, views

EXPERIMENT = Experiment(
    name="joint_batches",
    section="Approach 1: joint batches for D",
    summary=(
        "D's step normalizes one concatenated fake+real batch, so a shift of the fakes shows in the shared "
        "moments; G's step still calls D in training mode on fakes alone, normalized by their own moments."
    ),
    variants=(preset("joint"),),
    claims=(
        Claim(
            statement="Joint batches for D, fake-only batches in G's step: both players win, samples look bad.",
            blog='"the losses are 6.62 for G and 0.17 for D"; "This looks bad"',
            variants=("joint",),
            main=both_win(),
            sides=(far_from_data(),),
            quotes=(quoted("g_loss", 6.62), quoted("d_loss", 0.17)),
        ),
    ),
    plots=(samples("joint"), losses("joint"), views("joint")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
