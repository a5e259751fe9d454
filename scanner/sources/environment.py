"""Installed environments: a site-packages directory, a virtualenv, a prefix, an interpreter.

Everything is read as data: METADATA with `email.parser`, RECORD with `csv`,
entry_points.txt with `configparser` (no interpolation). Nothing from the
environment is imported or run, and no process is started: an interpreter's
directories are resolved statically (scanner.sources.syspath).
"""

from __future__ import annotations

import binascii
import configparser
import csv
import os
import posixpath
import re
import sys
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from scanner.errors import SourceError
from scanner.infra.files import open_regular
from scanner.models import EntryPoint, Environment, InstalledDistribution, RecordEntry, canonical

# Files larger than this are not metadata; refusing them keeps a hostile
# environment from making us read gigabytes into memory.
_MAX_METADATA_BYTES = 16 << 20
_STARTUP_MODULES = frozenset({"sitecustomize", "usercustomize"})
_DIST_DIR = re.compile(
    r"^(?P<name>.+?)-(?P<version>[^-]+?)(-py\d[^-]*)?(-[^-]+)?\.(dist|egg)-info$"
)

# -- locating site-packages ------------------------------------------------------------


def find_site_packages(path: Path) -> list[Path]:
    """The site-packages directories of `path`: itself, a virtualenv root, or a prefix.

    Raises SourceError if `path` does not exist or contains no site-packages.
    """
    root = _resolve(path)
    if not root.is_dir():
        raise SourceError("not a directory", path=str(path))
    if root.name in ("site-packages", "dist-packages") or _has_distributions(root):
        return [root]
    found: list[Path] = []
    for pattern in (
        "lib/python*/site-packages",
        "lib64/python*/site-packages",
        "Lib/site-packages",
        "lib/site-packages",
    ):
        for candidate in sorted(root.glob(pattern)):
            real = _resolve(candidate)
            # lib64 is often a symlink to lib: one directory, listed once.
            if real.is_dir() and real not in found and _is_inside(real, root):
                found.append(real)
    if not found:
        raise SourceError(
            "no site-packages directory found",
            path=str(path),
            hint="pass a site-packages directory, a virtualenv, or --python",
        )
    return found


def _has_distributions(directory: Path) -> bool:
    try:
        with os.scandir(directory) as it:
            return any(e.name.endswith((".dist-info", ".egg-info")) for e in it)
    except OSError as err:
        raise SourceError(f"cannot list: {err.strerror or err}", path=str(directory)) from err


def site_packages_of_interpreter(python: Path) -> list[Path]:
    """The directories `python` will import from (found without running it)."""
    paths, _version = interpreter_paths(python)
    return paths


def interpreter_paths(python: Path) -> tuple[list[Path], str | None]:
    """Every directory `python` will put on sys.path, and its version (`3.11.7` or `3.11`).

    Learnt from files alone (see scanner.sources.syspath): the interpreter of a scanned
    environment is never started, since its pyvenv.cfg can point it at a hostile stdlib.
    """
    from scanner.sources.syspath import resolve_sys_path

    resolved = resolve_sys_path(python)
    return [e.path for e in resolved.entries], resolved.version


def environment_prefix(site_packages: Path) -> Path:
    """The prefix a site-packages directory belongs to (where `bin/` and `share/` live)."""
    parent = site_packages.parent
    if parent.name.lower().startswith("python") and parent.parent.name.lower() in ("lib", "lib64"):
        return parent.parent.parent
    if parent.name.lower() == "lib":
        return parent.parent
    return site_packages


def python_version_of(site_packages: Path) -> str | None:
    """The X.Y version a site-packages path or its pyvenv.cfg announces, if any."""
    match = re.fullmatch(r"python(\d+\.\d+)t?", site_packages.parent.name)
    if match:
        return match.group(1)
    cfg = environment_prefix(site_packages) / "pyvenv.cfg"
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            return value.strip() or None
    return None


# -- reading one environment -----------------------------------------------------------


def collect_environment(
    site_packages: Path,
    python: Path | None = None,
    python_version: str | None = None,
    *,
    startup_only: bool = False,
) -> Environment:
    """Read every distribution and every loose top-level file of one site-packages.

    With `startup_only` (a directory on sys.path that is not a site directory: a
    PYTHONPATH entry, a `.pth` line, an egg-link's checkout), the loose files kept are
    the ones Python runs at every start (`sitecustomize`, `usercustomize`); the rest is
    a project's own source, scanned when the project is a target.
    """
    root = _resolve(site_packages)
    try:
        with os.scandir(root) as it:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    except OSError as err:
        raise SourceError(f"cannot list: {err.strerror or err}", path=str(site_packages)) from err
    distributions: list[InstalledDistribution] = []
    metadata_dirs: set[str] = set()
    for name, is_dir in entries:
        if name.endswith(".dist-info") and is_dir:
            distributions.append(_read_dist_info(root, name))
            metadata_dirs.add(name)
        elif name.endswith(".egg-info"):
            distributions.append(_read_egg_info(root, name, is_dir))
            metadata_dirs.add(name)
    owned = {top for dist in distributions for top in dist.top_level}
    loose = [
        root / name
        for name, _is_dir in entries
        if name not in metadata_dirs and name not in owned and name != "__pycache__"
        if not startup_only or name.partition(".")[0] in _STARTUP_MODULES
    ]
    return Environment(
        site_packages=root,
        distributions=tuple(distributions),
        loose_files=tuple(loose),
        python=python,
        python_version=python_version or python_version_of(root),
        site_dir=not startup_only,
    )


def _read_dist_info(site: Path, dirname: str) -> InstalledDistribution:
    directory = site / dirname
    metadata = _read_text(directory / "METADATA")
    name, version, summary = _parse_metadata(metadata, dirname, directory / "METADATA")
    relations = metadata_relations(metadata)
    record_text = _read_text(directory / "RECORD")
    record: tuple[RecordEntry, ...] | None
    record_error: str | None = None
    if record_text is None:
        record, record_error = None, "RECORD is missing"
    else:
        try:
            record = parse_record(record_text)
        except ValueError as err:
            record, record_error = None, f"RECORD is malformed: {err}"
    top_level = _top_level_from_record(record, dirname) if record else ()
    if not top_level:
        top_level = _top_level_from_file(directory / "top_level.txt")
    installer = _read_text(directory / "INSTALLER")
    return InstalledDistribution(
        name=name,
        version=version,
        metadata_dir=directory,
        site_packages=site,
        metadata_kind="dist-info",
        record=record,
        record_error=record_error,
        entry_points=parse_entry_points(_read_text(directory / "entry_points.txt") or ""),
        installer=installer.strip().splitlines()[0] if installer and installer.strip() else None,
        direct_url=_read_text(directory / "direct_url.json"),
        top_level=top_level,
        summary=summary,
        requires=relations.requires,
        project_urls=relations.project_urls,
        people=relations.people,
    )


def _read_egg_info(site: Path, name: str, is_dir: bool) -> InstalledDistribution:
    path = site / name
    # A plain-file .egg-info (old distutils) is the PKG-INFO itself and lists no files.
    pkg_info = path / "PKG-INFO" if is_dir else path
    pkg_info_text = _read_text(pkg_info)
    dist_name, version, summary = _parse_metadata(pkg_info_text, name, pkg_info)
    relations = metadata_relations(pkg_info_text)
    record: tuple[RecordEntry, ...] | None = None
    record_error: str | None = "egg-info lists no installed files: its files cannot be verified"
    installed_files = _read_text(path / "installed-files.txt") if is_dir else None
    if installed_files is not None and "\x00" in installed_files:
        installed_files = None
        record_error = "installed-files.txt is malformed: a NUL byte in a path"
    if installed_files is not None:
        entries: list[RecordEntry] = []
        for line in installed_files.splitlines():
            line = line.strip()
            if line:
                # installed-files.txt is relative to the egg-info directory itself.
                rel = posixpath.normpath(posixpath.join(name, line.replace("\\", "/")))
                entries.append(RecordEntry(path=rel, sha256=None, size=None))
        record, record_error = tuple(entries), None
    top_level = _top_level_from_file(path / "top_level.txt") if is_dir else ()
    if not top_level and record:
        top_level = _top_level_from_record(record, name)
    return InstalledDistribution(
        name=dist_name,
        version=version,
        metadata_dir=path,
        site_packages=site,
        metadata_kind="egg-info",
        record=record,
        record_error=record_error,
        entry_points=parse_entry_points(
            (_read_text(path / "entry_points.txt") if is_dir else None) or ""
        ),
        installer=None,
        direct_url=None,
        top_level=top_level,
        summary=summary,
        requires=relations.requires,
        project_urls=relations.project_urls,
        people=relations.people,
    )


@dataclass(frozen=True, slots=True)
class MetadataRelations:
    """What METADATA says a distribution depends on and who and where it comes from."""

    requires: tuple[str, ...] = ()
    project_urls: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def requirement_name(text: str) -> str | None:
    """The canonical project name a requirement string starts with (`httpx2<3 ; ...`)."""
    match = _REQUIREMENT_NAME.match(text)
    return canonical(match.group(1)) if match else None


def metadata_relations(text: str | None) -> MetadataRelations:
    """Requires-Dist names, project URLs and authors/maintainers from METADATA text."""
    if not text:
        return MetadataRelations()
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    headers = HeaderParser().parsestr(head, headersonly=True)
    requires: dict[str, None] = {}
    for raw in headers.get_all("Requires-Dist") or ():
        found = requirement_name(str(raw))
        if found:
            requires.setdefault(found, None)
    urls = [
        value
        for key in ("Home-page", "Download-URL")
        if (value := _header(headers.get(key))) is not None and value.upper() != "UNKNOWN"
    ]
    for raw in headers.get_all("Project-URL") or ():
        value = _header(raw)
        if value:
            urls.append(value.partition(",")[2].strip() or value)
    people = [
        value
        for key in ("Author", "Author-email", "Maintainer", "Maintainer-email")
        for raw in headers.get_all(key) or ()
        if (value := _header(raw)) is not None and value.upper() != "UNKNOWN"
    ]
    return MetadataRelations(tuple(requires), tuple(urls), tuple(people))


def _parse_metadata(text: str | None, dirname: str, path: Path) -> tuple[str, str, str | None]:
    """(canonical name, version, summary) from METADATA, else from the directory name."""
    name = version = summary = None
    if text is not None:
        # Only the header block matters; long descriptions follow the first blank line.
        head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
        headers = HeaderParser().parsestr(head, headersonly=True)
        name = _header(headers.get("Name"))
        version = _header(headers.get("Version"))
        summary = _header(headers.get("Summary"))
    if not name or not version:
        match = _DIST_DIR.match(dirname)
        if match is None:
            raise SourceError("distribution metadata has no name and version", path=str(path))
        name = name or match.group("name")
        version = version or match.group("version")
    return canonical(name), version, summary


def _header(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def parse_record(text: str) -> tuple[RecordEntry, ...]:
    """Parse RECORD text; raise ValueError with the row number on anything malformed."""
    entries: list[RecordEntry] = []
    append = entries.append
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as err:
        raise ValueError(f"not valid CSV ({err})") from err
    # This loop runs for every installed file (tens of thousands for an ML stack), so
    # the common row (`path,sha256=<43 chars>,size`) takes a fast path decoded in C.
    for number, row in enumerate(rows, start=1):
        if len(row) != 3:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            raise ValueError(f"row {number} has {len(row)} fields, expected 3")
        path, hash_field, size_field = row
        if not path:
            raise ValueError(f"row {number} has an empty path")
        if "\x00" in path:  # no file name holds one; os calls raise ValueError on it
            raise ValueError(f"row {number} has a NUL byte in its path")
        sha256: str | None = None
        if len(hash_field) == 50 and hash_field.startswith("sha256="):
            try:
                sha256 = _b64_strict(hash_field[7:].replace("-", "+").replace("_", "/") + "=")
            except ValueError:
                sha256 = _record_sha256(hash_field, number)  # raises with the reason
        elif hash_field:
            sha256 = _record_sha256(hash_field, number)
        size: int | None = None
        if size_field:
            if not size_field.isdigit():
                raise ValueError(f"row {number} has a size that is not a number: {size_field!r}")
            size = int(size_field)
        append(RecordEntry(path=path, sha256=sha256, size=size))
    return tuple(entries)


_B64_SHA256 = re.compile(r"[A-Za-z0-9_-]{43}=?")


def _b64_strict(b64: str) -> str:
    """Standard base64 of 32 bytes -> hex; ValueError (binascii.Error) on anything else."""
    if sys.version_info >= (3, 11):
        digest = binascii.a2b_base64(b64, strict_mode=True)
    else:  # no strict mode: the slow path's regex has already vetted the characters
        if _B64_SHA256.fullmatch(b64.replace("+", "-").replace("/", "_")) is None:
            raise ValueError("not base64")
        digest = binascii.a2b_base64(b64)
    if len(digest) != 32:
        raise ValueError("not 32 bytes")
    return digest.hex()


def _record_sha256(field: str, number: int) -> str:
    algorithm, sep, b64 = field.partition("=")
    if algorithm != "sha256" or not sep:
        if not sep:
            raise ValueError(f"row {number} has a hash without an algorithm: {field!r}")
        raise ValueError(f"row {number} uses hash algorithm {algorithm!r}; sha256 is checked")
    if _B64_SHA256.fullmatch(b64) is None:
        raise ValueError(
            f"row {number} has a sha256 that is not 43 base64url characters: {field!r}"
        )
    return _b64_strict(b64[:43].replace("-", "+").replace("_", "/") + "=")


def parse_entry_points(text: str) -> tuple[EntryPoint, ...]:
    """Entry points as written; tolerant: the parts that parse are kept."""
    parser = _entry_points_parser(text)
    return tuple(
        EntryPoint(group=group, name=name, value=" ".join(value.split()))
        for group in parser.sections()
        for name, value in parser.items(group)
    )


def _entry_points_parser(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, delimiters=("=",), comment_prefixes=("#", ";")
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    try:
        parser.read_string(text)
    except configparser.MissingSectionHeaderError:
        # Lines before the first [group] belong to no group; read from the first header on.
        # Only a whole `[group]` line counts, and the text must get shorter: "\n[x" once
        # matched here at offset 0 and recursed until RecursionError.
        first = re.search(r"^[ \t]*\[[^\n]*\][ \t]*$", text, re.M)
        if first is None or first.start() == 0:
            return parser
        return _entry_points_parser(text[first.start() :])
    except configparser.Error:
        pass  # ParsingError comes after the whole text was read: what parsed is kept
    return parser


def _top_level_from_record(record: tuple[RecordEntry, ...], metadata_dir: str) -> tuple[str, ...]:
    tops = {e.path.partition("/")[0] for e in record}
    if any("\\" in t for t in tops):  # Windows separators in a RECORD
        tops = {t.partition("\\")[0] for t in tops}
    # ":" : a Windows drive, not a name the distribution owns
    tops = {t for t in tops if ":" not in t}
    return tuple(sorted(tops - {metadata_dir, "__pycache__", ".", "..", ""}))


def _top_level_from_file(path: Path) -> tuple[str, ...]:
    text = _read_text(path)
    if not text:
        return ()
    names: set[str] = set()
    for line in text.splitlines():
        top = line.strip().replace("\\", "/").split("/", 1)[0]
        if top and top not in (".", "..") and "\x00" not in top:
            names.add(top)
    return tuple(sorted(names))


def _read_text(path: Path) -> str | None:
    """A metadata file's text, None if it does not exist; SourceError if it cannot be read."""
    try:
        if path.is_symlink():
            raise SourceError("metadata file is a symbolic link (not followed)", path=str(path))
        with open_regular(path) as fh:
            data = fh.read(_MAX_METADATA_BYTES + 1)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err
    if len(data) > _MAX_METADATA_BYTES:
        raise SourceError(
            f"metadata file larger than {_MAX_METADATA_BYTES >> 20} MiB", path=str(path)
        )
    return data.decode("utf-8", errors="replace")


def _resolve(path: Path) -> Path:
    """`path` with symlinks resolved; SourceError on a loop or a missing path."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError as err:
        raise SourceError("does not exist", path=str(path)) from err
    except (RuntimeError, OSError) as err:  # RuntimeError: symlink loop before 3.13
        raise SourceError(f"cannot resolve (symlink loop?): {err}", path=str(path)) from err


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
