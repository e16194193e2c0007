"""Blog section "It's Not Over Yet…": joint batches in both steps, no BN in D's first layer, layer norm."""

from jaxbngan.reproduce import Claim, Experiment, offsets, preset, run_alone, samples, views
from jaxbngan.verdicts import close_to_data, consistent, no_both_win, stayed_put

EXPERIMENT = Experiment(
    name="alternatives",
    section="The alternatives the blog lists",
    summary=(
        "Three of the blog's other ways out. Joint batches in both steps: G's step also normalizes the fakes "
        "together with a real batch, in training mode. The DCGAN rule: no BN in D's first layer. Another "
        "normalization: layer norm in D. Each is also tested with the shift term; as in the shift experiment, "
        "a shift with D's loss far below ln 2 comes from G's saturated minimax loss, not from a blind D."
    ),
    variants=(
        preset("joint-g-step"),
        preset("joint-g-step-shift"),
        preset("dcgan-shift"),
        preset("layer-norm-shift"),
        preset("dcgan"),
        preset("layer-norm"),
    ),
    claims=(
        Claim(
            statement="Joint batches in both steps keep D consistent: no double win, small gap, good samples.",
            blog='"This guarantees consistent behavior in D for both training steps"',
            variants=("joint-g-step",),
            main=no_both_win(),
            sides=(consistent(), close_to_data()),
        ),
        Claim(
            statement="Joint batches in both steps see shifts: with the shift term, G's samples stay put.",
            blog="joint normalization keeps real and fake apart (the blog's worked example: -1.128 ... 1.289)",
            variants=("joint-g-step-shift",),
            main=stayed_put(),
        ),
        Claim(
            statement="Without BN in D's first layer (DCGAN rule), D sees shifts: G's samples stay put.",
            blog="\"This prevents the 'normalizing away' of affine-linear shifts\"",
            variants=("dcgan-shift",),
            main=stayed_put(),
        ),
        Claim(
            statement="With layer norm in D, D sees shifts: G's samples stay put.",
            blog='"Layernorm, on the other hand, seems to be able to detect these shifts"',
            variants=("layer-norm-shift",),
            main=stayed_put(),
        ),
    ),
    plots=(
        samples("joint-g-step"),
        views("joint-g-step"),
        offsets("joint-g-step-shift", "dcgan-shift", "layer-norm-shift"),
    ),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
