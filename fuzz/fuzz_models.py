"""Fuzz model containers (torch zip/tar, npy/npz, joblib, keras, safetensors) and the
judgement of what they hold. The first byte picks the file extension."""

from __future__ import annotations

import io
import sys

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.checks.models.check import default_policy, judge_model
    from scanner.checks.models.model_files import scan_model_file, validate_safetensors
    from scanner.errors import SourceError

SUFFIXES = [
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
POLICY = default_policy()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    suffix = SUFFIXES[data[0] % len(SUFFIXES)]
    body = data[1:]
    validate_safetensors(io.BytesIO(body), len(body))
    path = _common.scratch_file("model" + suffix, body)
    try:
        model = scan_model_file(path)
    except SourceError as err:
        _common.one_line(err)
        return
    list(judge_model(model, POLICY))


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
