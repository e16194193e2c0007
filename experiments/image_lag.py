"""Image scale: do the running averages of the fix lag behind the batch statistics? A momentum sweep per start."""

from jaxbngan.image_verdicts import lower_frechet
from jaxbngan.reproduce import Check, Claim, Experiment, gaps, preset, run_alone_images, running_positions, swept, trend
from jaxbngan.reproduce.image_spec import image_samples, quality
from jaxbngan.verdicts import larger_late_gap

MOMENTA = (0.5, 0.9, 0.99, 0.999)  # D's BN momentum: the share of the average kept per update (DCGAN: 0.9)
# How D's running averages start (`NetworkConfig.running_start`), each with its sweep's name prefix.
STARTS = {
    "zeros": "dcgan-fix-momentum",
    "first_batch": "dcgan-fix-first-batch-momentum",
    "debiased": "dcgan-fix-debiased-momentum",
}


def sweep_of(start: str) -> tuple[str, ...]:
    """The names of the momentum sweep's variants whose averages start as `start`."""
    return tuple(f"{STARTS[start]}-{m:g}" for m in MOMENTA)


def lag_in_logits(slow: int = 0, fast: int = 1):
    """The same comparison in D's mean logit, shown beside the verdict: a cross-entropy that saturates near 0
    can hide a gap in logits (n/a on cells logged before logits were)."""
    return (larger_late_gap(slow, fast, unit="logit"),)


EXPERIMENT = Experiment(
    name="image_lag",
    section="Image scale: the running-average lag, a momentum sweep per start",
    summary=(
        "The blog saw the double win at larger scale despite its fix and suspected the running averages of D's "
        "statistics, which G's step uses, of lagging behind the batch statistics D trains with. `dcgan-fix` is "
        "swept over D's BN momentum, 0.5 to 0.999, as one program with the same seeds at every momentum, beside "
        "`dcgan-standing`, whose averages are set to the current joint batch's moments right before each G step "
        "(the limit of a fast average). The lag shows as the consistency gap between G's view (running) and D's "
        "own view (joint) over the last fifth of the logs, in cross-entropy and in D's mean logit. Averages that "
        "start at mean 0 and variance 1 (PyTorch, Keras) still hold momentum^t of that start after t updates, "
        "so the sweep runs three times: from zeros, from the first batch's moments, and debiased as Adam's "
        "moments are (`NetworkConfig.running_start`)."
    ),
    variants=(
        *(
            variant
            for start, name in STARTS.items()
            for variant in swept(
                "dcgan-fix", "discriminator.momentum", MOMENTA, name=name, discriminator={"running_start": start}
            )
        ),
        preset("dcgan-standing"),
    ),
    claims=(
        Claim(
            statement="The fastest average (momentum 0.5) leaves a smaller late gap than the slowest (0.999), same"
            " seed.",
            blog='"This could perhaps be fixed by making the average move faster"',
            variants=("dcgan-fix-momentum-0.999", "dcgan-fix-momentum-0.5"),
            main=larger_late_gap(0, 1),
            describes=lag_in_logits(),
        ),
        Claim(
            statement="Without the start value's bias the lag remains: debiased averages at 0.999 leave a larger"
            " late gap than at 0.5.",
            blog="(not in the blog: a slow average that starts at 0 and 1 also remembers its start)",
            variants=("dcgan-fix-debiased-momentum-0.999", "dcgan-fix-debiased-momentum-0.5"),
            main=larger_late_gap(0, 1),
            describes=lag_in_logits(),
        ),
        Claim(
            statement="The same with averages that start at the first batch's moments.",
            blog="(not in the blog: a slow average that starts at 0 and 1 also remembers its start)",
            variants=("dcgan-fix-first-batch-momentum-0.999", "dcgan-fix-first-batch-momentum-0.5"),
            main=larger_late_gap(0, 1),
            describes=lag_in_logits(),
        ),
        Claim(
            statement="At momentum 0.999 the uncorrected start widens the late gap: larger than the debiased"
            " average's, same seed.",
            blog="(not in the blog: whether the slow average's gap is its start value rather than its lag)",
            variants=("dcgan-fix-momentum-0.999", "dcgan-fix-debiased-momentum-0.999"),
            main=larger_late_gap(0, 1),
            describes=lag_in_logits(),
        ),
        Claim(
            statement="Standing statistics close the late gap that DCGAN's momentum 0.9 leaves, same seed.",
            blog='"the accumulated population statistics ... lag behind the current batch statistics"',
            variants=("dcgan-fix-momentum-0.9", "dcgan-standing"),
            main=larger_late_gap(0, 1),
            describes=lag_in_logits(),
        ),
        Claim(
            statement="The fastest average learns the data better than the slowest: lower Frechet distance.",
            blog="(not in the blog: whether the lag costs sample quality)",
            variants=("dcgan-fix-momentum-0.5", "dcgan-fix-momentum-0.999"),
            main=lower_frechet(0, 1),
        ),
    ),
    checks=(
        Check(
            statement="With standing statistics there is no double win.",
            identity="right before G's step D's running averages are set to the moments of the joint batch D's step"
            " then normalizes, so G's running view is D's own view of the fakes: G's loss is D's loss on the fakes"
            " (to rounding), and D's loss is at least half of it",
            variants=("dcgan-standing",),
        ),
    ),
    plots=(
        trend(*sweep_of("zeros"), "dcgan-standing"),
        trend(*sweep_of("first_batch"), "dcgan-standing"),
        trend(*sweep_of("debiased"), "dcgan-standing"),
        gaps(*sweep_of("zeros"), "dcgan-standing"),
        gaps("dcgan-fix-momentum-0.999", "dcgan-fix-first-batch-momentum-0.999", "dcgan-fix-debiased-momentum-0.999"),
        running_positions("dcgan-fix-momentum-0.999", "dcgan-fix-debiased-momentum-0.999", "dcgan-fix-momentum-0.9"),
        quality(*sweep_of("zeros"), "dcgan-standing"),
        image_samples("dcgan-fix-momentum-0.999"),
        image_samples("dcgan-standing"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
