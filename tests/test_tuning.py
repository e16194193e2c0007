"""The tuned XLA flags are added before JAX starts, without overriding what the user set."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan import tuning
from jaxbngan.tuning import (
    CPU_YNN_FUSION_OFF,
    cpu_cores,
    map_seeds,
    scan_unroll,
    use_tuned_xla_flags,
)


def test_tuned_flags_are_added_once():
    environ = {}
    use_tuned_xla_flags(environ)
    use_tuned_xla_flags(environ)
    flags = environ["XLA_FLAGS"].split()
    assert flags == [f"--xla_force_host_platform_device_count={cpu_cores()}", CPU_YNN_FUSION_OFF]


def test_a_flag_the_user_set_keeps_its_value():
    environ = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_dump_to=/tmp/x"}
    use_tuned_xla_flags(environ)
    flags = environ["XLA_FLAGS"].split()
    assert "--xla_force_host_platform_device_count=8" in flags and "--xla_dump_to=/tmp/x" in flags
    assert sum(flag.startswith("--xla_force_host_platform_device_count") for flag in flags) == 1
    assert CPU_YNN_FUSION_OFF in flags


def test_the_scan_unroll_depends_on_the_backend_alone(monkeypatch):
    # Never on the cores or the seeds at once: the unroll changes rounding, so it must not vary with the layout.
    for cores in (1, 2, 64):
        monkeypatch.setattr(tuning, "cpu_cores", lambda cores=cores: cores)
        assert scan_unroll("cpu") == 2
    assert scan_unroll("gpu") == 1


@pytest.mark.parametrize("width", [1, 2, 3])
def test_map_seeds_equals_a_vmap_at_every_width(width):
    xs = {"a": jnp.arange(12.0).reshape(6, 2), "b": jnp.arange(6.0)}

    def fn(x):
        return jnp.sum(x["a"] ** 2) + x["b"], x["a"] * 2

    got = map_seeds(fn, xs, width)
    expected = jax.vmap(fn)(xs)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e)
