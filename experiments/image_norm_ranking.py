"""Image scale: the ranking of D's normalizations that Kurach et al. (ICML 2019) report, over our seeds."""

from jaxbngan.image_conditions import lower_frechet
from jaxbngan.reproduce import Claim, Experiment, preset, run_alone_images
from jaxbngan.reproduce.image_spec import image_samples, quality

KURACH = "Kurach et al. 2019 (DCGAN-style nets, median FID of 5 seeds; `shared/references/dcgan.md`)"
NORMS = ("dcgan-split", "dcgan-bn-first", "dcgan-layer", "dcgan-instance", "dcgan-spectral", "dcgan-no-d-norm")

EXPERIMENT = Experiment(
    name="image_norm_ranking",
    section="Image scale: the ranking of D's normalizations",
    summary=(
        "D with BN where the DCGAN rule puts it (every layer but the first, split D calls), BN in every layer, "
        "layer norm or instance norm where the rule puts BN, spectral norm on every layer, or no normalization; "
        "G keeps its BN. The quality table ranks them by the median Frechet distance of the in-house classifier's "
        "features; the claims compare them seed by seed, as Kurach et al. ranked them by FID."
    ),
    variants=tuple(preset(name) for name in NORMS),
    claims=(
        Claim(
            statement="BN in D hurts quality: no normalization ends nearer the data than BN, same seed.",
            blog=f"{KURACH}: adding BN to D hurt quality",
            variants=("dcgan-no-d-norm", "dcgan-split"),
            main=lower_frechet(0, 1),
        ),
        Claim(
            statement="Spectral norm helps: it ends nearer the data than no normalization, same seed.",
            blog=f"{KURACH}: spectral norm helped",
            variants=("dcgan-spectral", "dcgan-no-d-norm"),
            main=lower_frechet(0, 1),
        ),
        Claim(
            statement="Layer norm is competitive: it ends nearer the data than BN, same seed.",
            blog=f"{KURACH}: layer norm competitive",
            variants=("dcgan-layer", "dcgan-split"),
            main=lower_frechet(0, 1),
        ),
    ),
    plots=(quality(*NORMS), *(image_samples(name) for name in NORMS[1:5])),
    beyond_blog=True,
)

if __name__ == "__main__":
    run_alone_images(EXPERIMENT)
