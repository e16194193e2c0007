"""Image scale: what D's normalization normalizes away when G is paid to brighten its images."""

from jaxbngan.image_verdicts import brightened, kept_brightness
from jaxbngan.presets.images import BRIGHTNESS_WEIGHT
from jaxbngan.reproduce import Claim, Experiment, derived, losses, preset, run_alone_images
from jaxbngan.reproduce.image_spec import brightness, image_samples
from jaxbngan.verdicts import d_near_ln2

REFERENCE = "dcgan-no-d-norm-shift"  # D without normalization sees every brightness shift
SHIFTED = (
    "dcgan-bn-first-shift",
    "dcgan-bn-first-shift-reflect",
    "dcgan-split-shift",
    "dcgan-instance-first-shift-reflect",
    "dcgan-layer-first-shift",
)

EXPERIMENT = Experiment(
    name="image_shift",
    section="Image scale: what normalization normalizes away (the brightness shift)",
    summary=(
        f"G's loss gets the term -{BRIGHTNESS_WEIGHT} * mean(fake pixel): a reward for brightening its images, the "
        "image analog of the blog's shift to the right. D normalizes its first layer with split-batch BN (zero "
        "and reflected borders: zeros let the shift differ at the borders, where BN cannot remove it), with "
        "instance norm (reflected borders, every D layer), with layer norm (every D layer), or not at all (the "
        "DCGAN rule: BN from the second layer on). Each is compared with the run of the same seed whose D has no "
        "normalization, since G's brightness need not match the data's even where D sees everything. The "
        "brightness offset is the mean fake pixel minus the mean real pixel, in standard deviations of the "
        "data's pixels."
    ),
    variants=(
        preset(REFERENCE),
        preset("dcgan-no-d-norm"),
        preset("dcgan-bn-first-shift"),
        preset("dcgan-bn-first-shift-reflect"),
        preset("dcgan-split-shift"),
        derived(
            "dcgan-instance-first-shift-reflect",
            "dcgan-instance-shift",
            discriminator={"norms": ("instance", "instance"), "padding": "reflect"},
        ),
        derived(
            "dcgan-layer-first-shift",
            "dcgan-layer",
            discriminator={"norms": ("layer", "layer")},
            loss={"shift_weight": BRIGHTNESS_WEIGHT},
        ),
    ),
    claims=(
        Claim(
            statement="Split BN in D's first layer is blind: G brightens beyond the no-norm run, D near ln 2.",
            blog='"the shift is very obvious. Still, D still incurs a loss of ln(2)" (2-D points, BN in D)',
            variants=("dcgan-bn-first-shift", REFERENCE),
            main=brightened(0, 1),
            sides=(d_near_ln2(0),),
        ),
        Claim(
            statement="The same with reflected borders, where BN removes a constant shift exactly.",
            blog="not in the blog: zero-padded borders are the one place a constant shift survives BN",
            variants=("dcgan-bn-first-shift-reflect", REFERENCE),
            main=brightened(0, 1),
            sides=(d_near_ln2(0),),
        ),
        Claim(
            statement="No BN in D's first layer (the DCGAN rule) sees the shift: brightness as without norm.",
            blog="\"Don't use BN in the first layer of D\" (the DCGAN paper's rule, which the blog cites)",
            variants=("dcgan-split-shift", REFERENCE),
            main=kept_brightness(0, 1),
        ),
        Claim(
            statement="Instance norm in D is blind to the shift per image: G brightens beyond the no-norm run.",
            blog='"If we look at Instance Normalization, this should be even worse"',
            variants=("dcgan-instance-first-shift-reflect", REFERENCE),
            main=brightened(0, 1),
        ),
        Claim(
            statement="Layer norm in every D layer sees the shift: brightness as without norm.",
            blog='"Layernorm, on the other hand, seems to be able to detect these shifts"',
            variants=("dcgan-layer-first-shift", REFERENCE),
            main=kept_brightness(0, 1),
        ),
        Claim(
            statement="The reference sees it: without norm in D, the reward leaves the brightness as without it.",
            blog='"No shift has occurred!" (2-D points, no BN)',
            variants=(REFERENCE, "dcgan-no-d-norm"),
            main=kept_brightness(0, 1),
        ),
    ),
    plots=(
        brightness(REFERENCE, *SHIFTED),
        image_samples("dcgan-bn-first-shift"),
        image_samples("dcgan-instance-first-shift-reflect"),
        image_samples(REFERENCE),
        losses("dcgan-bn-first-shift"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
