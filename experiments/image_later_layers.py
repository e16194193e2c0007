"""Image scale: the blog's bonus question, whether BN in later D layers still hides what moment matching leaves."""

from jaxbngan.conditions import both_win, no_both_win
from jaxbngan.image_conditions import lower_frechet
from jaxbngan.presets.images import BLOG_ORDER
from jaxbngan.reproduce import Check, Claim, Experiment, both_win_rates, derived, gaps, run_alone_images
from jaxbngan.reproduce.image_spec import image_samples, quality

MATCHED = {"moment_matching": True}

EXPERIMENT = Experiment(
    name="image_later_layers",
    section="Image scale: BN in later D layers, with moment matching",
    summary=(
        "G's images are standardized per pixel and given the real data's per-pixel mean and variance before D "
        "sees them, so D's first-layer statistics cannot tell real from fake. D has BN in its first layer only, "
        "or in every layer. As in the 2-D bonus experiment, D trains on joint batches with a fake-only batch in "
        "G's step (the blog's approach 1, the failure moment matching is said to repair); the all-layers variant "
        "is also run with split D calls, in the blog's order (G's step first). If BN in later layers normalizes "
        "away higher-order differences, BN in every layer should learn worse images than BN in the first layer "
        "only."
    ),
    variants=(
        derived("dcgan-mm-first", "dcgan-joint", discriminator={"norms": ("batch", "none")}, loss=MATCHED),
        derived("dcgan-mm-all", "dcgan-joint", discriminator={"norms": ("batch", "batch")}, loss=MATCHED),
        derived(
            "dcgan-mm-all-split",
            "dcgan-split",
            discriminator={"norms": ("batch", "batch")},
            loss=MATCHED,
            strategy=BLOG_ORDER,  # G first, as the other two: D's step scores the fakes G's step scored
        ),
    ),
    claims=(
        Claim(
            statement="Moment matching with BN only in D's first layer trains without a double win.",
            blog='"This actually works, if D has BN only in the first layer"',
            variants=("dcgan-mm-first",),
            main=no_both_win(),
        ),
        Claim(
            statement="Moment matching with BN in every D layer: both players win again.",
            blog='"we once again run into the old issues of G and D playing different games"',
            variants=("dcgan-mm-all",),
            main=both_win(),
        ),
        Claim(
            statement="BN in later layers hides differences: BN in every layer ends further from the data.",
            blog='"BN in later layers will still normalize these [higher-order] differences"',
            variants=("dcgan-mm-first", "dcgan-mm-all"),
            main=lower_frechet(0, 1),
        ),
    ),
    checks=(
        Check(
            statement="With split D calls instead, moment matching and BN in every D layer: no double win.",
            identity="G's step calls D on the matched fakes alone in training mode, exactly as D's own step first"
            " calls it: G's loss is D's loss on the fakes, so D's loss is at least half of it",
            variants=("dcgan-mm-all-split",),
        ),
    ),
    plots=(
        image_samples("dcgan-mm-first"),
        image_samples("dcgan-mm-all"),
        quality("dcgan-mm-first", "dcgan-mm-all", "dcgan-mm-all-split"),
        both_win_rates("dcgan-mm-first", "dcgan-mm-all", "dcgan-mm-all-split"),
        gaps("dcgan-mm-first", "dcgan-mm-all", "dcgan-mm-all-split"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
