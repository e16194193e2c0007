"""Do later BN layers hide higher moments? D alone against fakes matched in mean and variance (issue 25, section 4).

python experiments/moment_probe.py --out experiments/results-probe   # 32 seeds, every variant
python experiments/moment_probe.py --tiny --out /tmp/probe-tiny       # the machinery only

Each variant (data and fakes, D's norms, split or joint batches) trains D alone over every seed as one
jitted program (`jaxbngan.probe`) and is saved as soon as it ends, so an interrupted run resumes at the
first unfinished variant. probe.json and report.md (a table, the accuracy per seed, the curves) are
written from whatever variants are finished.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jaxbngan import rundir
from jaxbngan.config import ConfigError, DataConfig, NetworkConfig
from jaxbngan.data import make_population
from jaxbngan.presets import images, points
from jaxbngan.probe import CHANCE, ProbeConfig, above_chance_share, make_probe, seed_keys, with_norms
from jaxbngan.reproduce.provenance import device_text, git_revision, versions_text
from jaxbngan.settling import still_moving
from jaxbngan.usage import StrictParser, fail
from jaxbngan.verdicts import median_interval

PROG = "python experiments/moment_probe.py"
DEFAULT_OUT = "experiments/results-probe"
# Decided before the run: a seed sees the difference when its held-out accuracy is at least 0.55. At
# chance, the accuracy over the digits' 2 x 384 held-out samples has a standard deviation of 0.018
# (0.011 over ring8's 2 x 1024), so 0.05 is about 3 of them, and an accuracy a G could exploit.
MARGIN = 0.05
NORMS = {"none": ("none", "none"), "first": ("batch", "none"), "all": ("batch", "batch")}
# (norms, d_batch) per variant; without a norm the two ways of batching compute the same function.
LAYOUTS = (("none", "split"), ("first", "split"), ("first", "joint"), ("all", "split"), ("all", "joint"))
PAIRS = (("ring8", "gaussian"), ("digits", "phase"), ("digits", "diagonal-gaussian"))
MODES = {"batch_accuracy": "training mode (batch moments)", "running_accuracy": "inference mode (running averages)"}
FIGURE_DPI = 80


class Budget(NamedTuple):
    """One data kind's training budget and sizes."""

    data: DataConfig
    steps: int
    log_every: int
    batch_size: int
    heldout: int
    network: NetworkConfig
    learning_rate: float
    b1: float


class Profile(NamedTuple):
    """Seeds and the budget of each data kind."""

    seeds: int
    points: Budget
    images: Budget


# Points: the blog's D (Dense(64) x 2, BN momentum 0.99, eps 1e-3) and Adam. Images: the DCGAN D of the
# presets at the images-cpu profile's widths (32, 64), DCGAN's Adam. Steps from the curves of a first run:
# see report.md, which flags any variant whose median accuracy still moved over the last 20% of its logs.
FULL = Profile(
    seeds=32,
    points=Budget(DataConfig(name="ring8", size=4096), 2000, 250, 256, 1024, points.no_bn().discriminator, 1e-3, 0.9),
    images=Budget(
        images.DIGITS,
        120,
        15,
        64,
        384,
        dataclasses.replace(images.split().discriminator, channels=(32, 64)),
        2e-4,
        0.5,
    ),
)
TINY = Profile(
    seeds=2,
    points=FULL.points._replace(
        data=DataConfig(name="ring8", size=96), steps=4, log_every=2, batch_size=16, heldout=32
    ),
    images=FULL.images._replace(
        data=DataConfig(name="digits", size=96),
        steps=4,
        log_every=2,
        batch_size=16,
        heldout=32,
        network=dataclasses.replace(FULL.images.network, channels=(4, 8)),
    ),
)


def variants(profile: Profile) -> dict[str, ProbeConfig]:
    """Every variant of the probe, by name, in the order they run."""
    out = {}
    for data, fakes in PAIRS:
        budget = profile.points if data == "ring8" else profile.images
        for norm, d_batch in LAYOUTS:
            name = f"{data}-{fakes}-{norm}" + ("" if norm == "none" else f"-{d_batch}")
            out[name] = ProbeConfig(
                data=budget.data,
                fakes=fakes,
                network=with_norms(budget.network, NORMS[norm]),
                d_batch=d_batch,
                steps=budget.steps,
                log_every=budget.log_every,
                batch_size=budget.batch_size,
                heldout=budget.heldout,
                learning_rate=budget.learning_rate,
                b1=budget.b1,
            )
    return out


def run_variant(name: str, config: ProbeConfig, seeds: int, seed: int, out: Path) -> dict:
    """The variant's saved result if it was made with these settings, else train it and save it at once."""
    path = out / "variants" / f"{name}.json"
    settings = {"config": dataclasses.asdict(config), "seeds": seeds, "seed": seed}
    if path.exists():
        saved = json.loads(path.read_text())
        if {key: saved[key] for key in settings} != json.loads(json.dumps(settings)):
            raise ConfigError(f"{path} was made with other settings; remove it or choose another --out")
        print(f"{name}: done before", file=sys.stderr)
        return saved
    start = time.perf_counter()
    result = jax.block_until_ready(make_probe(config, make_population(config.data))(seed_keys(seed, seeds)))
    seconds = time.perf_counter() - start
    saved = settings | {
        "steps": [config.log_every * (i + 1) for i in range(config.logs)],
        "seconds": seconds,
        "commit": git_revision(),
    }
    saved |= {mode: np.asarray(getattr(result, mode)).tolist() for mode in MODES}  # (seeds, logs)
    rundir.write_json(path, saved)
    final = np.median(np.asarray(saved["batch_accuracy"])[:, -1])
    print(f"{name}: {seeds} seeds in {seconds:.0f} s, median held-out accuracy {final:.3f}", file=sys.stderr)
    return saved


def summarize(saved: dict) -> dict:
    """Per mode: the median final accuracy with its 95% order-statistic interval, the share above chance,
    the median curve and whether it still moved."""
    summary = {}
    for mode in MODES:
        curves = np.asarray(saved[mode], dtype=float)  # (seeds, logs)
        median, low, high = median_interval(curves[:, -1])
        curve = np.median(curves, axis=0)
        summary[mode] = {
            "median": median,
            "interval": [low, high],
            "above_chance": above_chance_share(curves[:, -1], MARGIN),
            "median_curve": curve.tolist(),
            "still_moving": still_moving(curve, floor=0.01),
        }
    return summary


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    with rundir.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=FIGURE_DPI)


def accuracy_figure(results: dict[str, dict], summaries: dict[str, dict], path: Path) -> None:
    """Per mode a panel: each variant's final held-out accuracy per seed, its median and interval."""
    names = list(results)
    fig = _figure(0.45 * len(names) + 2.5, 6.5)
    for row, (mode, label) in enumerate(MODES.items()):
        ax = fig.add_subplot(2, 1, row + 1)
        for i, name in enumerate(names):
            finals = np.asarray(results[name][mode], dtype=float)[:, -1]
            jitter = np.linspace(-0.2, 0.2, finals.size)
            ax.plot(i + jitter, finals, ".", color="tab:blue", alpha=0.5, markersize=4)
            s = summaries[name][mode]
            low, high = s["interval"]
            ax.errorbar(i, s["median"], yerr=[[s["median"] - low], [high - s["median"]]], fmt="_k", ms=14, capsize=3)
        ax.axhline(CHANCE, color="grey", lw=0.8)
        ax.axhline(CHANCE + MARGIN, color="grey", lw=0.8, ls="--")
        ax.set_ylim(0.3, 1.02)
        ax.set_ylabel(f"held-out accuracy,\n{label.split(' (')[0]}")
        ax.set_xticks(range(len(names)), names if row == 1 else [""] * len(names), rotation=60, ha="right")
    _save(fig, path)


def curves_figure(results: dict[str, dict], summaries: dict[str, dict], path: Path) -> None:
    """Per data/fakes pair a panel: each variant's median held-out accuracy (training mode) against step."""
    fig = _figure(4.0 * len(PAIRS), 3.4)
    for i, (data, fakes) in enumerate(PAIRS):
        ax = fig.add_subplot(1, len(PAIRS), i + 1)
        for name, saved in results.items():
            if name.startswith(f"{data}-{fakes}-"):
                label = name.removeprefix(f"{data}-{fakes}-")
                ax.plot(saved["steps"], summaries[name]["batch_accuracy"]["median_curve"], marker=".", label=label)
        ax.axhline(CHANCE, color="grey", lw=0.8)
        ax.set_title(f"{data} vs {fakes}", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("median held-out accuracy")
        ax.legend(fontsize=7)
    _save(fig, path)


def report_table(results: dict[str, dict], summaries: dict[str, dict]) -> list[str]:
    """The markdown table: one row per variant, both modes."""
    lines = [
        "| variant | seeds | steps | training mode: median [95% CI] | above chance | inference mode: median "
        "[95% CI] | above chance | still moving | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, saved in results.items():
        cells = [name, str(saved["seeds"]), str(saved["steps"][-1])]
        for mode in MODES:
            s = summaries[name][mode]
            low, high = s["interval"]
            cells += [f"{s['median']:.3f} [{low:.3f}, {high:.3f}]", f"{s['above_chance']:.0%}"]
        moving = [label.split()[0] for mode, label in MODES.items() if summaries[name][mode]["still_moving"]]
        cells += [", ".join(moving) or "no", f"{saved['seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(out: Path, command: str, results: dict[str, dict], profile: Profile) -> Path:
    """probe.json, the two figures and report.md from the finished variants."""
    summaries = {name: summarize(saved) for name, saved in results.items()}
    rundir.write_json(
        out / "probe.json",
        {"command": command, "margin": MARGIN, "chance": CHANCE, "seeds": profile.seeds}
        | {"variants": {name: {"config": results[name]["config"]} | summaries[name] for name in results}},
    )
    accuracy_figure(results, summaries, out / "accuracy.png")
    curves_figure(results, summaries, out / "curves.png")
    commits = sorted({saved["commit"] for saved in results.values()})
    text = "\n".join(
        [
            "# Do later BN layers hide higher moments? The moment probe",
            "",
            f"Command: `{command}`  ",
            f"Code: {', '.join(commits)} (variants trained); {versions_text()}  ",
            f"Device: {device_text()}",
            "",
            *_intro(profile),
            "",
            *report_table(results, summaries),
            "",
            "![held-out accuracy per seed](accuracy.png)",
            "",
            "Median held-out accuracy (training mode) during training, the curves the steps were chosen from:",
            "",
            "![median accuracy against step](curves.png)",
            "",
        ]
    )
    report = out / "report.md"
    with rundir.atomic_path(report) as tmp:
        tmp.write_text(text)
    return report


def _intro(profile: Profile) -> list[str]:
    p, i = profile.points, profile.images
    return [
        "D alone (no G) learns to tell real samples from fakes matched to them in mean and variance; "
        f"{profile.seeds} seeds per variant, the same seed keys in every variant. Fakes: `gaussian`, a Gaussian with "
        "ring8's mean and full covariance; `diagonal-gaussian`, digits' per-pixel mean and variance, pixels "
        "independent; `phase`, each digit with its Fourier phases randomized (amplitude spectrum, mean and "
        "pixel variance of every image kept; strokes destroyed). Norms in D: `none`, `first` (BN in the first "
        "layer only), `all` (BN in both). `split`: real and fake batches normalized by their own moments (two "
        "calls); `joint`: one call on both.",
        "",
        f"Points: D is the blog's MLP, Dense(64) x 2, BN momentum 0.99 and eps 1e-3, Adam(1e-3), batches of "
        f"{p.batch_size}, {p.steps} steps; ring8 population {p.data.size}, of which {p.heldout} held out. Images: "
        f"the DCGAN D at channels {i.network.channels}, BN momentum 0.9 and eps 1e-5, Adam(2e-4, 0.5), batches "
        f"of {i.batch_size}, {i.steps} steps; the {i.data.size} digits, {i.heldout} held out.",
        "",
        "Scored on held-out real samples and fakes made from held-out samples (never trained on): in training mode, "
        "the batches made as in training (split: each held-out batch alone; joint: real and fake together), "
        "which is what a G would face; and in inference mode (running averages, each sample alone). Accuracy: the "
        "mean of the share of reals called real and of fakes called fake. Median over seeds of the final accuracy, "
        "its 95% distribution-free interval (order statistics), and the share of seeds at or above "
        f"{CHANCE + MARGIN:.2f} (chance + {MARGIN}, fixed before the run). 'Still moving': the median curve changed by "
        "more than 10% (and 0.01) over the last 20% of its logs.",
    ]


def parse_args(argv: Sequence[str]):
    """The command line."""
    parser = StrictParser(prog=PROG, description="D alone against fakes matched in mean and variance.")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes and steps: the machinery only")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default: 32, tiny: 2)")
    parser.add_argument("--seed", type=int, default=0, help="integer the seed keys derive from (default: 0)")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    """Train the variants not yet in --out, then write the report; 0, or 2 on bad input."""
    command = " ".join([PROG, *argv])
    try:
        args = parse_args(argv)
        profile = TINY if args.tiny else FULL
        if args.seeds is not None:
            if args.seeds < 1:
                raise ConfigError(f"--seeds must be at least 1, got {args.seeds}")
            profile = profile._replace(seeds=args.seeds)
        out = Path(args.out)
        git_revision()  # the code this process runs, read before it trains
        with rundir.owned(out, command):
            results = {
                name: run_variant(name, config, profile.seeds, args.seed, out)
                for name, config in variants(profile).items()
            }
            report = write_report(out, command, results, profile)
    except ConfigError as error:
        return fail(PROG, error)
    print(f"report: {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
