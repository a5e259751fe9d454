"""What a model-file scan finds: the pickles inside a file, and what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scanner.checks.models.pickle_scan import PickleScan

ModelFormat = Literal[
    "pickle",
    "torch-zip",
    "torch-tar",
    "joblib-compressed",
    "npy",
    "npz",
    "keras",
    "hdf5",
    "safetensors",
    "7z",
    "rar",
    "zip",
    "gguf",
    "onnx",
    "unknown",
]
IssueKind = Literal[
    "magic-mismatch",
    "keras-lambda",
    "keras-module",
    "safetensors-header",
    "unscanned",
    "corrupt",
    "python-code",
    "template-injection",
    "external-data",
    "custom-op",
    "keras-external",
]
PICKLE_FORMATS = frozenset({"pickle", "torch-zip", "torch-tar", "joblib-compressed"})


@dataclass(frozen=True, slots=True)
class PickleMember:
    """The pickles of one stream inside a model file."""

    member: str | None
    """Where in the container: a member name (`archive/data.pkl`), None for the file itself."""
    scans: tuple[PickleScan, ...]


@dataclass(frozen=True, slots=True)
class ContainerIssue:
    """Something wrong with the container itself (not with a pickle's globals)."""

    kind: IssueKind
    message: str
    member: str | None = None
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class ModelScan:
    """What one model file holds, as far as it can be read without loading it."""

    path: Path
    format: ModelFormat
    pickles: tuple[PickleMember, ...] = ()
    issues: tuple[ContainerIssue, ...] = ()
    code: tuple[tuple[str, bytes], ...] = ()
    """Python sources the loader runs (a TorchServe handler, torch.package modules), by
    member name: the heuristic rules judge them."""

    @property
    def pickle_based(self) -> bool:
        """True when loading the file unpickles something (torch.load, joblib.load ...)."""
        return self.format in PICKLE_FORMATS or bool(self.pickles)
