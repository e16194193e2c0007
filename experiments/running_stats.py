"""Blog section "A Step Back" (approach 2): split batches for D, running statistics in G's step."""

from jaxbngan.conditions import both_win, closer_to_data, far_from_data, running_means_between
from jaxbngan.reproduce import (
    Claim,
    Experiment,
    losses,
    preset,
    quoted,
    run_alone,
    running_positions,
    samples,
    views,
)

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
            blog='"Losses are 4.23 (G) and 0.007 (D)"',
            variants=("running",),
            main=both_win(),
            sides=(far_from_data(),),
            quotes=(quoted("g_loss", 4.23), quoted("d_loss", 0.007)),
        ),
        Claim(
            statement="Approach 2 is worse than approach 1: its fakes end further from the data, same seed.",
            blog='"This is even worse than above!"',
            variants=("joint", "running"),
            main=closer_to_data(0, 1),
        ),
        Claim(
            statement="D's running means end between the fake and the real batch means, in every BN layer.",
            blog='"This results in the moving averages to be somewhere between the real and generated statistics"',
            variants=("running",),
            main=running_means_between(),
        ),
    ),
    plots=(samples("running"), losses("running"), views("running"), running_positions("running")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
