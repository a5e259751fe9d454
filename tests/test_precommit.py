"""The pre-commit hooks: their manifest, their entries run as pre-commit would, and (online)
the real `pre-commit try-repo` against this repository's committed HEAD.

`try-repo` pip-installs this repository into a fresh hook environment, which needs PyPI for
the dependencies: those tests are marked `online`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import platformdirs
import pytest
import yaml

from scanner.sources.lockfiles import format_by_name

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
OSV_EXPORT = SHARED_DATA / "advisories" / "osv-pypi.zip"
H = "c" * 64
CLEAN = f"click==8.1.7 --hash=sha256:{H}\n"
LOOSE = f"click==8.1.7 --hash=sha256:{H}\nrich>=13\n"  # WS-LOCK-001 (medium)

LOCK_PATHS = [
    "requirements.txt",
    "requirements-dev.txt",
    "sub/requirements_gpu.txt",
    "requirements/base.txt",
    "constraints.txt",
    "poetry.lock",
    "a/b/uv.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pylock.cuda12.toml",
    "pdm.lock",
    "conda-lock.yml",
    "env/linux.conda-lock.yaml",
]
NOT_LOCK_PATHS = [
    "README.md",
    "setup.py",
    "requirements.in",
    "docs/requirements.md",
    "uv.lock.bak",
    "mypoetry.lock",
    "pyproject.toml",
    "notrequirements/x.py",
]


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return {h["id"]: h for h in data}


def test_manifest() -> None:
    found = hooks()
    assert set(found) == {"wormsign", "wormsign-project"}
    for hook in found.values():
        assert hook["language"] == "python"
        assert shlex.split(hook["entry"])[:2] == ["wormsign", "scan"]
        assert "--offline" in shlex.split(hook["entry"])
    assert found["wormsign"]["pass_filenames"] is True
    assert found["wormsign-project"]["pass_filenames"] is False


def test_files_pattern_selects_lock_files() -> None:
    pattern = re.compile(hooks()["wormsign"]["files"])
    for path in LOCK_PATHS:
        assert pattern.search(path), path
    for path in NOT_LOCK_PATHS:
        assert not pattern.search(path), path
    # Every name discovery recognises as a lock (bar unpinned *.in inputs) triggers the hook.
    for path in LOCK_PATHS:
        if format_by_name(Path(path)) is not None:
            assert pattern.search(path)


def run_entry(hook_id: str, cwd: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it, with `wormsign` meaning this checkout and the
    one-record OSV database (conftest's tiny_osv: `evilpkg==1.0` is malicious)."""
    hook = hooks()[hook_id]
    argv = [
        sys.executable,
        "-m",
        "scanner",
        *shlex.split(hook["entry"])[1:],
        "--db",
        str(db),
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_lock_hook_entry(tmp_path: Path, tiny_osv: Path) -> None:
    (tmp_path / "requirements.txt").write_text(CLEAN)
    (tmp_path / "requirements-dev.txt").write_text(LOOSE)
    (tmp_path / "requirements-evil.txt").write_text(f"evilpkg==1.0 --hash=sha256:{H}\n")
    assert run_entry("wormsign", tmp_path, tiny_osv, "requirements.txt").returncode == 0
    out = run_entry(
        "wormsign",
        tmp_path,
        tiny_osv,
        "--fail-on",
        "medium",
        "requirements.txt",
        "requirements-dev.txt",
    )
    assert out.returncode == 1 and "WS-LOCK-001" in out.stdout
    out = run_entry("wormsign", tmp_path, tiny_osv, "requirements-evil.txt")
    assert out.returncode == 1 and "WS-ADV-MAL" in out.stdout


def test_project_hook_entry(tmp_path: Path, tiny_osv: Path) -> None:
    (tmp_path / "requirements.txt").write_text(CLEAN)
    assert run_entry("wormsign-project", tmp_path, tiny_osv, "--fail-on", "medium").returncode == 0
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.txt").write_text(LOOSE)
    out = run_entry("wormsign-project", tmp_path, tiny_osv, "--fail-on", "medium")
    assert out.returncode == 1 and "WS-LOCK-001" in out.stdout


# --- for real: pre-commit from PyPI against the committed HEAD -------------------------------


@pytest.fixture(scope="module")
def head() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("this checkout is not a git repository: try-repo needs one")


@pytest.fixture(scope="module")
def precommit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One pre-commit home for the module (the hook env installs once); a private cache
    holding the default advisory database, built from two real OSV records with
    `wormsign db update` as a user would before committing."""
    if not OSV_EXPORT.is_file():
        pytest.skip(f"OSV export not found at {OSV_EXPORT}")
    base = tmp_path_factory.mktemp("precommit")
    subset = base / "osv-subset.zip"
    with zipfile.ZipFile(OSV_EXPORT) as src, zipfile.ZipFile(subset, "w") as dst:
        for name in ("PYSEC-2024-154.json", "MAL-2023-1354.json"):
            dst.writestr(name, src.read(name))
    subprocess.run(
        [sys.executable, "-m", "scanner", "db", "update", "--source", str(subset)],
        env=dict(os.environ, XDG_CACHE_HOME=str(base / "cache"), PYTHONPATH=str(REPO)),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return dict(
        os.environ,
        PRE_COMMIT_HOME=str(base / "pre-commit-home"),
        XDG_CACHE_HOME=str(base / "cache"),  # wormsign's advisory db and hash cache
        PIP_CACHE_DIR=platformdirs.user_cache_dir("pip"),  # keep pip's own downloads cached
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        NO_COLOR="1",
    )


def git_project(root: Path, files: dict[str, str], env: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=root, check=True, env=env)
    return root


def precommit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def try_repo(
    cwd: Path, env: dict[str, str], rev: str, hook: str, *files: str
) -> subprocess.CompletedProcess[str]:
    return precommit("try-repo", str(REPO), hook, "--ref", rev, "--files", *files, cwd=cwd, env=env)


@pytest.mark.online
def test_try_repo_passes_a_clean_lock(
    tmp_path: Path, head: str, precommit_env: dict[str, str]
) -> None:
    proj = git_project(tmp_path / "p", {"requirements.txt": CLEAN}, precommit_env)
    out = try_repo(proj, precommit_env, head, "wormsign", "requirements.txt")
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"wormsign \(lock files\)\.+Passed", out.stdout)


@pytest.mark.online
def test_try_repo_fails_a_known_malicious_pin(
    tmp_path: Path, head: str, precommit_env: dict[str, str]
) -> None:
    """ultralytics 8.3.41 (PYSEC-2024-154, the poisoned-CI-cache crypto miner), default args."""
    lock = f"click==8.1.7 --hash=sha256:{H}\nultralytics==8.3.41 --hash=sha256:{H}\n"
    proj = git_project(tmp_path / "p", {"requirements.txt": lock}, precommit_env)
    out = try_repo(proj, precommit_env, head, "wormsign", "requirements.txt")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "WS-ADV-MAL" in out.stdout and "ultralytics" in out.stdout
    assert re.search(r"wormsign \(lock files\)\.+Failed", out.stdout)


@pytest.mark.online
def test_configured_hook_fails_an_unpinned_lock(
    tmp_path: Path, head: str, precommit_env: dict[str, str]
) -> None:
    """The README's snippet: the hook from this repository with `args: [--fail-on, medium]`."""
    config = (
        f"repos:\n- repo: {REPO}\n  rev: {head}\n  hooks:\n  - id: wormsign\n"
        "    args: [--fail-on, medium]\n"
    )
    proj = git_project(
        tmp_path / "p",
        {"requirements.txt": LOOSE, ".pre-commit-config.yaml": config},
        precommit_env,
    )
    out = precommit("run", "wormsign", "--files", "requirements.txt", cwd=proj, env=precommit_env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "WS-LOCK-001" in out.stdout and re.search(r"\.+Failed", out.stdout)
    (proj / "requirements.txt").write_text(CLEAN)
    out = precommit("run", "wormsign", "--files", "requirements.txt", cwd=proj, env=precommit_env)
    assert out.returncode == 0, out.stdout + out.stderr
