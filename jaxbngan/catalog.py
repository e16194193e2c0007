"""What jaxbngan names, one line each, readable without importing JAX: data sets (`jaxbngan list`)
and the fields of a run's and a sweep's summary.json (`jaxbngan explain`).

`jaxbngan.data.GENERATORS` holds the generators themselves, `finals.summarize` computes the summary;
tests/test_cli.py keeps these tables equal to the generators' names and first docstring lines and
to a real summary's keys.
"""

DATA_SETS: dict[str, str] = {
    "gaussian": "One isotropic Gaussian with mean (mean_x, mean_y) and standard deviation `std`.",
    "moons": "Two interleaved half circles (as scikit-learn's make_moons), Gaussian noise `noise`.",
    "ring8": "`modes` Gaussians (std `std`) evenly on a circle of radius `radius`, endpoint excluded.",
    "grid25": "25 Gaussians (std `std`) on a 5x5 grid with `spacing` between neighbours, centred at 0.",
    "spirals": "Two interleaved Archimedean spirals of `turns` turns, radius up to `scale`, noise `noise`.",
    "checkerboard": "Uniform on the dark squares of a `cells` x `cells` board of side `size`, centred at 0.",
    "shapes": "Filled circles, squares and triangles of random place, size and brightness on black; class = shape.",
    "digits": "scikit-learn's 8x8 handwritten digits (1797 images, classes 0-9), pixels 0..16 scaled to [-1, 1].",
}

OFFSET_UNIT = "std"  # offsets in summaries: in standard deviations of the real data, per axis (images: channel)
UNITS = {"offset_x": OFFSET_UNIT, "offset_norm": OFFSET_UNIT}  # final metrics that have a unit


def with_unit(metric: str) -> str:
    """A final metric's name with its unit, `offset_x (std)`, as tables and figures name it."""
    return f"{metric} ({UNITS[metric]})" if metric in UNITS else metric


# summary.json, top level.
SUMMARY_FIELDS: dict[str, str] = {
    "preset": "the preset the run started from (null for a config given to jaxbngan.run that is none)",
    "data": "the data set's name, or the absolute path of the data file",
    "steps": "training steps per seed",
    "seeds": "seeds in the run, diverged ones included",
    "diverged": "seeds that diverged, each with the first logged step where it did; left out of `aggregate`",
    "aggregate": "for each final metric below, over the seeds that did not diverge: median, q25 and q75 "
    "(quartiles), mean, and seeds (how many had a finite value)",
    "per_seed": "for each seed: its index `seed`, `diverged_at` (a step, or null), `offset` (per axis, in std) "
    "and each final metric below",
    "wall_seconds": "seconds the run took (a resumed run counts only its last invocation)",
}
# The final metrics: keys of `aggregate` and of each `per_seed` entry; values from the last log unless said.
FINAL_METRICS: dict[str, str] = {
    "g_loss": "G's loss in its last logged step: D's BCE on the fakes with fake labels, in G's view (the blog's "
    "'G loss')",
    "d_loss": "D's loss in its last logged step: the mean of its BCE on real and on fake; ln 2 = 0.693 is a D "
    "that cannot tell them apart",
    "offset_x": "mean(fake x) - mean(real x) in std of the real x (images: brightness of channel 0); the shift "
    "term pushes along x",
    "offset_norm": "length of the mean offset, each axis in std of the real data",
    "std_ratio_x": "std(fake x) / std(real x): 1 when the fakes spread as the data does",
    "energy_distance": "energy distance between fakes and the real data, 0 when they coincide (NaN for images)",
    "d_fake_loss_fake": "D's BCE on fresh fakes normalized by their own batch moments (training mode on fakes alone)",
    "d_fake_loss_joint": "D's BCE on fresh fakes normalized together with a real batch (the mix D trains on)",
    "d_fake_loss_running": "D's BCE on fresh fakes normalized by D's running averages (inference mode)",
    "both_win": "1 when both players win (D loss < G loss / 2), impossible in one consistent zero-sum game; "
    "its mean is the share of seeds",
    "both_win_share": "share of the seed's logs, over the whole run, at which both players won",
    "high_quality": "share of fakes within 3 std of a mode of a mixture data set (NaN without modes, and for images)",
    "mode_coverage": "share of modes (image classes) holding at least a quarter of their fair share of the fakes",
    "kid": "images: kernel inception distance in the in-house classifier's features (NaN for points)",
    "frechet_distance": "images: Frechet distance in the classifier's features (NaN for points)",
    "pixel_kid": "images: kernel inception distance on the pixels (NaN for points)",
    "class_kl": "images: KL divergence of the fakes' predicted classes from the data's labels (NaN for points)",
}

# summary.json of a sweep directory (`jaxbngan sweep`), top level.
SWEEP_SUMMARY_FIELDS: dict[str, str] = {
    "preset": "the preset the sweep started from, as in a run's summary",
    "data": "the data set's name, or the absolute path of the data file",
    "steps": "training steps per seed",
    "grid": "the axes, each [config path, [values]]; the points are their product, the last axis varying fastest",
    "seeds": "seeds per point, the same seed keys at every point",
    "points": "one entry per point, in grid order, with the fields below",
    "wall_seconds": "seconds the sweep took (a resumed sweep counts only its last invocation)",
}
# Each entry of a sweep summary's `points`.
SWEEP_POINT_FIELDS: dict[str, str] = {
    "point": "the point's value on each axis, {config path: value}",
    "label": "the same as text, `path=value, ...`, as `compare` and the sweep figures name the point",
    "aggregate": "the final metrics over the point's seeds that did not diverge, as in a run's summary",
    "both_win_share": "{share, seeds}: the share of the point's seeds where both players win at the end",
    "diverged": "the point's seeds that diverged, each with the first logged step where it did",
}
