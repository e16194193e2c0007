"""Blog section "A Step Back" (approach 2): split batches for D, running statistics in G's step."""

from jaxbngan.reproduce import Claim, Experiment, losses, preset, quoted, run_alone, samples, views
from jaxbngan.verdicts import both_win, far_from_data

EXPERIMENT = Experiment(
    name="running_stats",
    section="Approach 2: running statistics in G's step",
    summary=(
        "D trains on split batches as before, but G's step calls D in inference mode (Keras "
        "`training=False`): the fakes are normalized with running averages that mix real and fake moments."
    ),
    variants=(preset("running"), preset("joint")),
    claims=(
        Claim(
            statement="Running statistics in G's step, split batches for D: both players win, samples look bad.",
            blog='"Losses are 4.23 (G) and 0.007 (D)", "even worse than above"',
            variants=("running",),
            main=both_win(),
            sides=(far_from_data(),),
            quotes=(quoted("g_loss", 4.23), quoted("d_loss", 0.007)),
        ),
    ),
    plots=(samples("running"), losses("running"), views("running")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
