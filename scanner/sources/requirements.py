"""requirements.txt files (pip, pip-compile, uv pip compile), with -r / -c includes.

What pip itself accepts: `name[extras]==version ; markers --hash=algo:hex ...`, line
continuations, comments, global options (`--index-url`, `--extra-index-url`,
`--find-links`, `--trusted-host` ...). Entries that cannot be verified by hash
(unpinned, editable, URL, path, VCS) are kept with their PinKind, never dropped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from scanner.errors import SourceError
from scanner.infra.files import TooLarge, read_bounded
from scanner.infra.pypi import PYPI_SIMPLE_URL
from scanner.models import Hash, LockedArtifact, LockedPackage, Lockfile, PinKind, canonical

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz")
_MAX_FILE_BYTES = 64 << 20

# Options that take a value and matter to us, by every spelling pip accepts.
_INCLUDE = {"-r": "r", "--requirement": "r", "-c": "c", "--constraint": "c"}
_INDEX = {
    "-i": "index",
    "--index-url": "index",
    "--extra-index-url": "extra",
    "-f": "find-links",
    "--find-links": "find-links",
}
_OTHER_VALUED = {
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--use-feature",
    "--progress-bar",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--config-settings",
    "--global-option",
    "--install-option",
    "--prefer-binary",
    "--pre",
    "--no-index",
    "--require-hashes",
}


@dataclass
class _State:
    """What accumulates while following includes."""

    packages: list[LockedPackage] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    includes: list[Path] = field(default_factory=list)
    stack: list[Path] = field(default_factory=list)
    root: Path | None = None
    """Includes must resolve inside this directory (the project)."""


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Join `\\` continuations and strip comments; return (first line number, text)."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buf:
            start = number
        line = raw
        continued = line.rstrip().endswith("\\")
        if continued:
            line = line.rstrip()[:-1]
        # A comment ends the logical line even inside a continuation (pip does the same).
        line = _COMMENT.sub("", line)
        buf.append(line)
        if not continued:
            joined = " ".join(part.strip() for part in buf).strip()
            if joined:
                out.append((start, joined))
            buf = []
    if buf:
        joined = " ".join(part.strip() for part in buf).strip()
        if joined:
            out.append((start, joined))
    return out


def _split_option(token: str, tokens: list[str], i: int) -> tuple[str, str | None, int]:
    value: str | None
    """Split `--opt=value`, `--opt value` or `-rvalue`; return (option, value, next index)."""
    if token.startswith("--"):
        if "=" in token:
            opt, value = token.split("=", 1)
            return opt, value, i + 1
        if (
            token in _INCLUDE
            or token in _INDEX
            or token in _OTHER_VALUED
            or token in ("--editable", "--hash")
        ):
            if token in ("--prefer-binary", "--pre", "--no-index", "--require-hashes"):
                return token, None, i + 1
            value = tokens[i + 1] if i + 1 < len(tokens) else None
            return token, value, i + 2
        return token, None, i + 1
    opt = token[:2]
    if len(token) > 2:
        return opt, token[2:].lstrip("="), i + 1
    value = tokens[i + 1] if i + 1 < len(tokens) else None
    return opt, value, i + 2


_HASH_OPTION = re.compile(r"(?:^|\s)--hash(?:=|\s+)(\S*)")
_TRAILING_OPTION = re.compile(r"(?:^|\s)--[a-z][a-z-]*(?:=\S*)?(?:\s+[^-\s]\S*)?")


def _parse_hashes(text: str, path: Path, line: int) -> tuple[list[Hash], str]:
    """Pull every --hash out of a requirement line; return (hashes, the rest of the line)."""
    hashes: list[Hash] = []
    for value in _HASH_OPTION.findall(text):
        if ":" not in value:
            raise SourceError(f"line {line}: malformed --hash {value!r}", path=str(path))
        algo, digest = value.split(":", 1)
        if not re.fullmatch(r"[0-9a-fA-F]+", digest):
            raise SourceError(f"line {line}: --hash value is not hex", path=str(path))
        hashes.append(Hash(algo.lower(), digest.lower()))
    rest = _HASH_OPTION.sub(" ", text)
    # Other per-requirement options (--config-settings ...) do not change what is pinned.
    rest = _TRAILING_OPTION.sub(" ", rest)
    return hashes, rest.strip()


def _looks_like_location(text: str) -> PinKind | None:
    """A bare URL, VCS URL or path given instead of a requirement."""
    lower = text.lower()
    if lower.startswith(_VCS_PREFIXES):
        return PinKind.GIT
    if "://" in lower:
        return PinKind.URL
    if (
        text.startswith((".", "/", "~"))
        or lower.endswith(ARCHIVE_SUFFIXES)
        or ("/" in text and not re.match(r"^[A-Za-z0-9._-]+\s*(\[|==|>=|<=|~=|!=|<|>|;|@|$)", text))
    ):
        return PinKind.PATH
    return None


def _name_from_location(location: str) -> str:
    """Best-effort project name of a URL / path requirement (`#egg=`, wheel file name)."""
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", location)
    if egg:
        return canonical(egg.group(1))
    base = location.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".whl"):
        return canonical(base.split("-")[0])
    for suffix in ARCHIVE_SUFFIXES:
        if base.endswith(suffix):
            return canonical(base[: -len(suffix)].rsplit("-", 1)[0])
    base = base.removesuffix(".git")
    return canonical(base) if base else location


def _requirement_entry(
    text: str, path: Path, line: int, editable: bool, constraint: bool
) -> LockedPackage:
    hashes, spec = _parse_hashes(text, path, line)
    groups = ("constraint",) if constraint else ()
    artifacts = (LockedArtifact(filename=None, hashes=tuple(hashes)),) if hashes else ()
    location_kind = _looks_like_location(spec.split(";")[0].strip())
    if editable or location_kind is not None:
        location = spec.split(" ;")[0].split(";")[0].strip()
        kind = PinKind.EDITABLE if editable else location_kind
        assert kind is not None
        markers = spec.split(";", 1)[1].strip() if ";" in spec else None
        return LockedPackage(
            name=_name_from_location(location),
            version=None,
            kind=kind,
            lockfile=path,
            line=line,
            markers=markers,
            artifacts=artifacts,
            source_url=location,
            groups=groups,
            requirement=text,
        )
    try:
        req = Requirement(spec)
    except InvalidRequirement as err:
        reason = str(err).splitlines()[0]
        raise SourceError(
            f"line {line}: invalid requirement {spec!r}: {reason}", path=str(path)
        ) from err
    version: str | None = None
    kind = PinKind.UNPINNED
    if req.url:
        kind = PinKind.GIT if req.url.lower().startswith(_VCS_PREFIXES) else PinKind.URL
    else:
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            version = specs[0].version
            kind = PinKind.PINNED
    return LockedPackage(
        name=canonical(req.name),
        version=version,
        kind=kind,
        lockfile=path,
        line=line,
        markers=str(req.marker) if req.marker else None,
        extras=tuple(sorted(req.extras)),
        artifacts=artifacts,
        source_url=req.url,
        groups=groups,
        requirement=None if kind is PinKind.PINNED else spec,
    )


def _read(path: Path) -> str:
    try:
        return read_bounded(path, _MAX_FILE_BYTES).decode("utf-8-sig")
    except TooLarge as err:
        raise SourceError("file is too large for a requirements file", path=str(path)) from err
    except UnicodeDecodeError as err:
        raise SourceError("not UTF-8 text", path=str(path)) from err
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err


def _parse_into(path: Path, state: _State, constraint: bool) -> None:
    resolved = path.resolve()
    if resolved in state.stack:
        chain = " -> ".join(p.name for p in [*state.stack, resolved])
        raise SourceError(f"include cycle: {chain}", path=str(path))
    state.stack.append(resolved)
    text = _read(path)
    for line, content in logical_lines(text):
        if content.startswith("-") and not content.startswith(("-e", "--editable")):
            try:
                tokens = shlex.split(content, posix=True)
            except ValueError as err:
                raise SourceError(f"line {line}: {err}", path=str(path)) from err
            opt, value, _ = _split_option(tokens[0], tokens, 0)
            if opt in _INCLUDE:
                if not value:
                    raise SourceError(f"line {line}: {opt} needs a file name", path=str(path))
                if "://" in value:
                    state.options.append(("remote-include", value))
                    continue
                target = path.parent / value
                _refuse_outside(target, state.root, path, line, opt)
                if not target.is_file():
                    raise SourceError(
                        f"line {line}: included file {value!r} not found", path=str(path)
                    )
                state.includes.append(target)
                _parse_into(target, state, constraint or _INCLUDE[opt] == "c")
            elif opt in _INDEX:
                if not value:
                    raise SourceError(f"line {line}: {opt} needs a URL", path=str(path))
                role = _INDEX[opt]
                if role == "find-links":
                    state.find_links.append(value)
                elif role == "index":
                    state.indexes.insert(0, value)
                    state.options.append(("index-url", value))
                else:
                    state.indexes.append(value)
            else:
                state.options.append((opt.lstrip("-"), value or ""))
            continue
        editable = False
        if content.startswith(("-e", "--editable")):
            editable = True
            content = re.sub(r"^(-e|--editable)(=|\s+)?", "", content).strip()
        state.packages.append(_requirement_entry(content, path, line, editable, constraint))
    state.stack.pop()


def _refuse_outside(target: Path, root: Path | None, path: Path, line: int, opt: str) -> None:
    """An include that leaves the project (`-r /proc/self/environ`, `-r ~/.git-credentials`)
    is refused: its bytes would end up quoted in reports."""
    if root is None:
        return
    try:
        target.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        raise SourceError(
            f"line {line}: {opt} names a file outside the project ({root}); refused",
            path=str(path),
        ) from None


def parse_requirements(path: Path, root: Path | None = None) -> Lockfile:
    """Parse a requirements file and everything it includes (inside `root`, by default the
    file's own directory)."""
    state = _State(root=(root or path.parent).resolve())
    _parse_into(path, state, constraint=False)
    indexes = list(dict.fromkeys(state.indexes))
    if indexes and not any(k == "index-url" for k, _ in state.options):
        # --extra-index-url without --index-url: pip still uses PyPI first.
        indexes.insert(0, PYPI_SIMPLE_URL)
    return Lockfile(
        path=path,
        format="requirements",
        packages=tuple(state.packages),
        indexes=tuple(indexes),
        find_links=tuple(state.find_links),
        options=tuple(state.options),
        includes=tuple(state.includes),
    )
