"""A hostile world of canaries: every way a scanned thing could get itself run.

Each canary, if anything executes it, writes a file named after it into the
markers directory. Scanning must leave that directory empty. Controls
(`prove_live`) run a few canaries on purpose, so a canary that could never fire
would fail its own test instead of passing silently.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.wheels import install_wheel, make_wheel


def payload(markers: Path, name: str) -> str:
    """One line of Python that leaves `markers/name` behind if it ever runs."""
    return f"import pathlib; pathlib.Path({str(markers / name)!r}).write_text('ran')"


def fired(markers: Path) -> list[str]:
    """The canaries that ran (the marker files present)."""
    return sorted(p.name for p in markers.iterdir())


# -- pickles, by hand, opcode by opcode ---------------------------------------------------


def pickle_exec_proto0(code: str) -> bytes:
    """GLOBAL builtins.exec, MARK, UNICODE code, TUPLE, REDUCE, STOP (protocol 0)."""
    return b"cbuiltins\nexec\n(V" + code.encode("raw_unicode_escape") + b"\ntR."


def _binunicode(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE
    return b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE


def pickle_exec_proto4(code: str, module: str = "builtins", func: str = "exec") -> bytes:
    """PROTO 4, STACK_GLOBAL module.func, the code, TUPLE1, REDUCE, STOP."""
    return (
        b"\x80\x04"
        + _binunicode(module)
        + _binunicode(func)
        + b"\x93"
        + _binunicode(code)
        + b"\x85R."
    )


def torch_zip(pickle_bytes: bytes) -> bytes:
    """A torch zip checkpoint whose `archive/data.pkl` is the given pickle."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle_bytes)
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/byteorder", "little")
    return buf.getvalue()


# -- packages -----------------------------------------------------------------------------


def canary_wheel(dest: Path, markers: Path, name: str = "canarypkg", version: str = "1.0") -> Path:
    """A wheel whose import, .pth, sitecustomize and console script each fire a canary."""
    mod = name.replace("-", "_")
    return make_wheel(
        dest,
        name,
        version,
        {
            f"{mod}/__init__.py": payload(markers, f"{mod}-import") + "\n",
            f"{mod}/__main__.py": payload(markers, f"{mod}-main") + "\n",
            f"{mod}_hook.pth": payload(markers, f"{mod}-pth") + "\n",
            "sitecustomize.py": payload(markers, f"{mod}-sitecustomize") + "\n",
            f"{mod}-{version}.data/scripts/{mod}-tool": "#!python\n"
            + payload(markers, f"{mod}-script")
            + "\n",
        },
        dist_info_files={
            "entry_points.txt": f"[console_scripts]\npip = {mod}:main\n[pytest11]\n{mod} = {mod}\n",
        },
    )


SETUP_PY = """\
{top}
from setuptools import setup
from setuptools.command.install import install

class Install(install):
    def run(self):
        {cmd}
        install.run(self)

setup(name="canary-sdist", version="1.0", cmdclass={{"install": Install}})
"""

PYPROJECT = """\
[build-system]
requires = []
build-backend = "canary_backend"
backend-path = ["."]

[project]
name = "canary-sdist"
version = "1.0"
"""


def backend_py(markers: Path) -> str:
    """An in-tree PEP 517 backend that fires at import and in every hook."""
    fire = payload(markers, "build-backend")
    return (
        f"{fire}\n"
        "def get_requires_for_build_wheel(config_settings=None):\n"
        f"    {fire}\n    return []\n"
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        f"    {fire}\n    raise SystemExit(1)\n"
        "def build_sdist(sdist_directory, config_settings=None):\n"
        f"    {fire}\n    raise SystemExit(1)\n"
    )


def source_tree(root: Path, markers: Path) -> Path:
    """setup.py with cmdclass and top-level code, pyproject with an in-tree backend."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "setup.py").write_text(
        SETUP_PY.format(
            top=payload(markers, "setup-py-toplevel"), cmd=payload(markers, "setup-py-cmdclass")
        )
    )
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "canary_backend.py").write_text(backend_py(markers))
    (root / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: canary-sdist\nVersion: 1.0\n")
    return root


def canary_sdist(dest: Path, markers: Path) -> Path:
    """`canary_sdist-1.0.tar.gz` holding the source tree above."""
    tree = source_tree(dest / "sdist-tree" / "canary_sdist-1.0", markers)
    out = dest / "canary_sdist-1.0.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(tree, arcname="canary_sdist-1.0")
    shutil.rmtree(dest / "sdist-tree")
    return out


# -- a real virtualenv whose interpreter would run a .pth at start ------------------------


def make_venv(root: Path, markers: Path, wheel: Path) -> Path:
    """`python -m venv` (no pip) with the canary wheel installed and loose startup hooks.

    Returns the venv's interpreter. Started normally, it fires `loose-pth`,
    `canarypkg-pth` and `canarypkg-sitecustomize`.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = root / "bin" / "python"
    site = next((root / "lib").glob("python*/site-packages"))
    install_wheel(wheel, site, prefix=root)
    (site / "zz_loose.pth").write_text(payload(markers, "loose-pth") + "\n")
    return python


# -- the whole project ----------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Everything the canary tests scan, and where the markers go."""

    markers: Path
    project: Path
    venv_python: Path
    venv: Path
    wheel: Path
    evil_wheel: Path
    sdist: Path
    models: tuple[Path, ...]


def build_world(tmp_path: Path) -> World:
    """A project directory with lock files, canary distributions, models and a venv."""
    markers = tmp_path / "markers"
    markers.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    wheel = canary_wheel(project, markers)
    evil = canary_wheel(project, markers, name="evilpkg")  # evilpkg==1.0 is in tiny_osv
    sdist = canary_sdist(project, markers)
    source_tree(project, markers)  # the project itself has setup.py and an in-tree backend
    (project / "conftest.py").write_text(payload(markers, "conftest") + "\n")
    # Modules that shadow wormsign's own dependencies if the project dir is on sys.path.
    for shadow in ("click", "rich", "packaging", "platformdirs"):
        (project / f"{shadow}.py").write_text(payload(markers, f"shadow-{shadow}") + "\n")
    (project / "requirements.txt").write_text(
        f"canarypkg==1.0 --hash=sha256:{sha(wheel)}\n"
        f"evilpkg==1.0 --hash=sha256:{sha(evil)}\n"
        f"canary-sdist==1.0 --hash=sha256:{sha(sdist)}\n"
    )
    (project / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "canarypkg"\nversion = "1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        f'wheels = [{{ url = "https://files.example/{wheel.name}", '
        f'hash = "sha256:{sha(wheel)}" }}]\n'
    )
    models_dir = project / "models"
    models_dir.mkdir()
    code = payload(markers, "pickle")
    models = (
        _write(models_dir / "proto0.pkl", pickle_exec_proto0(code)),
        _write(models_dir / "proto4.pickle", pickle_exec_proto4(code)),
        _write(
            models_dir / "checkpoint.pt",
            torch_zip(pickle_exec_proto4(payload(markers, "torch-zip"))),
        ),
        _write(models_dir / "legacy.pth", pickle_exec_proto4(payload(markers, "legacy-pth"))),
        _write(
            models_dir / "runpy.ckpt",
            pickle_exec_proto4("canarypkg", module="runpy", func="run_module"),
        ),
        _write(models_dir / "model.joblib", pickle_exec_proto0(payload(markers, "joblib"))),
    )
    venv = project / "venv"
    python = make_venv(venv, markers, wheel)
    return World(
        markers=markers,
        project=project,
        venv_python=python,
        venv=venv,
        wheel=wheel,
        evil_wheel=evil,
        sdist=sdist,
        models=models,
    )


def sha(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
