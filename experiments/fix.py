"""Blog section "How Do We Actually Fix This?": joint batches for D and running statistics for G."""

from jaxbngan.conditions import close_to_data, consistent, held_by_d, no_both_win, stayed_put
from jaxbngan.reproduce import Claim, Experiment, preset, reward_effects, run_alone, samples, views

EXPERIMENT = Experiment(
    name="fix",
    section="The fix: joint batches for D, running statistics in G's step",
    summary=(
        "Both failed approaches combined: D trains on joint batches (its running averages then hold joint "
        "moments) and G's step normalizes the fakes with those averages. With the shift term, it is "
        "compared with its twin without the reward, beside the split-batch D of the shift experiment."
    ),
    variants=(preset("fix"), preset("fix-shift"), preset("bn-split-shift"), preset("bn-split")),
    claims=(
        Claim(
            statement="The fix trains consistently (no double win, small gap) and its samples match the data.",
            blog='"the mismatch is resolved! ... the model produces good samples"',
            variants=("fix",),
            main=no_both_win(),
            sides=(consistent(), close_to_data()),
        ),
        Claim(
            statement="The fix sees shifts: the reward does not move G's samples right.",
            blog="\"it is even 'immune' to affine-linear shifts in the data (like the original model without BN)\"",
            variants=("fix-shift", "fix"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
    ),
    plots=(samples("fix"), views("fix"), reward_effects({"fix-shift": "fix", "bn-split-shift": "bn-split"})),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
