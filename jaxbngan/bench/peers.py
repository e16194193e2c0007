"""The peers' subprocesses (`benchmarks/peers/*`): each runs on jaxbngan's kind of device or not at all."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

from jaxbngan.bench.jobs import PACKAGE_ROOT, Job
from jaxbngan.bench.plan import DCGAN_BATCH, DCGAN_PEER_IMAGES

PEER_SCRIPTS = {"torch": "torch_step.py", "torch-compile": "torch_step.py", "keras": "keras_step.py"}
PEER_MODULES = {"torch": "torch", "torch-compile": "torch", "keras": "tensorflow"}
PEERS_FOLDER = PACKAGE_ROOT / "benchmarks" / "peers"


def _missing(peer: str, script: str, module: str) -> str | None:
    """Why `peer` cannot run here, in one line; None when it can."""
    if not (PEERS_FOLDER / script).exists():
        return f"{peer}: skipped, {PEERS_FOLDER} is not here (peers live in the repository checkout)"
    if importlib.util.find_spec(module) is None:
        return f"{peer}: skipped, {module} is not installed (pip install '.[peers]')"
    return None


def peer_job(peer: str, params: dict[str, Any], configs: dict[str, dict], backend: str) -> Job | str:
    """The peer's subprocess on jaxbngan's kind of device (`backend`), or a one-line reason it cannot run."""
    missing = _missing(peer, PEER_SCRIPTS[peer], PEER_MODULES[peer])
    if missing:
        return missing
    spec = {
        "peer": peer,
        "configs": configs,
        "size": params["size"],
        "seconds": params["seconds"],
        "reps": params["reps"],
        "compile": peer == "torch-compile",
        "device": backend,
    }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    return Job(f"peer {peer}", [sys.executable, str(PEERS_FOLDER / PEER_SCRIPTS[peer])], spec, env)


def dcgan_peer_job(params: dict[str, Any], backend: str) -> Job | str:
    """The PyTorch eager DCGAN step on every image shape of `plan.DCGAN_PEER_IMAGES`, or why it cannot run."""
    missing = _missing("torch-dcgan", "torch_dcgan.py", "torch")
    if missing:
        return missing
    spec = {
        "peer": "torch-dcgan",
        "images": {name: list(shape) for name, shape in DCGAN_PEER_IMAGES.items()},
        "batch": DCGAN_BATCH,
        "seconds": params["seconds"],
        "reps": params["reps"],
        "device": backend,
    }
    return Job("peer torch-dcgan", [sys.executable, str(PEERS_FOLDER / "torch_dcgan.py")], spec, dict(os.environ))
