"""`jaxbngan.conv` computes the convolutions of lax and flax: patches times a dense kernel is still a convolution."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbngan.conv import Conv, ConvTranspose, conv, conv_transpose

# Each output is a sum of k*k*C <= 16 * 8 = 128 products of values of order 1: float32 rounding of
# either summation order is below 128 * 2**-24 * (sum of |products|, < 128) ~ 1e-3 in the worst case
# and ~1e-6 typically; 1e-5 relative plus 1e-5 absolute is generous for the typical case.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
NHWC = ("NHWC", "HWIO", "NHWC")


def draw(seed, shape):
    return jax.random.normal(jax.random.key(seed), shape)


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [(8, 8), (7, 6)])
def test_conv_with_zeros_equals_lax_same_convolution(k, stride, size):
    x, kernel = draw(0, (3, *size, 5)), draw(1, (k, k, 5, 8))
    expected = jax.lax.conv_general_dilated(x, kernel, (stride, stride), "SAME", dimension_numbers=NHWC)
    np.testing.assert_allclose(conv(x, kernel, (stride, stride), "zeros"), expected, **TOLERANCE)


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_with_reflection_equals_flax_reflect_conv(k, stride):
    x, kernel = draw(2, (3, 8, 8, 5)), draw(3, (k, k, 5, 8))
    flax_conv = nn.Conv(8, (k, k), (stride, stride), "REFLECT", use_bias=False)
    expected = flax_conv.apply({"params": {"kernel": kernel}}, x)
    np.testing.assert_allclose(conv(x, kernel, (stride, stride), "reflect"), expected, **TOLERANCE)


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_transpose_equals_lax_and_flax(k, stride):
    x, kernel = draw(4, (3, 4, 5, 6)), draw(5, (k, k, 6, 8))
    ours = conv_transpose(x, kernel, (stride, stride))
    assert ours.shape == (3, 4 * stride, 5 * stride, 8)
    np.testing.assert_allclose(ours, jax.lax.conv_transpose(x, kernel, (stride, stride), "SAME"), **TOLERANCE)
    flax_layer = nn.ConvTranspose(8, (k, k), (stride, stride), "SAME", use_bias=False)
    np.testing.assert_allclose(ours, flax_layer.apply({"params": {"kernel": kernel}}, x), **TOLERANCE)


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (Conv(8, (4, 4), (2, 2), "reflect"), nn.Conv(8, (4, 4), (2, 2), "REFLECT")),
        (ConvTranspose(8, (4, 4), (2, 2)), nn.ConvTranspose(8, (4, 4), (2, 2), "SAME")),
    ],
    ids=["conv", "conv_transpose"],
)
def test_layers_have_flax_parameters_and_gradients(ours, theirs):
    x = draw(6, (2, 4, 4, 3))
    params = ours.init(jax.random.key(7), x)
    reference = theirs.init(jax.random.key(7), x)
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, reference)
    params = jax.tree.map(lambda p: p + 0.1, params)  # a nonzero bias
    np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), **TOLERANCE)
    grads = [jax.grad(lambda p, net=net: jnp.sum(jnp.sin(net.apply(p, x))))(params) for net in (ours, theirs)]
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, **TOLERANCE), *grads)
