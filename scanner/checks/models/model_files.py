"""Model file containers: find the pickles inside, validate the indexes. Never reads tensors.

A model file is sniffed by its magic bytes, not trusted by its extension:
- pickles (`.pkl`, `.pickle`, legacy `.pt`), joblib dumps (raw or gzip / bz2 / xz / lzma / lz4),
- torch zip checkpoints (`archive/data.pkl` and any other `*.pkl` member), the legacy torch
  tar format (`sys_info`, `pickle`, `storages`, `tensors`),
- numpy `.npy` / `.npz` (object arrays carry a pickle after the header),
- Keras `.keras` (zip with `config.json`) and `.h5` (its model_config), GGUF metadata and
  ONNX graphs (other_formats.py), safetensors headers (safetensors_file.py).

Zips are read as torch's own reader reads them (archive.LoaderView): member flags, CRCs and
the local header's name do not hide a member, and every copy of a duplicate is scanned.

Only the index of a container is read: the pickle members of a zip, the header of a
safetensors or npy file. Tensor bytes are skipped by offset, so a multi-GB checkpoint scans
in about the time it takes to read its pickle.
"""

from __future__ import annotations

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
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from scanner.checks.models.lz4_frame import FRAME_MAGIC as LZ4_MAGIC
from scanner.checks.models.lz4_frame import Lz4FrameReader
from scanner.checks.models.numpy_files import NPY_MAX_HEADER, npy_header, scan_npy
from scanner.checks.models.other_formats import (
    keras_config_issues,
    scan_gguf,
    scan_hdf5,
    scan_onnx,
)
from scanner.checks.models.pickle_scan import (
    PICKLE_PROTOCOLS,
    PickleScan,
    scan_pickle,
    scan_pickles,
)
from scanner.checks.models.results import PICKLE_FORMATS as PICKLE_FORMATS
from scanner.checks.models.results import ContainerIssue as ContainerIssue
from scanner.checks.models.results import ModelFormat as ModelFormat
from scanner.checks.models.results import ModelScan as ModelScan
from scanner.checks.models.results import PickleMember as PickleMember
from scanner.checks.models.safetensors_file import SAFETENSORS_MAX_HEADER
from scanner.checks.models.safetensors_file import validate_safetensors as validate_safetensors
from scanner.checks.models.torch_legacy import scan_torch_tar
from scanner.errors import ArchiveError, SourceError
from scanner.infra.archive import LoaderView, SafeArchive
from scanner.infra.files import read_head
from scanner.infra.model_formats import (
    GGUF_MAGIC,
    HDF5_MAGIC,
    NOT_WALKED,
    NPY_MAGIC,
    PICKLE_SUFFIXES,
    RAR_MAGIC,
    SEVEN_ZIP_MAGIC,
    SHARED_SUFFIXES,
    TORCH_SUFFIXES,
    ZIP_MAGICS,
    model_suffix,
)

# Which formats each extension may hold; any other (a 7z posing as .bin) is a finding.
EXPECTED: dict[str, frozenset[str]] = {
    **{
        e: frozenset({"pickle", "torch-zip", "torch-tar", "joblib-compressed"})
        for e in PICKLE_SUFFIXES
    },
    **{e: frozenset({"pickle", "torch-zip", "torch-tar"}) for e in TORCH_SUFFIXES},
    ".pt2": frozenset({"torch-zip", "zip"}),
    ".npy": frozenset({"npy"}),
    ".npz": frozenset({"npz"}),
    ".safetensors": frozenset({"safetensors"}),
    ".keras": frozenset({"keras"}),
    ".h5": frozenset({"hdf5"}),
    ".hdf5": frozenset({"hdf5"}),
    ".gguf": frozenset({"gguf"}),
    ".onnx": frozenset({"onnx"}),
    ".mar": frozenset({"torch-zip", "zip"}),
}

# Protocol 0 / 1 pickles start with one of these opcodes (MARK, GLOBAL, EMPTY_DICT ...).
PROTO0_FIRST = frozenset(b"(c]}N)IJKLMSTUVXFGghpqr\x80")
# Binary opcodes a headerless pickle (no PROTO) can start with: 0x81 NEWOBJ ... 0x98.
BINARY_FIRST = frozenset(range(0x81, 0x99)) | frozenset(b"BC")
# Members of a zip checkpoint sniffed for nested archives (storages under data/ are not).
MAX_SNIFFED_MEMBERS = 4096
STORAGE_MEMBER = re.compile(r"(?:^|/)data/\d+\Z|(?:^|/)\.data/[^/]+\.storage\Z")
DUPLICATE_COPY = re.compile(r"#\d+\Z")
PICKLE_MEMBER_SUFFIXES = (".pkl", ".pickle")
# Nested zips (torch.export .pt2 files nest torch.save archives) are scanned up to this size.
MAX_NESTED_ZIP = 256 << 20
MAX_NESTED_DEPTH = 2
# Pickle members up to this size are read into memory (fast); bigger ones are streamed.
IN_MEMORY_MEMBER = 64 << 20
KERAS_CONFIG_MAX = 64 << 20
# Python sources in a checkpoint handed to the heuristic rules: at most this many, each cut
# at this size.
MAX_CODE_FILES = 256
MAX_CODE_BYTES = 1 << 20
# Decompressed joblib streams: never walk more than this many times the file's size.
MAX_DECOMPRESSION_RATIO = 200


# -- sniffing --------------------------------------------------------------------------------


def _head(path: Path, n: int = 1024) -> bytes:
    try:
        return read_head(path, n)
    except OSError as err:
        raise SourceError(f"cannot read model file: {err.strerror or err}", path=str(path)) from err


def _looks_like_pickle(head: bytes) -> bool:
    """A pickle's first opcode: PROTO, or (headerless: the unpickler needs no PROTO) an
    opcode a pickle starts with."""
    if len(head) >= 2 and head[0] == 0x80:
        return head[1] in PICKLE_PROTOCOLS
    return bool(head) and (head[0] in PROTO0_FIRST or head[0] in BINARY_FIRST)


def _is_tar_header(head: bytes) -> bool:
    """A tar header by its checksum, as tarfile (and so torch's legacy loader) finds it:
    a tar without the `ustar` magic is still a tar."""
    if len(head) < 512 or not head[:1].strip(b"\x00"):
        return False
    field = head[148:156].split(b"\x00", 1)[0].strip()
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return stored in (sum(block), sum(b - 256 if b > 127 else b for b in block))


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
    if head.startswith(GGUF_MAGIC):
        return "gguf"
    if (len(head) >= 262 and head[257:262] == b"ustar") or _is_tar_header(head):
        return "torch-tar"
    if head.startswith(
        (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x5d\x00\x00", b"ZF", LZ4_MAGIC)
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
    suffix = model_suffix(path.name)
    if suffix is None or suffix in NOT_WALKED or not path.is_file():
        return False
    if suffix in SHARED_SUFFIXES:
        try:
            head = _head(path, 512)
            size = path.stat().st_size
        except (SourceError, OSError):
            return False
        kind = sniff(head, size)
        if kind in ("zip", "7z", "rar", "torch-tar", "joblib-compressed", "npy"):
            return True
        if kind != "pickle":
            return False
        if head[0] in BINARY_FIRST or head[:1] == b"\x80":
            return True
        # A text .pth (paths, `import` lines) also starts with printable bytes that could be
        # protocol-0 opcodes: a protocol 0 / 1 pickle counts when its first pickle walks
        # cleanly to STOP (torch's legacy magic number is a few bytes long).
        try:
            with path.open("rb") as fh:
                return not scan_pickle(fh, limit=1 << 20).broken
        except OSError:
            return False
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
    elif kind == "pickle" or (kind == "unknown" and suffix in PICKLE_SUFFIXES | TORCH_SUFFIXES):
        # torch's legacy loader and pickle.load need no PROTO: whatever a pickle-bearing name
        # holds is walked, and is a pickle when the walk finds one.
        plain = _scan_plain_pickle(path)
        headerless = kind == "unknown" or head[0] in BINARY_FIRST
        if headerless and not _found_pickle(plain.scans[0]):
            scan = _unknown(path, head)
        else:
            scan = ModelScan(path, "pickle", (plain,))
    elif kind == "torch-tar":
        scan = scan_torch_tar(path)
    elif kind == "joblib-compressed":
        scan = _scan_compressed(path, head, size)
    elif kind == "npy":
        with path.open("rb") as fh:
            member, npy_issues = scan_npy(fh, None)
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
        scan = scan_hdf5(path)
    elif kind == "gguf":
        scan = scan_gguf(path, size)
    elif suffix == ".onnx" and kind in ("unknown", "pickle"):
        scan = scan_onnx(path)
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
        scan = _unknown(path, head)
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


def _found_pickle(scan: PickleScan) -> bool:
    """The walk found a pickle: it reached STOP, or imported or called something first."""
    return not scan.broken or bool(scan.globals) or bool(scan.calls)


def _unknown(path: Path, head: bytes) -> ModelScan:
    return ModelScan(
        path,
        "unknown",
        (),
        (
            ContainerIssue(
                "unscanned", f"not a recognised model format (starts with {head[:8].hex()})"
            ),
        ),
    )


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
    if head.startswith(LZ4_MAGIC):
        return io.BufferedReader(Lz4FrameReader(raw))
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
                            "(joblib's old `ZF` format)",
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
        with LoaderView(path) as archive:
            names = [m.name for m in archive.files()]
            bases = {_base_name(n) for n in names}
            if "config.json" in bases and (
                suffix == ".keras" or "model.weights.h5" in bases or "metadata.json" in bases
            ):
                return _scan_keras(path, archive)
            if suffix == ".npz" or (names and all(n.endswith(".npy") for n in bases)):
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


def _base_name(name: str) -> str:
    """A member's name without the `#n` the loader view gives later copies of a duplicate."""
    return DUPLICATE_COPY.sub("", name)


def _pickle_member(name: str, head: bytes | None) -> bool:
    """A member some loader unpickles: `*.pkl` (torch), `*.pickle` (torch.package's
    load_pickle), or any member that starts like a protocol 2+ pickle."""
    if _base_name(name).endswith(PICKLE_MEMBER_SUFFIXES):
        return True
    return head is not None and len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS


def _scan_torch_zip(path: Path, archive: SafeArchive, names: list[str], depth: int) -> ModelScan:
    pickles: list[PickleMember] = []
    issues: list[ContainerIssue] = []
    heads = {
        name: archive.read(name, limit=8)
        for name in names[:MAX_SNIFFED_MEMBERS]
        if not STORAGE_MEMBER.search(name)
    }
    for name in names:
        if not _pickle_member(name, heads.get(name)):
            continue
        scans = _member_pickles(archive, name)
        # A member picked by its first bytes alone (raw tensor bytes can start 80 02) counts
        # when the walk finds a pickle there; a member named as a pickle always counts.
        if _base_name(name).endswith(PICKLE_MEMBER_SUFFIXES) or _found_pickle(scans[0]):
            pickles.append(PickleMember(name, scans))
    code = [n for n in names if _base_name(n).endswith(".py")]
    if code:
        issues.append(
            ContainerIssue(
                "python-code",
                f"the archive carries {len(code)} Python source file(s) that "
                "torch.package / torch.jit / TorchServe run when loading",
                member=code[0],
            )
        )
    # Python the loader runs (torch.package modules, a TorchServe handler) goes to the
    # heuristic rules; TorchScript's code/ is compiled by TorchScript, which imports nothing.
    sources = tuple(
        (n, archive.read(n, limit=MAX_CODE_BYTES))
        for n in code
        if "/code/__torch__/" not in f"/{n}"
    )[:MAX_CODE_FILES]
    nested: list[str] = []
    for name, head in heads.items():
        if _pickle_member(name, head):
            continue
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
        inner_pickles, inner_issues, inner_code = _scan_nested_zip(archive, name, depth)
        pickles.extend(inner_pickles)
        issues.extend(inner_issues)
        sources += tuple(inner_code)
    if not any(p.member and "!" not in p.member for p in pickles) and path.suffix.lower() not in (
        ".pt2",
        ".mar",
    ):
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
        return ModelScan(path, "zip", tuple(pickles), tuple(issues), sources)
    return ModelScan(path, "torch-zip", tuple(pickles), tuple(issues), sources)


def _scan_nested_zip(
    archive: SafeArchive, name: str, depth: int
) -> tuple[list[PickleMember], list[ContainerIssue], list[tuple[str, bytes]]]:
    """A zip inside a checkpoint (torch.export's .pt2 nests torch.save files): scan it too."""
    size = next((m.size for m in archive.files() if m.name == name), 0)
    if depth >= MAX_NESTED_DEPTH or size > MAX_NESTED_ZIP:
        return (
            [],
            [
                ContainerIssue(
                    "unscanned", "a nested archive too large or too deep to scan", member=name
                )
            ],
            [],
        )
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
    return pickles, issues, [(f"{name}!{p}", data) for p, data in inner.code]


def _scan_npz(path: Path, archive: SafeArchive, names: list[str]) -> ModelScan:
    pickles: list[PickleMember] = []
    issues: list[ContainerIssue] = []
    for name in names:
        head = archive.read(name, limit=NPY_MAX_HEADER + 16)
        # np.load reads `key` and `key.npy` alike, by their magic: so does this scan.
        if not head.startswith(NPY_MAGIC) and not _base_name(name).endswith(".npy"):
            issues.append(
                ContainerIssue(
                    "magic-mismatch", "a member of an .npz that is not .npy", member=name
                )
            )
            continue
        info = npy_header(head)
        if isinstance(info, str):
            issues.append(ContainerIssue("corrupt", info, member=name))
            continue
        has_object, offset = info
        if has_object:
            pickles.append(PickleMember(name, _member_pickles(archive, name, offset, 1)))
    return ModelScan(path, "npz", tuple(pickles), tuple(issues))


# -- keras ----------------------------------------------------------------------------------


def _scan_keras(path: Path, archive: SafeArchive) -> ModelScan:
    issues: list[ContainerIssue] = []
    for name in (m.name for m in archive.files()):
        if _base_name(name) == "config.json":  # every copy: loaders disagree on duplicates
            issues.extend(_keras_config_issues(archive, name))
    issues.extend(
        ContainerIssue(
            "python-code", "a .keras archive with a pickle or Python member", member=m.name
        )
        for m in archive.files()
        if _base_name(m.name).endswith((".pkl", ".py"))
    )
    return ModelScan(path, "keras", (), tuple(issues))


def _keras_config_issues(archive: SafeArchive, name: str) -> list[ContainerIssue]:
    issues: list[ContainerIssue] = []
    raw = archive.read(name, limit=KERAS_CONFIG_MAX)
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as err:
        return [ContainerIssue("corrupt", f"config.json is not JSON: {err}", member=name)]
    issues.extend(keras_config_issues(config, name))
    return issues


def member_path(path: Path, member: str | None) -> str:
    """`file` or `file!member` for findings."""
    return str(path) if member is None else f"{path}!{PurePosixPath(member)}"
