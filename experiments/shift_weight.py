"""Beyond the blog: how strong may the shift reward be before G leaves the game, with and without BN?"""

from jaxbngan.conditions import held_by_d, more_displaced, moved_by_reward, shifted_right, stayed_put
from jaxbngan.reproduce import Claim, Experiment, offsets, preset, run_alone, swept

WEIGHTS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)  # the blog's shift weight is 0.005

EXPERIMENT = Experiment(
    name="shift_weight",
    section="Beyond the blog: the shift reward's strength",
    summary=(
        "The shift experiment pays G 0.005 * mean(fake x). Here that weight is swept from 0.001 to 0.05, "
        "for split-batch BN in D and for D without BN, each sweep one program with the same seeds at "
        "every weight. Where G's samples move right, G has stopped matching the data for the reward: "
        "with a blind D that should happen at any weight, with a seeing D only once the reward outweighs "
        "what D's loss charges for the move."
    ),
    variants=(
        *swept("bn-split-shift", "loss.shift_weight", WEIGHTS, name="bn-split-w"),
        *swept("no-bn-shift", "loss.shift_weight", WEIGHTS, name="no-bn-w"),
        preset("bn-split"),
        preset("no-bn"),
    ),
    claims=(
        Claim(
            statement="With split-batch BN, a fifth of the blog's reward (0.001) already moves G right.",
            blog='"the shift is very obvious" (at the blog\'s 0.005)',
            variants=("bn-split-w-0.001", "bn-split"),
            main=moved_by_reward(0, 1),
            describes=(shifted_right(0),),
        ),
        Claim(
            statement="Without BN, a reward twice the blog's (0.01) still moves nothing: D charges for the move.",
            blog='"No shift has occurred!" (at the blog\'s 0.005)',
            variants=("no-bn-w-0.01", "no-bn"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
        Claim(
            statement="Without BN, ten times the blog's reward (0.05) moves G further than 0.005 does.",
            blog="(not in the blog: where a seeing D stops holding G)",
            variants=("no-bn-w-0.05", "no-bn-w-0.005"),
            main=more_displaced(0, 1),
        ),
    ),
    plots=(
        offsets(*(f"bn-split-w-{w:g}" for w in WEIGHTS)),
        offsets(*(f"no-bn-w-{w:g}" for w in WEIGHTS)),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
