"""Model file containers: find the pickles inside, validate the indexes. Never reads tensors.

A model file is sniffed by its magic bytes, not trusted by its extension:
- pickles (`.pkl`, `.pickle`, legacy `.pt`), joblib dumps (raw or gzip / bz2 / xz / lzma),
- torch zip checkpoints (`archive/data.pkl` and any other `*.pkl` member), the legacy torch
  tar format (`sys_info`, `pickle`, `storages`, `tensors`),
- numpy `.npy` / `.npz` (object arrays carry a pickle after the header),
- Keras `.keras` (zip with `config.json`), HDF5 (`.h5`: reported as not scanned),
- safetensors (the JSON header is validated against the buffer it indexes).

Only the index of a container is read: the pickle members of a zip, the header of a
safetensors or npy file. Tensor bytes are skipped by offset, so a multi-GB checkpoint scans
in about the time it takes to read its pickle.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import io
import json
import lzma
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Literal

from scanner.checks.models.pickle_scan import (
    PICKLE_PROTOCOLS,
    PickleScan,
    scan_pickle,
    scan_pickles,
)
from scanner.errors import ArchiveError, SourceError
from scanner.infra.archive import SafeArchive

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
]

PICKLE_EXTENSIONS = frozenset({".pkl", ".pickle", ".joblib", ".dill"})
TORCH_EXTENSIONS = frozenset({".pt", ".pth", ".ckpt", ".bin", ".pt2", ".mar"})
MODEL_EXTENSIONS = (
    PICKLE_EXTENSIONS
    | TORCH_EXTENSIONS
    | frozenset(
        {
            ".npy",
            ".npz",
            ".safetensors",
            ".keras",
            ".h5",
            ".hdf5",
        }
    )
)
# Which formats each extension may hold; any other (a 7z posing as .bin) is a finding.
EXPECTED: dict[str, frozenset[str]] = {
    **{
        e: frozenset({"pickle", "torch-zip", "torch-tar", "joblib-compressed"})
        for e in PICKLE_EXTENSIONS
    },
    **{e: frozenset({"pickle", "torch-zip", "torch-tar"}) for e in TORCH_EXTENSIONS},
    ".pt2": frozenset({"torch-zip", "zip"}),
    ".npy": frozenset({"npy"}),
    ".npz": frozenset({"npz"}),
    ".safetensors": frozenset({"safetensors"}),
    ".keras": frozenset({"keras"}),
    ".h5": frozenset({"hdf5"}),
    ".hdf5": frozenset({"hdf5"}),
}
PICKLE_FORMATS = frozenset({"pickle", "torch-zip", "torch-tar", "joblib-compressed"})

SEVEN_ZIP_MAGIC = bytes.fromhex("377ABCAF271C")
RAR_MAGIC = b"Rar!\x1a\x07"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Protocol 0 / 1 pickles start with one of these opcodes (MARK, GLOBAL, EMPTY_DICT ...).
PROTO0_FIRST = frozenset(b"(c]}N)IJKLMSTUVXFGghpqr\x80")
SAFETENSORS_MAX_HEADER = 100_000_000  # the limit the safetensors library itself enforces
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
NPY_MAX_HEADER = 1 << 20
# Members of a zip checkpoint sniffed for nested archives (storages under data/ are not).
MAX_SNIFFED_MEMBERS = 4096
STORAGE_MEMBER = re.compile(r"(?:^|/)data/\d+\Z")
# Nested zips (torch.export .pt2 files nest torch.save archives) are scanned up to this size.
MAX_NESTED_ZIP = 256 << 20
MAX_NESTED_DEPTH = 2
# Pickle members up to this size are read into memory (fast); bigger ones are streamed.
IN_MEMORY_MEMBER = 64 << 20
KERAS_CONFIG_MAX = 64 << 20
KERAS_MODULE_PREFIXES = (
    "keras",
    "keras_hub",
    "keras_nlp",
    "keras_cv",
    "tf_keras",
    "tensorflow.keras",
)
# Decompressed joblib streams: never walk more than this many times the file's size.
MAX_DECOMPRESSION_RATIO = 200
# Element sizes of legacy storage classes, to skip their bytes in a torch tar checkpoint.
LEGACY_STORAGE_BYTES = {
    "FloatStorage": 4,
    "DoubleStorage": 8,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
    "QInt8Storage": 1,
    "QUInt8Storage": 1,
    "QInt32Storage": 4,
    "QUInt4x2Storage": 1,
    "QUInt2x4Storage": 1,
}


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

    @property
    def pickle_based(self) -> bool:
        """True when loading the file unpickles something (torch.load, joblib.load ...)."""
        return self.format in PICKLE_FORMATS or bool(self.pickles)


# -- sniffing --------------------------------------------------------------------------------


def _head(path: Path, n: int = 1024) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError as err:
        raise SourceError(f"cannot read model file: {err.strerror or err}", path=str(path)) from err


def _looks_like_pickle(head: bytes) -> bool:
    if len(head) >= 2 and head[0] == 0x80:
        return head[1] in PICKLE_PROTOCOLS
    return bool(head) and head[0] in PROTO0_FIRST and head[0] != 0x80


def _looks_like_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    n = struct.unpack("<Q", head[:8])[0]
    return 2 <= n <= SAFETENSORS_MAX_HEADER and 8 + n <= size and head[8:9] == b"{"


def sniff(head: bytes, size: int) -> ModelFormat:
    """The container format its first bytes say (zip members are not opened here)."""
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(SEVEN_ZIP_MAGIC):
        return "7z"
    if head.startswith(RAR_MAGIC):
        return "rar"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(HDF5_MAGIC):
        return "hdf5"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "torch-tar"
    if head.startswith(
        (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x5d\x00\x00", b"ZF", b"\x04\x22\x4d\x18")
    ) or _looks_like_zlib(head):
        return "joblib-compressed"
    if _looks_like_safetensors(head, size):
        return "safetensors"
    if _looks_like_pickle(head):
        return "pickle"
    return "unknown"


def is_model_file(path: Path) -> bool:
    """Should discovery hand this file to the model scanner? Extension first, then magic.

    A `.pth` that is a site-packages path file (text) is not a model; a `.bin` that is
    neither a zip, a pickle nor a disguised archive is not one either.
    """
    suffix = path.suffix.lower()
    if suffix not in MODEL_EXTENSIONS or not path.is_file():
        return False
    if suffix in (".pth", ".bin"):
        try:
            head = _head(path, 512)
            size = path.stat().st_size
        except (SourceError, OSError):
            return False
        kind = sniff(head, size)
        if kind in ("zip", "7z", "rar", "torch-tar"):
            return True
        # A text .pth (paths, `import` lines) also starts with printable bytes that could be
        # protocol-0 opcodes: only a binary pickle header counts here.
        return kind == "pickle" and head[:1] == b"\x80"
    return True


# -- the scanner ----------------------------------------------------------------------------


def scan_model_file(path: Path) -> ModelScan:
    """Read a model file's index and pickles. Raises SourceError only when it cannot be read."""
    try:
        return _scan_file(path, 0)
    except OSError as err:
        raise SourceError(f"cannot read model file: {err.strerror or err}", path=str(path)) from err


def _scan_file(path: Path, depth: int) -> ModelScan:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise SourceError(f"cannot read model file: {err.strerror or err}", path=str(path)) from err
    head = _head(path)
    kind = sniff(head, size)
    suffix = path.suffix.lower()
    issues: list[ContainerIssue] = []
    if kind == "zip":
        scan = _scan_zip(path, suffix, depth)
    elif kind == "pickle" or (
        kind == "unknown" and suffix in PICKLE_EXTENSIONS | TORCH_EXTENSIONS - {".bin"}
    ):
        scan = ModelScan(path, "pickle", (_scan_plain_pickle(path),))
    elif kind == "torch-tar":
        scan = _scan_torch_tar(path)
    elif kind == "joblib-compressed":
        scan = _scan_compressed(path, head, size)
    elif kind == "npy":
        with path.open("rb") as fh:
            member, npy_issues = _scan_npy(fh, None)
        scan = ModelScan(path, "npy", (member,) if member else (), tuple(npy_issues))
    elif kind == "safetensors" or suffix == ".safetensors":
        with path.open("rb") as fh:
            problems = validate_safetensors(fh, size)
        scan = ModelScan(
            path,
            "safetensors",
            (),
            tuple(ContainerIssue("safetensors-header", p) for p in problems[:5]),
        )
        if kind != "safetensors" and kind != "unknown":
            issues.append(ContainerIssue("magic-mismatch", f"a .safetensors file that is a {kind}"))
    elif kind == "hdf5":
        scan = ModelScan(
            path,
            "hdf5",
            (),
            (
                ContainerIssue(
                    "unscanned",
                    "HDF5 model not scanned: a Keras .h5 can carry Lambda layers with "
                    "marshalled bytecode; convert it to .keras or safetensors",
                ),
            ),
        )
    elif kind in ("7z", "rar"):
        scan = ModelScan(
            path,
            kind,
            (),
            (
                ContainerIssue(
                    "magic-mismatch",
                    f"a {kind} archive named {path.name}: loaders do not expect it "
                    "and its contents were not scanned (nullifAI shipped 7z-packed pickles)",
                    evidence=head[:6].hex(),
                ),
            ),
        )
    else:
        scan = ModelScan(
            path,
            "unknown",
            (),
            (
                ContainerIssue(
                    "unscanned", f"not a recognised model format (starts with {head[:8].hex()})"
                ),
            ),
        )
    expected = EXPECTED.get(suffix)
    flagged = any(i.kind == "magic-mismatch" for i in scan.issues + tuple(issues))
    if (
        expected is not None
        and scan.format not in expected
        and not flagged
        and scan.format not in ("7z", "rar", "unknown")
    ):
        issues.append(
            ContainerIssue(
                "magic-mismatch",
                f"{path.name} holds a {scan.format} file, not what its "
                f"extension says ({', '.join(sorted(expected))})",
                evidence=head[:8].hex(),
            )
        )
    if issues:
        scan = ModelScan(scan.path, scan.format, scan.pickles, scan.issues + tuple(issues))
    return scan


def _scan_plain_pickle(path: Path) -> PickleMember:
    with path.open("rb") as fh:
        return PickleMember(None, scan_pickles(fh))


class _ZlibStream(io.RawIOBase):
    """joblib's `compress=N` default: a bare zlib stream. Reads forward; seeks forward only."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj()
        self._pending = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._inflate.eof:
            data = self._inflate.unconsumed_tail or self._raw.read(1 << 16)
            if not data:
                raise EOFError("zlib stream ends early")
            # Bounded output per step: a zlib bomb never lands in memory at once.
            self._pending = self._inflate.decompress(data, 1 << 20)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise OSError("a zlib stream only seeks forward")
        while self._pos < target:
            chunk = self.read(min(target - self._pos, 1 << 20))
            if not chunk:
                break
        return self._pos


def _decompressor(raw: BinaryIO, head: bytes) -> io.BufferedIOBase | None:
    """A decompressing stream over a joblib-compressed file, None for codecs not read here."""
    if _looks_like_zlib(head):
        return io.BufferedReader(_ZlibStream(raw))
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw, mode="rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_XZ)
    if head.startswith(b"\x5d\x00\x00"):
        return lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_ALONE)
    return None


def _scan_compressed(path: Path, head: bytes, size: int) -> ModelScan:
    limit = max(size, 1 << 20) * MAX_DECOMPRESSION_RATIO
    try:
        with path.open("rb") as raw:
            stream = _decompressor(raw, head)
            if stream is None:
                return ModelScan(
                    path,
                    "joblib-compressed",
                    (),
                    (
                        ContainerIssue(
                            "unscanned",
                            "compressed with a codec this scanner does not read "
                            "(joblib zlib / lz4)",
                        ),
                    ),
                )
            with stream:
                inner_head = stream.read(2)
                stream.seek(0)
                if not _looks_like_pickle(inner_head):
                    return ModelScan(
                        path,
                        "joblib-compressed",
                        (),
                        (
                            ContainerIssue(
                                "unscanned", "compressed file that does not hold a pickle"
                            ),
                        ),
                    )
                scans = scan_pickles(stream, limit=limit)  # type: ignore[arg-type]
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as err:
        return ModelScan(
            path, "joblib-compressed", (), (ContainerIssue("corrupt", f"cannot decompress: {err}"),)
        )
    return ModelScan(path, "joblib-compressed", (PickleMember(None, scans),))


# -- zip containers -------------------------------------------------------------------------


def _scan_zip(path: Path, suffix: str, depth: int) -> ModelScan:
    try:
        with SafeArchive(path) as archive:
            names = [m.name for m in archive.files()]
            if "config.json" in names and (
                suffix == ".keras" or "model.weights.h5" in names or "metadata.json" in names
            ):
                return _scan_keras(path, archive)
            if suffix == ".npz" or (names and all(n.endswith(".npy") for n in names)):
                return _scan_npz(path, archive, names)
            return _scan_torch_zip(path, archive, names, depth)
    except ArchiveError as err:
        return ModelScan(
            path,
            "zip",
            (),
            (ContainerIssue("corrupt", f"unreadable zip container: {err.message}"),),
        )


def _member_pickles(
    archive: SafeArchive, name: str, offset: int = 0, max_pickles: int = 16
) -> tuple[PickleScan, ...]:
    """Walk the pickles of one member: in memory when small, streamed when large."""
    size = next((m.size for m in archive.files() if m.name == name), 0)
    if size <= IN_MEMORY_MEMBER:
        stream: IO[bytes] = io.BytesIO(archive.read(name))
        stream.seek(offset)
        return scan_pickles(stream, max_pickles=max_pickles)  # type: ignore[arg-type]
    with archive.open_stream(name) as stream:
        try:
            stream.seek(offset)
            return scan_pickles(stream, max_pickles=max_pickles)  # type: ignore[arg-type]
        except (OSError, EOFError, zipfile.BadZipFile) as err:
            raise ArchiveError(
                f"cannot read member {name!r}: {err}", path=str(archive.path)
            ) from err


def _scan_torch_zip(path: Path, archive: SafeArchive, names: list[str], depth: int) -> ModelScan:
    pickles: list[PickleMember] = []
    issues: list[ContainerIssue] = []
    pickles.extend(
        PickleMember(name, _member_pickles(archive, name))
        for name in names
        if name.endswith(".pkl")
    )
    code = [n for n in names if n.endswith(".py")]
    if code:
        issues.append(
            ContainerIssue(
                "python-code",
                f"the archive carries {len(code)} Python source file(s) that "
                "torch.package / torch.jit run when loading",
                member=code[0],
            )
        )
    nested: list[str] = []
    for name in names[:MAX_SNIFFED_MEMBERS]:
        if STORAGE_MEMBER.search(name) or name.endswith(".pkl"):
            continue  # tensor bytes: torch reads them raw, never as an archive or a pickle
        head = archive.read(name, limit=8)
        if head.startswith((SEVEN_ZIP_MAGIC, RAR_MAGIC)):
            issues.append(
                ContainerIssue(
                    "magic-mismatch",
                    f"a {'7z' if head.startswith(SEVEN_ZIP_MAGIC) else 'rar'} "
                    "archive inside the checkpoint: its contents were not scanned",
                    member=name,
                    evidence=head[:6].hex(),
                )
            )
        elif head.startswith(ZIP_MAGICS):
            nested.append(name)
    for name in nested:
        inner_pickles, inner_issues = _scan_nested_zip(archive, name, depth)
        pickles.extend(inner_pickles)
        issues.extend(inner_issues)
    if not any(p.member and "!" not in p.member for p in pickles) and path.suffix.lower() != ".pt2":
        what = (
            f"a zip of archives ({', '.join(nested[:3])})" if nested else "a zip without any pickle"
        )
        issues.append(
            ContainerIssue(
                "magic-mismatch",
                f"{path.name} is {what}, not a torch checkpoint",
                member=nested[0] if nested else None,
            )
        )
        return ModelScan(path, "zip", tuple(pickles), tuple(issues))
    return ModelScan(path, "torch-zip", tuple(pickles), tuple(issues))


def _scan_nested_zip(
    archive: SafeArchive, name: str, depth: int
) -> tuple[list[PickleMember], list[ContainerIssue]]:
    """A zip inside a checkpoint (torch.export's .pt2 nests torch.save files): scan it too."""
    size = next((m.size for m in archive.files() if m.name == name), 0)
    if depth >= MAX_NESTED_DEPTH or size > MAX_NESTED_ZIP:
        return [], [
            ContainerIssue(
                "unscanned", "a nested archive too large or too deep to scan", member=name
            )
        ]
    with tempfile.TemporaryDirectory(prefix="wormsign-nested-") as tmp:
        inner_path = Path(tmp) / PurePosixPath(name).name
        with inner_path.open("wb") as out:
            for chunk in archive.iter_chunks(name):
                out.write(chunk)
        inner = _scan_file(inner_path, depth + 1)
    pickles = [
        PickleMember(f"{name}!{p.member}" if p.member else name, p.scans) for p in inner.pickles
    ]
    issues = [
        ContainerIssue(i.kind, i.message, f"{name}!{i.member}" if i.member else name, i.evidence)
        for i in inner.issues
    ]
    return pickles, issues


def _scan_npz(path: Path, archive: SafeArchive, names: list[str]) -> ModelScan:
    pickles: list[PickleMember] = []
    issues: list[ContainerIssue] = []
    for name in names:
        if not name.endswith(".npy"):
            issues.append(
                ContainerIssue(
                    "magic-mismatch", "a member of an .npz that is not .npy", member=name
                )
            )
            continue
        head = archive.read(name, limit=NPY_MAX_HEADER + 16)
        info = _npy_header(head)
        if isinstance(info, str):
            issues.append(ContainerIssue("corrupt", info, member=name))
            continue
        has_object, offset = info
        if has_object:
            pickles.append(PickleMember(name, _member_pickles(archive, name, offset, 1)))
    return ModelScan(path, "npz", tuple(pickles), tuple(issues))


# -- numpy ----------------------------------------------------------------------------------


def _descr_has_object(descr: object) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_descr_has_object(d) for d in descr)
    return False


def _npy_header(head: bytes) -> tuple[bool, int] | str:
    """(has object dtype, offset of the data) or a message saying what is wrong."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        return "not an .npy file (bad magic)"
    major = head[6]
    if major == 1:
        length, start = struct.unpack("<H", head[8:10])[0], 10
    elif major in (2, 3):
        if len(head) < 12:
            return "truncated .npy header"
        length, start = struct.unpack("<I", head[8:12])[0], 12
    else:
        return f"unknown .npy format version {major}"
    if length > NPY_MAX_HEADER or start + length > len(head):
        return "the .npy header is longer than the file or the limit"
    text = head[start : start + length].decode(
        "utf-8" if major == 3 else "latin-1", errors="replace"
    )
    try:
        # The header is a Python dict literal: literal_eval never calls or imports anything.
        header = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        return f"the .npy header is not a dict literal: {type(err).__name__}"
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        return "the .npy header lacks descr / fortran_order / shape"
    return _descr_has_object(header["descr"]), start + length


def _scan_npy(
    fh: BinaryIO | IO[bytes], member: str | None
) -> tuple[PickleMember | None, list[ContainerIssue]]:
    head = fh.read(NPY_MAX_HEADER + 16)
    info = _npy_header(head)
    if isinstance(info, str):
        return None, [ContainerIssue("corrupt", info, member=member)]
    has_object, offset = info
    if not has_object:
        return None, []
    fh.seek(offset)
    return PickleMember(member, (scan_pickle(fh),)), []  # type: ignore[arg-type]


# -- torch legacy tar -----------------------------------------------------------------------


def _scan_torch_tar(path: Path) -> ModelScan:
    pickles: list[PickleMember] = []
    issues: list[ContainerIssue] = []
    try:
        with SafeArchive(path) as archive:
            names = {m.name for m in archive.files()}
            pickles.extend(
                PickleMember(name, (scan_pickle(io.BytesIO(archive.read(name))),))
                for name in ("sys_info", "pickle")
                if name in names
            )
            for name in ("storages", "tensors"):
                if name in names:
                    with archive.open_stream(name) as stream:
                        scans, problem = _walk_legacy_records(stream, name)
                    pickles.append(PickleMember(name, scans))
                    if problem:
                        issues.append(ContainerIssue("corrupt", problem, member=name))
            if "pickle" not in names:
                issues.append(
                    ContainerIssue(
                        "magic-mismatch", "a tar without a `pickle` member, not a torch checkpoint"
                    )
                )
    except ArchiveError as err:
        return ModelScan(
            path,
            "torch-tar",
            (),
            (ContainerIssue("corrupt", f"unreadable tar container: {err.message}"),),
        )
    return ModelScan(path, "torch-tar", tuple(pickles), tuple(issues))


def _walk_legacy_records(
    stream: IO[bytes], member: str
) -> tuple[tuple[PickleScan, ...], str | None]:
    """torch's legacy `storages` / `tensors`: a count, then a pickle and raw bytes per record.

    torch.load unpickles every record with the full unpickler, so every one is walked.
    """
    scans: list[PickleScan] = []
    count_scan = scan_pickle(stream)  # type: ignore[arg-type]
    scans.append(count_scan)
    count = count_scan.result_int
    if count_scan.broken or count is None or count < 0:
        return tuple(scans), f"`{member}` does not start with a record count"
    for _ in range(count):
        record = scan_pickle(stream)  # type: ignore[arg-type]
        scans.append(record)
        if record.broken:
            return tuple(scans), None
        try:
            if member == "storages":
                storage = next((g.rsplit(".", 1)[-1] for g in record.result_globals), "")
                element = LEGACY_STORAGE_BYTES.get(storage)
                if element is None:
                    return tuple(scans), f"unknown storage type {storage!r} in `{member}`"
                (numel,) = struct.unpack("<q", _read_exact(stream, 8))
                _skip(stream, numel * element)
            else:
                (ndim,) = struct.unpack("<i", _read_exact(stream, 4))
                _skip(stream, 4 + 16 * ndim + 8)
        except ValueError as err:
            return tuple(scans), f"`{member}` is truncated: {err}"
    if member == "storages":  # then one more pickle: the storage views
        scans.append(scan_pickle(stream))  # type: ignore[arg-type]
    return tuple(scans), None


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ValueError(f"wanted {n} bytes, got {len(data)}")
    return data


def _skip(stream: IO[bytes], n: int) -> None:
    if n < 0:
        raise ValueError("negative length")
    here = stream.tell()
    stream.seek(here + n)
    if stream.tell() != here + n:
        raise ValueError("cannot skip past the end")


# -- keras ----------------------------------------------------------------------------------


def _keras_nodes(config: object) -> Iterator[dict[str, object]]:
    """Every dict in a Keras config tree, without recursion (configs nest deeply)."""
    todo: list[object] = [config]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            yield node
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)


def _scan_keras(path: Path, archive: SafeArchive) -> ModelScan:
    issues: list[ContainerIssue] = []
    raw = archive.read("config.json", limit=KERAS_CONFIG_MAX)
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as err:
        return ModelScan(
            path,
            "keras",
            (),
            (ContainerIssue("corrupt", f"config.json is not JSON: {err}", member="config.json"),),
        )
    for node in _keras_nodes(config):
        class_name = node.get("class_name")
        module = node.get("module")
        if class_name == "Lambda" or class_name == "__lambda__":
            function = node.get("config")
            issues.append(
                ContainerIssue(
                    "keras-lambda",
                    "Keras Lambda layer: its Python code runs when the model loads",
                    member="config.json",
                    evidence=json.dumps(function)[:200] if function is not None else None,
                )
            )
        if (
            isinstance(module, str)
            and module
            and not any(module == p or module.startswith(p + ".") for p in KERAS_MODULE_PREFIXES)
        ):
            issues.append(
                ContainerIssue(
                    "keras-module",
                    f"config names {module}.{class_name}, outside Keras: it is "
                    "imported when the model loads",
                    member="config.json",
                    evidence=f"{module}.{class_name}",
                )
            )
    issues.extend(
        ContainerIssue(
            "python-code", "a .keras archive with a pickle or Python member", member=m.name
        )
        for m in archive.files()
        if m.name.endswith((".pkl", ".py"))
    )
    return ModelScan(path, "keras", (), tuple(issues))


# -- safetensors ----------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in the header")
    return dict(pairs)


def validate_safetensors(fh: BinaryIO | IO[bytes], size: int) -> list[str]:
    """Problems with a safetensors header, [] when it is valid. Reads only the header.

    Checks: the 8-byte little-endian header size is bounded and inside the file; the header
    is a UTF-8 JSON object without duplicate keys; each tensor has a known dtype, a shape of
    non-negative ints and offsets whose span is shape x dtype size; spans neither overlap
    nor leave holes, and together cover the whole data buffer.
    """
    prefix = fh.read(8)
    if len(prefix) < 8:
        return ["shorter than the 8-byte header size"]
    n = struct.unpack("<Q", prefix)[0]
    if n > SAFETENSORS_MAX_HEADER:
        return [f"header size {n} is over the {SAFETENSORS_MAX_HEADER}-byte limit"]
    if 8 + n > size:
        return [f"header size {n} runs past the end of the file ({size} bytes)"]
    raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        return [f"header is not valid UTF-8 JSON: {err}"]
    if not isinstance(header, dict):
        return ["header is not a JSON object"]
    buffer = size - 8 - n
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                problems.append("__metadata__ must map strings to strings")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            problems.append(f"tensor {name!r} must have exactly dtype, shape and data_offsets")
            continue
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        bits = SAFETENSORS_DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            problems.append(f"tensor {name!r} has an unknown dtype {dtype!r}")
            continue
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            problems.append(f"tensor {name!r} has a bad shape {shape!r}")
            continue
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            problems.append(f"tensor {name!r} has bad data_offsets {offsets!r}")
            continue
        begin, end = offsets
        if not 0 <= begin <= end <= buffer:
            problems.append(
                f"tensor {name!r} offsets {begin}..{end} are outside the {buffer}-byte buffer"
            )
            continue
        numel = 0 if 0 in shape else 1
        for d in shape:
            numel *= d
            if numel * bits > 8 * buffer:  # cannot fit: stop before the product explodes
                break
        if numel * bits % 8 or numel * bits // 8 != end - begin:
            # A hostile shape ([10**18] * 20) overflows a float: say so without one.
            need = (
                f"{numel * bits / 8:g}" if numel * bits <= 8 * buffer else f"more than the {buffer}"
            )
            problems.append(
                f"tensor {name!r}: {dtype} {str(shape)[:80]} needs {need} "
                f"bytes but its offsets span {end - begin}"
            )
            continue
        spans.append((begin, end, name))
    if problems:
        return problems
    spans.sort()
    cursor = 0
    for begin, end, name in spans:
        if begin < cursor:
            problems.append(f"tensor {name!r} overlaps the tensor before it")
        elif begin > cursor:
            problems.append(
                f"{begin - cursor} bytes before tensor {name!r} belong to no tensor (hidden data?)"
            )
        cursor = max(cursor, end)
    if cursor != buffer:
        problems.append(
            f"{buffer - cursor} bytes after the last tensor belong to no tensor (hidden data?)"
        )
    return problems


def member_path(path: Path, member: str | None) -> str:
    """`file` or `file!member` for findings."""
    return str(path) if member is None else f"{path}!{PurePosixPath(member)}"
