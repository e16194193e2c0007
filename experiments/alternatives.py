"""Blog section "It's Not Over Yet…": joint batches in both steps, no BN in D's first layer, layer norm."""

from jaxbngan.conditions import held_by_d, stayed_put
from jaxbngan.reproduce import Check, Claim, Experiment, preset, reward_effects, run_alone, samples, views

EXPERIMENT = Experiment(
    name="alternatives",
    section="The alternatives the blog lists",
    summary=(
        "Three of the blog's other ways out. Joint batches in both steps: G's step also normalizes the fakes "
        "together with a real batch, in training mode. The DCGAN rule: no BN in D's first layer. Another "
        "normalization: layer norm in D. Each is also trained with the shift term, beside its twin without it. That "
        "joint batches in both steps keep D consistent is an identity of the step, verified in the checks."
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
            statement="Joint batches in both steps see shifts: the reward does not move G's samples right.",
            blog="joint normalization keeps real and fake apart (the blog's worked example: -1.128 ... 1.289)",
            variants=("joint-g-step-shift", "joint-g-step"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
        Claim(
            statement="Without BN in D's first layer (DCGAN rule), D sees shifts: the reward does not move G right.",
            blog="\"This prevents the 'normalizing away' of affine-linear shifts\"",
            variants=("dcgan-shift", "dcgan"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
        Claim(
            statement="With layer norm in D, D sees shifts: the reward does not move G's samples right.",
            blog='"Layernorm, on the other hand, seems to be able to detect these shifts"',
            variants=("layer-norm-shift", "layer-norm"),
            main=held_by_d(0, 1),
            describes=(stayed_put(0),),
        ),
    ),
    checks=(
        Check(
            statement="Joint batches in both steps keep D consistent: no double win, no gap.",
            identity="G's step calls D on the same joint batch, in training mode, as D's own step: G's loss is D's"
            " loss on the fakes, so D's loss is at least half of it",
            variants=("joint-g-step",),
        ),
    ),
    plots=(
        samples("joint-g-step"),
        views("joint-g-step"),
        reward_effects(
            {"joint-g-step-shift": "joint-g-step", "dcgan-shift": "dcgan", "layer-norm-shift": "layer-norm"}
        ),
    ),
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
