"""Blog section "Setting The Stage": a small GAN without normalization learns the toy data."""

from jaxbngan.conditions import close_to_data, d_near_ln2
from jaxbngan.reproduce import Claim, Experiment, losses, preset, quoted, run_alone, samples
from jaxbngan.verdicts import LN2

EXPERIMENT = Experiment(
    name="baseline",
    section="Setting the stage: no normalization",
    summary=(
        "G and D are Dense(64)-LeakyReLU(0.01) MLPs without normalization, trained with the zero-sum "
        "(minimax) loss on the whole population every step: the reference every later section departs from."
    ),
    variants=(preset("no-bn"),),
    claims=(
        Claim(
            statement="Without normalization, D ends at the equilibrium and G's samples match the data.",
            blog='"the generated samples match the data quite well"; D\'s loss is "around ln(2) ~= 0.69"',
            variants=("no-bn",),
            main=d_near_ln2(),
            sides=(close_to_data(),),
            quotes=(quoted("d_loss", LN2, "ln(2) ~= 0.69"),),
        ),
    ),
    plots=(samples("no-bn"), losses("no-bn")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
