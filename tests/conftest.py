"""Make silent broadcasting fail everywhere, and dtype drift wherever our own code runs alone."""

import chex
import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def strict_dtypes():
    """Strict dtype promotion; not global because optax's Adam computes `float ** int32` itself."""
    with jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture(autouse=True)
def _fresh_trace_counters():
    chex.clear_trace_counter()
    yield


@pytest.fixture(autouse=True, scope="session")
def _classifier_cache(tmp_path_factory):
    """Image runs train their classifier once per test session, into a directory of its own."""
    mp = pytest.MonkeyPatch()
    mp.setenv("JAXBNGAN_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
