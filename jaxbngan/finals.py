"""What a run's summary reports: final metrics per seed, diverged seeds, and statistics over the healthy seeds.

`rundir.write_summary` stores it as summary.json; `catalog.SUMMARY_FIELDS` and `catalog.FINAL_METRICS`
say what each field means.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from jaxbngan.metrics import VIEWS, Metrics

# Fields whose non-finite values mean a seed diverged (std_ratio is inf for a constant real column,
# the mode scores are NaN by design for data without modes, and the distances for the other data kind).
DIVERGENCE_FIELDS = ("g_loss", "d_loss", "offset", "d_fake_loss_by_view")
# Fakes have left any sane range when their mean is this many real spreads from the real mean, or
# their spread along a column this many times the real one (see `divergence_steps`).
SANE_RANGE = 100.0


def data_std(real: np.ndarray) -> np.ndarray:
    """The real data's std per axis (images: per channel), NaN where it is constant: the unit of offsets."""
    std = np.std(np.asarray(real, dtype=float).reshape(-1, np.shape(real)[-1]), axis=0)
    return np.where(std > 0, std, np.nan)


def final_metrics(history: Metrics, real: np.ndarray) -> dict[str, np.ndarray]:
    """One value per seed for each metric of `catalog.FINAL_METRICS`, from the last log (and over the whole run)."""
    last = jax.tree.map(lambda x: np.asarray(x[:, -1], dtype=float), history)
    offset = last.offset / data_std(real)  # (seeds, d) in std
    values = {
        "g_loss": last.g_loss,
        "d_loss": last.d_loss,
        "offset_x": offset[:, 0],
        "offset_norm": np.linalg.norm(offset, axis=-1),
        "std_ratio_x": last.std_ratio[:, 0],
        "energy_distance": last.energy_distance,
    }
    values |= {f"d_fake_loss_{view}": last.d_fake_loss_by_view[:, i] for i, view in enumerate(VIEWS)}
    values |= {
        "both_win": last.both_win,
        "both_win_share": np.mean(np.asarray(history.both_win, dtype=float), axis=1),  # of all logs
        "high_quality": last.high_quality,
        "mode_coverage": last.mode_coverage,
        "kid": last.kid,
        "frechet_distance": last.frechet_distance,
        "pixel_kid": last.pixel_kid,
        "class_kl": last.class_kl,
    }
    return values


def divergence_steps(history: Metrics, steps: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Per seed, the first logged step at which it diverged, or -1 if it never did.

    A seed has diverged at the first log where a loss, the offset or a D score is NaN or infinite,
    or where its fakes have left any sane range: their mean is more than SANE_RANGE (100) spreads
    of the real data from the real mean (the spread is the root mean square distance of the real
    points from their mean, 1 for constant data; images count per channel), or their standard
    deviation along some column (channel) is more than SANE_RANGE times the real one.
    """
    bad = np.zeros(np.shape(history.g_loss), dtype=bool)  # (seeds, logs)
    for name in DIVERGENCE_FIELDS:
        value = np.asarray(getattr(history, name), dtype=float)
        bad |= ~np.all(np.isfinite(value.reshape(*bad.shape, -1)), axis=-1)
    real = np.asarray(real, dtype=float).reshape(-1, np.shape(real)[-1])  # images: pixels per channel
    spread = float(np.sqrt(np.sum(np.var(real, axis=0)))) or 1.0
    with np.errstate(invalid="ignore"):  # NaN offsets are flagged above already
        bad |= np.linalg.norm(np.asarray(history.offset, dtype=float), axis=-1) > SANE_RANGE * spread
        ratio = np.asarray(history.std_ratio, dtype=float)  # inf for a constant real column: no verdict there
        bad |= np.any(np.isfinite(ratio) & (ratio > SANE_RANGE), axis=-1)
    first = np.argmax(bad, axis=1)
    return np.where(np.any(bad, axis=1), np.asarray(steps)[first], -1)


def aggregate(values: np.ndarray) -> dict[str, float | int]:
    """Median, quartiles and mean of the finite values, and how many there were."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"median": float("nan"), "q25": float("nan"), "q75": float("nan"), "mean": float("nan"), "seeds": 0}
    q25, median, q75 = np.percentile(finite, [25, 50, 75])
    return {"median": median, "q25": q25, "q75": q75, "mean": float(np.mean(finite)), "seeds": int(finite.size)}


def summarize(history: Metrics, steps: np.ndarray, real: np.ndarray) -> dict[str, Any]:
    """Final metrics per seed and over seeds (`catalog.SUMMARY_FIELDS`); diverged seeds are not aggregated."""
    finals = final_metrics(history, real)
    diverged_at = divergence_steps(history, steps, real)
    healthy = diverged_at < 0
    per_seed = [
        {"seed": i, "diverged_at": int(diverged_at[i]) if diverged_at[i] >= 0 else None}
        | {name: values[i] for name, values in finals.items()}
        | {"offset": np.asarray(history.offset)[i, -1] / data_std(real)}
        for i in range(len(diverged_at))
    ]
    return {
        "seeds": len(diverged_at),
        "diverged": [{"seed": int(i), "step": int(diverged_at[i])} for i in np.flatnonzero(~healthy)],
        "aggregate": {name: aggregate(values[healthy]) for name, values in finals.items()},
        "per_seed": per_seed,
    }
