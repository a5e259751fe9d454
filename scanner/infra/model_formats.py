"""Model files by name and by first bytes: the one list of suffixes and magic numbers that
discovery (scanner.sources.discover) and the models check (scanner.checks.models) share.

A suffix only nominates a file; the models check judges its bytes against the formats
that suffix may hold (scanner.checks.models.model_files.EXPECTED).
"""

from __future__ import annotations

PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".dill"})
TORCH_SUFFIXES = frozenset({".pt", ".pth", ".ckpt", ".bin", ".pt2", ".mar"})
MODEL_SUFFIXES = (
    PICKLE_SUFFIXES
    | TORCH_SUFFIXES
    | frozenset({".npy", ".npz", ".safetensors", ".keras", ".h5", ".hdf5", ".gguf", ".onnx", ".pb"})
)
"""The last suffix of a model file's name."""
COMPRESSED_JOBLIB_SUFFIXES = tuple(
    f".joblib{c}" for c in (".gz", ".bz2", ".xz", ".lzma", ".z", ".lz4")
)
"""joblib.dump(..., compress=...) names: the pickle sits inside the compressed stream."""
SHARED_SUFFIXES = frozenset({".pth", ".bin"})
"""Suffixes other files use too (a `.pth` path file, any `.bin`): their bytes decide."""
NOT_WALKED = frozenset({".pb"})
"""Read when named on the command line, not picked up by a project walk (a TensorFlow
graph: no reader for it here)."""

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
SEVEN_ZIP_MAGIC = bytes.fromhex("377ABCAF271C")
RAR_MAGIC = b"Rar!\x1a\x07"
ARCHIVE_MAGICS = (*ZIP_MAGICS, SEVEN_ZIP_MAGIC, RAR_MAGIC)
"""A zip (a torch checkpoint), 7z or rar (a disguised archive: the models check reports it)."""
NPY_MAGIC = b"\x93NUMPY"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GGUF_MAGIC = b"GGUF"


def model_suffix(name: str) -> str | None:
    """The model suffix `name` ends with (lower case; `.joblib.gz` whole), None if none."""
    lower = name.lower()
    for compound in COMPRESSED_JOBLIB_SUFFIXES:
        if lower.endswith(compound):
            return compound
    dot = lower.rfind(".")
    suffix = lower[dot:] if dot > 0 else ""
    return suffix if suffix in MODEL_SUFFIXES else None
