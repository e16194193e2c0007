"""JAX's persistent compilation cache, on by default: a second run of the same job loads its XLA programs
from disk instead of compiling them again.

Where: `--compile-cache DIR` (the command line), else `$JAXBNGAN_COMPILE_CACHE`, else a directory JAX was
already given (`$JAX_COMPILATION_CACHE_DIR`), else `jaxbngan`'s cache root (`$JAXBNGAN_CACHE`, else
`$XDG_CACHE_HOME/jaxbngan`, else `~/.cache/jaxbngan`) / `xla`. The value `off` turns the cache off.
Every program is cached, however short its compilation: a short job's start-up is many small programs.
A program loaded from the cache is the one XLA compiled, so results are bit-identical with and without it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NamedTuple

ENV = "JAXBNGAN_COMPILE_CACHE"
ROOT_ENV = "JAXBNGAN_CACHE"  # every cache of jaxbngan: compiled programs, classifiers
OFF = "off"
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"  # compiled or loaded, per program
_HIT_EVENT = "/jax/compilation_cache/cache_hits"


def cache_root() -> Path:
    """jaxbngan's cache directory: `$JAXBNGAN_CACHE`, else `$XDG_CACHE_HOME/jaxbngan`, else `~/.cache/jaxbngan`."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jaxbngan"


def cache_dir(setting: str | os.PathLike | None = None) -> Path | None:
    """The compilation cache directory for `setting` (a directory or `off`; None: see the module docstring)."""
    import jax

    chosen = setting if setting is not None else os.environ.get(ENV) or jax.config.jax_compilation_cache_dir
    if chosen is None:
        return cache_root() / "xla"
    return None if str(chosen) == OFF else Path(chosen)


def enable(setting: str | os.PathLike | None = None) -> Path | None:
    """Point JAX's persistent cache at `cache_dir(setting)`, or turn it off; the directory, None when off."""
    import jax

    directory = cache_dir(setting)
    if directory is None:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return directory


class Compilations(NamedTuple):
    """XLA programs made while a `CompileLog` listened: how many, how many came from the cache, seconds in all."""

    programs: int
    loaded: int
    seconds: float

    def describe(self, directory: Path | None) -> str:
        """One line: what was compiled, what was loaded, and from where."""
        where = f"compilation cache {directory}" if directory is not None else "compilation cache off"
        compiled = self.programs - self.loaded
        made = f"{compiled} compiled, {self.loaded} loaded from the cache"
        return f"XLA programs: {made} in {self.seconds:.1f} s ({where})"


class CompileLog:
    """Counts the XLA programs compiled or loaded from the cache while used as a context manager."""

    def __init__(self) -> None:
        self.programs, self.loaded, self.seconds = 0, 0, 0.0

    def _duration(self, event: str, seconds: float, **_: object) -> None:
        if event == _COMPILE_EVENT:
            self.programs += 1
            self.seconds += seconds

    def _event(self, event: str, **_: object) -> None:
        self.loaded += event == _HIT_EVENT

    def __enter__(self) -> CompileLog:
        import jax

        jax.monitoring.register_event_duration_secs_listener(self._duration)
        jax.monitoring.register_event_listener(self._event)
        return self

    def __exit__(self, *exc: object) -> None:
        import jax

        jax.monitoring.unregister_event_duration_listener(self._duration)
        jax.monitoring.unregister_event_listener(self._event)

    def counts(self) -> Compilations:
        """What was compiled and loaded so far."""
        return Compilations(self.programs, self.loaded, self.seconds)


def add_argument(parser: argparse.ArgumentParser) -> None:
    """The `--compile-cache DIR|off` flag of every command that trains."""
    parser.add_argument(
        "--compile-cache",
        metavar="DIR|off",
        help=f"JAX's compilation cache directory, or off (default: ${ENV}, else {cache_root() / 'xla'})",
    )
