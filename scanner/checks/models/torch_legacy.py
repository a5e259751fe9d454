"""torch's legacy tar checkpoints (`sys_info`, `pickle`, `storages`, `tensors`), walked as
torch's legacy loader reads them: every record pickle, raw storage bytes skipped by size."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import IO

from scanner.checks.models.pickle_scan import PickleScan, scan_pickle
from scanner.checks.models.results import ContainerIssue, ModelScan, PickleMember
from scanner.errors import ArchiveError
from scanner.infra.archive import SafeArchive

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


def scan_torch_tar(path: Path) -> ModelScan:
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
