"""Image scale: does G's BN matter? The approaches without normalization in G, each beside its DCGAN twin."""

from jaxbngan.conditions import same_double_win
from jaxbngan.reproduce import Claim, Experiment, both_win_rates, derived, preset, run_alone_images
from jaxbngan.reproduce.image_spec import image_samples, quality

# The strategies whose regime G's normalization could change, each with its twin whose G has no BN.
TWINS = {
    "dcgan-joint": "dcgan-joint-g-plain",
    "dcgan-running": "dcgan-running-g-plain",
    "dcgan-fix": "dcgan-fix-g-plain",
}

EXPERIMENT = Experiment(
    name="image_generator_norm",
    section="Image scale: does G's BN matter?",
    summary=(
        "DCGAN's G has BN in every layer but its output, trained on its own batch's moments. The blog says "
        "G's normalization is not what breaks the game (footnote 1); on images G's BN could still matter, since "
        "a batch-normalized G makes each fake depend on its batch. Each approach is trained again with no "
        "normalization in G, from the same seed keys, and each seed's ending is compared with its DCGAN twin."
    ),
    variants=tuple(
        variant
        for normalized, plain in TWINS.items()
        for variant in (preset(normalized), derived(plain, normalized, generator={"norms": ("none", "none")}))
    ),
    claims=tuple(
        Claim(
            statement=f"Without BN in G, {normalized} ends in the double win exactly when the same seed does with it.",
            blog='"Whether or not G includes BN is not relevant here" (footnote 1, 2-D points)',
            variants=(plain, normalized),
            main=same_double_win(0, 1),
        )
        for normalized, plain in TWINS.items()
    ),
    plots=(
        both_win_rates(*(name for pair in TWINS.items() for name in pair)),
        quality(*(name for pair in TWINS.items() for name in pair)),
        image_samples("dcgan-running-g-plain"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
