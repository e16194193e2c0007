"""Every code block of README.md and of the docs/ pages runs as written, or at least parses.

The rule, block by block:
- ```python blocks run, each in a fresh `python` subprocess from an empty directory (so README
  examples must stay small: seconds each) and must exit with 0.
- ```bash blocks are split into commands (`\\` continues a line, `&&` and `;` separate commands,
  `#` starts a comment, leading `NAME=value` settings are dropped). Then:
  - `jaxbngan` commands that are cheap (`list`, `explain`, `--version`, `--help`) run and must exit with 0;
    every other `jaxbngan` command line must parse with the command's own argument parser (`run`,
    `plot`, `compare`, `export`, `reproduce`, `bench`) without running it.
  - `python SCRIPT ARGS`: the script must exist in the repository, and for the scripts that front
    `jaxbngan reproduce` (experiments/*.py), the image study (experiments/image*.py) and `jaxbngan
    bench` (benchmarks/throughput.py) ARGS must parse with that parser.
  - `pip install ".[EXTRA,...]"`: every extra must exist in pyproject.toml.
  - setup commands (`python3 -m venv`, `. .venv/bin/activate`, `pytest`) are not run.
  - anything else fails this test, so a new kind of command gets a rule here first.
"""

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from jaxbngan import cli
from jaxbngan.bench.cli import _parse as parse_bench_args
from jaxbngan.reproduce.command import parse_args as parse_reproduce_args
from jaxbngan.reproduce.image_command import parse_image_args

REPO = Path(__file__).resolve().parents[1]
CHEAP = {"list", "explain", "--version", "--help"}
SETUP = {("python3", "-m", "venv"), (".",), ("pytest",)}


PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks(language: str) -> list[tuple[str, str]]:
    """('FILE line N', text) of each fenced block of `language` in README.md and the docs/ pages."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in re.finditer(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M):
            where = f"{page.relative_to(REPO)} line {text[: match.start()].count(chr(10)) + 1}"
            found.append((where, match.group(1)))
    return found


def commands(block: str) -> list[list[str]]:
    """The commands of a bash block as argument lists, settings and comments dropped."""
    found = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        current: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", ";"):
                while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):
                    current.pop(0)
                if current:
                    found.append(current)
                current = []
            else:
                current.append(word)
    return found


PYTHON_BLOCKS = blocks("python")
BASH_COMMANDS = [(line, command) for line, block in blocks("bash") for command in commands(block)]


def test_the_readme_has_blocks_of_both_kinds_and_links_every_docs_page():
    assert len(PYTHON_BLOCKS) >= 3 and len(BASH_COMMANDS) >= 10
    readme = (REPO / "README.md").read_text()
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


@pytest.mark.parametrize(("line", "code"), PYTHON_BLOCKS, ids=[line for line, _ in PYTHON_BLOCKS])
def test_python_block_runs(tmp_path, line, code):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"the block at {line} failed:\n{done.stderr[-3000:]}"


@pytest.mark.parametrize(
    ("line", "command"), BASH_COMMANDS, ids=[f"{line}: {shlex.join(c)[:60]}" for line, c in BASH_COMMANDS]
)
def test_bash_command_runs_or_parses(line, command):
    program, args = command[0], command[1:]
    if any(tuple(command[: len(setup)]) == setup for setup in SETUP):
        return
    if program == "jaxbngan":
        check_jaxbngan(args)
    elif program in ("python", "python3"):
        check_script(args)
    elif command[:2] == ["pip", "install"]:
        check_extras(args[1:])
    else:
        pytest.fail(f"{line}: no rule for {shlex.join(command)!r}; add one to {__name__}")


def check_jaxbngan(args: list[str]) -> None:
    if CHEAP & set(args):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        done = subprocess.run(
            [sys.executable, "-m", "jaxbngan", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()
    elif args[0] == "reproduce":
        parse_reproduce_args(args[1:], "jaxbngan reproduce", "runs/reproduce", "experiments")
    elif args[0] == "bench":
        parse_bench_args(args[1:])
    else:
        parsed = cli._parser().parse_args(args)  # a ConfigError (the test fails) if it does not parse
        assert callable(parsed.handler)


def check_script(args: list[str]) -> None:
    script, script_args = REPO / args[0], args[1:]
    assert script.is_file(), f"{args[0]} does not exist"
    if script.parent.name == "experiments" and script.name.startswith("image"):  # the image study's scripts
        parse_image_args(script_args, f"python {args[0]}", "runs/images", str(script.parent))
    elif script.parent.name == "experiments":
        parse_reproduce_args(script_args, f"python {args[0]}", "runs/reproduce", str(script.parent))
    elif script.name == "throughput.py":
        parse_bench_args(script_args)


def check_extras(targets: list[str]) -> None:
    known = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    for target in [t for t in targets if t != "-e"]:  # -e: an editable install of the same targets
        match = re.fullmatch(r"\.\[(.*)\]", target)
        if match:
            assert set(match.group(1).split(",")) <= known, f"{target}: pyproject.toml has extras {sorted(known)}"
        else:
            assert target == ".", f"pip install {target}: the README installs only this project and its extras"


# The distribution that provides each module a test imports with pytest.importorskip.
DISTRIBUTIONS = {"sklearn": "scikit-learn", "pandas": "pandas", "pyarrow": "pyarrow", "tensorboard": "tensorboard"}


def test_the_dev_extra_installs_what_the_default_suite_skips_without():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    skipped = set()
    for test in (REPO / "tests").glob("test_*.py"):
        skipped |= {name.split(".")[0] for name in re.findall(r"importorskip\(\s*\"([\w.]+)\"", test.read_text())}
    skipped -= {"torch"}  # the peers' tests: `pip install ".[peers]"`, as their skip reason says
    assert skipped <= set(DISTRIBUTIONS), f"name the distribution of {sorted(skipped - set(DISTRIBUTIONS))}"
    assert {DISTRIBUTIONS[name] for name in skipped} <= set(extras["dev"])
