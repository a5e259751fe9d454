"""`wormsign fix` (issue 20): the edit per lock format on real lock files with a vulnerable
pin, against real OSV records; requirements edits that keep every other byte."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.checks.advisories.database import open_database
from scanner.checks.advisories.osv import match_version
from scanner.cli import main
from scanner.fixes.requirements_edit import write_atomically
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel


def fix(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["fix", "--db", str(db), *args])
    return result.exit_code, result.stdout, result.stderr


def copied(corpus: Path, rel: str, dest: Path, name: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / name
    shutil.copyfile(corpus / rel, target)
    return target


def clean(db: Path, name: str, version: str) -> bool:
    opened = open_database(db)
    assert opened is not None
    with opened:
        return not match_version(opened.advisories_for(name), name, version).matches


# (corpus file, name to give it, vulnerable pin in it, the command line expected)
CASES = [
    (
        "uv/karpathy_nanochat__uv.lock",
        "uv.lock",
        ("click", "8.2.1", "8.3.3"),
        "uv lock --directory {dir} --upgrade-package click==8.3.3",
    ),
    (
        "poetry/python-poetry_poetry__poetry.lock",
        "poetry.lock",
        ("urllib3", "2.6.3", "2.7.0"),
        "poetry update --directory {dir} urllib3",
    ),
    (
        "pipfile/pypa_pipenv__Pipfile.lock",
        "Pipfile.lock",
        ("click", "8.0.3", "8.3.3"),
        "cd {dir} && pipenv upgrade click==8.3.3",
    ),
    (
        "pdm/pdm-project_pdm__tests-fixtures-projects-demo-package-pdm.lock",
        "pdm.lock",
        ("click", "7.1.2", "8.3.3"),
        "pdm update --project {dir} click",
    ),
    (
        "pylock/pypa_pipenv__examples-pylock.toml",
        "pylock.toml",
        ("urllib3", "1.26.12", "2.7.0"),
        "cd {dir} && pipenv upgrade urllib3==2.7.0",
    ),
    (
        "conda/conda_conda-lock__tests-test-install-with-pip-deps-conda-lock.yml",
        "conda-lock.yml",
        ("urllib3", "2.0.7", "2.7.0"),
        "conda-lock lock --update urllib3",
    ),
]


@pytest.mark.parametrize(("rel", "name", "pin", "command"), CASES, ids=[c[1] for c in CASES])
def test_dry_run_per_lock_format(
    lock_corpus: Path,
    real_osv_subset: Path,
    tmp_path: Path,
    rel: str,
    name: str,
    pin: tuple[str, str, str],
    command: str,
) -> None:
    lock = copied(lock_corpus, rel, tmp_path / "project", name)
    before = lock.read_bytes()
    code, out, err = fix(real_osv_subset, "--dry-run", str(lock))
    assert code == 1, err
    package, current, target = pin
    assert f"{package} {current} -> {target} (" in out
    assert (
        command.format(dir=lock.parent)
        in out.splitlines()[
            out.splitlines().index(
                next(ln for ln in out.splitlines() if f" {package} {current} -> " in ln)
            )
            + 1
        ]
    )
    # The target is the smallest version no record affects, and the pin is affected.
    assert clean(real_osv_subset, package, target) and not clean(real_osv_subset, package, current)
    assert lock.read_bytes() == before  # a dry run and a lock format wormsign does not edit


def test_poetry_notes_a_pyproject_constraint_that_excludes_the_fix(
    lock_corpus: Path, real_osv_subset: Path, tmp_path: Path
) -> None:
    lock = copied(lock_corpus, "poetry/python-poetry_poetry__poetry.lock", tmp_path, "poetry.lock")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry.dependencies]\npython = "^3.9"\nurllib3 = "^1.26"\nidna = ">=3"\n'
    )
    code, out, _ = fix(real_osv_subset, "--dry-run", str(lock))
    assert code == 1
    assert "pyproject.toml constrains urllib3 to '^1.26', which excludes 2.7.0: widen it" in out
    assert "constrains idna" not in out  # >=3 allows 3.15


def test_environment_prints_its_pip_install(real_osv_subset: Path, tmp_path: Path) -> None:
    site = make_site_packages(tmp_path / "venv")
    install_wheel(make_wheel(tmp_path, "click", "8.1.8", {"click/__init__.py": b""}), site)
    code, out, err = fix(real_osv_subset, "--dry-run", "--env", str(tmp_path / "venv"))
    assert code == 1, err
    assert f"environment {site}" in out
    assert f"{tmp_path / 'venv' / 'bin' / 'python'} -m pip install click==8.3.3" in out


REQUIREMENTS = (
    "# pinned by hand; keep this comment\r\n"
    "--index-url https://pypi.org/simple\r\n"
    "\r\n"
    'Click[extra]==8.1.8 ; python_version >= "3.8"  # via flask\r\n'
    "requests == 2.28.1 \\\r\n"
    '    ; python_version >= "3.7"\r\n'
    "idna==3.10    # trailing comment, two spaces kept\r\n"
    "attrs==23.1.0\r\n"
)


def test_fix_edits_only_the_versions(real_osv_subset: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements-dev.txt"
    req.write_bytes(REQUIREMENTS.encode())
    req.chmod(0o640)
    inode = req.stat().st_ino
    code, out, err = fix(real_osv_subset, str(req))
    assert code == 0, (out, err)
    after = req.read_bytes().decode()
    assert after == (
        REQUIREMENTS.replace("==8.1.8", "==8.3.3")
        .replace("== 2.28.1", "== 2.33.0")
        .replace("idna==3.10", "idna==3.15")
    )
    assert "written" in out
    assert req.stat().st_mode & 0o777 == 0o640 and req.stat().st_ino != inode  # replaced
    assert not [p for p in tmp_path.iterdir() if p.name != req.name]  # no temporary left
    code, out, _ = fix(real_osv_subset, str(req))
    assert code == 0 and out.startswith("nothing to fix")


def test_fix_on_a_real_requirements_file_then_nothing_is_left(
    lock_corpus: Path, real_osv_subset: Path, tmp_path: Path
) -> None:
    rel = "requirements/huggingface_text-generation-inference__server-requirements_cuda.txt"
    req = copied(lock_corpus, rel, tmp_path, "requirements.txt")
    before = req.read_text().splitlines()
    code, out, err = fix(real_osv_subset, str(req))
    assert code == 0, (out, err)
    after = req.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert {a.split("==")[0] for a, _ in changed} >= {"aiohttp", "click", "idna"}
    assert all(a.split("==")[0] == b.split("==")[0] for a, b in changed)
    code, out, _ = fix(real_osv_subset, "--dry-run", str(req))
    assert code == 0 and out.startswith("nothing to fix")


def test_hashed_entries_are_not_rewritten(
    lock_corpus: Path, real_osv_subset: Path, tmp_path: Path
) -> None:
    rel = "requirements/pypi_warehouse__requirements-main.txt"
    req = copied(lock_corpus, rel, tmp_path, "requirements.txt")
    before = req.read_bytes()
    code, out, _ = fix(real_osv_subset, str(req))
    assert code == 1  # something remains: re-hashing needs the artifacts
    assert "re-hashing needs the new artifacts" in out and "setuptools" in out
    assert req.read_bytes() == before


def test_a_failed_write_leaves_the_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("click==8.1.8\n")

    def broken(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(req, "click==8.3.3\n")
    assert req.read_text() == "click==8.1.8\n"
    assert [p.name for p in tmp_path.iterdir()] == ["requirements.txt"]


def test_a_symlinked_requirements_file_is_not_replaced(
    real_osv_subset: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real.txt"
    real.write_text("click==8.1.8\n")
    link = tmp_path / "requirements.txt"
    link.symlink_to(real)
    code, _, err = fix(real_osv_subset, str(link))
    assert code == 3 and "not a regular file" in err
    assert link.is_symlink() and real.read_text() == "click==8.1.8\n"


def test_nothing_to_fix(real_osv_subset: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("click==8.3.3\n")
    assert fix(real_osv_subset, "--dry-run", str(req))[0] == 0


def test_no_release_clears_it(real_osv_subset: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("fabrice==2.9.1\nclick==8.1.8\n")
    code, out, _ = fix(real_osv_subset, str(req))
    assert code == 1  # fabrice remains
    assert out.splitlines()[0] == str(req)  # one heading for the file
    assert (
        "line 1: fabrice 2.9.1: no known release of fabrice clears every advisory: remove it" in out
    )
    assert req.read_text() == "fabrice==2.9.1\nclick==8.3.3\n"
