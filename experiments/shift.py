"""Blog section "Encouraging Distribution Shift": G is paid to move right; only a blind D lets it."""

from jaxbngan.conditions import d_loss_unchanged, d_near_ln2, held_by_d, moved_by_reward, shifted_right, stayed_put
from jaxbngan.reproduce import Claim, Experiment, losses, preset, quoted, reward_effects, run_alone, samples
from jaxbngan.verdicts import LN2

EXPERIMENT = Experiment(
    name="shift",
    section="Encouraging distribution shift",
    summary=(
        "G's loss gets the term -0.005 * mean(fake x): a small reward for moving its samples right, which "
        "G can only take if D does not see the move. Same D with split-batch BN, and without BN, each beside its "
        "twin: the same seed keys and data without the reward. The reward moved G where a seed's x-offset exceeds "
        "its twin's; D did not notice where its loss is its twin's. (D's loss near ln 2 is shown beside it: on "
        "data where D wins on the data's shape, with or without the reward, a blind D need not sit at ln 2.)"
    ),
    variants=(preset("bn-split-shift"), preset("no-bn-shift"), preset("bn-split"), preset("no-bn")),
    claims=(
        Claim(
            statement="With BN and split batches, the reward moves G's samples right and D's loss does not change.",
            blog='"the shift is very obvious. Still, D still incurs a loss of ln(2)"',
            variants=("bn-split-shift", "bn-split"),
            main=moved_by_reward(0, 1),
            sides=(d_loss_unchanged(0, 1),),
            describes=(d_near_ln2(0), shifted_right(0)),
            quotes=(quoted("d_loss", LN2, "ln 2"),),
        ),
        Claim(
            statement="Without BN, the same reward does not move G's samples right: D notices.",
            blog='"No shift has occurred!"',
            variants=("no-bn-shift", "no-bn"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
    ),
    plots=(
        samples("bn-split-shift"),
        samples("no-bn-shift"),
        reward_effects({"bn-split-shift": "bn-split", "no-bn-shift": "no-bn"}),
        losses("bn-split-shift"),
    ),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
