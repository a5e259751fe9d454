"""The one text edit `wormsign fix` writes: a pin's version in a requirements file.

Everything else on the line stays as written: the name's spelling, extras, markers,
comments, options and line continuations. An entry that carries `--hash` options is
not edited: its hashes belong to the old version's files, and new ones need the new
artifacts (pip-compile --generate-hashes or uv pip compile --generate-hashes); writing
the new version beside the old hashes would make a file pip refuses.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.models import canonical


@dataclass(frozen=True, slots=True)
class PinChange:
    """Change `name==current` on `line` (1-based, where the entry starts) to `target`."""

    name: str
    current: str
    target: str
    line: int


@dataclass(frozen=True, slots=True)
class LineEdit:
    """The outcome for one change: the old and new physical line, or why there is none."""

    change: PinChange
    old: str | None = None
    new: str | None = None
    refused: str | None = None
    """Why the line is not edited (hashes, the pin not found where the scan saw it)."""


def _name_pattern(name: str) -> str:
    parts = re.split(r"[-_.]+", canonical(name))
    return r"[-_.]+".join(re.escape(p) for p in parts)


def _pin_regex(name: str, version: str) -> re.Pattern[str]:
    return re.compile(
        r"^(?P<head>\s*"
        + _name_pattern(name)
        + r"\s*(?:\[[^\]]*\])?\s*===?\s*)"
        + re.escape(version)
        + r"(?=\s|;|,|#|\\|$)",
        re.IGNORECASE,
    )


def _logical_entry(lines: Sequence[str], start: int) -> list[str]:
    """The physical lines of the entry that starts at index `start` (continuations)."""
    out = []
    i = start
    while i < len(lines):
        out.append(lines[i])
        if not lines[i].rstrip("\r\n").endswith("\\"):
            break
        i += 1
    return out


def plan_edits(text: str, changes: Sequence[PinChange]) -> tuple[str, list[LineEdit]]:
    """The new text and, per change, the line edit or the reason it was refused."""
    lines = text.splitlines(keepends=True)
    results: list[LineEdit] = []
    for change in changes:
        index = change.line - 1
        if not 0 <= index < len(lines):
            results.append(LineEdit(change, refused=f"line {change.line} is not in the file"))
            continue
        entry = _logical_entry(lines, index)
        if any("--hash" in part for part in entry):
            results.append(
                LineEdit(
                    change,
                    refused="the entry pins --hash values of the old version's files; "
                    "re-hashing needs the new artifacts (pip-compile --generate-hashes "
                    f"--upgrade-package '{change.name}=={change.target}')",
                )
            )
            continue
        line = lines[index]
        match = _pin_regex(change.name, change.current).match(line)
        if match is None:
            results.append(
                LineEdit(
                    change,
                    refused=f"line {change.line} does not pin {change.name}=={change.current} "
                    "(changed since the scan, or not a plain pin)",
                )
            )
            continue
        new = line[: match.end("head")] + change.target + line[match.end() :]
        lines[index] = new
        results.append(LineEdit(change, old=line, new=new))
    return "".join(lines), results


def write_atomically(path: Path, text: str) -> None:
    """Replace the regular file `path` with `text` (same mode), all or nothing: a crash
    leaves the old file or the new one, never half of each. A symbolic link is refused
    (OSError): replacing it would cut it, editing its target edits a file elsewhere."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path}: not a regular file (a symbolic link?); not replaced")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".wormsign", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
