"""What every command line shares: a parser whose mistakes are ConfigErrors, and the one line a user error ends as.

`jaxbngan` (`cli`), `jaxbngan bench` (`bench.cli`) and `jaxbngan reproduce` (`reproduce.command`)
import it; it imports only `config`, so none of them imports another to parse or to fail.
"""

from __future__ import annotations

import argparse
import sys
import typing

from jaxbngan.config import ConfigError, error_text

EXIT_USAGE = 2  # a user error: bad flags, a bad file, a run directory in use


class StrictParser(argparse.ArgumentParser):
    """argparse whose errors are ConfigErrors, so they end as one line like every other user error."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def fail(prog: str, message: str | Exception) -> int:
    """Print `prog: error: message` on stderr, one line; return EXIT_USAGE."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def os_error_text(error: OSError) -> str:
    """One line for a failed file operation, naming the final file rather than its temporary."""
    from jaxbngan.rundir import final_name  # JAX comes with it: only on the way out of a command that used it

    if error.filename is None:
        return error_text(error)
    return f"{final_name(error.filename)}: {error.strerror or type(error).__name__}"
