"""The newer surface under bad input and faults: `jaxbngan.run`'s arguments, sweeps, export, half-made
run directories and interrupts end in one line (ConfigError from Python, exit 2 from the command
line), with nothing written before the checks pass."""

import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import in_process

import jaxbngan
from jaxbngan import Config, cli, plots, rundir, usage
from jaxbngan.config import ConfigError

TINY = ["--steps", "20", "--log-every", "10", "--seeds", "2", "--set", "data.size=64", "--devices", "1"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("surface") / "finished"
    assert in_process("run", "bn-split", *TINY, "--out", root)[0] == 0
    return root


@pytest.fixture(scope="module")
def places(finished, tmp_path_factory) -> dict[str, str]:
    """Paths the cases name; `{fresh}` must still not exist after the command."""
    base = tmp_path_factory.mktemp("places")
    damaged_grid = Path(shutil.copytree(finished, base / "damaged_grid"))
    spec = json.loads((damaged_grid / rundir.SPEC).read_text())
    (damaged_grid / rundir.SPEC).write_text(json.dumps({**spec, "grid": [["loss.shift_weight", [0.1, "x"]]]}))
    unfinished_sweep = Path(shutil.copytree(finished, base / "unfinished_sweep"))
    (unfinished_sweep / rundir.METRICS).unlink()
    (unfinished_sweep / rundir.SUMMARY).unlink()
    spec = {**spec, "grid": [["loss.shift_weight", [0.0]]], "members": spec["seeds"]}
    (unfinished_sweep / rundir.SPEC).write_text(json.dumps(spec))
    half = base / "half"
    half.mkdir()
    shutil.copy(finished / rundir.POPULATION, half / rundir.POPULATION)
    (half / f".{rundir.SPEC}.tmp4242").write_text("{")  # the config.json a kill left unrenamed
    for dtype, value in (("float32", 0.5), ("uint8", 7), ("int64", 300)):
        np.save(base / f"constant_{dtype}.npy", np.full((64, 8, 8), value, dtype))
    return {
        "fresh": str(base / "fresh"),
        "finished": str(finished),
        "damaged_grid": str(damaged_grid),
        "unfinished_sweep": str(unfinished_sweep),
        "half": str(half),
        **{f"constant_{d}": str(base / f"constant_{d}.npy") for d in ("float32", "uint8", "int64")},
    }


SWEEP = ["sweep", "fix", *TINY, "--out", "{fresh}"]
AXIS = ["--axis", "loss.shift_weight=0.1,0.2"]
WIDE = ",".join(str(i / 1000) for i in range(1000))


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["sweep", "--resume", "--out", "{damaged_grid}"], "config.json is damaged: its grid is not"),
        (["plot", "{damaged_grid}"], "config.json is damaged: its grid is not"),
        (["extract", "{damaged_grid}", "--point", "0"], "config.json is damaged: its grid is not"),
        (["run", "bn-split", *TINY, "--out", "{half}"], "killed while it was created"),
        (["run", "--resume", "--out", "{half}"], "start it again with --overwrite"),
        (["run", "dcgan-split", "--data", "ring8", "--out", "{fresh}"], "cannot model points (data set 'ring8')"),
        (["run", "no-bn", "--data", "digits", "--out", "{fresh}"], "cannot model images (data set 'digits')"),
        (
            ["run", "bn-split-shift", "--set", "loss.shift_direction=brightness_contrast", "--out", "{fresh}"],
            "loss.shift_direction='brightness_contrast' rewards images' contrast; points (data set 'moons')",
        ),
        ([*SWEEP, "--set", "loss.shift_weight=0.3", *AXIS], "--set loss.shift_weight=0.3 conflicts with --axis"),
        ([*SWEEP, "--lr", "0.01", "--axis", "optimizer.learning_rate=0.1,0.2"], "--lr 0.01 conflicts with --axis"),
        (
            [*SWEEP, "--seeds", "100", "--axis", f"loss.shift_weight={WIDE}", "--axis", f"loss.label_smoothing={WIDE}"],
            "need about",  # 100 million members: refused with the estimate, after the grid's size was said
        ),
        (["export", "{finished}", "--format", "csv", "--out", "{fresh}.parquet"], "does not end in .csv"),
        (["export", "{unfinished_sweep}", "--format", "csv"], "`jaxbngan sweep --resume --out"),
        (["compare", "{unfinished_sweep}", "{finished}"], "`jaxbngan sweep --resume --out"),
        (["run", "dcgan-split", "--data", "{constant_float32}", "--out", "{fresh}"], "every pixel is 0.5"),
        (["run", "dcgan-split", "--data", "{constant_uint8}", "--out", "{fresh}"], "every pixel is 7"),
        (["run", "dcgan-split", "--data", "{constant_int64}", "--out", "{fresh}"], "every pixel is 300"),
    ],
)
def test_bad_input_ends_in_one_line(places, args, fragment):
    code, out, err = in_process(*(arg.format(**places) for arg in args))
    assert code == usage.EXIT_USAGE, out + err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert not Path(places["fresh"]).exists()
    if "--axis" in args and "need about" == fragment:
        assert "1,000,000 points x 100 seeds = 100,000,000 members" in out  # said before planning


def test_a_run_killed_while_created_starts_again_with_overwrite(places, tmp_path):
    half = Path(shutil.copytree(places["half"], tmp_path / "half"))
    code, _, err = in_process("run", "bn-split", *TINY, "--out", half, "--overwrite")
    assert code == 0, err
    assert rundir.is_complete(half)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupt_while_drawing_says_what_is_saved(finished, tmp_path, monkeypatch, how):
    root = Path(shutil.copytree(finished, tmp_path / "run"))

    def interrupted(*args, **kwargs):
        if how == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    monkeypatch.setattr(plots, "draw_run", interrupted)
    code, _, err = in_process("run", "--resume", "--out", root)
    assert code == cli.EXIT_INTERRUPTED
    assert err.strip() == (
        f"interrupted while writing the summary and figures; the trained run is saved in {root}; "
        f"write them with: jaxbngan run --resume --out {root}"
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler lives only while a run does


API = {"out": "{fresh}", "progress": False}


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"seeds": 2.5}, "seeds must be an integer, got 2.5"),
        ({"seed": 1.5}, "seed must be an integer, got 1.5"),
        ({"seeds": "2"}, "seeds must be an integer, got '2'"),
        ({"seeds": None}, "seeds must be an integer, got None"),
        ({"seeds": 0}, "seeds must be positive, got 0"),
        ({"steps": "100"}, "steps must be an integer, got '100'"),
        ({"steps": None}, "steps must be an integer, got None"),
        ({"steps": 100.0}, "steps must be an integer, got 100.0"),
        ({"batch_size": "64"}, "batch_size must be an integer or None, got '64'"),
        ({"optimizer": {"learning_rate": "0.001"}}, "optimizer.learning_rate must be a finite number, got '0.001'"),
        ({"loss": 5}, "loss must be a LossConfig (a dict of its fields), got 5"),
        ({"data": [[0.0, 1.0]]}, "data must be a data set name, a file path, a numpy array, or a dict"),
        ({"data": 5}, "data must be a data set name, a file path, a numpy array, or a dict"),
        ({"data": {"size": "512"}}, "data.size must be an integer, got '512'"),
        ({"data": {"colour": 1}}, "data has no field 'colour'"),
        ({"axes": ["loss.shift_weight"]}, "axes must be a dict of {config path: values}"),
        ({"axes": {"loss.shift_weight": "0.1"}}, "axes['loss.shift_weight'] must be a number or a list of numbers"),
        ({"axes": {"loss.shift_weight": [0.1]}, "loss": {"shift_weight": 0.3}}, "both given and swept"),
        ({"devices": "1"}, "devices must be an integer, got '1'"),
        ({"group_size": 0}, "group_size must be positive, got 0"),
        ({"chunk_steps": 2.0}, "chunk_steps must be an integer, got 2.0"),
        ({"progress": "yes"}, "progress must be True or False, got 'yes'"),
        ({"out": 3}, "out must be a path (str or os.PathLike) or None, got 3"),
    ],
)
def test_the_python_api_checks_every_argument_first(places, arguments, message):
    given = {**API, **arguments}
    given["out"] = given["out"].format(**places) if isinstance(given["out"], str) else given["out"]
    with pytest.raises(ConfigError) as error:
        jaxbngan.run("bn-split", **given)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not Path(places["fresh"]).exists()


@pytest.mark.parametrize("first", [123, None, Config(steps="x")])
def test_what_to_run_is_checked_too(first):
    with pytest.raises(ConfigError, match="the first argument must be|steps must be an integer"):
        jaxbngan.run(first, seeds=1, progress=False)


def test_the_data_section_is_overridden_with_a_dict():
    results = jaxbngan.run("bn-split", 1, steps=10, log_every=10, data={"name": "moons", "size": 64}, progress=False)
    assert (results.config.data.name, results.config.data.size) == ("moons", 64)
    assert results.real.shape == (64, 2)
