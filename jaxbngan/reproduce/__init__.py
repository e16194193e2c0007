"""Reproduce the blog section by section over many seeds; write a report that gives each claim a verdict.

    python experiments/reproduce.py --quick --out runs/quick        # or: jaxbngan reproduce --quick ...

Each section of the blog is one script in `experiments/` that defines an `Experiment`: the variants
it trains (presets, or presets with a few fields changed), the claims it tests (conditions from
`jaxbngan.conditions`) and the figures it shows. A cell is one variant on one data set, trained for
every seed from the same seed keys; cells that several sections need run once. Each finished cell is
written to OUT/cells/ at once, so an interrupted run resumes where it stopped. The report (Markdown
and PNG figures) and verdicts.json are rewritten from the cells at the end of every invocation.

One module per concern: `spec` (what an experiment declares, the profiles), `cells` (planning,
training, saving and loading cells), `numbers` (per-seed numbers and judging a claim), `figures`,
`report` (report.md and verdicts.json), `provenance` and `command` (the command line).

The image study (issue 17) runs the same way under its own profiles, and writes its own report:
`image_spec` (its sections, plots and profiles), `image_numbers`, `image_report` and
`image_command` (`python experiments/images.py --profile images-cpu`).
"""

from jaxbngan.reproduce.cells import Cell, CellResult, Progress, load_cell, plan_cells, run_cell, save_cell
from jaxbngan.reproduce.command import load_experiments, main, run_alone
from jaxbngan.reproduce.image_command import image_main, run_alone_images
from jaxbngan.reproduce.image_spec import IMAGE_PROFILES, IMAGE_SECTIONS, ImageProfile, ImageSet
from jaxbngan.reproduce.numbers import consistency_gap, judge_claim, seed_numbers
from jaxbngan.reproduce.report import write_report
from jaxbngan.reproduce.spec import (
    PROFILES,
    SECTIONS,
    Check,
    Claim,
    Controls,
    Experiment,
    Plot,
    Profile,
    Variant,
    both_win_rates,
    derived,
    gaps,
    losses,
    offsets,
    preset,
    quoted,
    reward_effects,
    running_positions,
    samples,
    swept,
    trend,
    views,
)

__all__ = [
    "IMAGE_PROFILES",
    "IMAGE_SECTIONS",
    "PROFILES",
    "SECTIONS",
    "Cell",
    "CellResult",
    "Check",
    "Claim",
    "Controls",
    "Experiment",
    "ImageProfile",
    "ImageSet",
    "Plot",
    "Profile",
    "Progress",
    "Variant",
    "both_win_rates",
    "consistency_gap",
    "derived",
    "gaps",
    "image_main",
    "judge_claim",
    "load_cell",
    "load_experiments",
    "losses",
    "main",
    "offsets",
    "plan_cells",
    "preset",
    "reward_effects",
    "running_positions",
    "quoted",
    "run_alone",
    "run_alone_images",
    "run_cell",
    "samples",
    "save_cell",
    "seed_numbers",
    "swept",
    "trend",
    "views",
    "write_report",
]
