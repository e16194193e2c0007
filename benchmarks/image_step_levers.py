"""The image step's levers, each as a ratio to today's step in one run: `python benchmarks/image_step_levers.py`.

A lever replaces `jaxbngan.conv.conv` and/or `conv_transpose` (the functions the DCGAN layers call)
for the time of its measurement, or compiles with other XLA:CPU options, or runs 4 seeds in one program
(a loop as the driver's CPU layout, or a vmap); the same `--steps` train steps of one seed (the driver's scan unroll
and tuned XLA_FLAGS) are compiled per lever and timed in rounds, the levers in turn within a round, so
a busy machine slows all of them alike. Prints, per lever and data set: the median ratio of seed-steps/s
to today's, and whether the state after the steps is bit-identical to today's.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from jaxbngan import tuning  # noqa: E402

YNN_ALL = ("LIBRARY_FUSION_TYPE_DOT", "LIBRARY_FUSION_TYPE_REDUCE", "LIBRARY_FUSION_TYPE_ELTWISE")


def levers() -> dict[str, dict]:
    """Lever name -> replacements of `conv.conv` / `conv.conv_transpose`, or per-program XLA options
    ("options"), or several seeds per program ("seeds": (count, "map" as the driver's CPU layout, or "vmap"))."""
    import jax.numpy as jnp
    from jax import lax

    from jaxbngan import conv

    today_conv, today_transpose = conv.conv, conv.conv_transpose

    def native_conv(x, kernel, strides, padding="zeros"):
        if padding == "reflect":
            x = jnp.pad(x, ((0, 0), *conv.reflect_pads(kernel.shape[:2]), (0, 0)), mode="reflect")
            pads = "VALID"
        else:
            pads = "SAME"
        return lax.conv_general_dilated(x, kernel, strides, pads, dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def native_transpose(x, kernel, strides):
        return lax.conv_transpose(x, kernel, strides, "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def tap_sum_conv(x, kernel, strides, padding="zeros"):
        """Sum over taps of a strided slice times the tap's (C, F) kernel: no concatenation."""
        kernel_size = kernel.shape[:2]
        if padding == "zeros":
            x = jnp.pad(x, ((0, 0), *conv.same_pads(x.shape[1:3], kernel_size, strides), (0, 0)))
        else:
            x = jnp.pad(x, ((0, 0), *conv.reflect_pads(kernel_size), (0, 0)), mode="reflect")
        (kh, kw), (sh, sw) = kernel_size, strides
        out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
        y = None
        for i in range(kh):
            for j in range(kw):
                tap = x[:, i : i + (out_h - 1) * sh + 1 : sh, j : j + (out_w - 1) * sw + 1 : sw, :] @ kernel[i, j]
                y = tap if y is None else y + tap
        return y

    def space_to_depth_conv(x, kernel, strides, padding="zeros"):
        """A stride-2 4x4 convolution as a stride-1 2x2 one over the image's 2x2 blocks stacked on channels."""
        if tuple(strides) != (2, 2) or kernel.shape[:2] != (4, 4):
            return today_conv(x, kernel, strides, padding)
        if padding == "zeros":
            x = jnp.pad(x, ((0, 0), *conv.same_pads(x.shape[1:3], (4, 4), strides), (0, 0)))
        else:
            x = jnp.pad(x, ((0, 0), *conv.reflect_pads((4, 4)), (0, 0)), mode="reflect")
        n, h, w, c = x.shape
        blocks = x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4 * c)
        # kernel tap (2a + p, 2b + q) of channel c -> block tap (a, b), channel (p, q, c)
        k = kernel.reshape(2, 2, 2, 2, c, -1).transpose(0, 2, 1, 3, 4, 5).reshape(2, 2, 4 * c, -1)
        return conv.patches(blocks, (2, 2), (1, 1)) @ k.reshape(16 * c, -1)

    def one_product_transpose(x, kernel, strides):
        """A stride-2 4x4 transposed convolution as one product: each pixel's 3x3 window times a (9C, 4F) kernel
        holding every phase's taps (zeros where a phase does not reach), then the phases interleaved."""
        if tuple(strides) != (2, 2) or kernel.shape[:2] != (4, 4):
            return today_transpose(x, kernel, strides)
        n, h, w, c = x.shape
        f = kernel.shape[-1]
        big = jnp.zeros((3, 3, c, 2, 2, f), kernel.dtype)
        # output 2q + r reads input q + (r + i - 2) // 2 with tap i where (r + i) is even ('SAME' pads 2 low)
        for r in range(2):
            for i in range(4):
                if (r + i - 2) % 2:
                    continue
                for s in range(2):
                    for j in range(4):
                        if (s + j - 2) % 2:
                            continue
                        big = big.at[(r + i - 2) // 2 + 1, (s + j - 2) // 2 + 1, :, r, s].set(kernel[i, j])
        padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        y = conv.patches(padded, (3, 3), (1, 1)) @ big.reshape(9 * c, 4 * f)  # (n, h, w, 4f)
        return y.reshape(n, h, w, 2, 2, f).transpose(0, 1, 3, 2, 4, 5).reshape(n, 2 * h, 2 * w, f)

    return {
        "today": {},
        "space-to-depth-conv": {"conv": space_to_depth_conv},
        "ynn-all-fusions": {"options": {"xla_cpu_experimental_ynn_fusion_type": ",".join(YNN_ALL)}},
        "ynn-off-eigen-dots": {"options": {"xla_cpu_experimental_ynn_fusion_type": ""}},
        "concurrency-scheduler": {"options": {"xla_cpu_enable_concurrency_optimized_scheduler": True}},
        "map-4-seeds": {"seeds": (4, "map")},
        "vmap-4-seeds": {"seeds": (4, "vmap")},
        "one-product-transpose": {"conv_transpose": one_product_transpose},
        "native-conv": {"conv": native_conv},
        "native-both": {"conv": native_conv, "conv_transpose": native_transpose},
        "tap-sum-conv": {"conv": tap_sum_conv},
    }


def _leaves(state) -> list:
    """The state's arrays, its PRNG key as raw bits."""
    import jax
    import numpy as np

    return [
        np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x)
        for x in jax.tree.leaves(state)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits,shapes:side=32", help="comma-separated data sets")
    parser.add_argument("--levers", help="comma-separated levers (default: all)")
    parser.add_argument("--steps", type=int, default=10, help="train steps per timed call")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds; the median ratio is reported")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    tuning.use_tuned_xla_flags()
    import jax
    import numpy as np

    from jaxbngan import conv
    from jaxbngan.bench.dcgan import image_config
    from jaxbngan.bench.timing import advance
    from jaxbngan.train import make_run, seed_keys

    chosen = levers()
    if args.levers:
        chosen = {k: v for k, v in chosen.items() if k in ("today", *args.levers.split(","))}
    figures = {"command": "python benchmarks/image_step_levers.py " + " ".join(argv or sys.argv[1:]), "data": {}}
    for data in args.data.split(","):
        run = make_run(image_config("dcgan-split", data))
        several_states = jax.vmap(run.strategy.init)(seed_keys(0, 4))
        state = jax.tree.map(lambda x: x[0], several_states)  # seed 0 of the 4-seed levers
        programs, finals, inputs, seeds = {}, {}, {}, {}
        for name, replaced in chosen.items():
            replaced = dict(replaced)
            options = replaced.pop("options", None)
            count, how = replaced.pop("seeds", (1, None))
            saved = {k: getattr(conv, k) for k in replaced}
            for k, fn in replaced.items():
                setattr(conv, k, fn)
            try:
                start = time.perf_counter()
                step_scan = advance(run, args.steps, tuning.scan_unroll("cpu"))
                if how is None:
                    inputs[name] = state
                    lowered = jax.jit(step_scan).lower(state)
                else:
                    inputs[name] = jax.tree.map(lambda x, c=count: x[:c], several_states)
                    several = jax.vmap(step_scan) if how == "vmap" else functools.partial(jax.lax.map, step_scan)
                    lowered = jax.jit(several).lower(inputs[name])
                seeds[name] = count
                programs[name] = lowered.compile(compiler_options=options)
                compile_s = time.perf_counter() - start
            finally:
                for k, fn in saved.items():
                    setattr(conv, k, fn)
            finals[name] = jax.block_until_ready(programs[name](inputs[name]))
            print(f"{data} {name}: compiled in {compile_s:.1f} s", flush=True)
        times: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(args.rounds):
            for name, program in programs.items():
                start = time.perf_counter()
                jax.block_until_ready(program(inputs[name]))
                times[name].append(time.perf_counter() - start)
        base = _leaves(finals["today"])
        rows = {}
        for name in programs:
            ratios = [seeds[name] * t0 / t for t0, t in zip(times["today"], times[name], strict=True)]
            final = finals[name] if seeds[name] == 1 else jax.tree.map(lambda x: x[0], finals[name])  # seed 0
            same = all(np.array_equal(a, b) for a, b in zip(base, _leaves(final), strict=True))
            rows[name] = {
                "ratio_to_today": statistics.median(ratios),
                "seed_steps_per_s": seeds[name] * args.steps / statistics.median(times[name]),
                "bit_identical": same,
            }
            print(
                f"{data} {name}: x{rows[name]['ratio_to_today']:.2f} ({rows[name]['seed_steps_per_s']:.1f} "
                f"seed-steps/s), bit-identical {same}",
                flush=True,
            )
        figures["data"][data] = rows
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
