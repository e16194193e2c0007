"""Image scale: what D's normalization normalizes away when G is paid to brighten its images."""

from jaxbngan.image_verdicts import brightened, kept_brightness
from jaxbngan.presets.images import BRIGHTNESS_WEIGHT
from jaxbngan.reproduce import Claim, Experiment, derived, losses, preset, run_alone_images
from jaxbngan.reproduce.image_spec import brightness, image_samples
from jaxbngan.verdicts import d_loss_unchanged, d_near_ln2

REFERENCE = "dcgan-no-d-norm-shift"  # D without normalization sees every brightness shift

# Each rewarded variant and its twin: the same D, seeds and keys without the reward.
TWINS = {
    "dcgan-bn-first-shift": "dcgan-bn-first",
    "dcgan-bn-first-shift-reflect": "dcgan-bn-first-reflect",
    "dcgan-split-shift": "dcgan-split",
    "dcgan-instance-first-shift-reflect": "dcgan-instance-first-reflect",
    "dcgan-layer-first-shift": "dcgan-layer-first",
    REFERENCE: "dcgan-no-d-norm",
}

EXPERIMENT = Experiment(
    name="image_shift",
    section="Image scale: what normalization normalizes away (the brightness shift)",
    summary=(
        f"G's loss gets the term -{BRIGHTNESS_WEIGHT} * mean(fake pixel): a reward for brightening its images, the "
        "image analog of the blog's shift to the right. D normalizes its first layer with split-batch BN (zero "
        "and reflected borders: zeros let the shift differ at the borders, where BN cannot remove it), with "
        "instance norm (reflected borders, every D layer), with layer norm (every D layer), or not at all (the "
        "DCGAN rule: BN from the second layer on), and the reference D has no normalization. Each rewarded run "
        "is compared with its twin: the same D and seed keys without the reward. The brightness offset is the "
        "mean fake pixel minus the mean real pixel, in standard deviations of the data's pixels."
    ),
    variants=(
        preset(REFERENCE),
        preset("dcgan-no-d-norm"),
        preset("dcgan-bn-first-shift"),
        preset("dcgan-bn-first"),
        preset("dcgan-bn-first-shift-reflect"),
        derived("dcgan-bn-first-reflect", "dcgan-bn-first", discriminator={"padding": "reflect"}),
        preset("dcgan-split-shift"),
        preset("dcgan-split"),
        derived(
            "dcgan-instance-first-shift-reflect",
            "dcgan-instance-shift",
            discriminator={"norms": ("instance", "instance"), "padding": "reflect"},
        ),
        derived(
            "dcgan-instance-first-reflect",
            "dcgan-instance",
            discriminator={"norms": ("instance", "instance"), "padding": "reflect"},
        ),
        derived(
            "dcgan-layer-first-shift",
            "dcgan-layer",
            discriminator={"norms": ("layer", "layer")},
            loss={"shift_weight": BRIGHTNESS_WEIGHT},
        ),
        derived("dcgan-layer-first", "dcgan-layer", discriminator={"norms": ("layer", "layer")}),
    ),
    claims=(
        Claim(
            statement="Split BN in D's first layer is blind: the reward brightens G's images and D's loss does not"
            " change.",
            blog='"the shift is very obvious. Still, D still incurs a loss of ln(2)" (2-D points, BN in D)',
            variants=("dcgan-bn-first-shift", "dcgan-bn-first"),
            main=brightened(0, 1),
            sides=(d_loss_unchanged(0, 1),),
            describes=(d_near_ln2(0),),
        ),
        Claim(
            statement="The same with reflected borders, where BN removes a constant shift exactly.",
            blog="not in the blog: zero-padded borders are the one place a constant shift survives BN",
            variants=("dcgan-bn-first-shift-reflect", "dcgan-bn-first-reflect"),
            main=brightened(0, 1),
            sides=(d_loss_unchanged(0, 1),),
            describes=(d_near_ln2(0),),
        ),
        Claim(
            statement="No BN in D's first layer (the DCGAN rule) sees the shift: the reward does not brighten G.",
            blog="\"Don't use BN in the first layer of D\" (the DCGAN paper's rule, which the blog cites)",
            variants=("dcgan-split-shift", "dcgan-split"),
            main=kept_brightness(0, 1),
        ),
        Claim(
            statement="Instance norm in D is blind to the shift per image: the reward brightens G's images.",
            blog='"If we look at Instance Normalization, this should be even worse"',
            variants=("dcgan-instance-first-shift-reflect", "dcgan-instance-first-reflect"),
            main=brightened(0, 1),
        ),
        Claim(
            statement="Layer norm in every D layer sees the shift: the reward does not brighten G.",
            blog='"Layernorm, on the other hand, seems to be able to detect these shifts"',
            variants=("dcgan-layer-first-shift", "dcgan-layer-first"),
            main=kept_brightness(0, 1),
        ),
        Claim(
            statement="Without norm in D, the reward does not brighten G: D sees the shift.",
            blog='"No shift has occurred!" (2-D points, no BN)',
            variants=(REFERENCE, "dcgan-no-d-norm"),
            main=kept_brightness(0, 1),
        ),
    ),
    plots=(
        brightness(TWINS),
        image_samples("dcgan-bn-first-shift"),
        image_samples("dcgan-instance-first-shift-reflect"),
        image_samples(REFERENCE),
        losses("dcgan-bn-first-shift"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
