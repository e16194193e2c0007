"""The parent side: plan the workers, run them one at a time, collect their records as they come,
and write the results JSON and the plot. The parent never starts a JAX backend."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from jaxbngan import rundir, tuning
from jaxbngan.bench import dcgan
from jaxbngan.bench.jobs import Job, jax_job, run_job
from jaxbngan.bench.peers import dcgan_peer_job, peer_job
from jaxbngan.bench.plan import (
    ACCELERATOR_SEEDS,
    CPU_SEEDS,
    DCGAN_CASES,
    DCGAN_SEEDS,
    END_TO_END_ACCELERATOR_SEEDS,
    FOCUS,
    Settings,
    preset_config,
    variants,
    worker_params,
)
from jaxbngan.bench.report import describe, plot, summarize, table
from jaxbngan.config import to_dict


def orchestrate(settings: Settings, argv: list[str]) -> int:
    """Run every worker of `settings`, write the results and the plot; the exit code."""
    results: dict[str, Any] = {
        "command": "jaxbngan bench " + " ".join(argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_start": list(os.getloadavg()),
        "other_python_processes_start": _other_pythons(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings._asdict().items()},
        "errors": [],
        "notes": [],
    }
    probe: dict[str, Any] = {}
    error = run_job(jax_job("probe", "probe", {}, ()), probe.update, {})
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    probe.pop("section")
    backend = probe["backend"]
    results["probe"] = probe
    device = settings.device or probe["device_name"]
    settings.out.mkdir(parents=True, exist_ok=True)
    json_path = settings.out / f"throughput-{device}.json"
    plot_path = settings.out / f"throughput-{device}.png"
    # Records go to a partial file as they come and replace the results of an earlier run only at
    # the end: an interrupted run loses nothing, and never leaves half of itself in their place.
    partial_path = settings.out / f"throughput-{device}.partial.json"
    flags = tuning.xla_flags(backend, probe["cores"])
    results["xla_flags"] = list(flags)
    params = worker_params(settings, settings.seeds or (CPU_SEEDS if backend == "cpu" else ACCELERATOR_SEEDS))
    jobs: list[Job | str] = [jax_job("machine, FLOPs, naive loop, logging", "reference", params, flags)]
    if "sweep" in settings.sections:
        for preset in settings.presets:
            jobs.append(jax_job(f"sweep {preset}", "sweep", {**params, "preset": preset}, flags))
    if FOCUS not in settings.presets:
        results["notes"].append(f"the width, XLA-flag and end-to-end comparisons need {FOCUS} among the presets")
    elif "widths" in settings.sections:
        jobs.append(jax_job(f"widths, unroll and full vmap ({FOCUS})", "widths", params, flags))
    if FOCUS in settings.presets and "variants" in settings.sections and backend == "cpu":
        for name, variant_flags in variants(probe["cores"], settings.quick).items():
            jobs.append(jax_job(f"variant {name}", "variant", {**params, "variant": name}, variant_flags))
    if FOCUS in settings.presets and "end_to_end" in settings.sections:
        seeds = settings.end_to_end_seeds or (probe["cores"] if backend == "cpu" else END_TO_END_ACCELERATOR_SEEDS)
        jobs.append(jax_job(f"end to end ({FOCUS})", "end_to_end", {**params, "end_to_end_seeds": seeds}, flags))
        title = f"`jaxbngan run {FOCUS}`, first and second run, by phase"
        jobs.append(jax_job(title, "startup", {**params, "end_to_end_seeds": seeds}, flags))
    configs = {p: to_dict(preset_config(p, params)) for p in settings.presets}
    jobs += [peer_job(peer, params, configs, backend) for peer in settings.peers]
    if "dcgan" in settings.sections:
        jobs += _dcgan_jobs(settings, params, flags, backend)
    print(f"jaxbngan bench on {device} ({backend}, jax {probe['jax']}); records so far in {partial_path}")

    def collect(record: dict[str, Any]) -> None:
        print(f"    {describe(record)}", flush=True)
        section = record.pop("section")
        if section == "machine":
            results["machine"] = record
        else:
            results.setdefault(section, []).append(record)

    for index, job in enumerate(jobs, start=1):
        if isinstance(job, str):
            print(f"[{index}/{len(jobs)}] {job}")
            results["notes"].append(job)
            continue
        print(f"[{index}/{len(jobs)}] {job.title}", flush=True)
        guess = {r["preset"]: r["seed_steps_per_s"] for r in results.get("naive_loop", [])}
        start, others = time.perf_counter(), _other_pythons()
        try:
            error = run_job(job, collect, guess)
        except KeyboardInterrupt:  # Ctrl-C, or a deadline (benchmarks/accelerator.sh): keep every record so far
            results["notes"].append(f"interrupted during {job.title}")
            rundir.write_json(partial_path, results)
            print(f"interrupted; the records so far are in {partial_path}", file=sys.stderr)
            return 130
        # Other work on the machine slows a worker down: keep who else ran, to judge its figures by.
        results.setdefault("jobs", []).append(
            {
                "title": job.title,
                "seconds": time.perf_counter() - start,
                "other_python_processes_before": others,
                "other_python_processes_after": _other_pythons(),
                "load_average_after": list(os.getloadavg()),
            }
        )
        if error:
            print(f"    failed: {error}", flush=True)
            results["errors"].append(error)
        rundir.write_json(partial_path, results)
        if index == 1 and {r["preset"] for r in results.get("naive_loop", [])} != set(settings.presets):
            print("error: the reference worker failed, so nothing sizes the timings", file=sys.stderr)
            return 1
    results["load_average_end"] = list(os.getloadavg())
    results["other_python_processes_end"] = _other_pythons()
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["summary"] = summarize(results)
    rundir.write_json(json_path, results)
    partial_path.unlink()
    plot(results, plot_path)
    print(table(results))
    print(f"wrote {json_path} and {plot_path}")
    return 1 if results["errors"] else 0


def _dcgan_jobs(settings: Settings, params: dict[str, Any], flags: tuple[str, ...], backend: str) -> list[Job | str]:
    """The image-step section: each registered DCGAN case in the driver's layout, then the PyTorch peer."""
    jobs: list[Job | str] = []
    seeds = settings.seeds or ((1, 2) if settings.quick else DCGAN_SEEDS)  # --seeds, as for the sweep
    for preset, data in DCGAN_CASES:
        note = dcgan.unavailable(preset, data)
        case = {**params, "preset": preset, "data": data, "dcgan_seeds": list(seeds)}
        jobs.append(note or jax_job(f"dcgan {preset} on {data}", "dcgan", case, flags))
    return [*jobs, dcgan_peer_job(params, backend)]


def _other_pythons() -> int | None:
    """How many other Python processes run on this machine (they would share its cores); None off Linux."""
    try:
        count = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    count += b"python" in (entry / "cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue  # the process ended meanwhile
        return count
    except OSError:
        return None
