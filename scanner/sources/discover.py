"""Targets -> one Inventory: decide what each path is and hand it to its source.

A file is read by what it is (a wheel, an sdist, a model file, else a lock file
sniffed by content); a directory is an environment (site-packages or a
virtualenv) or a project, walked for all of the above.
"""

from __future__ import annotations

import atexit
import fnmatch
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from scanner.errors import SourceError
from scanner.infra.dist_names import distribution_kind as kind_by_name
from scanner.infra.files import kind_of
from scanner.infra.hashing import sha256_file
from scanner.infra.model_formats import (
    ARCHIVE_MAGICS,
    HDF5_MAGIC,
    NOT_WALKED,
    NPY_MAGIC,
    SHARED_SUFFIXES,
    model_suffix,
)
from scanner.models import DistributionFile, Environment, Inventory, ModelFile, Skipped
from scanner.sources.lockfiles import format_by_name, parse_lockfile
from scanner.sources.syspath import PathEntry, pth_directories, resolve_sys_path

# Directories never worth walking in a project: VCS metadata, caches, node modules.
_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "node_modules",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
    ".nox",
    ".hypothesis",
    ".idea",
    ".vscode",
}
_MAX_WALK_DEPTH = 12
_MAX_WALK_ENTRIES = 500_000


def distribution_kind(path: Path) -> tuple[str, str | None, str | None] | None:
    """(wheel|sdist, name, version) if the file name is a distribution's, else None."""
    return kind_by_name(path.name)


def is_model_candidate(path: Path) -> bool:
    """A file that the model check should look at: by suffix, then by content.

    A `.pth` in a project may be a checkpoint or a path file (text), a `.bin` anything:
    they count when they are an archive (zip, 7z, rar, a legacy torch tar) or a binary
    pickle (PROTO opcode), never for printable bytes that might be protocol-0 opcodes.
    """
    suffix = model_suffix(path.name)
    if suffix is None or suffix in NOT_WALKED or not path.is_file():
        return False
    if suffix not in SHARED_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    if head.startswith(ARCHIVE_MAGICS):
        return True
    if head.startswith((NPY_MAGIC, HDF5_MAGIC)):  # npy, hdf5: not in .pth/.bin
        return False
    if head[257:262] == b"ustar":
        return True
    return len(head) >= 2 and head[0] == 0x80 and head[1] <= 5


def is_environment_dir(path: Path) -> bool:
    """A virtualenv root or a site-packages directory."""
    if (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir():
        return True
    if path.name in ("site-packages", "dist-packages"):
        return True
    try:
        return any(p.suffix == ".dist-info" for p in path.iterdir()) and not any(
            format_by_name(p) for p in path.iterdir() if p.is_file()
        )
    except OSError as err:
        raise SourceError(f"cannot list directory: {err.strerror or err}", path=str(path)) from err


def _distribution_file(
    path: Path, kind: str, name: str | None, version: str | None
) -> DistributionFile:
    try:
        digest, size = sha256_file(path)
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err
    return DistributionFile(
        path=path, kind=kind, name=name, version=version, sha256=digest, size=size
    )


def _model_file(path: Path) -> ModelFile:
    try:
        return ModelFile(path=path, size=path.stat().st_size)
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err


def collect_environments(path: Path) -> tuple[Environment, ...]:
    """Every environment rooted at `path` (a venv may have several site-packages), and
    the directories its `.pth` path lines and egg-links add to sys.path."""
    return _environments_of(path).environments


def _environments_of(path: Path) -> Inventory:
    from scanner.sources.environment import find_site_packages

    site_dirs = find_site_packages(path)
    if not site_dirs:
        raise SourceError("no site-packages directory found", path=str(path))
    entries = [PathEntry(sp, "site-packages", True) for sp in site_dirs]
    for sp in site_dirs:
        entries.extend(pth_directories(sp))
    return _collect_entries(entries, None, None)


def _collect_entries(
    entries: Sequence[PathEntry], python: Path | None, version: str | None
) -> Inventory:
    """One Environment per directory on sys.path; too-broad directories are skipped, said so."""
    from scanner.sources.environment import collect_environment

    envs: list[Environment] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    site_dirs = [e.path for e in entries if e.site_dir]
    for entry in entries:
        try:
            real = entry.path.resolve(strict=True)
        except (OSError, RuntimeError):
            continue  # a .pth line naming nothing adds nothing
        if real in seen or not real.is_dir():
            continue
        seen.add(real)
        if not entry.site_dir and (
            real == Path(real.anchor) or any(_is_under(sd, real) for sd in site_dirs)
        ):
            skipped.append(
                Skipped(
                    target=str(real),
                    reason=f"on sys.path ({entry.why}) but too broad to scan as an environment",
                )
            )
            continue
        envs.append(
            collect_environment(
                real, python=python, python_version=version, startup_only=not entry.site_dir
            )
        )
    return Inventory(environments=tuple(envs), skipped=tuple(skipped))


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def collect_interpreter(python: Path) -> Inventory:
    """Every directory an interpreter will import from, learnt without running it."""

    resolved = resolve_sys_path(python)
    # The version lets lock markers be evaluated for that interpreter, not for ours.
    return _collect_entries(resolved.entries, python, resolved.version)


def excluded(relative: str, patterns: Sequence[str]) -> bool:
    """Whether a path of a project walk (POSIX, relative to the walked directory) matches
    an exclude glob: the whole relative path (`tests/fixtures`, `*/vendor/*`), or, for a
    glob without `/`, its last part (`*.ipynb`, `node_modules`)."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        pattern = pattern.strip().removeprefix("./").rstrip("/")
        if not pattern:
            continue
        if fnmatch.fnmatchcase(relative, pattern):
            return True
        if "/" not in pattern and fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def _walk(
    root: Path, skipped: list[Skipped], exclude: Sequence[str] = ()
) -> Iterator[tuple[Path, bool]]:
    """(path, is_environment_dir) for every regular file of a project.

    A symbolic link is followed when it resolves inside the project (a linked file is
    read, a linked directory is walked where it really is); links that leave the
    project, dangle or loop, files that are not regular (FIFOs, devices, sockets) and
    directories past the depth limit are listed in `skipped`, never read. Paths that
    match an `exclude` glob are passed over (a directory is not entered).
    """
    seen = 0
    real_root = _real(root) or root
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=_raise_walk):
        current = Path(dirpath)
        kept = []
        deep = len(current.parts) - base_depth >= _MAX_WALK_DEPTH
        for d in sorted(dirnames):
            sub = current / d
            if d in _SKIP_DIRS:
                continue
            if exclude and excluded(sub.relative_to(root).as_posix(), exclude):
                continue
            if sub.is_symlink():
                target = _real(sub)
                if target is None or not _is_under(target, real_root):
                    skipped.append(Skipped(str(sub), _link_reason(target)))
                continue  # a link inside the project: walked at its real place
            if (sub / "pyvenv.cfg").is_file():
                yield sub, True
                continue
            if deep:
                skipped.append(
                    Skipped(str(sub), f"deeper than {_MAX_WALK_DEPTH} directories: not walked")
                )
                continue
            kept.append(d)
        dirnames[:] = kept
        for f in sorted(filenames):
            seen += 1
            if seen > _MAX_WALK_ENTRIES:
                raise SourceError(
                    f"more than {_MAX_WALK_ENTRIES} files; name narrower targets", path=str(root)
                )
            p = current / f
            if exclude and excluded(p.relative_to(root).as_posix(), exclude):
                continue
            if p.is_symlink():
                target = _real(p)
                if target is None or not _is_under(target, real_root):
                    skipped.append(Skipped(str(p), _link_reason(target)))
                    continue
            try:
                mode = p.stat().st_mode
            except OSError as err:
                skipped.append(Skipped(str(p), f"cannot read: {err.strerror or err}"))
                continue
            if not stat.S_ISREG(mode):
                skipped.append(Skipped(str(p), f"{kind_of(mode)}, not a regular file: not read"))
                continue
            yield p, False


def _real(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def _link_reason(target: Path | None) -> str:
    if target is None:
        return "symbolic link that dangles or loops: not followed"
    return f"symbolic link to {target}, outside the target: not followed"


def _raise_walk(err: OSError) -> None:
    raise SourceError(
        f"cannot read directory: {err.strerror or err}", path=str(err.filename)
    ) from err


def collect_project(root: Path, exclude: Sequence[str] = ()) -> Inventory:
    """Lock files, distribution files, model files and virtualenvs inside a project.

    One file that cannot be read or parsed (a test fixture whose `-r` names nothing)
    does not hide the rest: it is listed in `errors` and the walk goes on; the scan is
    then incomplete (exit 3) with everything else reported."""
    lockfiles = []
    dists = []
    models = []
    envs = Inventory()
    skipped: list[Skipped] = []
    errors: list[Skipped] = []
    included: set[Path] = set()
    for path, is_env in _walk(root, skipped, exclude):
        try:
            if is_env:
                envs = envs.merge(_environments_of(path))
                continue
            if (dk := distribution_kind(path)) is not None:
                dists.append(_distribution_file(path, *dk))
            elif format_by_name(path) is not None:
                if path.resolve() in included:
                    continue
                lf = parse_lockfile(path, root=root)
                included.update(p.resolve() for p in lf.includes)
                lockfiles.append(lf)
            elif is_model_candidate(path):
                models.append(_model_file(path))
        except SourceError as err:
            errors.append(_error(err, path))
    # A file pulled in with -r by another lock file is reported once, as part of it.
    lockfiles = [lf for lf in lockfiles if lf.path.resolve() not in included]
    return Inventory(
        targets=(str(root),),
        lockfiles=tuple(lockfiles),
        environments=envs.environments,
        distribution_files=tuple(dists),
        model_files=tuple(models),
        skipped=(*envs.skipped, *skipped),
        errors=(*envs.errors, *errors),
    )


def _error(err: SourceError, path: Path) -> Skipped:
    """A walk's unreadable file as the report lists it: the file, the problem, the hint."""
    reason = f"{err.message} ({err.hint})" if err.hint else err.message
    if err.path and err.path != str(path):
        reason = f"{err.path}: {reason}"
    return Skipped(target=str(path), reason=" ".join(reason.split()))


def collect_target(path: Path, exclude: Sequence[str] = ()) -> Inventory:
    """One target given on the command line (`-`: a lock file read from stdin)."""
    if str(path) == STDIN:
        return _collect_stdin()
    if not path.exists() and not path.is_symlink():
        raise SourceError("no such file or directory", path=str(path))
    try:
        mode = path.stat().st_mode
    except (OSError, RuntimeError) as err:
        raise SourceError(f"cannot read: {err}", path=str(path)) from err
    if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
        raise SourceError(
            f"is {kind_of(mode)}, not a regular file: not read",
            path=str(path),
            hint="to scan a lock file from a pipe, name it as `-`"
            if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)
            else None,
        )
    if path.is_dir():
        if is_environment_dir(path):
            return Inventory(targets=(str(path),)).merge(_environments_of(path))
        return collect_project(path, exclude)
    if (dk := distribution_kind(path)) is not None:
        return Inventory(targets=(str(path),), distribution_files=(_distribution_file(path, *dk),))
    if model_suffix(path.name) is not None and format_by_name(path) is None:
        return Inventory(targets=(str(path),), model_files=(_model_file(path),))
    return Inventory(
        targets=(str(path),), lockfiles=(parse_lockfile(path, root=_project_of(path)),)
    )


def _project_of(lock: Path) -> Path:
    """The project a lock file named on the command line belongs to: the working
    directory when the file lies inside it, else the file's own directory."""
    cwd = Path.cwd()
    return cwd if _is_under(lock, cwd) else lock.parent


STDIN = "-"
_MAX_STDIN_BYTES = 16 << 20


def _collect_stdin() -> Inventory:
    """A lock file piped in: read once (bounded), kept in a private temporary file that
    every later reader sees whole, and sniffed by its content."""
    data = sys.stdin.buffer.read(_MAX_STDIN_BYTES + 1)
    if len(data) > _MAX_STDIN_BYTES:
        raise SourceError(f"more than {_MAX_STDIN_BYTES >> 20} MiB on stdin", path="<stdin>")
    directory = Path(tempfile.mkdtemp(prefix="wormsign-stdin-"))
    _STDIN_DIRS.append(directory)
    copy = directory / "stdin"
    copy.write_bytes(data)
    return Inventory(targets=("<stdin>",), lockfiles=(parse_lockfile(copy),))


_STDIN_DIRS: list[Path] = []


@atexit.register
def _remove_stdin_copies() -> None:
    for directory in _STDIN_DIRS:
        shutil.rmtree(directory, ignore_errors=True)


def collect(
    targets: Sequence[Path],
    env_paths: Iterable[Path] = (),
    pythons: Iterable[Path] = (),
    *,
    exclude: Sequence[str] = (),
) -> Inventory:
    """Everything the targets, environments and interpreters hold, as one Inventory
    (`exclude`: globs project walks pass over; named targets are always read)."""
    inventory = Inventory()
    for target in targets:
        inventory = inventory.merge(collect_target(target, exclude))
    for env in env_paths:
        inventory = inventory.merge(Inventory(targets=(str(env),)).merge(_environments_of(env)))
    for python in pythons:
        inventory = inventory.merge(
            Inventory(targets=(str(python),)).merge(collect_interpreter(python))
        )
    return inventory


def nothing_scanned(inventory: Inventory) -> bool:
    """No lock entry, environment, distribution file or model file: a scan of that is no
    evidence of anything, and never a pass. (An environment read and found empty is.)"""
    return not (
        inventory.locked_packages
        or inventory.environments
        or inventory.distribution_files
        or inventory.model_files
    )


def unverifiable(inventory: Inventory) -> tuple[Skipped, ...]:
    """Lock entries that no hash can verify, reported rather than dropped."""
    out = []
    for pkg in inventory.locked_packages:
        if pkg.kind.value != "pinned":
            where = f"{pkg.lockfile}:{pkg.line}" if pkg.line else str(pkg.lockfile)
            what = pkg.requirement or pkg.source_url or pkg.name
            out.append(
                Skipped(
                    target=where,
                    reason=f"{pkg.kind.value} entry {what!r} cannot be verified by version or hash",
                )
            )
    return tuple(out)
