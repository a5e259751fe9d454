"""Write the seed corpus for every harness: `python fuzz/seeds.py OUTDIR`.

Seeds are the valid inputs the test-suite already builds (lock files, pickles, model
containers, archives), so the fuzzers start from deep inside each format.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
import tarfile
import zipfile
from pathlib import Path

import _common

sys.path.insert(0, str(_common.REPO))

from tests.hostile.canaries import (
    PYPROJECT,
    pickle_exec_proto0,
    pickle_exec_proto4,
    torch_zip,
)
from tests.hostile.test_properties import (
    CONFIG,
    ENTRY_POINTS,
    METADATA,
    MODEL_SEEDS,
    OSV,
    PTH,
    RECORD,
    SEEDS,
)
from tests.sources.lockhelpers import GARBAGE

LOCK_ORDER = [None, *sorted(SEEDS)]  # the format chosen by the first byte (fuzz_lockfiles)
MODEL_ORDER = [
    ".pt",
    ".pth",
    ".pkl",
    ".ckpt",
    ".bin",
    ".npy",
    ".npz",
    ".joblib",
    ".keras",
    ".safetensors",
    ".h5",
    ".pt2",
]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _sized(*parts: bytes) -> bytes:
    """FuzzedDataProvider-style: each part after a one-byte length (fuzz_environment)."""
    return bytes([0]) + b"".join(bytes([min(len(p), 255)]) + p[:255] for p in parts)


def corpora() -> dict[str, list[bytes]]:
    pickles = [pickle.dumps({"a": [1, "x", b"y"]}, protocol=p) for p in range(6)]
    pickles += [pickle_exec_proto0("print(1)"), pickle_exec_proto4("print(1)")]
    wheel = _zip(
        {
            "demo/__init__.py": b"x = 1\n",
            "demo-1.0.dist-info/METADATA": METADATA.encode(),
            "demo-1.0.dist-info/RECORD": RECORD.encode(),
            "demo-1.0.dist-info/entry_points.txt": ENTRY_POINTS.encode(),
        }
    )
    sdist = _tar(
        {
            "fuzz-1.0/setup.py": b"from setuptools import setup\nsetup()\n",
            "fuzz-1.0/pyproject.toml": PYPROJECT.encode(),
        }
    )
    return {
        "lockfiles": [bytes([LOCK_ORDER.index(fmt)]) + text.encode() for fmt, text in SEEDS.items()]
        + [b"\0" + g for g in GARBAGE],
        "environment": [
            _sized(METADATA.encode(), RECORD.encode(), ENTRY_POINTS.encode()) + PTH.encode()
        ],
        "config": [CONFIG.encode(), b"p[tool.wormsign]\nfail-on = 'low'\n"],
        "osv": [b"\0" + json.dumps(OSV).encode(), b"\0" + json.dumps([OSV, OSV]).encode()],
        "pickle": pickles,
        "models": [bytes([MODEL_ORDER.index(s)]) + data for s, data in MODEL_SEEDS]
        + [bytes([0]) + torch_zip(pickles[-1])],
        "archive": [wheel, sdist],
        # fuzz_targets: the first byte picks the input kind (file, stdin, FIFO, /dev/zero,
        # symlinks inside/outside/dangling/looping) and the file name.
        "targets": [bytes([k]) + SEEDS["requirements"].encode() for k in range(8)]
        + [bytes([8 + k]) + SEEDS["uv"].encode() for k in range(8)]
        + [bytes([24 + k]) + pickles[-1] for k in range(8)]
        + [bytes([32 + k]) + wheel for k in range(8)],
    }


def main(out: Path) -> None:
    for name, seeds in corpora().items():
        directory = out / name
        directory.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds):
            (directory / f"seed-{i:03d}").write_bytes(seed)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
