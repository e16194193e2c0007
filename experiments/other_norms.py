"""Beyond the blog: does D with another normalization see the shift that split-batch BN hides?"""

from jaxbngan.conditions import held_by_d, no_both_win, stayed_put
from jaxbngan.presets import SHIFT_WEIGHT
from jaxbngan.reproduce import Check, Claim, Experiment, derived, preset, reward_effects, run_alone, samples

SHIFT = {"shift_weight": SHIFT_WEIGHT}

NORMS = (
    ("layer", '"Layernorm ... seems to be able to detect these shifts"'),
    ("group", '"and thus Groupnorm should, as well"'),
    ("weight", '"Weightnorm doesn\'t modify the features at all, so it should have no issues"'),
    ("spectral", "not in the blog: spectral norm rescales D's weights, not its features"),
    ("reference", "not in the blog: virtual BN (Salimans et al. 2016) normalizes with a fixed real batch"),
)

EXPERIMENT = Experiment(
    name="other_norms",
    section="Beyond the blog: other normalizations in D, under the shift term",
    summary=(
        "D's two hidden layers get layer, group (8 groups), weight, spectral or reference-batch (virtual BN) "
        "normalization instead of BN, with split batches and the shift term, each beside its twin without the term. "
        "None of them normalizes a fake by the moments of the other fakes, so each should see a shift."
    ),
    variants=tuple(
        preset(f"{norm}-norm-shift")
        if norm in ("layer", "reference")
        else derived(f"{norm}-norm-shift", f"{norm}-norm", loss=SHIFT)
        for norm, _ in NORMS
    )
    + tuple(preset(f"{norm}-norm") for norm, _ in NORMS),
    claims=tuple(
        Claim(
            statement=f"With {norm} norm in D, the reward does not move G's samples right: D sees the shift.",
            blog=quote,
            variants=(f"{norm}-norm-shift", f"{norm}-norm"),
            main=held_by_d(0, 1),
            # Spectral norm's power iteration advances in G's training-mode call too, so D's own step sees
            # another sigma than G did: its double win is a finding, not an identity.
            sides=(no_both_win(0),) if norm == "spectral" else (),
            describes=(stayed_put(0),),
        )
        for norm, quote in NORMS
    ),
    checks=(
        Check(
            statement="Split D calls with layer, group, weight or reference norm: no double win.",
            identity="G's step calls D on the fakes alone, as D's own step first calls it, and these norms keep no"
            " state a training-mode call moves: G's loss is D's loss on the fakes, so D's loss is at least half of it",
            variants=tuple(f"{norm}-norm-shift" for norm, _ in NORMS if norm != "spectral"),
        ),
    ),
    plots=(
        reward_effects({f"{norm}-norm-shift": f"{norm}-norm" for norm, _ in NORMS}),
        samples("reference-norm-shift"),
    ),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
