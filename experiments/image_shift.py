"""Image scale: what D's normalization normalizes away when G is paid to brighten its images, with controls.

G's loss gets -w * reward(fakes) (`strategies.shift_reward`): the mean pixel (brightness), or per
channel the mean plus the std of the pixels over the batch (brightness and contrast: what an affine
map of the pixels raises). Each normalization of D, in every D layer, is swept over the reward weight
as one program per data set whose weight-0 member is the twin every rewarded member is paired with,
seed by seed. Two of these Ds are the controls each claim is judged under (`verdicts.control_failures`):

* positive: BN in every D layer with reflected borders, provably blind to both directions (a constant
  shift of a channel stays constant through a reflected-border conv and BN removes it; BN also removes
  a scale common to the batch, to its epsilon), so the reward must move G at some weight;
* negative: D without normalization, which sees both, so the reward must not move G, or much less.

A claim at a weight where either control misbehaves is not judged there.

At weights up to 0.5 the positive control barely moved on digits in 2000 steps (medians +0.007, +0.017
and +0.057 std), so no claim could be judged there; STRONG_WEIGHTS extend the brightness sweeps, and
STRONG_CONTRAST_WEIGHT the brightness-and-contrast ones. Their claims come after the others, so the
earlier claims keep their numbers.

Cells: 37 variants per data set, 33 of them in 7 sweep programs (4 Ds x 6 weights, 0 included, with the
brightness reward, 3 Ds x 3 weights with brightness and contrast) and 4 presets for the blog's first-layer
claims.
`images-cpu` runs this section on digits only. Each cell costs what a cell of the other sections costs at
the profile's steps and seeds; the weights are where to trim.
"""

from jaxbngan.conditions import d_loss_unchanged, d_near_ln2
from jaxbngan.image_conditions import brightened, kept_brightness
from jaxbngan.presets.images import BRIGHTNESS_WEIGHT
from jaxbngan.reproduce import Claim, Controls, Experiment, preset, run_alone_images, swept
from jaxbngan.reproduce.image_spec import brightness, image_samples, reward_by_weight

WEIGHTS = (BRIGHTNESS_WEIGHT, 0.05, 0.5)  # the brightness reward: the presets' weight, 10 and 100 times it
CONTRAST_WEIGHTS = (0.05, 0.5)  # the brightness-and-contrast reward
# A pilot at the presets' widths (2 seeds, digits, 2000 steps; offset minus the twin's) saw the positive control
# move +0.26 and +0.37 std at 5 and turn G's images white at 20 (+1.85), while D without norm held G (-0.03 and
# -0.02; +0.13, +0.06). At images-cpu's half widths (8 seeds) both controls behave at 5; at 20 every D lets G
# turn white, D without norm too (+1.80).
STRONG_WEIGHTS = (5.0, 20.0)
BRIGHTNESS_SWEEP = (*WEIGHTS, *STRONG_WEIGHTS)
STRONG_CONTRAST_WEIGHT = 5.0  # where both controls behave for brightness alone; at 20 D without norm lets G go
CONTRAST_SWEEP = (*CONTRAST_WEIGHTS, STRONG_CONTRAST_WEIGHT)
CONTRAST = "brightness_contrast"

# Each normalization in every D layer: (preset it derives from, changes to D).
D_NORMS = {
    "shift-bn-reflect": ("dcgan-bn-first", {"padding": "reflect"}),  # the positive control
    "shift-no-norm": ("dcgan-no-d-norm", {}),  # the negative control
    "shift-instance": ("dcgan-instance", {"norms": ("instance", "instance"), "padding": "reflect"}),
    "shift-layer": ("dcgan-layer", {"norms": ("layer", "layer")}),
}
POSITIVE, NEGATIVE = "shift-bn-reflect", "shift-no-norm"


def tag(norm: str, direction: str = "mean") -> str:
    """The name of a sweep: the normalization, with `-bc` for the brightness-and-contrast reward."""
    return norm if direction == "mean" else f"{norm}-bc"


def rewarded(norm: str, weight: float, direction: str = "mean") -> str:
    """The variant of D `norm` rewarded at `weight` along `direction`."""
    return f"{tag(norm, direction)}-w-{weight:g}"


def twin(norm: str) -> str:
    """The twin of every rewarded variant of D `norm`: the weight-0 member of its brightness sweep (without
    the reward the other direction's program trains the same run, to rounding)."""
    return rewarded(norm, 0.0)


def sweep(norm: str, weights: tuple[float, ...], direction: str = "mean") -> tuple:
    """D `norm` rewarded along `direction` at each weight, as one sweep program per data set."""
    base, discriminator = D_NORMS[norm]
    changes = {"discriminator": discriminator, "loss": {"shift_direction": direction}}
    return swept(base, "loss.shift_weight", weights, name=f"{tag(norm, direction)}-w", **changes)


def controls(weight: float, direction: str = "mean") -> Controls:
    """Both controls at `weight` along `direction`, each rewarded variant against its twin."""
    return Controls(
        weight,
        positive=(rewarded(POSITIVE, weight, direction), twin(POSITIVE)),
        negative=(rewarded(NEGATIVE, weight, direction), twin(NEGATIVE)),
        moved=brightened(0, 1, direction),
    )


def pairs(norms: tuple[str, ...], weights: tuple[float, ...], direction: str = "mean") -> dict[str, str]:
    """Every rewarded variant of `norms` at `weights` along `direction` -> its twin."""
    return {rewarded(norm, w, direction): twin(norm) for norm in norms for w in weights}


def blind_instance(weight: float, direction: str = "mean") -> Claim:
    """Instance norm in every D layer is blind along `direction` at `weight`."""
    what = "brightens" if direction == "mean" else "brightens and contrasts"
    return Claim(
        statement=f"Instance norm in every D layer (reflected borders) is blind: at weight {weight:g} the reward"
        f" {what} G's images.",
        blog='"If we look at Instance Normalization, this should be even worse"',
        variants=(rewarded("shift-instance", weight, direction), twin("shift-instance")),
        main=brightened(0, 1, direction),
        controls=controls(weight, direction),
    )


def seeing_layer(weight: float) -> Claim:
    """Layer norm in every D layer sees the brightness shift at `weight`."""
    return Claim(
        statement=f"Layer norm in every D layer sees the shift: at weight {weight:g} the reward does not brighten G.",
        blog='"Layernorm, on the other hand, seems to be able to detect these shifts"',
        variants=(rewarded("shift-layer", weight), twin("shift-layer")),
        main=kept_brightness(0, 1),
        controls=controls(weight),
    )


EXPERIMENT = Experiment(
    name="image_shift",
    section="Image scale: what normalization normalizes away (the brightness reward), with controls",
    summary=(
        "G's loss gets the term -w * mean(fake pixel): a reward for brightening its images, the image analog of the"
        " blog's shift to the right; a second reward adds each channel's pixel std over the batch (brightness and"
        " contrast, which an affine map of the pixels raises). D has BN in every layer with reflected borders"
        " (provably blind to both: the positive control), no normalization (sees both: the negative control),"
        " instance norm in every layer with reflected borders (blind per image to both), or layer norm in every"
        f" layer; each is swept over w ({', '.join(f'{w:g}' for w in BRIGHTNESS_SWEEP)} for brightness,"
        f" {', '.join(f'{w:g}' for w in CONTRAST_SWEEP)} for brightness and contrast) as one program whose"
        " weight-0 member is the twin each rewarded run is compared with, seed by seed. A claim is judged only at"
        " the weights where the blind D let the reward move G and the seeing D did not (or much less). The blog's"
        f" first-layer claims compare split BN in D's first layer (zero borders) and the DCGAN rule at"
        f" w = {BRIGHTNESS_WEIGHT:g} with their twins. The offset along the reward is the fakes' brightness (plus"
        " contrast: the std of their pixels) minus the data's, in standard deviations of the data's pixels."
    ),
    variants=(
        *(variant for norm in D_NORMS for variant in sweep(norm, (0.0, *BRIGHTNESS_SWEEP))),
        *(
            variant
            for norm in (POSITIVE, NEGATIVE, "shift-instance")
            for variant in sweep(norm, CONTRAST_SWEEP, CONTRAST)
        ),
        preset("dcgan-bn-first-shift"),
        preset("dcgan-bn-first"),
        preset("dcgan-split-shift"),
        preset("dcgan-split"),
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
            controls=controls(BRIGHTNESS_WEIGHT),
        ),
        Claim(
            statement="No BN in D's first layer (the DCGAN rule) sees the shift: the reward does not brighten G.",
            blog="\"Don't use BN in the first layer of D\" (the DCGAN paper's rule, which the blog cites)",
            variants=("dcgan-split-shift", "dcgan-split"),
            main=kept_brightness(0, 1),
            controls=controls(BRIGHTNESS_WEIGHT),
        ),
        *(blind_instance(w) for w in WEIGHTS),
        *(seeing_layer(w) for w in WEIGHTS),
        *(blind_instance(w, CONTRAST) for w in CONTRAST_WEIGHTS),
        *(blind_instance(w) for w in STRONG_WEIGHTS),
        *(seeing_layer(w) for w in STRONG_WEIGHTS),
        blind_instance(STRONG_CONTRAST_WEIGHT, CONTRAST),
    ),
    plots=(
        reward_by_weight(pairs((POSITIVE, NEGATIVE, "shift-instance"), BRIGHTNESS_SWEEP)),
        reward_by_weight(pairs((POSITIVE, NEGATIVE, "shift-layer"), BRIGHTNESS_SWEEP)),
        reward_by_weight(pairs((POSITIVE, NEGATIVE, "shift-instance"), CONTRAST_SWEEP, CONTRAST), CONTRAST),
        brightness({"dcgan-bn-first-shift": "dcgan-bn-first", "dcgan-split-shift": "dcgan-split"}),
        image_samples(rewarded(POSITIVE, max(BRIGHTNESS_SWEEP))),
        image_samples(rewarded("shift-instance", max(BRIGHTNESS_SWEEP))),
        image_samples(rewarded("shift-instance", max(CONTRAST_SWEEP), CONTRAST)),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
