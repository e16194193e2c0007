"""The git state recorded in config.json: the commit and dirtiness of a checkout, None anywhere else, never an error."""

import shutil
import subprocess

import pytest

from jaxbngan import provenance

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd, *args) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    return subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path):
    """A repository whose `pkg/` holds a tracked __init__.py, as a jaxbngan checkout does."""
    package = tmp_path / "repo" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("x = 1\n")
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", "-A")
    git(tmp_path / "repo", "commit", "-q", "-m", "first")
    return package


@needs_git
def test_a_clean_checkout_gives_its_commit(checkout):
    head = git(checkout, "rev-parse", "HEAD").strip()
    assert provenance.git_state(checkout) == {"commit": head, "dirty": False}


@needs_git
def test_changed_tracked_files_make_it_dirty_untracked_ones_do_not(checkout):
    (checkout / "runs.txt").write_text("an untracked run directory\n")
    assert provenance.git_state(checkout)["dirty"] is False
    (checkout / "__init__.py").write_text("x = 2\n")
    assert provenance.git_state(checkout)["dirty"] is True


@needs_git
def test_an_untracked_copy_inside_another_repository_is_not_that_repository(checkout):
    copy = checkout.parent / "venv" / "site-packages" / "pkg"
    shutil.copytree(checkout, copy)
    assert provenance.git_state(copy) is None


def test_outside_a_checkout_or_without_git_it_is_none(tmp_path, monkeypatch):
    assert provenance.git_state(tmp_path) is None  # no repository (tmp_path lies outside any)
    assert provenance.git_state(tmp_path / "missing") is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git to run
    assert provenance.git_state(provenance.PACKAGE_DIR) is None


def test_versions_name_the_packages():
    assert set(provenance.versions()) == {"jaxbngan", "jax", "python"}
