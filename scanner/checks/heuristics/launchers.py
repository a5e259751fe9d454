"""Script launchers that packaging tools ship (distlib's t64.exe, setuptools' cli-64.exe),
recognised by content and structure, never by the name of the package carrying them.

rules/binary/script-launchers.toml says, per tool, where it documents its launchers, which
DLLs a launcher imports, which of the tool's own messages it carries and what may follow
its last section. A PE that meets all of them is that tool's launcher; anything else (a
different import, an overlay, a missing marker, another directory) is judged by the WS-BIN
rules as before. The bytes are parsed, never run.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import re
import struct
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scanner.errors import RuleError
from scanner.infra.resources import rules_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CATALOGUE = Path("binary") / "script-launchers.toml"
_MACHINES = frozenset({0x14C, 0x8664, 0xAA64})
_MAX_SECTIONS = 32
_MAX_IMPORTS = 64
_SHEBANG = re.compile(rb"#![^\r\n]*python[^\r\n]*\r?\n")


@dataclass(frozen=True, slots=True)
class Launcher:
    """One tool's launchers, as the catalogue describes them."""

    tool: str
    directory: str
    names: re.Pattern[str]
    markers: tuple[bytes, ...]
    imports: tuple[str, ...]
    appended: str
    max_bytes: int


@dataclass(frozen=True, slots=True)
class PeLayout:
    """What a launcher check needs of a PE file."""

    machine: int
    end_of_sections: int
    imports: tuple[str, ...]


def parse_pe(data: bytes) -> PeLayout | None:
    """Machine, where the last section ends, and imported DLL names; None when the bytes
    are not a well-formed PE (anything malformed is simply not a launcher)."""
    try:
        if data[:2] != b"MZ":
            return None
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[pe : pe + 4] != b"PE\0\0":
            return None
        machine, count, _, _, _, opt_size, _ = struct.unpack_from("<HHIIIHH", data, pe + 4)
        if machine not in _MACHINES or not 0 < count <= _MAX_SECTIONS:
            return None
        opt = pe + 24
        magic = struct.unpack_from("<H", data, opt)[0]
        if magic not in (0x10B, 0x20B):
            return None
        dirs_at = opt + (96 if magic == 0x10B else 112)
        sections: list[tuple[int, int, int, int]] = []
        for i in range(count):
            _, vsize, va, raw_size, raw_ptr = struct.unpack_from(
                "<8sIIII", data, opt + opt_size + 40 * i
            )
            sections.append((int(va), max(int(vsize), int(raw_size)), int(raw_ptr), int(raw_size)))
        end = max(ptr + size for _, _, ptr, size in sections)
        if end > len(data):
            return None

        def offset(rva: int) -> int | None:
            for va, span, ptr, _ in sections:
                if va <= rva < va + span:
                    return rva - va + ptr
            return None

        names: list[str] = []
        import_rva = struct.unpack_from("<I", data, dirs_at + 8)[0]
        at = offset(import_rva) if import_rva else None
        while at is not None and len(names) < _MAX_IMPORTS:
            descriptor = struct.unpack_from("<IIIII", data, at)
            if not any(descriptor):
                break
            name_at = offset(descriptor[3])
            if name_at is None:
                return None
            names.append(data[name_at : data.index(b"\0", name_at)].decode("ascii").lower())
            at += 20
        return PeLayout(machine, end, tuple(names))
    except (struct.error, ValueError, UnicodeDecodeError):
        return None


def _appended_ok(overlay: bytes, allowed: str) -> bool:
    if not overlay:
        return True
    if allowed != "shebang-zip":
        return False
    shebang = _SHEBANG.match(overlay)
    if shebang is None:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(overlay[shebang.end() :])) as zf:
            return zf.namelist() == ["__main__.py"]
    except (zipfile.BadZipFile, ValueError):
        return False


def _load(path: Path) -> tuple[Launcher, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        launchers = tuple(
            Launcher(
                tool=str(t["tool"]),
                directory=str(t["directory"]),
                names=re.compile(str(t["names"])),
                markers=tuple(str(m).encode() for m in t["markers"]),
                imports=tuple(str(i).lower() for i in t["imports"]),
                appended=str(t.get("appended", "none")),
                max_bytes=int(t["max_bytes"]),
            )
            for t in data["launcher"]
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as err:
        raise RuleError(f"cannot read the launcher catalogue: {err}", path=str(path)) from err
    if not launchers:
        raise RuleError("the launcher catalogue is empty", path=str(path))
    return launchers


@lru_cache(maxsize=4)
def catalogue(directory: Path | None = None) -> tuple[Launcher, ...]:
    """The shipped launcher catalogue (or the same file in another rules dir)."""
    return _load((directory or rules_dir()) / CATALOGUE)


def launcher_place(path: str, launchers: tuple[Launcher, ...] | None = None) -> bool:
    """Whether a file sits where a tool documents its launchers (read it whole then)."""
    directory, name = posixpath.split(path.replace("\\", "/"))
    return any(
        posixpath.basename(directory) == launcher.directory and launcher.names.match(name)
        for launcher in (launchers if launchers is not None else catalogue())
    )


def script_launcher(path: str, data: bytes, launchers: tuple[Launcher, ...]) -> str | None:
    """The tool whose launcher this file is (by place, structure and content), or None."""
    directory, name = posixpath.split(path.replace("\\", "/"))
    for launcher in launchers:
        if posixpath.basename(directory) != launcher.directory:
            continue
        if not launcher.names.match(name) or len(data) > launcher.max_bytes:
            continue
        layout = parse_pe(data)
        if layout is None or not layout.imports:
            continue
        if not all(
            any(fnmatch.fnmatchcase(i, p) for p in launcher.imports) for i in layout.imports
        ):
            continue
        if not all(marker in data for marker in launcher.markers):
            continue
        if _appended_ok(data[layout.end_of_sections :], launcher.appended):
            return launcher.tool
    return None
