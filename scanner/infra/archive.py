"""The one safe archive reader: zip (wheels, zip sdists) and tar (sdists).

It never extracts to disk and never follows links. Member names are normalised
and refused if they escape the archive (absolute, `..`, drive letters) or
collide after normalisation. Member count, per-member size, total size and the
compression ratio are bounded, and the bounds are enforced on the bytes
actually decompressed, not on what the headers claim.
"""

from __future__ import annotations

import copy
import lzma
import posixpath
import struct
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

from scanner.errors import ArchiveError
from scanner.infra.files import read_head

MemberKind = Literal["file", "dir", "symlink", "hardlink", "other"]


# What the standard library raises for a corrupt or truncated archive. zlib.error and
# LZMAError are no OSError: a damaged deflate stream escaped the reader (found by fuzzing).
_CORRUPT: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)
# Opening: zipfile raises NotImplementedError("zip file version 25.0") (found by fuzzing).
_CORRUPT_OPEN: tuple[type[Exception], ...] = (*_CORRUPT, NotImplementedError)
# Reading: RuntimeError for encrypted zip members.
_CORRUPT_READ: tuple[type[Exception], ...] = (*_CORRUPT, RuntimeError)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds for one archive. Defaults fit the largest real wheels (torch: ~900 MB)."""

    max_members: int = 200_000
    max_member_size: int = 4 << 30
    max_total_size: int = 8 << 30
    max_ratio: float = 200.0
    """Uncompressed / compressed, per zip member and for a whole tar stream."""
    ratio_floor: int = 1 << 20
    """Archives that expand to less than this are never refused for their overall ratio."""
    member_ratio_floor: int = 64 << 20
    """Members smaller than this are never refused one by one for their ratio: real wheels
    carry highly compressible test data and padded shared objects (onnx, pillow) far over
    200:1; the total size and the whole archive's ratio still bound them."""


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member, as the safe reader sees it."""

    name: str
    """Normalised POSIX path inside the archive, never absolute, never with `..`."""
    size: int
    kind: MemberKind
    link_target: str | None = None


def normalise_member_name(raw: str) -> str:
    """Normalise a member name or raise ArchiveError if it escapes the archive."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"member {raw!r} has an absolute path")
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../"):
        raise ArchiveError(f"member {raw!r} escapes the archive (path traversal)")
    if any(ord(c) < 32 for c in norm):
        raise ArchiveError(f"member {raw!r} has control characters in its name")
    return "" if norm == "." else norm


def archive_kind(path: Path) -> Literal["zip", "tar"] | None:
    """Which reader fits this file, by its magic bytes."""
    try:
        head = read_head(path, 512)
    except OSError as err:
        raise ArchiveError(f"cannot read: {err.strerror or err}", path=str(path)) from err
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar"
    if _tar_checksum_ok(head):  # a pre-POSIX tar has no `ustar` magic; tarfile reads it
        return "tar"
    return None


def _tar_checksum_ok(head: bytes) -> bool:
    """The first block is a tar header by its checksum (how tarfile itself knows one)."""
    if len(head) < 512 or not head[:1].strip(b"\x00"):
        return False
    try:
        stored = int(head[148:156].split(b"\x00", 1)[0].strip(), 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return stored in (sum(block), sum(b - 256 if b > 127 else b for b in block))


class SafeArchive:
    """Read-only view of an archive. Use as a context manager or call close()."""

    loader_view: bool = False
    """See LoaderView."""

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, Member] = {}
        self._zip_infos: dict[str, zipfile.ZipInfo] = {}
        self._tar_infos: dict[str, tarfile.TarInfo] = {}
        self._folded: dict[str, str] = {}
        self.name_collisions: list[tuple[str, str]] = []
        """Pairs of member names that are equal after case folding and NFC normalisation."""
        kind = archive_kind(path)
        try:
            if kind == "zip":
                self._open_zip()
            elif kind == "tar":
                self._open_tar()
            else:
                raise ArchiveError("not a zip or tar archive", path=str(path))
        except ArchiveError as err:
            self.close()
            if err.path is None:
                err.path = str(path)
            raise
        except _CORRUPT_OPEN as err:
            self.close()
            raise ArchiveError(f"corrupt or truncated archive: {err}", path=str(path)) from err

    # -- opening ---------------------------------------------------------------

    def _add(self, member: Member) -> None:
        if len(self._members) >= self.limits.max_members:
            raise ArchiveError(f"more than {self.limits.max_members} members")
        if member.name in self._members and member.kind != "dir":
            if self._zip is not None:
                # Zip readers disagree on which duplicate wins: refuse (fail closed).
                raise ArchiveError(f"member {member.name!r} appears twice (after normalisation)")
            # A tar extracts in order, so the last copy is what gets built (pyarrow's sdist
            # really ships LICENSE.txt twice): keep it, and record the pair for the checks.
            self.name_collisions.append((member.name, member.name))
        self._members[member.name] = member
        # Names that differ only in case or Unicode form are one file on macOS and Windows:
        # an installer there keeps whichever comes last. Not refused (old packages ship
        # `ConfigParser` beside `configparser`), but recorded for the checks to report.
        folded = unicodedata.normalize("NFC", member.name).casefold()
        first = self._folded.setdefault(folded, member.name)
        if first != member.name:
            self.name_collisions.append((first, member.name))

    def _open_zip(self) -> None:
        zf = zipfile.ZipFile(self.path)
        self._zip = zf
        first = min((i.header_offset for i in zf.infolist()), default=0)
        if first > 0:
            # zipfile reads the last central directory and shifts offsets by what precedes
            # it; other readers take the first archive: they disagree on the contents.
            raise ArchiveError(
                f"{first} bytes before the first member the central directory lists: "
                "concatenated archives or a prepended stub (readers disagree on the contents)"
            )
        total = 0
        for info in zf.infolist():
            name = normalise_member_name(info.filename)
            if not name:
                continue
            mode = (info.external_attr >> 16) & 0o170000
            kind: MemberKind
            if info.is_dir():
                kind = "dir"
            elif mode == 0o120000:
                kind = "symlink"
            elif mode not in (0, 0o100000):
                kind = "other"
            else:
                kind = "file"
            if info.file_size > self.limits.max_member_size:
                raise ArchiveError(
                    f"member {name!r} declares {info.file_size} bytes, over the limit"
                )
            if self.loader_view and kind != "dir":
                name = self._free_name(name)
            self._check_ratio(name, info.file_size, info.compress_size)
            total += info.file_size
            if total > self.limits.max_total_size:
                raise ArchiveError("total uncompressed size over the limit (zip bomb?)")
            self._add(Member(name=name, size=info.file_size, kind=kind))
            self._zip_infos[name] = info
        # Members under ratio_floor are never refused one by one, so a bomb made of many
        # small, highly compressible members is judged on the archive as a whole.
        compressed = self.path.stat().st_size
        if total > self.limits.ratio_floor and total > compressed * self.limits.max_ratio:
            raise ArchiveError(
                f"{total} bytes uncompressed from {compressed}: a compression "
                f"ratio over {self.limits.max_ratio:.0f}:1 (zip bomb?)"
            )

    def _free_name(self, name: str) -> str:
        """`name`, or `name#n` for the n-th copy of a duplicate (loader view only)."""
        n, free = 1, name
        while free in self._members:
            n += 1
            free = f"{name}#{n}"
        return free

    def _readable(self, member: Member) -> bool:
        if member.kind == "file":
            return True
        return self.loader_view and self._zip is not None and member.kind != "dir"

    def _open_tar(self) -> None:
        compressed = self.path.stat().st_size
        tf = tarfile.open(self.path, mode="r:*")  # noqa: SIM115 -- closed by self.close()
        self._tar = tf
        total = 0
        while True:
            info = tf.next()
            if info is None:
                break
            # tf.offset counts decompressed bytes walked so far: bound it, so a stream of
            # zeros cannot keep us busy for hours.
            if tf.offset > self.limits.max_total_size:
                raise ArchiveError("decompressed tar stream over the size limit (tar bomb?)")
            ratio_cap = compressed * self.limits.max_ratio
            if tf.offset > self.limits.ratio_floor and tf.offset > ratio_cap:
                raise ArchiveError(
                    f"compression ratio over {self.limits.max_ratio:.0f}:1 (tar bomb?)"
                )
            name = normalise_member_name(info.name)
            if not name:
                continue
            kind: MemberKind
            target = None
            if info.isdir():
                kind = "dir"
            elif info.issym():
                kind, target = "symlink", info.linkname
            elif info.islnk():
                kind, target = "hardlink", info.linkname
            elif info.isreg():
                kind = "file"
            else:
                kind = "other"
            if info.size > self.limits.max_member_size:
                raise ArchiveError(f"member {name!r} is {info.size} bytes, over the limit")
            total += info.size
            if total > self.limits.max_total_size:
                raise ArchiveError("total uncompressed size over the limit (tar bomb?)")
            self._add(Member(name=name, size=info.size, kind=kind, link_target=target))
            self._tar_infos[name] = info

    def _check_ratio(self, name: str, size: int, compressed: int) -> None:
        if size <= self.limits.member_ratio_floor:
            return
        if compressed <= 0 or size / compressed > self.limits.max_ratio:
            raise ArchiveError(
                f"member {name!r} has a compression ratio over {self.limits.max_ratio:.0f}:1 "
                "(zip bomb?)"
            )

    # -- reading ---------------------------------------------------------------

    def members(self) -> list[Member]:
        """Every member, in archive order."""
        return list(self._members.values())

    def files(self) -> list[Member]:
        """Regular file members only (links, directories and devices left out)."""
        return [m for m in self._members.values() if self._readable(m)]

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of one regular file member; never more than `limit` (or the member limit).

        Raises ArchiveError for links, devices, corrupt data, or a member that
        decompresses to more than it declared.
        """
        member = self._members.get(name)
        if member is None:
            raise ArchiveError(f"no member {name!r}", path=str(self.path))
        if not self._readable(member):
            raise ArchiveError(f"member {name!r} is a {member.kind}, not read", path=str(self.path))
        cap = min(
            limit if limit is not None else self.limits.max_member_size, self.limits.max_member_size
        )
        try:
            with self._open_member(name) as fh:
                data = fh.read(cap + 1)
        except _CORRUPT_READ as err:
            raise ArchiveError(f"cannot read member {name!r}: {err}", path=str(self.path)) from err
        if len(data) > cap:
            if limit is not None and limit < self.limits.max_member_size:
                return data[:limit]
            raise ArchiveError(f"member {name!r} is larger than the limit", path=str(self.path))
        if len(data) > member.size:
            raise ArchiveError(
                f"member {name!r} is larger than its header says", path=str(self.path)
            )
        return data

    def _open_member(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            info = self._zip_infos[name]
            if not self.loader_view:
                return self._zip.open(info)
            # zipfile checks the local header's name against the central directory's and
            # the CRC at the end; torch's reader does neither, so neither blocks a scan here.
            with self.path.open("rb") as raw_file:
                raw_file.seek(info.header_offset)
                local = raw_file.read(30)
                if len(local) == 30 and local[:4] == b"PK\x03\x04":
                    raw = raw_file.read(struct.unpack("<H", local[26:28])[0])
                    info = copy.copy(info)
                    utf8 = bool(struct.unpack("<H", local[6:8])[0] & 0x800)
                    info.orig_filename = raw.decode("utf-8" if utf8 else "cp437", "replace")
            stream = self._zip.open(info)
            if hasattr(stream, "_expected_crc"):
                stream._expected_crc = None
            return stream
        assert self._tar is not None
        fh = self._tar.extractfile(self._tar_infos[name])
        if fh is None:
            raise ArchiveError(f"member {name!r} has no data", path=str(self.path))
        return fh

    def iter_chunks(self, name: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes of one regular file member in chunks (bounded memory for any size).

        Raises ArchiveError like `read`, including when the member decompresses to
        more than its header declares.
        """
        member = self._members.get(name)
        if member is None:
            raise ArchiveError(f"no member {name!r}", path=str(self.path))
        if not self._readable(member):
            raise ArchiveError(f"member {name!r} is a {member.kind}, not read", path=str(self.path))
        total = 0
        try:
            with self._open_member(name) as fh:
                while chunk := fh.read(chunk_size):
                    total += len(chunk)
                    if total > member.size or total > self.limits.max_member_size:
                        raise ArchiveError(
                            f"member {name!r} is larger than its header says", path=str(self.path)
                        )
                    yield chunk
        except _CORRUPT_READ as err:
            raise ArchiveError(f"cannot read member {name!r}: {err}", path=str(self.path)) from err

    def open_stream(self, name: str) -> IO[bytes]:
        """A read-only stream over one regular file member; the caller closes it.

        For walking a large member without holding it in memory (a legacy torch
        `storages` member). The stream ends at the member's declared size (tar) or fails
        on a CRC / size mismatch (zip); it can seek forward.
        """
        member = self._members.get(name)
        if member is None:
            raise ArchiveError(f"no member {name!r}", path=str(self.path))
        if not self._readable(member):
            raise ArchiveError(f"member {name!r} is a {member.kind}, not read", path=str(self.path))
        try:
            return self._open_member(name)
        except _CORRUPT_READ as err:
            raise ArchiveError(f"cannot read member {name!r}: {err}", path=str(self.path)) from err

    def iter_files(self, limit: int | None = None) -> Iterator[tuple[Member, bytes]]:
        """Every regular file with its bytes (each capped at `limit` when given)."""
        for member in self.files():
            yield member, self.read(member.name, limit)

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Release the underlying file."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._tar is not None:
            self._tar.close()
            self._tar = None

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LoaderView(SafeArchive):
    """A zip read as a lenient loader reads it (torch's miniz reader), for model scans.

    Entry flags are ignored, so a member flagged as a symlink or a device is read as the
    bytes it stores (nothing on disk is followed: nothing is ever extracted); CRCs and the
    local header's copy of the name are not checked; a duplicate name keeps every copy, the
    later ones listed as `name#2`, `name#3` ... All the bounds of SafeArchive still hold.
    """

    loader_view = True
