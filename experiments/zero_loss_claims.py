"""Beyond the blog: the Q&A article's remedies for "zero loss in both D and G", tried on both failures."""

from jaxbngan.conditions import both_win, close_to_data, no_both_win
from jaxbngan.reproduce import Claim, Experiment, both_win_rates, derived, preset, run_alone

FAILURES = ("joint", "running")  # approach 1 and approach 2: both end with both players winning
QA = "`../shared/seeds/zero-loss-qa.md`"


def remedies(base: str):
    """The article's three suggestions applied to one failing strategy."""
    return (
        derived(f"{base}-bn-post", base, discriminator={"norm_position": "post"}),
        derived(f"{base}-smoothing", base, loss={"label_smoothing": 0.1}),
        derived(f"{base}-batch16", base, batch_size=16),
        derived(f"{base}-batch128", base, batch_size=128),
    )


def claims(base: str):
    """Does each suggestion remove the double win of `base`, leaving a GAN that learns the data?"""
    return (
        Claim(
            statement=f"BN after the activation cures `{base}`: no double win, samples close to the data.",
            blog=f'{QA}: BN before ReLU is an "INCORRECT PLACEMENT"; it belongs after the activation',
            variants=(f"{base}-bn-post", base),
            main=no_both_win(0),
            sides=(close_to_data(0),),
            presupposes=both_win(1),
        ),
        Claim(
            statement=f"One-sided label smoothing 0.1 cures `{base}`: no double win, samples close to the data.",
            blog=f'{QA}: label smoothing 0.1 "can often make a significant difference"',
            variants=(f"{base}-smoothing", base),
            main=no_both_win(0),
            sides=(close_to_data(0),),
            presupposes=both_win(1),
        ),
        Claim(
            statement=f"Small minibatches cause the double win of `{base}`; the full batch avoids it.",
            blog=f'{QA}: batch size 16 is "TOO SMALL"; a larger batch stabilizes the normalization',
            variants=(base, f"{base}-batch16"),
            main=no_both_win(0),
            sides=(both_win(1),),
        ),
    )


EXPERIMENT = Experiment(
    name="zero_loss_claims",
    section="Beyond the blog: the Q&A article's remedies",
    summary=(
        "A Q&A article blames BN before the activation, small batches and missing label smoothing for both "
        "players' losses going to zero. Each suggestion is applied to the two strategies that fail in the "
        "blog: BN after the LeakyReLU, one-sided label smoothing 0.1 (D's real targets 0.9), and "
        "minibatches of 16 and 128 drawn from the population of 2048 (the full batch is the base run)."
    ),
    variants=tuple(v for base in FAILURES for v in (preset(base), *remedies(base))),
    claims=tuple(c for base in FAILURES for c in claims(base)),
    plots=(both_win_rates(*(v.name for base in FAILURES for v in (preset(base), *remedies(base)))),),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
