"""Make silent broadcasting fail everywhere, and dtype drift wherever our own code runs alone; share caches."""

import os

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # on a GPU, the test workers share its memory

import chex
import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.devices()  # start the backend now, with the XLA_FLAGS the session was given: `cli.main` in a test tunes them


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


@pytest.fixture(autouse=True, scope="session")
def _shared_compile_cache(tmp_path_factory):
    """Commands run in subprocesses compile the same programs again and again: JAX's persistent cache,
    one per test session, lets the later ones load them."""
    directory = str(tmp_path_factory.mktemp("xla-cache"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAX_COMPILATION_CACHE_DIR", directory)
        patch.setenv("JAXBNGAN_COMPILE_CACHE", directory)  # never the user's cache, in process or not
        yield


@pytest.fixture(autouse=True)
def _xla_flags_as_found():
    """`cli.main` tunes XLA_FLAGS in os.environ for its process; a test that calls it in process must
    not hand those flags to the subprocesses of the tests after it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))
        yield
