"""The blog's own TensorFlow/Keras train step under tf.function; see harness.py for the protocol.

The blog's code with its minus signs restored, plus the three strategy choices the benchmarked
presets need (joint D batch, running statistics in G's step).
"""

from __future__ import annotations

import os
from typing import Any

import harness

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

tfkl = keras.layers


def mlp(net: dict[str, Any], out_features: int, name: str) -> keras.Sequential:
    """Dense -> [BatchNormalization] -> LeakyReLU per hidden layer, then Dense (Keras defaults otherwise)."""
    layers = []
    for width, norm in zip(net["hidden"], net["norms"], strict=True):
        layers.append(tfkl.Dense(width))
        if norm == "batch":
            layers.append(tfkl.BatchNormalization(momentum=net["momentum"], epsilon=net["epsilon"]))
        layers.append(tfkl.LeakyReLU(negative_slope=net["leaky_slope"]))
    layers.append(tfkl.Dense(out_features))
    return keras.Sequential(layers, name=name)


def use_device(backend: str) -> None:
    """Leave TensorFlow only the device kind of JAX's `backend`: it places every op on a visible GPU if any."""
    if backend == "cpu":
        tf.config.set_visible_devices([], "GPU")  # before TensorFlow starts its runtime
    elif not (backend == "gpu" and tf.config.list_physical_devices("GPU")):
        raise harness.Unsupported(f"jaxbngan runs on {backend}, where this TensorFlow ({tf.__version__}) cannot")


def make_step(config: dict[str, Any], batch: int, compiled: bool, device: None):
    """One seed's models, optimizers and data; returns `step() -> (G's loss, D's loss)`."""
    del compiled, device  # tf.function is the blog's own setting; `use_device` chose the device
    keras.utils.set_random_seed(0)
    noise_dim, strategy, loss = config["noise_dim"], config["strategy"], config["loss"]
    generator = mlp(config["generator"], harness.DATA_DIM, "generator")
    discriminator = mlp(config["discriminator"], 1, "discriminator")
    generator.build((None, noise_dim))
    discriminator.build((None, harness.DATA_DIM))
    opt = config["optimizer"]
    g_opt, d_opt = (
        keras.optimizers.Adam(opt["learning_rate"], beta_1=opt["b1"], beta_2=opt["b2"], epsilon=opt["eps"])
        for _ in range(2)
    )
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    real_batch = tf.random.normal([batch, harness.DATA_DIM])

    @tf.function
    def train_step(real_batch):
        n_batch = tf.shape(real_batch)[0]
        noise = tf.random.normal([n_batch, noise_dim])
        real_labels = tf.ones([n_batch, 1])
        fake_labels = tf.zeros([n_batch, 1])
        # train g
        with tf.GradientTape() as g_tape:
            fake_batch = generator(noise, training=True)
            if strategy["g_view"] == "joint":
                d_out_deception = discriminator(tf.concat([fake_batch, real_batch], axis=0), training=True)[:n_batch]
            else:
                d_out_deception = discriminator(fake_batch, training=strategy["g_view"] == "fake")
            d_loss_on_fakes = loss_fn(fake_labels, d_out_deception)
            if loss["g_loss"] == "minimax":
                deception_loss = -1 * d_loss_on_fakes
            else:
                deception_loss = loss_fn(real_labels, d_out_deception)
            deception_loss -= loss["shift_weight"] * tf.reduce_mean(fake_batch[:, 0])
        g_grads = g_tape.gradient(deception_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables, strict=True))
        # train d
        with tf.GradientTape() as d_tape:
            if strategy["d_batch"] == "split":
                d_out_fake = discriminator(fake_batch, training=True)
                d_out_real = discriminator(real_batch, training=True)
            else:
                d_out = discriminator(tf.concat([fake_batch, real_batch], axis=0), training=True)
                d_out_fake, d_out_real = d_out[:n_batch], d_out[n_batch:]
            d_loss = 0.5 * (loss_fn(real_labels, d_out_real) + loss_fn(fake_labels, d_out_fake))
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables, strict=True))
        return d_loss_on_fakes, d_loss

    return lambda: train_step(real_batch)


if __name__ == "__main__":
    harness.run(f"tensorflow {tf.__version__}, keras {keras.__version__}", use_device, make_step)
