"""What a run found: the progress line of each record, the summary (roofline fractions, ratios to the
peers, the issue's targets), the plain-text table and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from jaxbngan import rundir
from jaxbngan.bench.plan import DCGAN_BATCH, END_TO_END_ACCELERATOR_SEEDS, FOCUS, PEERS


def describe(record: dict[str, Any]) -> str:
    """One record as a line of progress."""
    section = record["section"]
    if section == "machine":
        return (
            f"matmul {record['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"step-shaped matmul {record['step_shape_matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"memory {record['memory_bytes_per_s'] / 1e9:.1f} GB/s"
        )
    if section == "cost":
        return f"{record['preset']}: {record['flops_matmul_by_hand'] / 1e6:.0f} MFLOP/step (matmuls, by hand)"
    if section == "startup":
        phases = record["phases"]
        return (
            f"{record['run']} run: {record['wall_s']:.1f} s, {record['outside_training_share']:.0%} outside training "
            f"(compile {phases.get('compile', 0):.1f} s, training {phases.get('training', 0):.1f} s)"
        )
    if "skipped" in record:
        return f"{record.get('preset', record.get('peer'))}: skipped, {record['skipped']}"
    what = [record.get("peer") or record.get("variant") or record.get("layout") or "", record.get("preset", "")]
    for field in ("data", "seeds", "width", "devices", "unroll", "logging"):
        if field in record:
            what.append(f"{field}={record[field]}")
    compile_s = f", compile {record['compile_s']:.1f} s" if record.get("compile_s") is not None else ""
    return f"{' '.join(w for w in what if w)}: {record['seed_steps_per_s']:.0f} seed-steps/s{compile_s}"


def _rate(records: list[dict[str, Any]], **match: Any) -> float | None:
    for record in records:
        if all(record.get(k) == v for k, v in match.items()) and "seed_steps_per_s" in record:
            return record["seed_steps_per_s"]
    return None


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Roofline fractions, ratios to every peer and the issue's targets, from the collected records."""
    machine = results.get("machine", {})
    peak, bandwidth = machine.get("matmul_flops_per_s"), machine.get("memory_bytes_per_s")
    sweep = results.get("throughput", [])
    summary: dict[str, Any] = {"presets": {}}
    for cost in results.get("cost", []):
        preset = cost["preset"]
        flops = cost["flops_matmul_by_hand"]
        entry: dict[str, Any] = {"flops_per_step_by_hand": flops, "flops_per_step_xla": cost["flops_xla"]}
        if peak and bandwidth:
            entry["compute_bound_seed_steps_per_s"] = peak / flops
            entry["least_bytes_bound_seed_steps_per_s"] = bandwidth / cost["least_bytes"]
            entry["xla_bytes_bound_seed_steps_per_s"] = bandwidth / cost["bytes_accessed_xla"]
            bound = min(entry["compute_bound_seed_steps_per_s"], entry["least_bytes_bound_seed_steps_per_s"])
        timed = [r for r in sweep if r["preset"] == preset and "seed_steps_per_s" in r]
        rates = {r["seeds"]: r["seed_steps_per_s"] for r in timed}
        entry["seed_steps_per_s"] = rates
        entry["program_bytes_per_device"] = {r["seeds"]: r["program_bytes"] for r in timed}
        entry["worker_max_rss_bytes"] = {r["seeds"]: r["max_rss_bytes"] for r in timed}
        if peak and bandwidth:
            entry["roofline_fraction"] = {s: rate / bound for s, rate in rates.items()}
        compiles = [r["compile_s"] for r in sweep if r["preset"] == preset]
        entry["compile_s_max"] = max(compiles) if compiles else None
        peers = {"naive-jax-loop": _rate(results.get("naive_loop", []), preset=preset)}
        for peer in PEERS:
            peers[peer] = _rate(results.get("peers", []), peer=peer, preset=preset)
        entry["peer_seed_steps_per_s"] = peers
        entry["ratio_to_peer"] = {
            peer: {s: rate / peer_rate for s, rate in rates.items()} for peer, peer_rate in peers.items() if peer_rate
        }
        summary["presets"][preset] = entry
    end_to_end = results.get("end_to_end", [])
    if end_to_end:
        summary["end_to_end"] = end_to_end[0]
    if results.get("dcgan"):
        summary["dcgan"] = _dcgan_summary(results["dcgan"], peak)
    if results.get("startup"):
        summary["startup"] = _startup_summary(results["startup"])
    focus = summary["presets"].get(FOCUS)
    if focus and focus["seed_steps_per_s"]:
        on_cpu = results.get("probe", {}).get("backend", "cpu") == "cpu"
        summary["targets"] = _cpu_targets(summary, focus) if on_cpu else _accelerator_targets(focus, end_to_end)
    return summary


def _dcgan_summary(records: list[dict[str, Any]], peak: float | None) -> dict[str, Any]:
    """By DCGAN case: seed-steps/s by seed count, the naive loop's, the ratios to the torch peer on its data,
    the FLOPs of a step (by hand from the layer shapes, and XLA's) and the share of the matmul rate reached."""
    peer = {r["data"]: r["seed_steps_per_s"] for r in records if r.get("peer") and "seed_steps_per_s" in r}
    cases: dict[str, Any] = {}
    for record in records:
        if "layout" not in record or "seed_steps_per_s" not in record:
            continue
        entry = cases.setdefault(f"{record['preset']} on {record['data']}", {"seed_steps_per_s": {}})
        for field in ("flops_matmul_by_hand", "flops_xla"):
            if field in record:
                entry[field] = record[field]
        if record["layout"] == "naive-loop":
            entry["naive_loop_seed_steps_per_s"] = record["seed_steps_per_s"]
        else:
            entry["seed_steps_per_s"][record["seeds"]] = record["seed_steps_per_s"]
        torch_rate = peer.get(record["data"])
        entry["torch_dcgan_seed_steps_per_s"] = torch_rate
        if torch_rate:
            entry["ratio_to_torch_dcgan"] = {s: rate / torch_rate for s, rate in entry["seed_steps_per_s"].items()}
    for entry in cases.values():
        if peak and "flops_matmul_by_hand" in entry:
            flops = entry["flops_matmul_by_hand"]
            entry["matmul_rate_fraction"] = {s: rate * flops / peak for s, rate in entry["seed_steps_per_s"].items()}
            if entry.get("torch_dcgan_seed_steps_per_s"):
                entry["torch_dcgan_matmul_rate_fraction"] = entry["torch_dcgan_seed_steps_per_s"] * flops / peak
    return {"cases": cases, "torch_dcgan_seed_steps_per_s": peer}


def _startup_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """By run (first, second): median wall time, median seconds per phase, and the share spent outside training."""
    summary: dict[str, Any] = {}
    for run in ("first", "second"):
        timed = [r for r in records if r.get("run") == run and "wall_s" in r]
        if not timed:
            continue
        phases = sorted({p for r in timed for p in r["phases"]})
        summary[run] = {
            "wall_s": float(np.median([r["wall_s"] for r in timed])),
            "phases_s": {p: float(np.median([r["phases"].get(p, 0.0) for r in timed])) for p in phases},
            "outside_training_share": float(np.median([r["outside_training_share"] for r in timed])),
            "runs": len(timed),
        }
    return summary


def _cpu_targets(summary: dict[str, Any], focus: dict[str, Any]) -> dict[str, Any]:
    """Issue 5's CPU targets: 500 seed-steps/s at every seed count, 3x PyTorch eager, compiles under 5 s."""
    torch_ratios = focus["ratio_to_peer"].get("torch", {})
    return {
        "min_bn_split_seed_steps_per_s": min(focus["seed_steps_per_s"].values()),
        "bn_split_at_least_500_everywhere": min(focus["seed_steps_per_s"].values()) >= 500,
        "min_ratio_to_torch_eager": min(torch_ratios.values()) if torch_ratios else None,
        "max_compile_s": max(e["compile_s_max"] or 0.0 for e in summary["presets"].values()),
    }


def _accelerator_targets(focus: dict[str, Any], end_to_end: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 5's accelerator targets: 100,000 seed-steps/s from 1024 seeds on, and 1024 seeds of 2000
    steps in under 25 s, compilation included (the slowest end-to-end repetition)."""
    many = [rate for seeds, rate in focus["seed_steps_per_s"].items() if seeds >= END_TO_END_ACCELERATOR_SEEDS]
    targets: dict[str, Any] = {
        "min_bn_split_seed_steps_per_s_from_1024_seeds": min(many) if many else None,
        "bn_split_at_least_100000_from_1024_seeds": min(many) >= 100_000 if many else None,
    }
    full_size = [r for r in end_to_end if r.get("seeds", 0) >= END_TO_END_ACCELERATOR_SEEDS and r.get("steps") == 2000]
    if full_size and "times_s" in full_size[0]:
        slowest = max(full_size[0]["times_s"])
        targets["end_to_end_1024_seeds_2000_steps_max_s"] = slowest
        targets["end_to_end_under_25_s"] = slowest < 25
    return targets


def table(results: dict[str, Any]) -> str:
    """The run's key figures as plain text: seed scaling, peers, widths, XLA flags, logging, roofline."""
    summary = results.get("summary", {}).get("presets", {})
    seeds = sorted({s for entry in summary.values() for s in entry["seed_steps_per_s"]})
    lines = ["", "seed-steps/s (median), jaxbngan's driver layout with the tuned XLA_FLAGS"]
    lines.append(f"{'preset':<10}" + "".join(f"{s:>8}" for s in seeds) + f"{'compile':>9}  roofline  MiB/device")
    for preset, entry in summary.items():
        rates = entry["seed_steps_per_s"]
        row = f"{preset:<10}" + "".join(f"{rates[s]:>8.0f}" if s in rates else f"{'-':>8}" for s in seeds)
        fractions = entry.get("roofline_fraction", {})
        span = f"{min(fractions.values()):.0%}-{max(fractions.values()):.0%}" if fractions else "-"
        program = entry["program_bytes_per_device"].get(max(rates, default=None))
        memory = f"{program / 2**20:.0f} at {max(rates)}" if program else "-"
        lines.append(row + f"{entry['compile_s_max'] or 0:>8.1f}s  {span:>8}  {memory}")
    backend = results.get("probe", {}).get("backend", "cpu")
    lines += ["", f"peers on the {backend}, one seed at a time: seed-steps/s, and jaxbngan's ratio at 1 seed / at best"]
    for preset, entry in summary.items():
        for peer, rate in entry["peer_seed_steps_per_s"].items():
            ratios = entry["ratio_to_peer"].get(peer)
            if rate and ratios:
                at_one = f"x{ratios[1]:.1f}" if 1 in ratios else "-"
                lines.append(f"{preset:<10}{peer:<16}{rate:>8.0f}   {at_one} / x{max(ratios.values()):.1f}")
    skipped = {f"{r['peer']}: {r['skipped']}" for r in results.get("peers", []) if "skipped" in r}
    lines += [f"  skipped {reason}" for reason in sorted(skipped)]
    whole = results.get("summary", {}).get("end_to_end")
    if whole and "seed_steps_per_s" in whole:
        lines += [
            "",
            f"{FOCUS} end to end (the CLI driver's whole job: compilation, metrics, checkpoints): "
            f"{whole['seeds']} seeds x {whole['steps']} steps in {whole['median_s']:.1f} s (median), "
            f"{whole['seed_steps_per_s']:.0f} seed-steps/s",
        ]
    sections = ("widths", "width_one", "full_vmap")
    layouts = [r for section in sections for r in results.get(section, []) if "seed_steps_per_s" in r]
    variants = [r for r in results.get("variants", []) if "seed_steps_per_s" in r]
    for rows, label in ((layouts, "layout"), (variants, "XLA_FLAGS variant")):
        if rows:
            lines += ["", f"{FOCUS}: seed-steps/s by {label}"]
        for r in rows:
            name = r.get("variant") or (
                f"width {r['width']}{' (vmap)' if r['vmap_one'] else ''} x{r['devices']} devices"
                if "unroll" in r
                else "one vmap of all seeds"
            )
            lines.append(f"  {name:<24} seeds {r['seeds']:>5}: {r['seed_steps_per_s']:>6.0f}")
    for r in results.get("unroll", []):
        if "seed_steps_per_s" in r:
            lines.append(f"  step scan unrolled {r['unroll']}x    seeds {r['seeds']:>5}: {r['seed_steps_per_s']:>6.0f}")
    logging = {r["logging"]: r["seed_steps_per_s"] for r in results.get("logging", [])}
    if len(logging) == 2:
        ratio = logging["with"] / logging["without"]
        lines += ["", f"{FOCUS} with the metrics every log_every steps: x{ratio:.2f} the rate without"]
    dcgan = results.get("summary", {}).get("dcgan")
    if dcgan:
        lines += ["", f"DCGAN image step, batch {DCGAN_BATCH}: seed-steps/s"]
        for case, entry in dcgan["cases"].items():
            rates = ", ".join(f"{s} seeds {r:.1f}" for s, r in entry["seed_steps_per_s"].items())
            lines.append(f"  {case}: naive loop {entry.get('naive_loop_seed_steps_per_s', 0):.1f}; {rates}")
            if "flops_matmul_by_hand" in entry:
                shares = ", ".join(f"{s}: {f:.0%}" for s, f in entry.get("matmul_rate_fraction", {}).items())
                lines.append(
                    f"    {entry['flops_matmul_by_hand'] / 1e9:.2f} GFLOP/step by hand, {entry['flops_xla'] / 1e9:.2f} "
                    f"by XLA; of the matmul rate by seeds: {shares}"
                )
            ratios = ", ".join(f"{s}: x{r:.2f}" for s, r in entry.get("ratio_to_torch_dcgan", {}).items())
            if ratios:
                lines.append(f"    to torch-dcgan eager by seeds: {ratios}")
        for data, rate in dcgan["torch_dcgan_seed_steps_per_s"].items():
            lines.append(f"  torch-dcgan (eager, one seed) on {data}: {rate:.1f}")
    startup = results.get("summary", {}).get("startup")
    for run, entry in (startup or {}).items():
        phases = ", ".join(f"{p} {t:.2f}" for p, t in sorted(entry["phases_s"].items(), key=lambda x: -x[1]))
        lines += [
            f"{FOCUS} `jaxbngan run`, {run} run ({'empty' if run == 'first' else 'filled'} compilation cache): "
            f"{entry['wall_s']:.1f} s, {entry['outside_training_share']:.0%} outside training; seconds: {phases}"
        ]
    machine = results.get("machine")
    if machine:
        lines.append(
            f"machine: matmul {machine['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s, "
            f"memory {machine['memory_bytes_per_s'] / 1e9:.1f} GB/s"
        )
    targets = results.get("summary", {}).get("targets")
    if targets:
        lines += ["", f"targets: {json.dumps(targets)}"]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Seed-steps/s against seeds (log-log) with peers and roofline; widths; XLA-flag variants."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 5), layout="constrained")
    FigureCanvasAgg(fig)
    scaling, widths, variants = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 1.3]})
    summary = results.get("summary", {}).get("presets", {})
    for preset, entry in summary.items():
        rates = sorted((int(s), r) for s, r in entry["seed_steps_per_s"].items())
        if rates:
            scaling.plot(*zip(*rates, strict=True), marker="o", label=f"{preset} (driver layout)")
    full = sorted((r["seeds"], r["seed_steps_per_s"]) for r in results.get("full_vmap", []) if "seed_steps_per_s" in r)
    if full:
        scaling.plot(*zip(*full, strict=True), marker="x", linestyle="--", label=f"{FOCUS}, one full-width vmap")
    whole = results.get("summary", {}).get("end_to_end")
    if whole and "seed_steps_per_s" in whole:
        scaling.plot(
            [whole["seeds"]],
            [whole["seed_steps_per_s"]],
            marker="*",
            markersize=12,
            linestyle="none",
            color="black",
            label=f"{FOCUS}, end to end ({whole['steps']} steps, compilation and metrics)",
        )
    focus = summary.get(FOCUS, {})
    peer_colors = iter(["0.35", "tab:brown", "tab:purple", "tab:olive", "tab:cyan"])
    for peer, rate in focus.get("peer_seed_steps_per_s", {}).items():
        if rate:
            scaling.axhline(rate, color=next(peer_colors), linestyle="-.", label=f"{FOCUS}, {peer}, one seed at a time")
    if "compute_bound_seed_steps_per_s" in focus:
        bound = focus["compute_bound_seed_steps_per_s"]
        scaling.axhline(bound, color="tab:red", linewidth=2, label=f"{FOCUS}, matmul peak bound")
    scaling.set(xscale="log", yscale="log", xlabel="seeds", ylabel="seed-steps / s", title="throughput against seeds")
    low, high = scaling.get_ylim()
    scaling.set_ylim(low / 5, high * 1.2)  # room for the legend below the lines
    scaling.legend(fontsize="x-small", loc="lower left", ncols=2)
    scaling.grid(True, which="both", alpha=0.3)
    rows = [r for r in results.get("widths", []) if "seed_steps_per_s" in r]
    if rows:
        seeds = rows[0]["seeds"]
        bars = [(f"{r['width']} x{r['devices']}", r["seed_steps_per_s"]) for r in rows]
        full = _rate(results.get("full_vmap", []), seeds=seeds)
        bars += [(f"full ({seeds})", full)] if full else []
        widths.bar(*zip(*bars, strict=True), color="tab:blue")
        widths.set(xlabel="vmap width x devices", ylabel="seed-steps / s", title=f"{FOCUS}, {seeds} seeds")
    rows = [r for r in results.get("variants", []) if "seed_steps_per_s" in r]
    if rows:
        names = list(dict.fromkeys(r["variant"] for r in rows))
        counts = sorted({r["seeds"] for r in rows})
        step = 0.8 / len(counts)
        for i, seeds in enumerate(counts):
            heights = [_rate(rows, variant=n, seeds=seeds) or 0.0 for n in names]
            variants.bar(np.arange(len(names)) + i * step, heights, step, label=f"{seeds} seeds")
        variants.set_xticks(np.arange(len(names)) + 0.4 - step / 2, names, rotation=20, fontsize="small")
        variants.set(ylabel="seed-steps / s", title=f"{FOCUS}, XLA_FLAGS variants")
        variants.legend(fontsize="small")
    device = results.get("probe", {}).get("device_name", "")
    fig.suptitle(f"jaxbngan train-step throughput on {device}")
    with rundir.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
