"""The named data sets with one line each, readable without importing JAX (what `jaxbngan list` prints).

`jaxbngan.data.GENERATORS` holds the generators themselves; tests/test_cli.py keeps this table equal
to their names and the first lines of their docstrings.
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
