"""Blog footnote 1: "Whether or not G includes BN is not relevant here." Approach 1 with BN in G too."""

from jaxbngan.conditions import both_win, same_double_win
from jaxbngan.reproduce import Claim, Experiment, both_win_rates, derived, preset, run_alone, samples

EXPERIMENT = Experiment(
    name="generator_norm",
    section="Footnote 1: BN in G",
    summary=(
        "The blog's G has no say in its argument: the failures come from how D normalizes. Approach 1 (joint "
        "D batch, fake-only G view) is trained again with split-batch BN after each of G's hidden layers, from "
        "the same seed keys, and each seed's ending is compared with its twin whose G has no normalization."
    ),
    variants=(preset("joint"), derived("joint-g-bn", "joint", generator={"norms": ("batch", "batch")})),
    claims=(
        Claim(
            statement="With BN in G as well, approach 1 ends in the double win, as the same seed does without it.",
            blog='"Whether or not G includes BN is not relevant here" (footnote 1)',
            variants=("joint-g-bn", "joint"),
            main=both_win(0),
            sides=(same_double_win(0, 1),),
        ),
    ),
    plots=(samples("joint-g-bn"), both_win_rates("joint", "joint-g-bn")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
