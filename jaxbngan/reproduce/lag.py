"""The lag experiments' shared pieces (2-D `running_average_lag`, images `image_lag`): the fix swept over D's BN
momentum once per way its running averages start, and the claims that tell the lag from the start value."""

from __future__ import annotations

from jaxbngan.conditions import Condition, larger_late_gap
from jaxbngan.reproduce.spec import Claim, Variant, swept

# How D's running averages start (`NetworkConfig.running_start`), and the infix of each start's sweep name.
STARTS = {"zeros": "", "first_batch": "first-batch-", "debiased": "debiased-"}
NOT_IN_BLOG = "(not in the blog: an average that starts at 0 and 1 uncorrected also remembers its start)"


def sweep_name(base: str, start: str, momentum: float) -> str:
    """The variant of `base` with D's momentum `momentum` and averages that start as `start`."""
    return f"{base}-{STARTS[start]}momentum-{momentum:g}"


def start_sweeps(base: str, momenta: tuple[float, ...]) -> tuple[Variant, ...]:
    """Preset `base` swept over D's BN momentum, one sweep program per start."""
    return tuple(
        variant
        for start, infix in STARTS.items()
        for variant in swept(
            base,
            "discriminator.momentum",
            momenta,
            name=f"{base}-{infix}momentum",
            discriminator={"running_start": start},
        )
    )


def in_logits(slow: int = 0, fast: int = 1) -> tuple[Condition, ...]:
    """The same comparison in D's mean logit, shown beside the verdict: a cross-entropy that saturates near 0
    can hide a gap in logits (n/a on cells logged before logits were)."""
    return (larger_late_gap(slow, fast, unit="logit"),)


def wider_gap(statement: str, blog: str, slow: str, fast: str) -> Claim:
    """`slow` leaves a larger late gap than `fast`, same seed (logits shown beside)."""
    return Claim(statement, blog, (slow, fast), larger_late_gap(0, 1), describes=in_logits())


def start_claims(base: str, slowest: float, fastest: float) -> tuple[Claim, ...]:
    """Does the lag outlive the start value? Slowest against fastest for the two unbiased starts, and the
    uncorrected start against the debiased one at the slowest momentum."""
    return (
        wider_gap(
            f"Without the start value's bias the lag remains: debiased averages at {slowest:g} leave a larger late"
            f" gap than at {fastest:g}, same seed.",
            NOT_IN_BLOG,
            sweep_name(base, "debiased", slowest),
            sweep_name(base, "debiased", fastest),
        ),
        wider_gap(
            "The same with averages that start at the first batch's moments.",
            NOT_IN_BLOG,
            sweep_name(base, "first_batch", slowest),
            sweep_name(base, "first_batch", fastest),
        ),
        wider_gap(
            f"At momentum {slowest:g} the uncorrected start widens the late gap: larger than the debiased average's,"
            " same seed.",
            "(not in the blog: whether the slow average's gap is its start value rather than its lag)",
            sweep_name(base, "zeros", slowest),
            sweep_name(base, "debiased", slowest),
        ),
    )
