"""JAX's persistent compilation cache: where it lives, and that a run loading its programs gives the same results."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxbngan import compile_cache

REPO = Path(__file__).resolve().parents[1]
TINY = ["bn-split", "--steps", "20", "--set", "log_every=10", "--seeds", "2", "--set", "data.size=64"]


@pytest.fixture
def no_settings(monkeypatch):
    """No cache setting from the environment or JAX's config: the defaults decide."""
    for name in (compile_cache.ENV, compile_cache.ROOT_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    with _JaxDir(None):
        yield monkeypatch


class _JaxDir:
    """JAX's own cache directory setting, restored afterwards."""

    def __init__(self, value):
        self.value, self.before = value, jax.config.jax_compilation_cache_dir

    def __enter__(self):
        jax.config.update("jax_compilation_cache_dir", self.value)

    def __exit__(self, *exc):
        jax.config.update("jax_compilation_cache_dir", self.before)


def test_cache_dir_order(no_settings, tmp_path):
    """The flag, then $JAXBNGAN_COMPILE_CACHE, then JAX's own setting, then the XDG cache home, then ~/.cache."""
    monkeypatch = no_settings
    assert compile_cache.cache_dir() == Path.home() / ".cache" / "jaxbngan" / "xla"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.cache_dir() == tmp_path / "xdg" / "jaxbngan" / "xla"
    monkeypatch.setenv(compile_cache.ROOT_ENV, str(tmp_path / "root"))
    assert compile_cache.cache_dir() == tmp_path / "root" / "xla"
    with _JaxDir(str(tmp_path / "jax")):
        assert compile_cache.cache_dir() == tmp_path / "jax"
        monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "env"))
        assert compile_cache.cache_dir() == tmp_path / "env"
        assert compile_cache.cache_dir(tmp_path / "flag") == tmp_path / "flag"
        assert compile_cache.cache_dir("off") is None
        monkeypatch.setenv(compile_cache.ENV, "off")
        assert compile_cache.cache_dir() is None


def _run(out: Path, cache: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO), XLA_FLAGS="--xla_force_host_platform_device_count=1")
    command = [sys.executable, "-m", "jaxbngan", "run", *TINY, "--out", str(out), "--compile-cache", cache]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("XLA programs:"))


def test_cached_programs_give_identical_results(tmp_path):
    """A run without the cache, one that fills it and one that loads every program from it: the same numbers."""
    cache = tmp_path / "xla"
    lines = {name: _run(tmp_path / name, setting) for name, setting in [("off", "off"), ("cold", str(cache))]}
    lines["warm"] = _run(tmp_path / "warm", str(cache))
    assert "compilation cache off" in lines["off"] and " 0 loaded" in lines["off"]
    assert " 0 loaded" in lines["cold"] and any(cache.iterdir())
    assert lines["warm"].startswith("XLA programs: 0 compiled,"), lines["warm"]
    for name in ("metrics.npz", "samples.npz"):
        with np.load(tmp_path / "off" / name) as off:
            for other in ("cold", "warm"):
                with np.load(tmp_path / other / name) as cached:
                    assert sorted(off.files) == sorted(cached.files)
                    for key in off.files:
                        np.testing.assert_array_equal(off[key], cached[key], err_msg=f"{other} {name} {key}")
