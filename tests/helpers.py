"""Small configs, and the command line run in process, shared by the tests."""

import contextlib
import dataclasses
import io

from jaxbngan import Config, cli, get_preset


def in_process(*args) -> tuple[int, str, str]:
    """`cli.main` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(map(str, args)))
    return code, out.getvalue(), err.getvalue()


def tiny(preset: str = "bn-split", *, steps: int = 20, log_every: int = 10, size: int = 64, **fields) -> Config:
    """`preset` on a small population with few steps."""
    config = get_preset(preset).config
    data = dataclasses.replace(config.data, size=size)
    extra = {"reference_size": min(config.reference_size, size)} if "reference" in config.discriminator.norms else {}
    return dataclasses.replace(config, data=data, steps=steps, log_every=log_every, **extra, **fields)


def tiny_images(preset: str, **fields) -> Config:
    """Image `preset` with small conv nets, batches of 16 and 8-dimensional noise."""
    config = get_preset(preset).config
    g = dataclasses.replace(config.generator, channels=(8, 4))
    d = dataclasses.replace(config.discriminator, channels=(4, 8))
    data = dataclasses.replace(config.data, size=128)
    return dataclasses.replace(
        config, data=data, generator=g, discriminator=d, batch_size=16, noise_dim=8, steps=4, log_every=2, **fields
    )


def without_running_positions(history):
    """A Metrics record without the running averages' positions, for comparisons at a tolerance.

    Where the running averages sit divides by the gap between the fake and the real batch moments
    and counts features on either side, so two summation orders move it past any fixed tolerance;
    comparisons that hold bit for bit keep it.
    """
    return history._replace(running_position=None, running_between=None)
