"""How a training loop reports progress: the `Progress` protocol, and `ProgressLine`, the command line's bar."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO


class Progress(Protocol):
    """What `driver.train` reports to, between chunks."""

    def begin(self, done: int) -> None:
        """The run starts (or continues) with `done` seed-steps trained."""

    def update(self, done: int, note: str) -> None:
        """`done` seed-steps are trained; `note` says where in the run that is."""


class ProgressLine:
    """A progress line on stderr: redrawn in place on a terminal, else printed every `interval` seconds.

    The rate, and the ETA from it, appear once the first chunk is timed: from the start of the
    run, so compilation included, until a second chunk gives the rate of training alone. `close`
    ends with the total time and the overall rate.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.total = total  # seed-steps
        self.stream = stream or sys.stderr
        self.interval = interval
        self.clock = clock
        self.live = self.stream.isatty()
        self.origin = (clock(), 0)  # (time, done) where this invocation started (`begin`)
        self.first: tuple[float, int] | None = None  # (time, done) after the first chunk, which compiles
        self.done = 0
        self.printed = -math.inf
        self.pending = ""  # the latest line, until it is printed

    def begin(self, done: int) -> None:
        """Start the clock at `done` seed-steps: 0 for a new run, where it stopped for a resumed one."""
        self.origin = (self.clock(), done)
        self.done = done

    def update(self, done: int, note: str) -> None:
        """Report `done` of `total` seed-steps; `note` says where in the run that is."""
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
            rate, speed = self._rate(self.origin, now, done), "first chunk, compilation included"
        else:
            rate, speed = self._rate(self.first, now, done), None
        self.done = done
        self.pending = self._line(done, note, rate, speed)
        if self.live:
            self.stream.write("\r" + self.pending.ljust(100))
        elif now - self.printed >= self.interval or done >= self.total:
            self._print_pending()
            self.printed = now
        self.stream.flush()

    def close(self) -> None:
        """End the live line, or print the latest state if it was not printed yet; then the total time and rate."""
        if self.live:
            self.stream.write("\n")
        self._print_pending()
        if self.first is not None:
            now = self.clock()
            trained = self.done - self.origin[1]
            rate = self._rate(self.origin, now, self.done)
            self.stream.write(
                f"trained {trained:,} seed-steps in {_clock(now - self.origin[0])}: "
                f"{rate:,.0f} seed-steps/s, compilation included\n"
            )
        self.stream.flush()

    @staticmethod
    def _rate(since: tuple[float, int], now: float, done: int) -> float:
        return (done - since[1]) / max(now - since[0], 1e-9)

    def _print_pending(self) -> None:
        if self.pending and not self.live:
            self.stream.write(self.pending + "\n")
        self.pending = ""

    def _line(self, done: int, note: str, rate: float, speed: str | None) -> str:
        share = done / self.total
        bar = "#" * round(20 * share)
        eta = _clock((self.total - done) / rate) if rate > 0 else "?"
        measured = f" ({speed})" if speed else ""
        return f"[{bar:<20}] {100 * share:5.1f}% | {note} | {rate:,.0f} seed-steps/s{measured} | ETA {eta}"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
