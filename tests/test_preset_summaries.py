"""Preset one-liners and the README's preset table say what the committed report measured, and cite it.

A summary that states a measured result ends with tags like `[shift.1: undecided at 6 seeds, quick]`:
the claim id in that profile's committed verdicts.json, its overall verdict and the seeds per cell.
These tests fail when a tag claims a verdict or a seed count the committed report does not hold.
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
MEASURED = ("no-bn", "no-bn-shift", "bn-split", "bn-split-shift", "joint", "running", "fix", "fix-shift")


def committed_claims(profile: str) -> tuple[int, dict[str, dict]]:
    """Seeds per cell and the claims by id of a profile's committed verdicts.json."""
    saved = json.loads((COMMITTED[profile] / "verdicts.json").read_text())
    assert saved["profile"]["name"] == profile
    return saved["profile"]["seeds"], {claim["id"]: claim for claim in saved["claims"]}


def problems(text: str) -> list[str]:
    """What is wrong with the tags of a text: malformed, unknown claim, or another verdict or seed count."""
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
