"""Beyond the blog: does D with another normalization see the shift that split-batch BN hides?"""

from jaxbngan.presets import SHIFT_WEIGHT
from jaxbngan.reproduce import Claim, Experiment, derived, offsets, preset, run_alone, samples
from jaxbngan.verdicts import no_both_win, stayed_put

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
        "normalization instead of BN, with split batches and the shift term. None of them normalizes a fake "
        "by the moments of the other fakes, so each should see a shift."
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
            statement=f"With {norm} norm in D, G's samples stay put under the shift term, without a double win.",
            blog=quote,
            variants=(f"{norm}-norm-shift",),
            main=stayed_put(),
            sides=(no_both_win(),),
        )
        for norm, quote in NORMS
    ),
    plots=(offsets(*(f"{norm}-norm-shift" for norm, _ in NORMS)), samples("reference-norm-shift")),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone(EXPERIMENT)
