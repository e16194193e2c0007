"""Image scale: the strategies for BN in D that the codebases people copy use, on DCGAN conv nets."""

from jaxbngan.image_verdicts import lower_frechet
from jaxbngan.reproduce import Check, Claim, Experiment, both_win_rates, gaps, losses, preset, run_alone_images, views
from jaxbngan.reproduce.image_spec import image_samples
from jaxbngan.verdicts import both_win, no_both_win

STRATEGIES = (
    "dcgan-split",
    "dcgan-joint",
    "dcgan-running",
    "dcgan-fix",
    "dcgan-joint-g-step",
    "dcgan-standing",
    "dcgan-no-d-norm",
)

EXPERIMENT = Experiment(
    name="image_strategies",
    section="Image scale: the strategies on DCGAN conv nets",
    summary=(
        "DCGAN generator and discriminator (BN in every D layer but the first, the DCGAN rule) under each "
        "strategy of `jaxbngan.strategies`: split D calls as pytorch/examples (`dcgan-split`), the blog's "
        "approach 1 (joint D batch, fake-only batch in G's step) and approach 2 (running averages in G's step, "
        "as Keras-GAN), the blog's fix, the joint batch in both steps (compare_gan v3), the fix with standing "
        "statistics, and no normalization in D. The blog saw the double win at larger scale even with its fix; "
        "these are its claims on conv nets, with the quality of the samples scored by the in-house classifier."
    ),
    variants=tuple(preset(name) for name in STRATEGIES),
    claims=(
        Claim(
            statement="Approach 1 on images: a joint D batch with a fake-only G view ends with both players winning.",
            blog='"both networks are winning": approach 1 on 2-D points; the blog expects the same at scale',
            variants=("dcgan-joint",),
            main=both_win(),
        ),
        Claim(
            statement="Approach 2 on images: running statistics in G's step end with both players winning.",
            blog="approach 2 (Keras-GAN's frozen D in inference mode) on 2-D points: both win",
            variants=("dcgan-running",),
            main=both_win(),
        ),
        Claim(
            statement="The fix on images (joint D batch, running statistics in G's step): no double win.",
            blog="\"I have still observed issues with both networks 'winning' at the same time in largerscale "
            'experiments" (the blog expects this claim to fail)',
            variants=("dcgan-fix",),
            main=no_both_win(),
        ),
        Claim(
            statement="The fix learns the data better than approach 1: lower Frechet distance, same seed.",
            blog='"How Do We Actually Fix This?": the fix is meant to give good samples again',
            variants=("dcgan-fix", "dcgan-joint"),
            main=lower_frechet(0, 1),
        ),
    ),
    checks=(
        Check(
            statement="Batch statistics of a joint batch in both steps (compare_gan v3): no double win.",
            identity="G's step calls D on the same joint batch, in training mode, as D's own step: G's loss is D's"
            " loss on the fakes, so D's loss is at least half of it",
            variants=("dcgan-joint-g-step",),
        ),
    ),
    plots=(
        *(image_samples(name) for name in STRATEGIES),
        both_win_rates(*STRATEGIES),
        gaps("dcgan-joint", "dcgan-running", "dcgan-fix", "dcgan-standing"),
        views("dcgan-fix"),
        losses("dcgan-joint"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
