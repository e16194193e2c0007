"""Preset one-liners and the README's preset table say what the committed report measured, and cite it.

A summary that states a measured result ends with tags like `[shift.1: undecided at 6 seeds, quick]`:
the claim id in that profile's committed verdicts.json, its overall verdict and the seeds per cell.
Every count of seeds on a line with a tag is written `k/N on DATASET` and must be one of the shares
the tagged claim records for that data set (its support, or one of its conditions' shares), and
every decimal number outside a `(blog: ...)` quote must be one of its measured medians or bounds.
These tests fail when a line claims a verdict, a seed count, a share or a number the report does not hold.
"""

import json
import re
from pathlib import Path

import pytest

from jaxbngan.presets import PRESETS
from jaxbngan.verdicts import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = {"quick": ROOT / "experiments/results", "standard": ROOT / "experiments/results-standard"}
TAG = re.compile(r"\[([a-z_]+\.\d+): (" + "|".join(VERDICTS) + r") at (\d+) seeds, ([a-z]+)\]")
TAG_START = re.compile(r"\[[a-z_]+\.\d+:")  # anything that means to be a tag
COUNT = re.compile(r"(\d+)/(\d+)")
COUNT_ON = re.compile(r"(\d+)/(\d+)(?: seeds)? on ([a-z0-9]+)")
DECIMAL = re.compile(r"(?<![\w.])\d+\.(\d+)")
BLOG_QUOTE = re.compile(r"\(blog:[^)]*\)")
MEASURED = ("no-bn", "no-bn-shift", "bn-split", "bn-split-shift", "joint", "running", "fix", "fix-shift")


def committed_claims(profile: str) -> tuple[int, dict[str, dict]]:
    """Seeds per cell and the claims by id of a profile's committed verdicts.json."""
    saved = json.loads((COMMITTED[profile] / "verdicts.json").read_text())
    assert saved["profile"]["name"] == profile
    return saved["profile"]["seeds"], {claim["id"]: claim for claim in saved["claims"]}


def problems(text: str) -> list[str]:
    """What is wrong with the tags of a text: malformed, unknown claim, another verdict, seed count or share."""
    found = [f"malformed tag at {m.group()!r}" for m in TAG_START.finditer(text) if not TAG.match(text, m.start())]
    for claim_id, verdict, seeds, profile in TAG.findall(text):
        if profile not in COMMITTED:
            found.append(f"{claim_id}: no committed report of profile {profile!r}")
            continue
        committed_seeds, claims = committed_claims(profile)
        if claim_id not in claims:
            found.append(f"{claim_id}: no such claim in the {profile} report")
        elif claims[claim_id]["verdict"] != verdict:
            found.append(f"{claim_id}: the {profile} report says {claims[claim_id]['verdict']!r}, not {verdict!r}")
        if int(seeds) != committed_seeds:
            found.append(f"{claim_id}: the {profile} report has {committed_seeds} seeds per cell, not {seeds}")
    for line in text.splitlines():
        measured = line.strip(" |").split("|")[-1] if line.startswith("|") else line  # a table row: its last cell
        found += count_problems(measured)
    return found


def count_problems(line: str) -> list[str]:
    """What a line with one tag says that the tagged claim does not hold: a seed count that is not a
    `k/N on DATASET` share of it, or a decimal number (outside a `(blog: ...)` quote) that is none of
    its measured medians or interval bounds at the printed precision."""
    tags = TAG.findall(line)
    if len(tags) != 1 or tags[0][3] not in COMMITTED:
        return []
    claim_id, _, _, profile = tags[0]
    claim = committed_claims(profile)[1].get(claim_id)
    if claim is None:
        return []
    attributed = {m.start(): m for m in COUNT_ON.finditer(line)}
    unattributed = [m for m in COUNT.finditer(line) if m.start() not in attributed]
    found = [f"{claim_id}: {m.group()!r} names no data set" for m in unattributed]
    for m in attributed.values():
        k, n, dataset = int(m.group(1)), int(m.group(2)), m.group(3)
        judged = claim["by_dataset"].get(dataset)
        if judged is None:
            found.append(f"{claim_id}: not judged on {dataset}")
            continue
        shares = [judged["support"], *judged["shares"]]
        if n != judged["seeds"] or all(round(share * n) != k for share in shares):
            found.append(f"{claim_id}: {m.group()!r} is none of its shares on {dataset} ({judged['seeds']} seeds)")
    numbers = [
        entry[bound]
        for judged in claim["by_dataset"].values()
        for entry in [*judged["measured"], *judged["paired"]]
        for bound in ("median", "low", "high")
    ]
    for m in DECIMAL.finditer(BLOG_QUOTE.sub("", line)):
        tolerance = 0.5 * 10.0 ** -len(m.group(1))  # half a unit of the last printed place
        if not any(abs(float(m.group()) - number) <= tolerance for number in numbers):
            found.append(f"{claim_id}: {m.group()} is none of its measured medians or interval bounds")
    return found


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_summary_claims_only_what_the_committed_report_holds(name):
    assert problems(PRESETS[name].summary) == []


@pytest.mark.parametrize("name", MEASURED)
def test_the_blogs_presets_cite_the_measurement_behind_their_summary(name):
    assert TAG.search(PRESETS[name].summary), PRESETS[name].summary


def test_the_readme_preset_table_claims_only_what_the_committed_report_holds():
    readme = (ROOT / "README.md").read_text()
    assert TAG.search(readme)
    assert problems(readme) == []


def test_a_tag_that_disagrees_with_the_report_is_caught():
    seeds, claims = committed_claims("quick")
    claim_id, claim = next(iter(claims.items()))
    other = next(v for v in VERDICTS if v != claim["verdict"])
    assert problems(f"[{claim_id}: {claim['verdict']} at {seeds} seeds, quick]") == []
    assert len(problems(f"[{claim_id}: {other} at {seeds} seeds, quick]")) == 1
    assert len(problems(f"[{claim_id}: {claim['verdict']} at {seeds + 1} seeds, quick]")) == 1
    assert len(problems("[nonsense.9: reproduced at 6 seeds, quick]")) == 1
    assert len(problems("[shift.1: reproduced with 6 seeds]")) == 1


def test_a_count_the_report_does_not_hold_is_caught():
    seeds, claims = committed_claims("quick")
    claim_id, claim = next((i, c) for i, c in claims.items() if "ring8" in c["by_dataset"])
    tag = f"[{claim_id}: {claim['verdict']} at {seeds} seeds, quick]"
    held = round(claim["by_dataset"]["ring8"]["support"] * seeds)
    shares = [claim["by_dataset"]["ring8"]["support"], *claim["by_dataset"]["ring8"]["shares"]]
    missing = next(k for k in range(seeds + 1) if all(round(s * seeds) != k for s in shares))
    assert problems(f"held in {held}/{seeds} seeds on ring8 {tag}") == []
    assert len(problems(f"held in {missing}/{seeds} on ring8 {tag}")) == 1
    assert len(problems(f"held in {held}/{seeds + 1} on ring8 {tag}")) == 1
    assert len(problems(f"held in {held}/{seeds} {tag}")) == 1  # no data set named
    assert len(problems(f"held in {held}/{seeds} on nowhere {tag}")) == 1


def test_a_number_the_report_did_not_measure_is_caught():
    seeds, claims = committed_claims("quick")
    claim_id, claim = next((i, c) for i, c in claims.items() if c["by_dataset"].get("ring8", {}).get("measured"))
    tag = f"[{claim_id}: {claim['verdict']} at {seeds} seeds, quick]"
    median = claim["by_dataset"]["ring8"]["measured"][0]["median"]
    assert problems(f"median {median:.3f} on ring8 (blog: 6.62) {tag}") == []
    assert len(problems(f"median {median + 0.002:.3f} on ring8 {tag}")) == 1
    assert len(problems(f"median {median:.3f}, but 123.45 elsewhere {tag}")) == 1
