"""Blog section "Introducing Batch Normalization": BN in D, real and fake batches normalized apart."""

from jaxbngan.conditions import d_near_ln2, more_displaced
from jaxbngan.reproduce import Claim, Experiment, losses, offsets, preset, quoted, run_alone, samples
from jaxbngan.verdicts import LN2

EXPERIMENT = Experiment(
    name="bn_split",
    section="Introducing batch normalization: split batches",
    summary=(
        "D gets BN after each hidden Dense layer and is trained as the Keras/PyTorch DCGAN code does: "
        "one call on the fakes, one on the reals, each normalized by its own batch moments. "
        "The offset of the fakes is compared with the no-BN run of the same seed."
    ),
    variants=(preset("bn-split"), preset("no-bn")),
    claims=(
        Claim(
            statement="With BN and split batches, the fakes come out displaced while D's loss stays near ln 2.",
            blog='"the entire distribution is slightly shifted", yet "the observed loss is again around ln(2)"',
            variants=("bn-split", "no-bn"),
            main=more_displaced(0, 1),
            sides=(d_near_ln2(0),),
            quotes=(quoted("d_loss", LN2, "ln 2"),),
        ),
    ),
    plots=(samples("bn-split"), losses("bn-split"), offsets("bn-split", "no-bn", measure="displacement")),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
