"""Blog section "Encouraging Distribution Shift": G is paid to move right; only a blind D lets it."""

from jaxbngan.reproduce import Claim, Experiment, losses, offsets, preset, quoted, run_alone, samples
from jaxbngan.verdicts import LN2, d_near_ln2, shifted_right, stayed_put

EXPERIMENT = Experiment(
    name="shift",
    section="Encouraging distribution shift",
    summary=(
        "G's loss gets the term -0.005 * mean(fake x): a small reward for moving its samples right, which "
        "G can only take if D does not see the move. Same D with split-batch BN, and without BN. "
        "Note that G's minimax loss saturates once D wins (its gradient vanishes); from then on the shift "
        "term alone moves G, so a shift with D's loss far below ln 2 means a saturated G, not a blind D."
    ),
    variants=(preset("bn-split-shift"), preset("no-bn-shift"), preset("bn-split"), preset("no-bn")),
    claims=(
        Claim(
            statement="With BN and split batches, G moves its samples right and D does not notice (loss near ln 2).",
            blog='"the shift is very obvious. Still, D still incurs a loss of ln(2)"',
            variants=("bn-split-shift",),
            main=shifted_right(),
            sides=(d_near_ln2(),),
            quotes=(quoted("d_loss", LN2, "ln 2"),),
        ),
        Claim(
            statement="Without BN, the same shift term moves nothing: D notices.",
            blog='"No shift has occurred!"',
            variants=("no-bn-shift",),
            main=stayed_put(),
        ),
    ),
    plots=(
        samples("bn-split-shift"),
        samples("no-bn-shift"),
        offsets("bn-split-shift", "no-bn-shift"),
        losses("bn-split-shift"),
    ),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
