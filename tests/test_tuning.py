"""The tuned XLA flags are added before JAX starts, without overriding what the user set."""

import os

from jaxbngan.tuning import CPU_YNN_FUSION_OFF, use_tuned_xla_flags


def test_tuned_flags_are_added_once():
    environ = {}
    use_tuned_xla_flags(environ)
    use_tuned_xla_flags(environ)
    flags = environ["XLA_FLAGS"].split()
    assert flags == [f"--xla_force_host_platform_device_count={os.cpu_count()}", CPU_YNN_FUSION_OFF]


def test_a_flag_the_user_set_keeps_its_value():
    environ = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_dump_to=/tmp/x"}
    use_tuned_xla_flags(environ)
    flags = environ["XLA_FLAGS"].split()
    assert "--xla_force_host_platform_device_count=8" in flags and "--xla_dump_to=/tmp/x" in flags
    assert sum(flag.startswith("--xla_force_host_platform_device_count") for flag in flags) == 1
    assert CPU_YNN_FUSION_OFF in flags
